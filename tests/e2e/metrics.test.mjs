// SPDX-License-Identifier: Apache-2.0
// From the kernel to /metrics: real Node servers and clients, a real
// redis-server, the real observer; the counts it serves must equal the
// requests and commands the test made, label by label, and the scrape must
// pass `promtool check metrics`. Needs root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const OBS = process.env.SBA_OBSERVER || path.join(ROOT, process.env.OUTPUT || 'build', 'sba-observer');
const TOKEN = 'e2e-metrics-' + 'x'.repeat(40);
const isRoot = process.getuid && process.getuid() === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sba-metrics-'));
const kids = [];
let obsPort, apiPort, redisPort, obs, obsErr = '', memCg = null;
const MEM_LIMIT = 768 * 1024 * 1024;

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

function waitFor(fn, ms, what) {
	const end = Date.now() + ms;
	return new Promise((resolve, reject) => {
		const tick = async () => {
			try { if (await fn()) return resolve(); } catch { /* not yet */ }
			if (Date.now() > end) return reject(new Error(`timed out waiting for ${what}`));
			setTimeout(tick, 50);
		};
		tick();
	});
}

function get(port, p, headers = {}) {
	return new Promise((resolve, reject) => {
		http.get({ host: '127.0.0.1', port, path: p, headers, agent: false }, (r) => {
			let body = '';
			r.setEncoding('utf8');
			r.on('data', (d) => { body += d; });
			r.on('end', () => resolve({ status: r.statusCode, body }));
		}).on('error', reject);
	});
}

function scrape() {
	return get(obsPort, '/metrics', { authorization: `Bearer ${TOKEN}` }).then((r) => {
		assert.equal(r.status, 200);
		return r.body;
	});
}

// value of the sample whose name and labels are exactly these, or 0
function sample(text, name, labels) {
	const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
	for (const line of text.split('\n')) {
		if (!line.startsWith(name + '{')) continue;
		const inner = line.slice(name.length + 1, line.lastIndexOf('}'));
		const have = inner.split(/,(?=[a-z_]+=")/);
		if (have.length === want.length && want.every((w) => have.includes(w)))
			return Number(line.slice(line.lastIndexOf('}') + 2));
	}
	return 0;
}

before(async () => {
	if (!isRoot) return;
	[obsPort, apiPort, redisPort] = await Promise.all([freePort(), freePort(), freePort()]);
	fs.writeFileSync(path.join(tmp, 'token'), TOKEN + '\n', { mode: 0o600 });
	fs.writeFileSync(path.join(tmp, 'routes'), '/orgs/:org/invoices/:id\n');
	// The API under test: a plain Node http server.
	fs.writeFileSync(path.join(tmp, 'api.js'), `
		require('http').createServer((req, res) => {
			if (req.url.startsWith('/users/')) { res.end('{"ok":true}'); return; }
			if (req.url.startsWith('/orgs/')) { res.writeHead(201); res.end('made'); return; }
			if (req.url === '/fail') { res.writeHead(503); res.end('down'); return; }
			if (req.url.startsWith('/slow/')) { setTimeout(() => res.end('late'), 1500); return; }
			res.writeHead(404); res.end();
		}).listen(${apiPort}, '127.0.0.1', () => console.log('up'));`);
	const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1',
		'--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
	kids.push(redis);
	obs = spawn(OBS, ['--listen', `127.0.0.1:${obsPort}`, '--token-file', path.join(tmp, 'token'),
		'--routes', path.join(tmp, 'routes'), '--redis-port', String(redisPort)],
	{ stdio: ['ignore', 'ignore', 'pipe'] });
	obs.stderr.on('data', (d) => { obsErr += d; });
	kids.push(obs);
	await waitFor(() => obsErr.includes('ready:'), 30000, 'the observer');
	const api = spawn('node', [path.join(tmp, 'api.js')], {
		stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OTEL_SERVICE_NAME: 'api' },
	});
	kids.push(api);
	await new Promise((resolve) => api.stdout.once('data', resolve));
	// A memory limit on the API's cgroup (v1 memory controller here; the
	// observer reads v2's memory.max the same way), for sba_process_*.
	if (fs.existsSync('/sys/fs/cgroup/memory/cgroup.procs')) {
		memCg = `/sys/fs/cgroup/memory/sba-e2e-${process.pid}`;
		fs.mkdirSync(memCg, { recursive: true });
		fs.writeFileSync(path.join(memCg, 'memory.limit_in_bytes'), String(MEM_LIMIT));
		fs.writeFileSync(path.join(memCg, 'cgroup.procs'), String(api.pid));
	}
	await waitFor(() => new Promise((r) => net.connect(redisPort, '127.0.0.1').on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false))), 10000, 'redis');
});

