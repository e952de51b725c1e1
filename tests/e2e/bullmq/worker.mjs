// SPDX-License-Identifier: Apache-2.0
// A worker process of tests/e2e/bullmq.test.mjs: runs the queues that
// plan.mjs gives to ROLE, prints one JSON line per attempt as it ends (queue,
// job id, attempt, outcome, reason, duration measured by the processor, and
// its hrtime stamps on the wire: wire.mjs), a
// line per start and per stalled job it found, and on "close" on stdin closes
// its workers and prints its counts.
// Usage: node worker.mjs STACK_DIR REDIS_PORT TAG ROLE
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { queues, queueName } from './plan.mjs';
import { hookWire } from './wire.mjs';

const [stackDir, port, tag, role] = process.argv.slice(2);
const stack = createRequire(path.resolve(stackDir, 'package.json'));
const { Queue, Worker } = stack('bullmq');
const wire = hookWire(stack);
const connection = { host: '127.0.0.1', port: Number(port) };
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const counts = {};
const took = new Map(); // "queue id attempt" -> { proc_ns, wire }

async function processor(base, job) {
	const t0 = process.hrtime.bigint();
	const start = wire.start(queueName(base, tag), job.id);
	const d = job.data;
	const attempt = job.attemptsStarted; // 1 on the first attempt
	counts[base].started++;
	out({ ev: 'start', queue: base, job_id: job.id, attempt });
	if (d.crashIn === role) process.kill(process.pid, 'SIGKILL');
	try {
		const failing = (d.fail !== undefined || d.timeoutMs !== undefined) &&
			(d.failUntil === undefined || attempt <= d.failUntil);
		if (failing && d.timeoutMs !== undefined) {
			// the app's own timeout: the work goes on, the attempt fails
			await Promise.race([sleep(d.ms), sleep(d.timeoutMs).then(() => {
				throw new Error(`job timed out after ${d.timeoutMs}ms`);
			})]);
		} else {
			await sleep(d.ms);
		}
		if (failing && d.fail !== undefined) throw new Error(d.fail);
		return { ok: true, attempt };
	} finally {
		const t1 = process.hrtime.bigint();
		// the processor's interval and, around it, the reply that handed
		// the job out and (set by the hook when it goes) the finish call
		const w = { pid: process.pid, p0: String(t0), p1: String(t1), start, fin: null };
		wire.ended(queueName(base, tag), job.id, w);
		took.set(`${base} ${job.id} ${attempt}`, { proc_ns: Number(t1 - t0), wire: w });
	}
}

// Warm-up on a queue of this process's own (warm_<role>_<tag>): bullmq's
// code around a job runs cold the first times (lazy compilation, JIT), which
// adds milliseconds between the wire and the processor that the durations
// compared by the test should not carry.
async function warmUp() {
	const name = `warm_${role}_${tag}`;
	const q = new Queue(name, { connection });
	let left = 40;
	let done;
	const all = new Promise((r) => { done = r; });
	const w = new Worker(name, async (job) => {
		await sleep(1);
		if (job.data.fail) throw new Error('warm-up failure');
	}, { connection, concurrency: 4 });
	const end = () => { if (--left === 0) done(); };
	w.on('completed', end);
	w.on('failed', end);
	await q.addBulk(Array.from({ length: left }, (_, i) => ({ name: 'w', data: { fail: i % 4 === 3 }, opts: { removeOnComplete: true, removeOnFail: true } })));
	await all;
	await w.close();
	await q.close();
}
await warmUp();

const workers = [];
for (const [base, def] of Object.entries(queues)) {
	const conc = def.concurrency[role];
	if (!conc) continue;
	counts[base] = { started: 0, completed: 0, failed: 0, retried: 0, stalled: 0 };
	const w = new Worker(queueName(base, tag), (job) => processor(base, job), { connection, concurrency: conc, ...def.worker });
	const end = (job, outcome, reason) => {
		const attempt = job.attemptsStarted;
		const tk = took.get(`${base} ${job.id} ${attempt}`);
		counts[base][outcome]++;
		out({ ev: 'attempt', queue: base, job_id: job.id, attempt, outcome, reason,
			proc_ns: tk ? tk.proc_ns : -1, wire: tk ? tk.wire : null });
	};
	w.on('completed', (job) => end(job, 'completed', ''));
	w.on('failed', (job, err) => {
		// attemptsMade counts this failure already
		end(job, job.attemptsMade < (job.opts.attempts || 1) ? 'retried' : 'failed', err.message);
	});
	w.on('stalled', (id) => { counts[base].stalled++; out({ ev: 'stalled', queue: base, job_id: id }); });
	w.on('error', (e) => { console.error(`worker ${base}: ${e.stack || e}`); });
	workers.push(w);
}
await Promise.all(workers.map((w) => w.waitUntilReady()));
out({ ev: 'ready', role });

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (l) => {
	if (l.trim() !== 'close') return;
	await Promise.all(workers.map((w) => w.close()));
	out({ ev: 'summary', role, counts });
	process.exit(0);
});
