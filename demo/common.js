// SPDX-License-Identifier: Apache-2.0
// Shared bits of the demo apps: ports from the environment, a sleep, a
// weighted pick, and a clean stop on SIGTERM/SIGINT.
'use strict';

const env = (name) => {
	const v = process.env[name];
	if (!v) { console.error(`${process.argv[1]}: ${name} is not set`); process.exit(2); }
	return v;
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const between = (lo, hi) => lo + Math.random() * (hi - lo);
// pick([[weight, value], ...])
function pick(choices) {
	let x = Math.random() * choices.reduce((s, [w]) => s + w, 0);
	for (const [w, v] of choices) if ((x -= w) < 0) return v;
	return choices[choices.length - 1][1];
}

// Calls every closer once, then exits; a second signal exits at once.
function onStop(...closers) {
	let stopping = false;
	const stop = async () => {
		if (stopping) process.exit(1);
		stopping = true;
		setTimeout(() => process.exit(0), 3000).unref();
		for (const c of closers) { try { await c(); } catch { /* closing anyway */ } }
		process.exit(0);
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
}

const TENANTS = [[5, 'acme'], [3, 'globex'], [2, 'initech'], [1, 'umbrella']];
const redis = () => ({ host: '127.0.0.1', port: Number(env('REDIS_PORT')), maxRetriesPerRequest: null });

module.exports = { env, sleep, between, pick, onStop, TENANTS, redis };
