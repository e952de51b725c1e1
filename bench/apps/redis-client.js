// SPDX-License-Identifier: Apache-2.0
// The Node ioredis client of bench/workloads/ioredis.sh (issue 5): GET/SET
// as fast as it can, DEPTH commands outstanding at all times (DEPTH loops,
// each awaiting its reply before sending the next; 1 = one at a time).
// ioredis writes each command with its own write(2) and reads the coalesced
// replies, so the observer sees one captured write per op whatever DEPTH is.
// Keys: 1000, values: 64 bytes; ops alternate SET and GET per loop.
// On SIGTERM it stops sending, waits for the outstanding replies and prints
// {"ops":N} (GET+SET with a reply), then exits.
// Usage: node redis-client.js REDIS_PORT DEPTH
'use strict';
const path = require('path');
const Redis = require(path.join(__dirname, 'ioredis/node_modules/ioredis'));

const port = Number(process.argv[2]);
const depth = Number(process.argv[3] || 32);
process.title = 'sba-bench-ioredis';
const redis = new Redis({ host: '127.0.0.1', port, enableAutoPipelining: false, lazyConnect: true });
const value = 'v'.repeat(64);
let ops = 0;
let stop = false;

async function loop(i) {
	for (let n = i; !stop; n += depth) {
		const key = `k${n % 1000}`;
		if (n & 1) await redis.get(key);
		else await redis.set(key, value);
		ops++;
	}
}

async function main() {
	await redis.connect();
	const loops = [];
	for (let i = 0; i < depth; i++) loops.push(loop(i));
	process.on('SIGTERM', () => { stop = true; });
	await Promise.all(loops);
	process.stdout.write(JSON.stringify({ ops }) + '\n');
	redis.disconnect();
}
main().catch((e) => { console.error(e); process.exit(1); });
