// SPDX-License-Identifier: Apache-2.0
// BullMQ from the wire, end to end: two real stacks (bullmq 6 + ioredis 6,
// bullmq 5 + ioredis 5) run the same app at once against one real
// redis-server, watched by one real observer (--trace=job and the metrics
// endpoint). The app (tests/e2e/bullmq/) is a producer process and worker
// processes: four queues, delayed jobs, retries with and without backoff,
// failures whose reasons name 4xx/5xx statuses, timeouts, concurrency above
// 1, removeOnComplete/removeOnFail, addBulk, and a job stalled on purpose by
// killing its worker process. The workers report every start, every stalled
// job and every attempt with its outcome, reason and the processor's own
// duration. Asserted per stack and queue: the counters on /metrics/workers
// equal the app's counts exactly; the failure classes (per attempt in the
// trace, as rates on /metrics/workers) follow from the app's reasons; the job
// durations of the trace match the app's within 5 % or 1 ms.
// Needs root and npm (each stack installs from its committed lock file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import readline from 'node:readline';
import { parseLine } from './lib/observer.mjs';
import { freePort, sleep } from './lib/net.mjs';
import { expected, queueName, queues } from './bullmq/plan.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const APP_DIR = path.join(ROOT, 'tests/e2e/bullmq');
const OBS = process.env.SBA_OBSERVER || path.join(ROOT, process.env.OUTPUT || 'build', 'sba-observer');
const TOKEN = 'e2e-bullmq-' + 'y'.repeat(40);
const isRoot = process.getuid && process.getuid() === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sba-bullmq-'));
const RUN = crypto.randomBytes(3).toString('hex');
const STACKS = [
	{ id: 'v6', major: { bullmq: 6, ioredis: 6 } },
	{ id: 'v5', major: { bullmq: 5, ioredis: 5 } },
].map((s) => ({ ...s, dir: path.join(APP_DIR, s.id), tag: `${s.id}${RUN}` }));
const kids = [];
const jobLines = [];
// The kernel's side of the Redis connections (--trace=conn,data): "tgid
// lport" -> conn, and per conn the syscall exit times of its reads and
// writes, to line the workers' hrtime stamps up with.
const connOf = new Map();
const sys = new Map(); // conn -> { in: [ts], out: [ts] }
let obsPort, redisPort, text = '', full = '', obsErr = '';


function scrape(p) {
	return new Promise((resolve, reject) => {
		http.get({ host: '127.0.0.1', port: obsPort, path: p, headers: { authorization: `Bearer ${TOKEN}` } }, (r) => {
			let b = '';
			r.setEncoding('utf8');
			r.on('data', (d) => { b += d; });
			r.on('end', () => resolve(b));
		}).on('error', reject);
	});
}

const val = (name, queue) => {
	const m = text.match(new RegExp(`^${name}\\{queue_name="${queue}"\\} (\\S+)$`, 'm'));
	return m ? Number(m[1]) : NaN;
};

// The app runs on a copy of node (its own inode), and the observer targets
// that executable only (--exe): the trace's data lines are those of this
// app, not of every Node process on the machine.
const NODE = path.join(tmp, 'node-bullmq');

// A child whose stdout is JSON lines: each parsed line goes to onLine.
function run(args, onLine) {
	const k = spawn(NODE, args, { cwd: APP_DIR, stdio: ['pipe', 'pipe', 'pipe'] });
	kids.push(k);
	k.err = '';
	k.stderr.on('data', (d) => { k.err += d; });
	readline.createInterface({ input: k.stdout }).on('line', (l) => { try { onLine(JSON.parse(l)); } catch { /* not ours */ } });
	k.done = new Promise((r) => k.on('exit', (code) => r(code)));
	return k;
}