after(() => {
	for (const k of kids) try { k.kill('SIGINT'); } catch { /* gone */ }
	if (memCg) setTimeout(() => { try { fs.rmdirSync(memCg); } catch { /* busy */ } }, 500);
	fs.rmSync(tmp, { recursive: true, force: true });
});

test('HTTP server counts equal the requests made, by route template, status and tenant', { skip: !isRoot && 'needs root' }, async () => {
	// A client process of its own (a target too: its side is the client family).
	const plan = [
		['/users/1', 'acme', 7], ['/users/2', 'globex', 3], ['/users/4242', '', 2],
		['/orgs/acme/invoices/17', 'acme', 4], ['/fail', 'acme', 5], ['/nothing', 'bad tenant!', 1],
	];
	const script = `
		const http = require('http');
		const plan = ${JSON.stringify(plan)};
		const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
		(async () => {
			for (const [p, t, n] of plan) for (let i = 0; i < n; i++) await new Promise((ok, ko) =>
				http.get({ host: '127.0.0.1', port: ${apiPort}, path: p, agent,
					headers: t ? { 'x-tenant-id': t } : {} }, (r) => { r.resume(); r.on('end', ok); }).on('error', ko));
			agent.destroy();
		})();`;
	const r = spawnSync('node', ['-e', script], { env: { ...process.env, OTEL_SERVICE_NAME: 'web' }, timeout: 30000 });
	assert.equal(r.status, 0, String(r.stderr));
	let text = '';
	const srv = (route, status, tenant) => sample(text, 'sba_http_server_requests_total', { service: 'api', method: 'GET', route, status_code: status, tenant });
	const cli = (route, status, tenant) => sample(text, 'sba_http_client_requests_total', { service: 'web', method: 'GET', peer: `localhost:${apiPort}`, route, status_code: status, tenant });
	// A scrape drains the ring before it renders (src/drainreq.c), and the
	// timed drain is 1 s away: the client's reads of its responses, all done
	// before it exited, are in the very first scrape.
	text = await scrape();
	assert.equal(cli('/users/:id', '200', 'acme'), 7, 'the first scrape after the client has all its requests');
	assert.equal(cli('/nothing', '404', 'invalid'), 1);
	// The server's side: its last write may still be on its way out of the
	// kernel when the client has read it.
	await waitFor(async () => {
		text = await scrape();
		return srv('/users/:id', '200', 'acme') === 7 && srv('/nothing', '404', 'invalid') === 1 &&
			sample(text, 'sba_http_client_requests_total', { service: 'web', method: 'GET', peer: `localhost:${apiPort}`, route: '/nothing', status_code: '404', tenant: 'invalid' }) === 1;
	}, 10000, 'the server counts');
	assert.equal(srv('/users/:id', '200', 'acme'), 7);
	assert.equal(srv('/users/:id', '200', 'globex'), 3);
	assert.equal(srv('/users/:id', '200', 'none'), 2);
	assert.equal(srv('/orgs/:org/invoices/:id', '201', 'acme'), 4);
	assert.equal(srv('/fail', '503', 'acme'), 5);
	assert.equal(srv('/nothing', '404', 'invalid'), 1);
	// The caller's side, labelled by its own service and the port it called.
	assert.equal(cli('/users/:id', '200', 'acme'), 7);
	assert.equal(cli('/fail', '503', 'acme'), 5);
	assert.equal(sample(text, 'sba_http_server_request_duration_seconds_count', { service: 'api', method: 'GET', route: '/fail', status_code: '503', tenant: 'acme' }), 5);
	// No raw id, path or address in any label.
	assert.doesNotMatch(text, /\/users\/4242|\/orgs\/acme\/|127\.0\.0\.1/);
	assert.match(text, /sba_http_server_request_duration_quantile_seconds\{service="api",route="\/users\/:id",quantile="0\.95"\}/);
});

