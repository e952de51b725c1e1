// SPDX-License-Identifier: Apache-2.0
// The Grafana dashboard and the alert rules against live data: `make demo`'s
// script (scripts/demo.sh, DEMO_KEEP=1) runs the SaaS and the real observer,
// a real Prometheus scrapes it with the static job of
// deploy/prometheus/prometheus.yml (1 s interval, token from a file) and
// loads deploy/prometheus/alerts.yml. Then every panel query of
// deploy/grafana/sba-observer.json must parse and return data, every
// variable must have values, every sba_* name used must exist, every rule
// must load and evaluate without error, and the demo must clean up after
// itself. Needs root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { freePort, sleep } from './lib/net.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const DASH = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/grafana/sba-observer.json'), 'utf8'));
const RULES = path.join(ROOT, 'deploy/prometheus/alerts.yml');
const isRoot = process.getuid && process.getuid() === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sba-dash-'));
const STATE = path.join(tmp, 'demo.state');
const RATE = '15s';	// $__rate_interval for a 1 s scrape interval
// Values for the second pass: one concrete value per variable.
const VALUES = { service: 'demo-web', route: '/invoices/:id', tenant: 'acme', queue_name: 'emails' };
// Families only --hooks skb exports (docs/METRICS.md).
const SKB_ONLY = ['sba_observer_packet_losses_total'];
// Targets allowed to return no data, with the reason. Filled below only
// when the machine could not give the demo API a memory limit.
const allowEmpty = new Map();

let demo, prom, state = {}, promPort, demoOut = '', promErr = '';


async function api(p, params = {}) {
	const u = new URL(`http://127.0.0.1:${promPort}${p}`);
	for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
	const r = await fetch(u);
	return r.json();
}
const query = (expr) => api('/api/v1/query', { query: expr });