async function until(cond, ms, what) {
	const t0 = Date.now();
	while (!cond()) {
		if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

// One stack: worker processes a, b and c, then the producer; c dies
// (SIGKILL) on the crashy job, then d starts and finds it stalled. When every
// job has reached its end, the workers close and report their counts.
async function runStack(s) {
	const exp = expected();
	const r = { attempts: [], starts: [], stalled: [], summaries: [], added: null, ids: null };
	const ready = new Set();
	const finals = {};
	const worker = (role) => run(['worker.mjs', s.dir, String(redisPort), s.tag, role], (o) => {
		if (o.ev === 'ready') ready.add(role);
		if (o.ev === 'start') r.starts.push(o);
		if (o.ev === 'stalled') r.stalled.push(o);
		if (o.ev === 'attempt') {
			r.attempts.push(o);
			if (o.outcome !== 'retried') finals[o.queue] = (finals[o.queue] || 0) + 1;
		}
		if (o.ev === 'summary') r.summaries.push(o);
	});
	const errs = (ws) => ws.map((w) => w.err).join('');
	const workers = ['a', 'b', 'c'].map(worker);
	await until(() => ready.size === 3, 30000, `${s.id} workers ready (${errs(workers)})`);
	const prod = run(['producer.mjs', s.dir, String(redisPort), s.tag], (o) => { r.added = o.added; r.ids = o.ids; });
	assert.equal(await prod.done, 0, `${s.id} producer: ${prod.err}`);
	const crashed = workers.pop();
	await crashed.done;
	assert.equal(crashed.signalCode, 'SIGKILL', `${s.id} worker c should have died on its job: ${crashed.err}`);
	workers.push(worker('d'));
	await until(() => Object.keys(exp).every((q) => (finals[q] || 0) >= exp[q].finals), 60000,
		`${s.id} jobs to finish (${JSON.stringify(finals)})`);
	for (const w of workers) w.stdin.write('close\n');
	const codes = await Promise.all(workers.map((w) => w.done));
	assert.deepEqual(codes, [0, 0, 0], `${s.id} workers: ${errs(workers)}`);
	// the app's own counts, per queue, from its event lines
	r.counts = {};
	for (const q of Object.keys(queues)) {
		const c = { added: r.added[q], started: 0, completed: 0, failed: 0, retried: 0, stalled: 0 };
		c.started = r.starts.filter((x) => x.queue === q).length;
		c.stalled = r.stalled.filter((x) => x.queue === q).length;
		for (const a of r.attempts) if (a.queue === q) c[a.outcome]++;
		r.counts[q] = c;
	}
	// the survivors' own tallies agree with their lines
	for (const sm of r.summaries)
		for (const [q, c] of Object.entries(sm.counts))
			for (const k of Object.keys(c)) {
				const lines = k === 'started' ? r.starts : k === 'stalled' ? r.stalled : r.attempts.filter((a) => a.outcome === k);
				assert.ok(lines.filter((x) => x.queue === q).length >= c[k], `${s.id} ${sm.role} ${q} ${k}`);
			}
	return r;
}

// The documented failure classes of a reason (docs/METRICS.md): a timeout
// when it says timeout, timed out or ETIMEDOUT; 4xx/5xx when it names such a
// status as three digits standing alone (the first one).
function classes(reason) {
	const c = new Set();
	if (/timeout|timed out/i.test(reason) || reason.includes('ETIMEDOUT')) c.add('timeout');
	const m = reason.match(/(?<![0-9])[45][0-9]{2}(?![0-9])/);
	if (m) c.add(m[0][0] === '4' ? '4xx' : '5xx');
	return c;
}

function install(dir) {
	if (fs.existsSync(path.join(dir, 'node_modules/bullmq'))) return;
	// The versions of package-lock.json, installed without changing it.
	// (Not `npm ci`: npm 11 writes lock files without the other platforms'
	// optional packages of msgpackr, and npm ci then refuses them.)
	const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit', timeout: 300000 });
	assert.equal(r.status, 0, `npm install in ${dir} failed`);
}

before(async () => {
	if (!isRoot) return;
	for (const s of STACKS) install(s.dir);
	[obsPort, redisPort] = await Promise.all([freePort(), freePort()]);
	fs.writeFileSync(path.join(tmp, 'token'), TOKEN + '\n', { mode: 0o600 });
	fs.copyFileSync(process.execPath, NODE);
	fs.chmodSync(NODE, 0o755);
	kids.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
	const obs = spawn(OBS, ['--listen', `127.0.0.1:${obsPort}`, '--token-file', path.join(tmp, 'token'),
		'--redis-port', String(redisPort), '--exe', NODE, '--trace=job,conn,data',
		// E2E_HOOKS=skb: the same checks against the packet-layer capture.
		...(process.env.E2E_HOOKS ? ['--hooks', process.env.E2E_HOOKS] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
	obs.stderr.on('data', (d) => { obsErr += d; });
	readline.createInterface({ input: obs.stdout }).on('line', (l) => {
		if (l.startsWith('{"ev":"data"')) {
			// only the head: the payload can be long and is not needed
			const m = l.match(/^\{"ev":"data","ts":(\d+),"tgid":\d+,"tid":\d+,"conn":(\d+),"fd":-?\d+,"dir":"(in|out)"/);
			const c = m && sys.get(m[2]);
			if (c) c[m[3]].push(BigInt(m[1]));
			return;
		}
		if (l.startsWith('{"ev":"open"')) {
			const o = JSON.parse(l);
			if (o.rport !== redisPort) return;
			connOf.set(`${o.tgid} ${o.lport}`, String(o.conn));
			sys.set(String(o.conn), { in: [], out: [] });
			return;
		}
		if (!l.includes('"ev":"job"')) return;
		const o = parseLine(l);
		if (o.ev === 'job') jobLines.push(o);
	});
	kids.push(obs);
	await until(() => obsErr.includes('ready:') || obs.exitCode !== null, 30000, 'observer ready');
	assert.match(obsErr, /ready:/, `observer did not start: ${obsErr}`);
	const t0 = Date.now();
	const results = await Promise.all(STACKS.map(runStack));
	STACKS.forEach((s, i) => { s.app = results[i]; });
	await sleep(300); // one drain interval and then some
	text = await scrape('/metrics/workers');
	full = await scrape('/metrics');
	// the trace is complete once the observer has exited (stdout is a pipe)
	const exited = new Promise((r) => obs.on('close', r));
	obs.kill('SIGINT');
	await exited;
	console.log(`# both stacks ran in ${Date.now() - t0} ms`);
	const stat = (n) => Number((full.match(new RegExp(`^sba_observer_${n} (\\S+)$`, 'm')) || [])[1]);
	console.log(`# ring: ${stat('ringbuf_written_bytes_total')} bytes taken by ${stat('data_events_total')} data records of ${stat('bytes_captured_total')} captured bytes`);
	if (process.env.E2E_DUMP) // E2E_DUMP=file: the trace's job lines and the app's attempts, for a look
		fs.writeFileSync(process.env.E2E_DUMP, JSON.stringify({ jobLines, stacks: STACKS.map((s) => ({ tag: s.tag, attempts: s.app.attempts })),
			connOf: [...connOf], sys: [...sys].map(([c, v]) => [c, { in: v.in.map(String), out: v.out.map(String) }]) }));
});

after(async () => {
	for (const k of kids) try { k.kill('SIGINT'); } catch { /* gone */ }
	await sleep(100);
	for (const k of kids) if (k.exitCode === null && k.signalCode === null) try { k.kill('SIGKILL'); } catch { /* gone */ }
	fs.rmSync(tmp, { recursive: true, force: true });
});

const opts = { skip: !isRoot && 'needs root' };
const COUNTERS = ['added', 'started', 'completed', 'failed', 'retried', 'stalled'];
const pct = (a, p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];

for (const s of STACKS) {
	test(`${s.id}: the stack is bullmq ${s.major.bullmq} with ioredis ${s.major.ioredis}`, opts, () => {
		const req = createRequire(path.join(s.dir, 'package.json'));
		const bull = req('bullmq/package.json');
		// ioredis as bullmq itself resolves it
		const ior = createRequire(req.resolve('bullmq'))('ioredis/package.json');
		assert.equal(Number(bull.version.split('.')[0]), s.major.bullmq, `bullmq ${bull.version}`);
		assert.equal(Number(ior.version.split('.')[0]), s.major.ioredis, `ioredis ${ior.version}`);
	});

	test(`${s.id}: the app did what the plan says`, opts, () => {
		const exp = expected();
		for (const q of Object.keys(queues))
			for (const k of COUNTERS) assert.equal(s.app.counts[q][k], exp[q][k], `${q} ${k}`);
	});

	test(`${s.id}: every per-queue counter equals the app's own count`, opts, () => {
		const diff = [];
		for (const q of Object.keys(queues)) {
			const name = queueName(q, s.tag);
			const seen = {};
			for (const k of COUNTERS) {
				seen[k] = val(`sba_worker_jobs_${k}_total`, name);
				if (q === 'media' && k === 'added') continue; // the addBulk write: below
				if (seen[k] !== s.app.counts[q][k]) diff.push(`${name} ${k}: observed ${seen[k]}, app ${s.app.counts[q][k]}`);
			}
			// and each finished attempt has its duration in the histogram
			const finishes = seen.completed + seen.failed + seen.retried;
			const durations = val('sba_worker_job_duration_seconds_count', name);
			if (durations !== finishes) diff.push(`${name}: ${durations} durations for ${finishes} finishes`);
		}
		assert.deepEqual(diff, []);
	});

	// media's jobs are added with one addBulk: one write of 62 adds, the
	// first an EVAL with the 26 KB script body (the script's first use on the
	// connection), ~60 KB in all. Long writes to Redis are copied whole up to
	// ~80 KiB (16 KiB records, then the tail: tests/bpf/test_capture.c), so
	// every add is seen.
	test(`${s.id}: the jobs of one long addBulk write are all counted`, opts, () => {
		assert.equal(val('sba_worker_jobs_added_total', queueName('media', s.tag)), s.app.counts.media.added);
	});

	test(`${s.id}: the trace has one job line per operation, as counted on /metrics/workers`, opts, () => {
		for (const q of Object.keys(queues)) {
			const name = queueName(q, s.tag);
			for (const k of COUNTERS) {
				const n = jobLines.filter((j) => j.queue === name && j.op === k).length;
				assert.equal(n, val(`sba_worker_jobs_${k}_total`, name), `${name} ${k}`);
			}
		}
	});

	test(`${s.id}: failure classes follow from the reasons, per attempt and as rates`, opts, () => {
		for (const q of Object.keys(queues)) {
			const name = queueName(q, s.tag);
			const tally = { attempts: 0, failed: 0, '4xx': 0, '5xx': 0, timeout: 0 };
			for (const a of s.app.attempts.filter((x) => x.queue === q)) {
				tally.attempts++;
				if (a.outcome === 'completed') continue;
				tally.failed++;
				const want = classes(a.reason);
				for (const c of want) tally[c]++;
				const line = jobLines.find((j) => j.queue === name && j.op === a.outcome && j.job_id === a.job_id && j.attempt === a.attempt);
				assert.ok(line, `${name} ${a.outcome} job ${a.job_id} attempt ${a.attempt}: no trace line`);
				assert.deepEqual(new Set(line.class ? line.class.split(',') : []), want, `${name} job ${a.job_id} "${a.reason}"`);
			}
			// rates over the window (60 s, longer than the run): class / attempts
			const near = (m, want) => {
				const got = val(m, name);
				assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1, want), `${name} ${m} ${got}, want ${want}`);
			};
			near('sba_worker_error_rate', tally.failed / tally.attempts);
			near('sba_worker_error4xx_rate', tally['4xx'] / tally.attempts);
			near('sba_worker_error5xx_rate', tally['5xx'] / tally.attempts);
			near('sba_worker_timeout_rate', tally.timeout / tally.attempts);
		}
		// the plan has every class somewhere
		const all = s.app.attempts.filter((a) => a.outcome !== 'completed').map((a) => [...classes(a.reason)]).flat();
		for (const c of ['4xx', '5xx', 'timeout']) assert.ok(all.includes(c), `no ${c} failure in the plan`);
	});

	// An attempt's duration on the wire is, in the trace, the exit of the
	// read that brought the reply handing the job out (a moveToActive, or a
	// finish with fetchNext) -> the exit of the write of its finish
	// (moveToFinished, moveToDelayed, retryJob). The worker measures the
	// same interval itself (wire.mjs, process.hrtime = the kernel's clock):
	// `data` when the read's chunk reaches JavaScript (the first listener),
	// `sent0`/`sent1` just before and after it hands the finish to ioredis,
	// which writes it in that call. The kernel's syscalls are found from
	// those stamps and the socket's port (--trace=conn,data). So, per
	// attempt, exactly:
	//   read exit <= data <= resolve <= processor <= sent0 <= write exit <= sent1
	//   trace duration == write exit - read exit (the observer's start and
	//     finish are those very syscalls; a wrong pairing or a wrong start
	//     breaks it)
	// That is the match with the app's measure, exactly. In the app's own
	// terms alone, the trace lies in the interval the worker knows,
	// [sent0 - data, sent1 - data], plus the time from the read's exit to
	// its first listener, which the app cannot see: the lower end holds
	// always (asserted); the upper one within 5 % / 1 ms unless the worker
	// was preempted right after the read (3.4 and 4.5 ms seen, in 2 of ~30
	// stack runs; printed, with the gap the kernel shows).
	// A point measure of the app cannot be held to 5 % / 1 ms on a loaded
	// 2-core machine: the worker is preempted (other workers, redis-server,
	// the observer) between handing the finish to ioredis and the write's
	// entry, up to ~13 ms seen (the write itself takes 15-50 us), and
	// between the start reply and its processor bullmq is preempted or
	// waits for a fetch-ahead round trip (up to ~27 ms). docs/REDIS_BULLMQ.md
	// has the figures; the diagnostics print each attempt's split.
	test(`${s.id}: job durations match the app's: its own wire interval, to the ns`, opts, (t) => {
		const rows = [];
		const bad = [];
		const late = [];
		const ms = (x) => (Number(x) / 1e6).toFixed(3);
		const lastBefore = (a, x) => { let r = null; for (const v of a) if (v <= x) r = v; else break; return r; };
		const firstFrom = (a, x) => a.find((v) => v >= x) ?? null;
		for (const a of s.app.attempts) {
			const name = queueName(a.queue, s.tag);
			const line = jobLines.find((j) => j.queue === name && j.op === a.outcome && j.job_id === a.job_id && j.attempt === a.attempt);
			const what = `${name} ${a.outcome} job ${a.job_id}/${a.attempt}`;
			const w = a.wire;
			if (!line || line.duration_ns < 0) { bad.push(`${what}: ${line ? 'no duration' : 'no trace line'}`); continue; }
			if (!w || !w.start || !w.fin) { bad.push(`${what}: the worker saw no ${w && w.start ? 'finish' : 'start'} reply/call`); continue; }
			const stamps = [w.start.data, w.start.ns, w.p0, w.p1, w.fin.ns, w.fin.after];
			if (!stamps.every((x) => /^\d+$/.test(x))) { bad.push(`${what}: stamps missing: ${JSON.stringify(w)}`); continue; }
			const [data, resolve, p0, p1, sent0, sent1] = stamps.map(BigInt);
			const rd = sys.get(connOf.get(`${w.pid} ${w.start.port}`));
			const wr = sys.get(connOf.get(`${w.pid} ${w.fin.port}`));
			const kr = rd && lastBefore(rd.in, data);
			const kw = wr && firstFrom(wr.out, sent0);
			if (kr === null || kr === undefined || kw === null || kw === undefined) { bad.push(`${what}: no kernel ${kr ? 'write' : 'read'} for the worker's stamps`); continue; }
			const d = line.duration_ns;
			const r = { what, d, proc: a.proc_ns, point: Number(sent0 - data), hi: Number(sent1 - data),
				readLag: Number(data - kr), parse: Number(resolve - data), startLag: Number(p0 - resolve),
				endLag: Number(sent0 - p1), writeLag: Number(kw - sent0) };
			rows.push(r);
			const order = [kr, data, resolve, p0, p1, sent0, kw, sent1];
			if (order.some((v, i) => i && v < order[i - 1]))
				bad.push(`${what}: not in order on the kernel clock (read exit, data, resolve, processor, sent0, write exit, sent1): ${order.map((v) => ms(v - kr)).join(' ')} ms`);
			if (BigInt(d) !== kw - kr)
				bad.push(`${what}: trace ${d} ns, the kernel's read -> write of the worker's stamps ${kw - kr} ns`);
			// the lines' own kernel times: the start is proven by that very
			// read; the finish by the reply to that write, read after it
			const started = jobLines.find((j) => j.queue === name && j.op === 'started' && j.job_id === a.job_id && j.attempt === a.attempt);
			if (!started || BigInt(started.ts) !== kr)
				bad.push(`${what}: started line ts ${started ? started.ts : '(no line)'}, the kernel's read ${kr}`);
			if (!(BigInt(line.ts) > kw))
				bad.push(`${what}: ${a.outcome} line ts ${line.ts} not after the finish's write exit ${kw}`);
			if (d < r.point)
				bad.push(`${what}: trace ${ms(d)} ms < ${ms(r.point)} ms from the worker's read to its send`);
			if (d > r.hi + Math.max(0.05 * r.point, 1e6))
				late.push(`${what}: trace ${ms(d)} ms beyond the app's [${ms(r.point)}, ${ms(r.hi)}] ms + 5 % / 1 ms:` +
					` its first listener ran ${ms(r.readLag)} ms after the read returned`);
		}
		const dist = (what, v) => {
			if (!v.length) return;
			v = [...v].sort((x, y) => x - y);
			t.diagnostic(`${s.id} ${what} over ${v.length} attempts (ms): min ${ms(v[0])} p50 ${ms(pct(v, 0.5))}` +
				` p90 ${ms(pct(v, 0.9))} max ${ms(v[v.length - 1])}`);
		};
		dist('trace - app (sent0 - data)', rows.map((r) => r.d - r.point));
		dist('trace - processor hrtime', rows.map((r) => r.d - r.proc));
		dist('lag read exit -> data listener', rows.map((r) => r.readLag));
		dist('lag data listener -> reply resolved', rows.map((r) => r.parse));
		dist('lag reply resolved -> processor', rows.map((r) => r.startLag));
		dist('lag processor end -> finish sent', rows.map((r) => r.endLag));
		dist('lag finish sent -> write exit', rows.map((r) => r.writeLag));
		const split = (r) => `trace ${ms(r.d)} ms = processor ${ms(r.proc)} + read->listener ${ms(r.readLag)} + listener->resolved ${ms(r.parse)}` +
			` + resolved->processor ${ms(r.startLag)} + processor->sent ${ms(r.endLag)} + sent->write exit ${ms(r.writeLag)}`;
		const near = (x, app) => Math.abs(x - app) <= Math.max(0.05 * app, 1e6);
		const offPoint = rows.filter((r) => !near(r.d, r.point));
		const offProc = rows.filter((r) => !near(r.d, r.proc));
		t.diagnostic(`${s.id}: ${offPoint.length} of ${rows.length} beyond 5 % / 1 ms of the app's sent0 - data, ${offProc.length} of its processor hrtime`);
		for (const r of new Set([...offPoint, ...offProc])) t.diagnostic(`${r.what}: ${split(r)}`);
		for (const l of late) t.diagnostic(l);
		assert.deepEqual(bad, []);
		assert.equal(rows.length, s.app.attempts.length);
		// a systematic error (a wrong end) would move the middle
		assert.ok(Math.abs(pct(rows.map((r) => r.d - r.point).sort((x, y) => x - y), 0.5)) <= 0.5e6, 'median trace - app within 0.5 ms');
	});

	test(`${s.id}: nothing left active or waiting`, opts, () => {
		for (const q of Object.keys(queues)) {
			const name = queueName(q, s.tag);
			assert.equal(val('sba_worker_active_jobs', name), 0, `${name} active`);
			assert.equal(val('sba_worker_queue_depth', name), 0, `${name} depth`);
		}
	});
}

test('/metrics/workers holds only worker families; the whole scrape passes promtool', opts, () => {
	assert.ok(text.length > 0);
	for (const line of text.split('\n'))
		if (line && !line.startsWith('#')) assert.match(line, /^sba_worker_/);
	const r = spawnSync('promtool', ['check', 'metrics'], { input: full });
	assert.equal(r.status, 0, String(r.stdout) + String(r.stderr));
});

test('no Redis command is cut by the capture', opts, () => {
	// ioredis sends a script's first use on a connection as EVAL with its
	// 13-32 KB Lua body before the keys; the tail capture of long writes to
	// Redis brings the keys in, so nothing is cut.
	const cut = Number((full.match(/^sba_observer_capture_cut_commands_total\{protocol="redis"\} (\S+)$/m) || [])[1]);
	assert.equal(cut, 0, 'Redis commands cut by the capture');
});
