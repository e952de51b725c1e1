// SPDX-License-Identifier: Apache-2.0
// The producer of tests/e2e/bullmq.test.mjs: adds every job of plan.mjs
// (one by one, delayed ones, one addBulk), then prints what it added as one
// JSON line and exits.
// Usage: node producer.mjs STACK_DIR REDIS_PORT TAG
import { createRequire } from 'node:module';
import path from 'node:path';
import { jobs, queues, queueName } from './plan.mjs';

const [stackDir, port, tag] = process.argv.slice(2);
// bullmq (and its ioredis) from the stack's own node_modules
const { Queue } = createRequire(path.resolve(stackDir, 'package.json'))('bullmq');
const connection = { host: '127.0.0.1', port: Number(port) };

const added = {};
const ids = {};
const q = {};
for (const name of Object.keys(queues)) {
	q[name] = new Queue(queueName(name, tag), { connection });
	added[name] = 0;
	ids[name] = [];
}
const note = (name, job) => { added[name]++; ids[name].push(job.id); };

const bulk = {};
for (const j of jobs) {
	if (j.how === 'bulk') {
		(bulk[j.queue] ||= []).push({ name: j.name, data: j.data, opts: j.opts });
		continue;
	}
	note(j.queue, await q[j.queue].add(j.name, j.data, j.opts));
}
for (const [name, list] of Object.entries(bulk))
	for (const job of await q[name].addBulk(list)) note(name, job);
await Promise.all(Object.values(q).map((x) => x.close()));
console.log(JSON.stringify({ added, ids }));