test('a scrape shows every request that ended before it, whatever the drain interval', { skip: !isRoot && 'needs root' }, async () => {
	// This test process is a target too, and it stays alive: no exit forces a
	// drain. Each request is read to its end, then the very next scrape must
	// count it (it asks the loop for a drain first); the timed drain is 1 s.
	const mine = (t) => t.split('\n').filter((l) => l.startsWith('sba_http_client_requests_total{') &&
		l.includes('route="/fresh/:id"') && l.includes('tenant="fresh"'))
		.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
	for (let i = 1; i <= 5; i++) {
		const r = await get(apiPort, `/fresh/${1000 + i}`, { 'x-tenant-id': 'fresh' });
		assert.equal(r.status, 404);
		assert.equal(mine(await scrape()), i, `request ${i} is in the scrape right after it`);
	}
	assert.match(await scrape(), /^sba_observer_scrape_stale_total 0$/m);
});

test('Redis commands are counted by command and status, blocking ones kept out of latency', { skip: !isRoot && 'needs root' }, async () => {
	// A raw RESP client: 6 SET, 4 GET, 2 wrong-type errors, 1 BLPOP that times out.
	const script = `
		const net = require('net');
		const s = net.connect(${redisPort}, '127.0.0.1');
		const cmd = (...a) => '*' + a.length + '\\r\\n' + a.map((x) => '$' + Buffer.byteLength(String(x)) + '\\r\\n' + x + '\\r\\n').join('');
		const steps = [];
		for (let i = 0; i < 6; i++) steps.push(cmd('SET', 'k' + i, 'v'));
		for (let i = 0; i < 4; i++) steps.push(cmd('GET', 'k' + i));
		steps.push(cmd('LPUSH', 'k0', 'x'), cmd('LPUSH', 'k1', 'x'), cmd('BLPOP', 'emptylist', '0.1'));
		let n = 0;
		s.on('data', () => next()); // one small reply per command: send the next
		const next = () => { if (n < steps.length) s.write(steps[n++]); else setTimeout(() => s.end(), 200); };
		s.on('connect', next);
		s.on('close', () => process.exit(0));`;
	const r = spawnSync('node', ['-e', script], { env: { ...process.env, OTEL_SERVICE_NAME: 'worker' }, timeout: 20000 });
	assert.equal(r.status, 0, String(r.stderr));
	let text = '';
	await waitFor(async () => {
		text = await scrape();
		return sample(text, 'sba_redis_commands_total', { service: 'worker', command: 'SET', status: 'ok' }) === 6;
	}, 10000, 'the redis counts');
	const c = (command, status) => sample(text, 'sba_redis_commands_total', { service: 'worker', command, status });
	assert.equal(c('SET', 'ok'), 6);
	assert.equal(c('GET', 'ok'), 4);
	assert.equal(c('LPUSH', 'WRONGTYPE'), 2);
	assert.equal(c('BLPOP', 'ok'), 1);
	assert.equal(sample(text, 'sba_redis_command_duration_seconds_count', { service: 'worker', command: 'SET' }), 6);
	assert.equal(sample(text, 'sba_redis_command_duration_seconds_count', { service: 'worker', command: 'BLPOP' }), 0);
});

test('the processes\' CPU, memory and memory limit are served per service', { skip: !isRoot && 'needs root' }, async () => {
	let text = '';
	// Sampled once a second by the event loop. The first sample may be from
	// the moment the api exec'd (its exec wakes the loop), when node had 1-2
	// MB resident: wait for a sample of the running server.
	await waitFor(async () => {
		text = await scrape();
		return sample(text, 'sba_process_resident_memory_bytes', { service: 'api' }) > 10e6;
	}, 10000, 'process figures');
	const rss = sample(text, 'sba_process_resident_memory_bytes', { service: 'api' });
	assert.ok(rss > 10e6 && rss < 2e9, `resident memory of the api: ${rss}`);
	assert.match(text, /^sba_process_cpu_seconds_total\{service="api"\} [0-9.e+-]+$/m);
	if (memCg)
		assert.equal(sample(text, 'sba_process_memory_limit_bytes', { service: 'api' }), MEM_LIMIT);
	// A service whose processes are gone keeps its CPU counter and loses
	// its gauges (no "0 bytes resident" for a process that does not exist).
	const script = `require('http').get({ host: 'localhost', port: ${apiPort}, path: '/users/1' },
		(r) => { r.resume(); r.on('end', () => setTimeout(() => process.exit(0), 2500)); });`;
	const eph = spawn('node', ['-e', script], { env: { ...process.env, OTEL_SERVICE_NAME: 'ephemeral' }, stdio: 'ignore' });
	kids.push(eph);
	const gone = new Promise((resolve) => eph.on('exit', resolve));
	await waitFor(async () => sample(await scrape(), 'sba_process_resident_memory_bytes', { service: 'ephemeral' }) > 0, 10000, 'the ephemeral service sampled');
	await gone;
	await waitFor(async () => {
		text = await scrape();
		return !/^sba_process_resident_memory_bytes\{service="ephemeral"\}/m.test(text);
	}, 5000, 'the gauge of a service with no processes gone');
	assert.match(text, /^sba_process_cpu_seconds_total\{service="ephemeral"\} [0-9.e+-]+$/m);
});

