// SPDX-License-Identifier: Apache-2.0
// BullMQ from the wire: a real bullmq 5 app (producer + workers, two queues,
// failures, a retry with backoff, a timeout) on a real redis-server, watched
// by the real observer. The per-queue counters served on /metrics/workers
// are compared with what the app itself counted. Needs root and npm (the
// bullmq package is installed from tests/e2e/bullmq/package-lock.json).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const APP_DIR = path.join(ROOT, 'tests/e2e/bullmq');
const OBS = process.env.SBA_OBSERVER || path.join(ROOT, process.env.OUTPUT || 'build', 'sba-observer');
const TOKEN = 'e2e-bullmq-' + 'y'.repeat(40);
const isRoot = process.getuid && process.getuid() === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sba-bullmq-'));
const kids = [];
let obsPort, redisPort, appCounts, text = '', full = '', obsErr = '';

const freePort = () => new Promise((resolve) => {
	const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

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

before(async () => {
	if (!isRoot) return;
	if (!fs.existsSync(path.join(APP_DIR, 'node_modules/bullmq'))) {
		// The versions of package-lock.json, installed without changing it.
		// (Not `npm ci`: npm 11 writes lock files without the other
		// platforms' optional packages of msgpackr, and npm ci then refuses
		// them as out of sync.)
		const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { cwd: APP_DIR, stdio: 'inherit', timeout: 300000 });
		assert.equal(r.status, 0, 'npm install in tests/e2e/bullmq failed');
	}
	[obsPort, redisPort] = await Promise.all([freePort(), freePort()]);
	fs.writeFileSync(path.join(tmp, 'token'), TOKEN + '\n', { mode: 0o600 });
	kids.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
	const obs = spawn(OBS, ['--listen', `127.0.0.1:${obsPort}`, '--token-file', path.join(tmp, 'token'),
		'--redis-port', String(redisPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
	obs.stderr.on('data', (d) => { obsErr += d; });
	kids.push(obs);
	for (let i = 0; i < 300 && !obsErr.includes('ready:'); i++) await new Promise((r) => setTimeout(r, 100));
	assert.match(obsErr, /ready:/, 'observer did not start');
	const app = spawnSync('node', ['app.js', String(redisPort)], { cwd: APP_DIR, timeout: 60000 });
	assert.equal(app.status, 0, String(app.stderr));
	appCounts = JSON.parse(String(app.stdout).trim().split('\n').pop());
	await new Promise((r) => setTimeout(r, 300)); // one drain interval and then some
	text = await scrape('/metrics/workers');
	full = await scrape('/metrics');
});

after(() => {
	for (const k of kids) try { k.kill('SIGINT'); } catch { /* gone */ }
	fs.rmSync(tmp, { recursive: true, force: true });
});

const opts = { skip: !isRoot && 'needs root' };

test('failures and their classes are exact', opts, () => {
	// Failed jobs finish through EVALSHA calls (their script was used before
	// on the connection), so every one is seen.
	assert.equal(val('sba_worker_jobs_failed_total', 'emails'), appCounts.emails.failed);
	assert.equal(val('sba_worker_jobs_failed_total', 'reports'), appCounts.reports.failed);
	assert.ok(val('sba_worker_error5xx_rate', 'emails') > 0, 'the 503 failures are 5xx');
	assert.equal(val('sba_worker_error4xx_rate', 'emails'), 0);
	assert.ok(val('sba_worker_timeout_rate', 'reports') > 0, 'the timed-out job is a timeout');
	assert.equal(val('sba_worker_timeout_rate', 'emails'), 0);
	assert.equal(val('sba_worker_active_jobs', 'emails'), 0);
	assert.equal(val('sba_worker_active_jobs', 'reports'), 0);
});

test('every counter equals the app\'s own count, and every finish has its duration', opts, () => {
	// ioredis sends a script's first use on a connection as EVAL with its
	// 13-32 KB Lua body before the keys; the tail capture of long writes to
	// Redis brings the keys in, so nothing is cut.
	const cut = Number((full.match(/^sba_observer_capture_cut_commands_total\{protocol="redis"\} (\S+)$/m) || [])[1]);
	assert.equal(cut, 0, 'Redis commands cut by the capture');
	for (const [q, c] of Object.entries(appCounts)) {
		assert.equal(val('sba_worker_jobs_added_total', q), c.added, `${q} added`);
		assert.equal(val('sba_worker_jobs_completed_total', q), c.completed, `${q} completed`);
		assert.equal(val('sba_worker_jobs_retried_total', q), c.retried, `${q} retried`);
		const finishes = val('sba_worker_jobs_completed_total', q) + val('sba_worker_jobs_failed_total', q) + val('sba_worker_jobs_retried_total', q);
		assert.equal(val('sba_worker_job_duration_seconds_count', q), finishes, `${q} durations`);
	}
});

test('/metrics/workers holds only worker families; the whole scrape passes promtool', opts, () => {
	assert.ok(text.length > 0);
	for (const line of text.split('\n'))
		if (line && !line.startsWith('#')) assert.match(line, /^sba_worker_/);
	const r = spawnSync('promtool', ['check', 'metrics'], { input: full });
	assert.equal(r.status, 0, String(r.stdout) + String(r.stderr));
});
