// SPDX-License-Identifier: Apache-2.0
// A BullMQ producer and workers on two queues, with failures and retries;
// prints what the app itself counted as one JSON line, then exits.
// Usage: node app.js REDIS_PORT
const { Queue, Worker } = require('bullmq');

const connection = { host: '127.0.0.1', port: Number(process.argv[2]) };
const counts = {};
const bump = (q, k) => { counts[q] = counts[q] || { added: 0, completed: 0, failed: 0, retried: 0 }; counts[q][k]++; };

async function main() {
	const emails = new Queue('emails', { connection });
	const reports = new Queue('reports', { connection });
	// emails: 10 succeed, 3 fail for good (503), 2 fail once then succeed.
	for (let i = 0; i < 10; i++) { await emails.add('send', { i }); bump('emails', 'added'); }
	for (let i = 0; i < 3; i++) { await emails.add('send', { fail: 'upstream returned status 503' }); bump('emails', 'added'); }
	for (let i = 0; i < 2; i++) { await emails.add('send', { flaky: true }, { attempts: 2, backoff: { type: 'fixed', delay: 50 } }); bump('emails', 'added'); }
	// reports: 6 succeed, 1 times out.
	for (let i = 0; i < 6; i++) { await reports.add('build', { i }); bump('reports', 'added'); }
	await reports.add('build', { fail: 'job timed out after 100ms' }); bump('reports', 'added');

	const done = { emails: 0, reports: 0 };
	const expect = { emails: 15, reports: 7 };
	let finish;
	const all = new Promise((r) => { finish = r; });
	const mk = (name, conc) => {
		const w = new Worker(name, async (job) => {
			await new Promise((r) => setTimeout(r, 5 + (job.data.i || 0)));
			if (job.data.fail) throw new Error(job.data.fail);
			if (job.data.flaky && job.attemptsMade === 0) throw new Error('socket hang up');
			return { ok: true };
		}, { connection, concurrency: conc });
		w.on('completed', () => { bump(name, 'completed'); if (++done[name] === expect[name] && done.emails === expect.emails && done.reports === expect.reports) finish(); });
		w.on('failed', (job) => {
			if (job.attemptsMade < (job.opts.attempts || 1)) { bump(name, 'retried'); return; }
			bump(name, 'failed');
			if (++done[name] === expect[name] && done.emails === expect.emails && done.reports === expect.reports) finish();
		});
		return w;
	};
	const workers = [mk('emails', 2), mk('reports', 1)];
	await Promise.race([all, new Promise((_, ko) => setTimeout(() => ko(new Error('jobs did not finish')), 30000))]);
	await Promise.all(workers.map((w) => w.close()));
	await emails.close();
	await reports.close();
	console.log(JSON.stringify(counts));
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