test('the slow-request log, exemplars and requests in flight', { skip: !isRoot && 'needs root' }, async () => {
	const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
	const script = `
		const http = require('http');
		const get = (p, h) => new Promise((ok, ko) => http.get({ host: 'localhost', port: ${apiPort}, path: p,
			headers: h }, (r) => { r.resume(); r.on('end', ok); }).on('error', ko));
		(async () => {
			for (let i = 0; i < 3; i++) await get('/users/' + (70 + i), { 'x-request-id': 'fast-' + i });
			await get('/slow/9', { traceparent: '${TP}', 'x-request-id': 'slow-9',
				authorization: 'Bearer secret-auth-e2e', cookie: 'sid=secret-cookie-e2e' });
		})();`;
	const client = spawn('node', ['-e', script], { env: { ...process.env, OTEL_SERVICE_NAME: 'web' }, stdio: 'ignore' });
	const done = new Promise((resolve) => client.on('exit', resolve));
	// The slow request is in flight for 1.5 s; the gauge is sampled every second.
	await waitFor(async () => sample(await scrape(), 'sba_http_server_active_requests', { service: 'api' }) === 1, 3000, 'one request in flight');
	assert.equal(await done, 0);
	await waitFor(async () => sample(await scrape(), 'sba_http_server_active_requests', { service: 'api' }) === 0, 3000, 'no request in flight');

	const denied = await get(obsPort, '/debug/slow');
	assert.equal(denied.status, 401);
	let slow;
	await waitFor(async () => {
		const r = await get(obsPort, '/debug/slow', { authorization: `Bearer ${TOKEN}` });
		slow = JSON.parse(r.body);
		return slow.requests.some((q) => q.route === '/slow/:id');
	}, 5000, 'the slow request in the log');
	const top = slow.requests[0];
	assert.equal(top.route, '/slow/:id');
	assert.equal(top.service, 'api');
	assert.equal(top.status, 200);
	assert.equal(top.request_id, 'slow-9');
	assert.equal(top.traceparent, TP);
	assert.ok(top.duration_seconds >= 1.5 && top.duration_seconds < 2.5, `duration ${top.duration_seconds}`);
	assert.equal(slow.window_seconds, 60);
	assert.ok(slow.requests.some((q) => q.request_id === 'fast-0' && q.route === '/users/:id'));
	const raw = JSON.stringify(slow);
	assert.doesNotMatch(raw, /secret-auth|secret-cookie|\/users\/7/);

	// OpenMetrics: the kept request of each duration series sits on its bucket.
	const om = await get(obsPort, '/metrics', { authorization: `Bearer ${TOKEN}`, accept: 'application/openmetrics-text; version=1.0.0' });
	assert.equal(om.status, 200);
	assert.match(om.body, /^sba_http_server_request_duration_seconds_bucket\{service="api",method="GET",route="\/slow\/:id",status_code="200",tenant="none",le="2\.5"\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"\} 1\.5\d* \d{10}\.\d+$/m);
	assert.match(om.body, /route="\/users\/:id",status_code="200",tenant="none",le="[0-9.]+"\} \d+ # \{request_id="fast-\d"\}/);
	assert.match(om.body, /^sba_http_client_request_duration_seconds_bucket\{service="web",method="GET",peer="localhost:\d+",route="\/slow\/:id".* # \{trace_id="4bf92f35/m);
	assert.doesNotMatch(om.body, /secret-auth|secret-cookie/);
	assert.match(om.body, /# EOF\n$/);
});

test('the scrape passes promtool check metrics', { skip: !isRoot && 'needs root' }, async () => {
	const text = await scrape();
	const r = spawnSync('promtool', ['check', 'metrics'], { input: text });
	assert.equal(r.status, 0, String(r.stdout) + String(r.stderr));
});
