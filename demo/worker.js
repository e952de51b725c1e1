// SPDX-License-Identifier: Apache-2.0
// demo-worker: BullMQ workers for the three queues. Some jobs fail: an SMTP
// 503 (5xx), a 422 validation error (4xx), a timeout; invoices get a retry.
'use strict';
const { Worker } = require('bullmq');
const { sleep, between, onStop, redis } = require('./common');

const jobs = {
	emails: { concurrency: 4, async run() {
		await sleep(between(10, 50));
		if (Math.random() < 0.03) throw new Error('SMTP server returned 503');
	} },
	invoices: { concurrency: 2, async run() {
		await sleep(between(20, 100));
		const x = Math.random();
		if (x < 0.02) throw new Error('validation failed: 422 unprocessable invoice');
		if (x < 0.03) throw new Error('payment provider timed out');
	} },
	reports: { concurrency: 1, async run() {
		await sleep(between(200, 600));
	} },
};

const workers = Object.entries(jobs).map(([name, j]) =>
	new Worker(name, () => j.run(), { connection: redis(), concurrency: j.concurrency }));
for (const w of workers) w.on('error', () => { /* redis going away at shutdown */ });
onStop(...workers.map((w) => () => w.close(true)));
