// SPDX-License-Identifier: Apache-2.0
// The jobs of tests/e2e/bullmq.test.mjs, the same for every stack: what each
// one does on each attempt is in its data, so any worker process can run it
// and the outcome does not depend on which one did.
//
// Attempts take 60 ms or more (failing ones 80 ms or more), but 50 of the
// bulk-added ones take 2 ms: the test compares durations with the worker's
// own stamps around the wire (wire.mjs), not with its processor alone.
//
// data: { ms, fail, failUntil, timeoutMs, crashIn }
//   ms         work time of an attempt
//   fail       reason thrown on attempts 1..failUntil (all attempts if absent)
//   timeoutMs  the processor gives up after this long: "job timed out after N ms"
//   crashIn    the worker process of this role dies (SIGKILL) when it starts it

// Queue names carry the stack and a per-run tag: other observers and other
// runs on the machine see each other's Redis traffic, their labels differ.
export const queueName = (base, tag) => `${base}_${tag}`;

export const queues = {
	// two worker processes take jobs from emails
	emails: { concurrency: { a: 3, b: 2 } },
	reports: { concurrency: { a: 2 } },
	media: { concurrency: { b: 3 } },
	// a stalled job, on purpose: worker process c takes it and dies
	// (SIGKILL); process d, started after, finds it stalled and runs it
	crashy: { concurrency: { c: 1, d: 1 }, worker: { lockDuration: 1000, stalledInterval: 400 } },
};

function jobsOf() {
	const j = [];
	const add = (queue, name, data, opts = {}, how = 'add') => j.push({ queue, name, data, opts, how });
	const rmc = { removeOnComplete: true };
	// emails: concurrency 5 over two processes, removeOnComplete
	for (let i = 0; i < 12; i++) add('emails', 'send', { ms: 60 + 6 * i }, rmc);
	for (let i = 0; i < 3; i++) add('emails', 'send', { ms: 80, fail: 'upstream returned status 503' }, rmc);
	for (let i = 0; i < 2; i++) add('emails', 'send', { ms: 90, fail: 'Request failed with status code 404' }, rmc);
	// fails twice, succeeds on the third attempt; fixed backoff (moveToDelayed)
	for (let i = 0; i < 2; i++)
		add('emails', 'send', { ms: 80, fail: 'socket hang up', failUntil: 2 },
			{ ...rmc, attempts: 3, backoff: { type: 'fixed', delay: 40 } });
	// fails once, retried at once (no backoff: retryJob)
	for (let i = 0; i < 2; i++)
		add('emails', 'send', { ms: 80, fail: 'HTTP 502 Bad Gateway', failUntil: 1 }, { ...rmc, attempts: 2 });
	// reports: delayed jobs, a timeout, a custom id, exponential backoff
	for (let i = 0; i < 5; i++) add('reports', 'build', { ms: 80 + 10 * i }, { delay: 150 + 60 * i });
	add('reports', 'build', { ms: 400, timeoutMs: 100 });
	add('reports', 'build', { ms: 90 }, { jobId: 'monthly-2024-06' });
	add('reports', 'build', { ms: 80, fail: 'Request failed with status code 429' },
		{ delay: 100, attempts: 2, backoff: { type: 'exponential', delay: 50 } });
	add('reports', 'build', { ms: 200, timeoutMs: 150, failUntil: 1 }, { attempts: 2, backoff: { type: 'fixed', delay: 30 } });
	// media: added in bulk (one pipelined write), removeOnComplete by count
	const keep = { removeOnComplete: { count: 3 } };
	for (let i = 0; i < 10; i++) add('media', 'resize', { ms: 60 + 5 * i }, keep, 'bulk');
	add('media', 'resize', { ms: 80, fail: 'order 40412 rejected' }, keep, 'bulk');
	add('media', 'resize', { ms: 80, fail: 'Service Unavailable (503)' }, { removeOnFail: true }, 'bulk');
	// ... and 50 short ones in the same write: ~60 KB with the script's
	// first EVAL, so the capture's middle records are needed to count them
	for (let i = 0; i < 50; i++) add('media', 'thumb', { ms: 2 }, keep, 'bulk');
	add('crashy', 'once', { ms: 60, crashIn: 'c' });
	return j;
}
export const jobs = jobsOf();

// What the plan implies, per queue: the app's own counts must equal it, so a
// broken app cannot pass by agreeing with a broken observer.
export function expected() {
	const e = {};
	for (const q of Object.keys(queues)) e[q] = { added: 0, started: 0, completed: 0, failed: 0, retried: 0, stalled: 0, finals: 0 };
	for (const { queue, data, opts } of jobs) {
		const c = e[queue];
		const attempts = opts.attempts || 1;
		const fails = d => d.fail !== undefined || d.timeoutMs !== undefined;
		const failing = fails(data) ? Math.min(data.failUntil ?? attempts, attempts) : 0;
		c.added++;
		c.finals++;
		if (data.crashIn) { c.started++; c.stalled++; }
		c.started += Math.min(failing + 1, attempts);
		c.retried += Math.min(failing, attempts - 1);
		if (failing >= attempts) c.failed++;
		else c.completed++;
	}
	return e;
}