async function until(fn, ms, what) {
	const end = Date.now() + ms;
	for (;;) {
		try { if (await fn()) return; } catch { /* not yet */ }
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}\ndemo output:\n${demoOut.slice(-2000)}\nprometheus:\n${promErr.slice(-2000)}`);
		await sleep(250);
	}
}

// Grafana's variables: $__rate_interval, then $name / ${name}.
function expand(expr, vals) {
	let e = expr.replaceAll('$__rate_interval', RATE);
	for (const [k, v] of Object.entries(vals)) e = e.replaceAll(`\${${k}}`, v).replaceAll(`$${k}`, v);
	return e;
}
const ALL = Object.fromEntries(DASH.templating.list.map((v) => [v.name, v.allValue]));
const targets = DASH.panels.filter((p) => p.type !== 'row')
	.flatMap((p) => p.targets.map((t) => ({ panel: p.title, refId: t.refId, expr: t.expr })));

// The static job of deploy/prometheus/prometheus.yml, pointed at the demo.
function promConfig() {
	const src = fs.readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8');
	const m = src.match(/# BEGIN static job[^\n]*\n([\s\S]*?)\n\s*# END static job/);
	assert.ok(m, 'prometheus.yml has no BEGIN/END static job block');
	let job = m[1];
	const subst = (re, to, what) => {
		assert.match(job, re, `the static job has no ${what}`);
		job = job.replace(re, to);
	};
	subst(/scrape_interval: 15s/, 'scrape_interval: 1s', 'scrape_interval: 15s');
	subst(/credentials_file: \S+/, `credentials_file: ${state.TOKEN_FILE}`, 'credentials_file');
	subst(/- targets:\n(\s+- \S+\n)+/, `- targets: ['127.0.0.1:${state.OBS_PORT}']\n`, 'targets');
	return `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - ${RULES}\nscrape_configs:\n${job}\n`;
}

before(async () => {
	if (!isRoot) return;
	demo = spawn('bash', [path.join(ROOT, 'scripts/demo.sh')], {
		env: { ...process.env, DEMO_KEEP: '1', DEMO_SECONDS: '5', DEMO_RPS: '25', DEMO_STATE: STATE },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	demo.stdout.on('data', (d) => { demoOut += d; });
	demo.stderr.on('data', (d) => { demoOut += d; });
	demo.exited = new Promise((r) => demo.on('close', (code, signal) => r({ code, signal })));
	await until(() => fs.existsSync(STATE), 300000, 'the demo to start (state file)');
	for (const line of fs.readFileSync(STATE, 'utf8').split('\n')) {
		const i = line.indexOf('=');
		if (i > 0) state[line.slice(0, i)] = line.slice(i + 1);
	}
	promPort = await freePort();
	fs.writeFileSync(path.join(tmp, 'prometheus.yml'), promConfig());
	prom = spawn('prometheus', [`--config.file=${path.join(tmp, 'prometheus.yml')}`,
		`--storage.tsdb.path=${path.join(tmp, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`,
		'--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
	prom.stderr.on('data', (d) => { promErr += d; });
	prom.on('error', (e) => { promErr += `spawn prometheus: ${e.message}\n`; });
	// 20 scrapes of the observer: enough for the 15 s rate windows.
	await until(async () => {
		const r = await query('count_over_time(up{job="sba-observer-static"}[1m]) >= 20');
		return r.data.result.length === 1;
	}, 90000, 'Prometheus to scrape the observer 20 times');
	await until(() => demoOut.includes('DEMO_KEEP=1: still running'), 60000, 'the demo summary');
});

after(async () => {
	if (prom) { prom.kill('SIGTERM'); await new Promise((r) => { prom.on('close', r); setTimeout(r, 5000); }); }
	if (demo && demo.exitCode === null && demo.signalCode === null) {
		demo.kill('SIGTERM');
		await Promise.race([demo.exited, sleep(15000)]);
	}
	fs.rmSync(tmp, { recursive: true, force: true });
});

const opts = { skip: !isRoot && 'needs root' };

test('the static scrape job reaches the observer with the token', opts, async () => {
	const r = await query('up{job="sba-observer-static"}');
	assert.equal(r.data.result.length, 1);
	assert.equal(r.data.result[0].value[1], '1');
	assert.equal(r.data.result[0].metric.instance, '127.0.0.1', 'the relabelling drops the port');
	const auth = await query('sba_observer_http_auth_failures_total');
	for (const s of auth.data.result) assert.equal(s.value[1], '0', `auth failure ${s.metric.reason}`);
});

test('the demo printed its summary and the curl command, never the token', opts, () => {
	const token = fs.readFileSync(state.TOKEN_FILE, 'utf8').trim();
	assert.match(demoOut, /HTTP requests served/);
	assert.match(demoOut, /demo-web +GET \/invoices\/:id +\d+/);
	assert.match(demoOut, /emails +\d+/);
	assert.ok(demoOut.includes(`curl -s -H "Authorization: Bearer $(cat ${state.TOKEN_FILE})" http://127.0.0.1:${state.OBS_PORT}/metrics`));
	assert.ok(!demoOut.includes(token), 'the token itself is printed');
});

test('every dashboard variable has values, the demo\'s among them', opts, async () => {
	for (const v of DASH.templating.list) {
		const m = v.query.query.match(/^label_values\((.*), *(\w+)\)$/);
		assert.ok(m, `${v.name}: not a label_values() query`);
		const r = await api(`/api/v1/label/${m[2]}/values`, { 'match[]': expand(m[1], ALL) });
		assert.equal(r.status, 'success', `${v.name}: ${r.error}`);
		assert.ok(r.data.includes(VALUES[v.name]), `${v.name}: ${VALUES[v.name]} not among ${r.data.join(', ')}`);
	}
});

test('every sba_* name the dashboard and the alerts use is in the scrape', opts, async () => {
	const names = new Set((await api('/api/v1/label/__name__/values')).data);
	const used = new Set((JSON.stringify(DASH) + fs.readFileSync(RULES, 'utf8')).match(/sba_[a-z0-9_]+/g)
		.filter((n) => !n.endsWith('_')));
	if (!names.has('sba_process_memory_limit_bytes')) {
		// The demo could not put its API under a memory limit here (no
		// writable cgroup memory controller): say so, allow those two.
		console.log('# no sba_process_memory_limit_bytes: the demo could not set a cgroup memory limit on this machine');
		used.delete('sba_process_memory_limit_bytes');
		allowEmpty.set('Memory and limit/B', 'no cgroup memory limit on this machine');
		allowEmpty.set('Memory / limit/A', 'no cgroup memory limit on this machine');
	}
	// Exported with --hooks skb only; the demo runs the default tp. The
	// queries that use them fall back to 0 without them.
	for (const n of SKB_ONLY) used.delete(n);
	const missing = [...used].filter((n) => !names.has(n) && !names.has(n + '_bucket') && !/:/.test(n));
	assert.deepEqual(missing, [], 'names used but not exported');
});

for (const t of targets) {
	test(`panel "${t.panel}" ${t.refId}: parses and returns data`, opts, async () => {
		const expr = expand(t.expr, ALL);
		const r = await query(expr);
		assert.equal(r.status, 'success', `${expr}: ${r.error}`);
		if (allowEmpty.has(`${t.panel}/${t.refId}`)) return;
		assert.ok(r.data.result.length > 0, `no data: ${expr}`);
		// A query answering only NaN shows nothing either.
		assert.ok(r.data.result.some((s) => s.value[1] !== 'NaN'), `only NaN: ${expr}`);
	});
}

test('every panel query parses with one value per variable', opts, async () => {
	for (const t of targets) {
		const expr = expand(t.expr, VALUES);
		const r = await query(expr);
		assert.equal(r.status, 'success', `${t.panel} ${t.refId}: ${expr}: ${r.error}`);
	}
	// and the HTTP ones return that service's data
	const r = await query(expand(targets.find((t) => t.panel === 'Request rate by service').expr, VALUES));
	assert.deepEqual(r.data.result.map((s) => s.metric.service), ['demo-web']);
});

test('alerts.yml loads in Prometheus: every rule evaluated, none in error', opts, async () => {
	const want = (fs.readFileSync(RULES, 'utf8').match(/^ {6}- (record|alert): /gm) || []).length;
	let rules = [];
	await until(async () => {
		const r = await api('/api/v1/rules');
		rules = r.data.groups.flatMap((g) => g.rules);
		return rules.length === want && rules.every((x) => x.health !== 'unknown');
	}, 30000, 'every rule to be evaluated');
	assert.equal(rules.length, want);
	for (const x of rules) assert.equal(x.health, 'ok', `${x.name}: ${x.lastError}`);
	const up = rules.filter((x) => ['SbaObserverDown', 'SbaObserverAbsent'].includes(x.name));
	assert.deepEqual(up.map((x) => x.state), ['inactive', 'inactive'], 'the observer is up');
	const th = await query('sba_worker_queue_depth:threshold');
	assert.deepEqual(th.data.result.map((s) => s.metric.queue_name).sort(), ['emails', 'reports']);
});

test('the demo stops on SIGTERM and leaves nothing behind', opts, async () => {
	demo.kill('SIGTERM');
	const exit = await Promise.race([demo.exited, sleep(20000).then(() => null)]);
	assert.ok(exit, 'the demo did not exit within 20 s');
	assert.match(demoOut, /stopped and cleaned up/);
	assert.ok(!fs.existsSync(STATE), 'state file left');
	assert.ok(!fs.existsSync(path.dirname(state.TOKEN_FILE)), 'temporary directory left');
	for (const port of [state.OBS_PORT, state.WEB_PORT, state.API_PORT, state.REDIS_PORT]) {
		const open = await new Promise((r) => net.connect(Number(port), '127.0.0.1')
			.on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false)));
		assert.equal(open, false, `port ${port} still open`);
	}
});
