// SPDX-License-Identifier: Apache-2.0
// HTTP/1.x end to end (issue 3): three real Node servers (plain `http`,
// Express 4, NestJS 11 in plain JavaScript) watched by the real observer.
// The test is the client: it records every request it sends (service,
// method, route template, status it got, tenant), and the observer's
// sba_http_server_requests_total must equal those counts exactly, series by
// series. Each exchange's duration (--trace=http) must be exactly its wire
// interval in the kernel's syscall records (--trace=data), and must lie
// before the server's own hrtime (its 'request' event to the response's
// 'finish', by x-request-id), and within 5 % or 100 us of that hrtime for at
// least 98 % of the exchanges: the servers run at real-time priority,
// warmed up, without V8's optimising compiler, and what is left of their
// JS's lag behind the syscalls is a few exchanges in a thousand. Then the edge
// cases, each through /metrics: keep-alive, pipelining, chunked responses,
// 1 MiB uploads (Content-Length and chunked), SSE, a WebSocket upgrade,
// Connection: close, HEAD, Expect: 100-continue, and one service calling
// another (client side). Needs root and npm (tests/e2e/http/package-lock.json).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import crypto from 'node:crypto';
import { parseLine } from './lib/observer.mjs';
import { freePort, sleep, waitFor, scrape as scrapeMetrics } from './lib/net.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const APP_DIR = path.join(ROOT, 'tests/e2e/http');
const OBS = process.env.SBA_OBSERVER || path.join(ROOT, process.env.OUTPUT || 'build', 'sba-observer');
const TOKEN = 'e2e-http-' + 'z'.repeat(40);
const isRoot = process.getuid && process.getuid() === 0;
const opts = { skip: !isRoot && 'needs root' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sba-http-'));
// Service names of our own: the series of other helpers' Node processes
// never match them.
const SVC = { plain: 'e2eh-plain', express: 'e2eh-express', nest: 'e2eh-nest' };
const SCRIPT = { plain: 'plain-api', express: 'express-api', nest: 'nest-api' };
const TENANTS = ['acme', 'globex', 'initech', 'umbrella', null];
const kids = [];
const srv = {};		// name -> { proc, port }
const sent = new Map();	// "service|method|route|status|tenant" -> requests the test made
const clientSent = new Map(); // the same for the plain service's calls to express (client side)
let obsPort, obs, obsErr = '', obsOut = '';
const trace = [];
const readTs = new Map(); // x-request-id -> ts of the read that brought its head in
const readConn = new Map(); // x-request-id -> connection of that read
const heads = new Map(); // conn -> ts of its reads that brought request heads in
const writes = new Map(); // conn -> ts of its writes
let parseErrors0 = 0;
let rtError = null;	// why the servers run without real-time priority
// The servers' V8: a 32 MB young generation, so that scavenges are rare, and
// no optimising compiler: perf showed TurboFan's code installs (on the main
// thread, at the next stack check) and their page faults and madvise
// between a read syscall and the 'request' event it leads to, 100-300 us
// long. Both change how fast the servers' JS is, not what they do.
const V8_FLAGS = ['--min-semi-space-size=32', '--max-semi-space-size=32', '--no-opt'];
// Share of exchanges whose server hrtime may miss the observer's duration by
// more than 5 % / 100 us: what remains of the servers' JS lag with the
// above, 0.2-0.9 % in calm runs here (V8 work between a syscall and the event;
// /proxy's 'finish' waits behind its client socket's teardown).
const HRTIME_MISS_BUDGET = 0.02;


// Route template the observer must produce: numbers and UUIDs are ids.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const template = (url) => url.split('?')[0].split('/').map((s) => (/^\d+$/.test(s) || UUID.test(s) ? ':id' : s)).join('/');
const key = (service, method, route, status, tenant) => [service, method, route, status, tenant ?? 'none'].join('|');
const bump = (m, k, n = 1) => m.set(k, (m.get(k) || 0) + n);
let rid = 0, warming = false;
const warmIds = new Set();	// the warm-up's requests: no strict duration check
const nextId = (tag) => {
	const id = `${tag}-${++rid}-${crypto.randomBytes(3).toString('hex')}`;
	if (warming) warmIds.add(id);
	return id;
};
// Record one request the test made and got `status` for.
const note = (name, method, url, status, tenant) => bump(sent, key(SVC[name], method, template(url), String(status), tenant));

const scrape = () => scrapeMetrics(obsPort, TOKEN);
function labelsOf(line, name) {
	const inner = line.slice(name.length + 1, line.lastIndexOf('}'));
	const o = {};
	for (const m of inner.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) o[m[1]] = m[2];
	return o;
}
// family -> Map(key -> value) of the series of our services
function series(text, family, keyOf) {
	const out = new Map();
	for (const line of text.split('\n')) {
		if (!line.startsWith(family + '{')) continue;
		const l = labelsOf(line, family);
		if (!Object.values(SVC).includes(l.service)) continue;
		out.set(keyOf(l), Number(line.slice(line.lastIndexOf('}') + 2)));
	}
	return out;
}
const serverSeries = (text) => series(text, 'sba_http_server_requests_total', (l) => key(l.service, l.method, l.route, l.status_code, l.tenant));
const clientSeries = (text) => series(text, 'sba_http_client_requests_total', (l) => [l.service, l.method, l.peer, l.route, l.status_code, l.tenant].join('|'));
const scalar = (text, re) => { const m = text.match(re); return m ? Number(m[1]) : 0; };
const parseErrorsOf = (text) => scalar(text, /^sba_observer_parse_errors_total\{protocol="http"\} (\S+)$/m);
const dropsOf = (text) => [...text.matchAll(/^sba_observer_dropped_events_total\{reason="[a-z_]+"\} (\S+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
const restrict = (m, pred) => new Map([...m].filter(([k]) => pred(k)));
const show = (m) => [...m].sort().map(([k, v]) => `${k} = ${v}`).join('\n');

// Waits until the observer's series of the keys `pred` selects add up to the
// client's, then asserts they are equal one by one (no extra series).
async function assertExact(pred, what) {
	const want = restrict(sent, pred);
	let text = '', have = new Map();
	try {
		await waitFor(async () => {
			text = await scrape();
			have = restrict(serverSeries(text), pred);
			return sum(have) >= sum(want);
		}, 10000, what);
	} catch { /* the comparison below says what differs */ }
	await sleep(250); // anything more would be counted by now (a drain is every 100 ms)
	text = await scrape();
	have = restrict(serverSeries(text), pred);
	assert.equal(show(have), show(want), `${what}: observer (left) vs client (right)`);
	return text;
}

// One request through node's http client; resolves with status and body.
function request(name, method, url, { tenant, headers = {}, body, agent, chunked } = {}) {
	const id = nextId(name);
	const h = { 'x-request-id': id, ...headers };
	if (tenant) h['x-tenant-id'] = tenant;
	if (body && !chunked) h['content-length'] = body.length;
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: srv[name].port, method, path: url, headers: h, agent }, (r) => {
			let n = 0;
			r.on('data', (d) => { n += d.length; });
			r.on('end', () => { note(name, method, url, r.statusCode, tenant); resolve({ status: r.statusCode, bytes: n, id }); });
		});
		req.on('error', reject);
		if (body && chunked) {
			let off = 0;
			const more = () => {
				while (off < body.length) {
					const piece = body.subarray(off, off + 65536);
					off += piece.length;
					if (!req.write(piece)) return req.once('drain', more);
				}
				req.end();
			};
			more();
		} else req.end(body);
	});
}

// A raw TCP exchange: writes each element of `writes` (waiting for `until`
// between them when given), resolves with everything read once `done(buf)`.
function raw(port, writes, done, { onData } = {}) {
	return new Promise((resolve, reject) => {
		const s = net.connect(port, '127.0.0.1');
		let buf = Buffer.alloc(0), step = 0;
		const timer = setTimeout(() => { s.destroy(); reject(new Error(`raw exchange timed out; read: ${buf.toString('latin1').slice(0, 400)}`)); }, 10000);
		const next = () => {
			while (step < writes.length) {
				const w = writes[step];
				if (typeof w === 'function') { if (!w(buf)) return; step++; continue; }
				s.write(w);
				step++;
			}
		};
		s.on('connect', next);
		s.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			if (onData) onData(s, d);
			next();
			if (step === writes.length && done(buf)) { clearTimeout(timer); s.end(); resolve(buf); }
		});
		s.on('error', (e) => { clearTimeout(timer); reject(e); });
	});
}
const count = (buf, str) => buf.toString('latin1').split(str).length - 1;

function records(name) {
	return new Promise((resolve) => {
		srv[name].proc.once('message', resolve);
		srv[name].proc.send('records');
	});
}

before(async () => {
	if (!isRoot) return;
	if (!fs.existsSync(path.join(APP_DIR, 'node_modules/@nestjs/platform-express')) || !fs.existsSync(path.join(APP_DIR, 'node_modules/express'))) {
		// The versions of package-lock.json, installed without changing it
		// (not `npm ci`: see tests/e2e/bullmq.test.mjs).
		const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { cwd: APP_DIR, stdio: 'inherit', timeout: 300000 });
		assert.equal(r.status, 0, 'npm install in tests/e2e/http failed');
	}
	const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
	obsPort = ports[3];
	const start = (name, port, args = []) => new Promise((resolve, reject) => {
		const proc = fork(path.join(APP_DIR, `${SCRIPT[name]}.js`), [String(port), ...args], { cwd: APP_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: V8_FLAGS });
		kids.push(proc);
		srv[name] = { proc, port };
		proc.once('message', (m) => {
			if (!m.ready) return reject(new Error(String(m)));
			// Real-time priority for the server's main thread: the other
			// processes of this 2-CPU machine (the test itself, the other
			// servers' work, the observer's drains) never delay its JS
			// between a syscall and the hrtime it takes after it.
			const r = spawnSync('chrt', ['-f', '-p', '50', String(proc.pid)], { encoding: 'utf8' });
			if (r.status !== 0) rtError = `chrt -f -p 50 ${proc.pid}: ${(r.stderr || r.error || '').toString().trim()}`;
			resolve();
		});
		proc.once('exit', (c) => reject(new Error(`${name} exited ${c}`)));
	});
	await Promise.all([start('express', ports[1]), start('nest', ports[2])]);
	await start('plain', ports[0], [String(ports[1])]);
	fs.writeFileSync(path.join(tmp, 'token'), TOKEN + '\n', { mode: 0o600 });
	// --pid: only our three servers, so that parse errors and drops are ours.
	const args = ['--listen', `127.0.0.1:${obsPort}`, '--token-file', path.join(tmp, 'token'),
		'--trace=http,data'];
	// E2E_HOOKS=skb: the same checks against the packet-layer capture.
	if (process.env.E2E_HOOKS) args.push('--hooks', process.env.E2E_HOOKS);
	for (const n of Object.keys(SVC)) args.push('--service', `${SCRIPT[n]}=${SVC[n]}`, '--pid', String(srv[n].proc.pid));
	obs = spawn(OBS, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	kids.push(obs);
	obs.stderr.setEncoding('utf8');
	obs.stderr.on('data', (d) => { if (obsErr.length < 65536) obsErr += d; });
	obs.stdout.setEncoding('utf8');
	obs.stdout.on('data', (d) => {
		obsOut += d;
		let i;
		while ((i = obsOut.indexOf('\n')) >= 0) {
			const line = obsOut.slice(0, i);
			obsOut = obsOut.slice(i + 1);
			if (line.startsWith('{"ev":"http"')) trace.push(parseLine(line));
			else if (line.startsWith('{"ev":"data"')) {
				// Syscall exit times, straight from the kernel records: the
				// read that brought a request's head in, and every write.
				const e = parseLine(line);
				const list = (m) => { if (!m.has(e.conn)) m.set(e.conn, []); return m.get(e.conn); };
				if (e.dir === 'out') list(writes).push(BigInt(e.ts));
				else if (e.data.includes('x-request-id: ')) {
					list(heads).push(BigInt(e.ts));
					for (const m of e.data.matchAll(/x-request-id: ([^\r]+)\r\n/g)) {
						if (readTs.has(m[1])) continue;
						readTs.set(m[1], BigInt(e.ts));
						readConn.set(m[1], e.conn);
					}
				}
			}
		}
	});
	await waitFor(() => obsErr.includes('ready:') || obs.exitCode !== null, 30000, 'the observer');
	assert.match(obsErr, /ready:/, `observer did not start: ${obsErr}`);
	parseErrors0 = parseErrorsOf(await scrape());
	await warmUp();
});

// Before anything is measured, each server runs every code path of the tests
// a few times: the first requests of a kind run cold code (V8 compiles and
// caches per call site), and the server's JS then lags its syscalls by
// 0.1-1 ms. These requests are counted like all others; only the strict
// per-exchange duration check leaves them out.
async function warmUp() {
	warming = true;
	await Promise.all(Object.keys(SVC).map((name, si) => runMix(name, 90, 1000 + si, 2)));
	for (let i = 0; i < 5; i++) {
		await request('plain', 'GET', `/proxy/${900 + i}`, { agent: false });
		note('express', 'GET', `/users/${900 + i}`, 200, null);
		bump(clientSent, [SVC.plain, 'GET', `localhost:${srv.express.port}`, '/users/:id', '200', 'none'].join('|'));
	}
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	for (let i = 0; i < 5; i++) {
		await request('plain', 'GET', `/chunked/${900 + i}`, { agent });
		await request('plain', 'HEAD', `/head/${900 + i}`, { agent });
		await request('plain', 'GET', `/ka/${900 + i}`, { agent });
		await request('plain', 'GET', `/close/${900 + i}`, { headers: { connection: 'close' }, agent: false });
	}
	agent.destroy();
	const writes = [];
	for (let i = 0; i < 5; i++) {
		writes.push(`POST /continue/${900 + i} HTTP/1.1\r\nHost: localhost\r\nx-request-id: ${nextId('plain-cont')}\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n`,
			(b) => count(b, 'HTTP/1.1 100 Continue') === i + 1, 'ok', (b) => count(b, 'HTTP/1.1 201') === i + 1);
		note('plain', 'POST', `/continue/${900 + i}`, 201, null);
	}
	await raw(srv.plain.port, writes, () => true);
	warming = false;
}

after(() => {
	for (const k of kids) try { k.kill('SIGINT'); } catch { /* gone */ }
	fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------- (a) the mix
// Seeded: the same requests every run.
function* mix(n, seed) {
	let x = seed;
	const rnd = (k) => { x = (x * 1103515245 + 12345) % 2147483648; return x % k; };
	const ops = [
		['GET', () => `/users/${rnd(100000)}`, 200],
		['GET', () => `/users/${rnd(1000)}`, 304, { 'if-none-match': '"v1"' }],
		['POST', () => '/users', 201, { 'content-type': 'application/json' }, '{"name":"x"}'],
		['PUT', () => `/users/${rnd(1000)}`, 200, { 'content-type': 'application/json' }, '{"name":"y"}'],
		['DELETE', () => `/users/${rnd(1000)}`, 204],
		['GET', () => `/orders/${crypto.randomUUID()}/items/${rnd(50)}`, 200],
		['GET', () => `/boom/${rnd(10)}`, 500],
		['GET', () => `/missing/${rnd(10)}`, 404],
		['HEAD', () => `/users/${rnd(1000)}`, 200],
	];
	for (let i = 0; i < n; i++) {
		const [method, url, status, headers, body] = ops[rnd(ops.length)];
		yield { method, url: url(), status, headers: headers || {}, body: body && Buffer.from(body), tenant: TENANTS[rnd(TENANTS.length)] };
	}
}

// n requests of mix(n, seed) to one server over conc keep-alive connections,
// each answered with the status the mix expects.
async function runMix(name, n, seed, conc) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
	const it = mix(n, seed);
	await Promise.all(Array.from({ length: conc }, async () => {
		for (let r = it.next(); !r.done; r = it.next()) {
			const q = r.value;
			const got = await request(name, q.method, q.url, { tenant: q.tenant, headers: q.headers, body: q.body, agent });
			assert.equal(got.status, q.status, `${name} ${q.method} ${q.url}`);
		}
	}));
	agent.destroy();
}

test('(a) server counts per service, method, route, status and tenant equal the client\'s exactly', opts, async () => {
	// One server at a time: two CPUs shared by three busy servers and the
	// test slow each server's JS, and its hrtime with it (misses in (b) rose
	// to 1-3 %); the observer sees the same traffic either way.
	const PER = 240, CONC = 4;
	for (const [si, name] of Object.keys(SVC).entries()) await runMix(name, PER, 7 + si, CONC);
	await assertExact(() => true, 'the mix');
	const text = await scrape();
	// duration histograms count the same requests
	const durCount = series(text, 'sba_http_server_request_duration_seconds_count', (l) => key(l.service, l.method, l.route, l.status_code, l.tenant));
	assert.equal(show(durCount), show(serverSeries(text)), 'duration histogram counts = request counts');
});

// ---------------------------------------------------------------- (c) edge cases
const routeIs = (...routes) => (k) => routes.includes(k.split('|')[2]);

test('(c) keep-alive: 300 requests on one connection', opts, async () => {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	let sockets = 0;
	const origCreate = agent.createConnection.bind(agent);
	agent.createConnection = (...a) => { sockets++; return origCreate(...a); };
	for (let i = 0; i < 300; i++) await request('plain', 'GET', `/ka/${i}`, { tenant: TENANTS[i % 5], agent });
	agent.destroy();
	assert.equal(sockets, 1, 'one connection');
	await assertExact(routeIs('/ka/:id'), 'keep-alive');
});

test('(c) pipelining: several requests in one write', opts, async () => {
	for (const name of ['plain', 'express']) {
		const path0 = name === 'plain' ? '/pipe' : '/users';
		for (let round = 0; round < 5; round++) {
			let msg = '';
			const N = 8;
			for (let i = 0; i < N; i++) {
				const t = TENANTS[(round + i) % 5];
				msg += `GET ${path0}/${round * 100 + i} HTTP/1.1\r\nHost: localhost\r\nx-request-id: ${nextId(name + '-pipe')}\r\n` +
					(t ? `x-tenant-id: ${t}\r\n` : '') + '\r\n';
				note(name, 'GET', `${path0}/1`, 200, t);
			}
			const buf = await raw(srv[name].port, [msg], (b) => count(b, 'HTTP/1.1 200 OK') === N && b.toString('latin1').endsWith('}') || (name === 'plain' && count(b, 'HTTP/1.1 200 OK') === N && b.toString('latin1').endsWith('ok')));
			assert.equal(count(buf, 'HTTP/1.1 200 OK'), N);
		}
	}
	await assertExact(routeIs('/pipe/:id', '/users/:id'), 'pipelining');
});

test('(c) chunked responses, Connection: close, HEAD then GET on one connection', opts, async () => {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	for (let i = 0; i < 30; i++) {
		const r = await request('plain', 'GET', `/chunked/${i}`, { tenant: TENANTS[i % 5], agent });
		assert.ok(r.bytes > 3600, 'the whole chunked body');
	}
	for (let i = 0; i < 20; i++) {
		const h = await request('plain', 'HEAD', `/head/${i}`, { tenant: TENANTS[i % 5], agent });
		assert.equal(h.bytes, 0);
		const g = await request('plain', 'GET', `/head/${i}`, { tenant: TENANTS[i % 5], agent });
		assert.equal(g.bytes, 100);
	}
	agent.destroy();
	for (let i = 0; i < 20; i++) await request('plain', 'GET', `/close/${i}`, { tenant: TENANTS[i % 5], headers: { connection: 'close' }, agent: false });
	await assertExact(routeIs('/chunked/:id', '/head/:id', '/close/:id'), 'chunked, HEAD, close');
});

test('(c) 1 MiB uploads, with Content-Length and chunked, then more requests on the same connection', opts, async () => {
	const body = crypto.randomBytes(1 << 20);
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	for (let i = 0; i < 3; i++) {
		for (const chunked of [false, true]) {
			const r = await request('plain', 'POST', `/upload/${i}`, { tenant: TENANTS[i], body, chunked, agent });
			assert.equal(r.status, 200);
			await request('plain', 'GET', `/ka/${1000 + i}`, { tenant: TENANTS[i], agent });
		}
	}
	agent.destroy();
	await assertExact(routeIs('/upload/:id', '/ka/:id'), 'uploads');
});

test('(c) Expect: 100-continue: one exchange with the final status', opts, async () => {
	const body = 'b'.repeat(4096);
	for (let c = 0; c < 2; c++) {
		const writes = [];
		for (let i = 0; i < 3; i++) {
			const t = TENANTS[i + c];
			writes.push(`POST /continue/${i} HTTP/1.1\r\nHost: localhost\r\nx-request-id: ${nextId('plain-cont')}\r\n` +
				(t ? `x-tenant-id: ${t}\r\n` : '') + `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
			writes.push((b) => count(b, 'HTTP/1.1 100 Continue') === i + 1, body, (b) => count(b, 'HTTP/1.1 201') === i + 1);
			note('plain', 'POST', `/continue/${i}`, 201, t);
		}
		await raw(srv.plain.port, writes, () => true);
	}
	await assertExact(routeIs('/continue/:id'), '100-continue');
});

test('(c) SSE: a 1.5 s streaming response is counted once, with its duration, when it ends', opts, async () => {
	const t0 = process.hrtime.bigint();
	const r = await request('plain', 'GET', '/sse', { tenant: 'acme' });
	const secs = Number(process.hrtime.bigint() - t0) / 1e9;
	assert.ok(r.bytes > 200);
	const text = await assertExact(routeIs('/sse'), 'SSE');
	const lab = `service="${SVC.plain}",method="GET",route="/sse",status_code="200",tenant="acme"`;
	const s = scalar(text, new RegExp(`^sba_http_server_request_duration_seconds_sum\\{${lab}\\} (\\S+)$`, 'm'));
	assert.ok(s > 1.35 && s <= secs + 0.01, `SSE duration ${s} s (client saw ${secs} s)`);
});

test('(c) WebSocket upgrade: counted as one 101, the frames after it ignored', opts, async () => {
	const wsKey = crypto.randomBytes(16).toString('base64');
	// Frames with a zero mask: their payloads travel as plain text, and look
	// like HTTP messages a parser that kept going would count.
	const frame = (s) => { const p = Buffer.from(s); return Buffer.concat([Buffer.from([0x81, 0x80 | p.length, 0, 0, 0, 0]), p]); };
	const ghostReq = 'GET /ghost/1 HTTP/1.1\r\nHost: x\r\n\r\n';
	const ghostRes = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
	const writes = [`GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nx-tenant-id: globex\r\n` +
		`Sec-WebSocket-Key: ${wsKey}\r\nSec-WebSocket-Version: 13\r\n\r\n`, (b) => count(b, '\r\n\r\n') >= 1];
	for (let i = 0; i < 5; i++) writes.push(frame(ghostReq), frame(ghostRes), (b) => count(b, 'GET /ghost') === i + 1 && count(b, 'HTTP/1.1 200 OK') === i + 1);
	const buf = await raw(srv.plain.port, writes, () => true);
	assert.match(buf.toString('latin1'), /^HTTP\/1\.1 101 Switching Protocols/);
	note('plain', 'GET', '/ws', 101, 'globex');
	await assertExact(routeIs('/ws', '/ghost/:id'), 'WebSocket');
	const text = await scrape();
	assert.doesNotMatch(text, /ghost/, 'no exchange parsed from WebSocket frames');
	const { upgrades } = await records('plain');
	assert.equal(upgrades, 1);
});

test('(c) a service calling another: client side counts equal the calls made', opts, async () => {
	for (let i = 0; i < 25; i++) {
		const t = TENANTS[i % 5];
		const r = await request('plain', 'GET', `/proxy/${i}`, { tenant: t, agent: false });
		assert.equal(r.status, 200);
		// the call the plain service made, seen from both ends
		note('express', 'GET', `/users/${i}`, 200, t);
		bump(clientSent, [SVC.plain, 'GET', `localhost:${srv.express.port}`, '/users/:id', '200', t ?? 'none'].join('|'));
	}
	await assertExact(routeIs('/proxy/:id', '/users/:id'), 'proxy (server side)');
	const text = await scrape();
	const have = clientSeries(text);
	assert.equal(show(have), show(clientSent), 'client side: observer (left) vs calls made (right)');
});

// ---------------------------------------------------------------- (b) durations, and totals
test('everything: all series exact, no parse errors, no drops', opts, async () => {
	const text = await assertExact(() => true, 'all');
	assert.equal(parseErrorsOf(text) - parseErrors0, 0, 'parse errors');
	assert.equal(dropsOf(text), 0, 'kernel drops');
});

// Two references for each exchange's duration:
// - the kernel's records (--trace=data), independent of the observer's HTTP
//   pairing: the exchange starts at the read that brought its head in and
//   must end exactly at a write of the same connection, before the next
//   request's head is read; when the request had its read to itself, at the
//   last such write. A wrong pairing or a wrong end misses by a syscall.
// - the server's own hrtime, taken by JavaScript: its 'request' event runs
//   after that read, and 'finish' after the last write, each as soon as
//   the event loop gets to it. The observer's interval must lie before them
//   (causality); their difference to the observer's duration is those two
//   lags, which the diagnostics print.
function durations() {
	return (async () => {
		const rec = {};
		for (const name of Object.keys(SVC)) Object.assign(rec, (await records(name)).records);
		const ids = Object.keys(rec);
		await waitFor(() => trace.filter((e) => e.side === 'server' && e.request_id in rec).length >= ids.length, 5000, 'trace lines').catch(() => {});
		const byId = new Map(trace.filter((e) => e.side === 'server' && e.request_id).map((e) => [e.request_id, e]));
		const perRead = new Map(); // "conn@ts" -> requests whose head that read brought
		for (const [id, ts] of readTs) perRead.set(`${readConn.get(id)}@${ts}`, (perRead.get(`${readConn.get(id)}@${ts}`) || 0) + 1);
		const rows = [];
		for (const id of ids) {
			const e = byId.get(id), r = rec[id], rd = readTs.get(id);
			if (!e) continue;
			const row = { id, srv: r.ns, obs: e.duration_ns, d: e.duration_ns - r.ns, url: r.url, method: r.method,
				ok: Math.abs(e.duration_ns - r.ns) <= Math.max(0.05 * r.ns, 100000) };
			if (rd !== undefined) {
				const conn = readConn.get(id), end = rd + BigInt(e.duration_ns);
				row.startLag = Number(BigInt(r.t0) - rd);	// JS 'request' after the read
				row.endLag = Number(BigInt(r.t1) - end);	// 'finish' after the last write
				row.sameConn = e.conn === conn;
				const next = (heads.get(conn) || []).find((ts) => ts > rd) ?? (1n << 63n);
				const ws = (writes.get(conn) || []).filter((ts) => ts >= rd && ts < next);
				row.endIsWrite = ws.includes(end);
				row.endNsOk = BigInt(e.end_ns) === end;	// the line's own end = start read + duration
				row.alone = perRead.get(`${conn}@${rd}`) === 1;
				row.lastWrite = ws.length ? ws[ws.length - 1] : undefined;
				row.endIsLast = row.lastWrite === end;
				// How late JS timed this exchange, from the kernel's records
				// alone (its read, its last write), not from the observer's
				// duration: the quality of the reference itself.
				row.refLate = row.lastWrite !== undefined && Math.max(row.startLag, Number(BigInt(r.t1) - row.lastWrite)) > 100000;
			}
			rows.push(row);
		}
		return { ids, byId, rows };
	})();
}
let D;
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const dist = (xs) => ['min', 0.01, 0.5, 0.9, 0.99, 'max'].map((p) => `${p === 'min' || p === 'max' ? p : 'p' + p * 100} ${((p === 'min' ? Math.min(...xs) : p === 'max' ? Math.max(...xs) : pct(xs, p)) / 1e3).toFixed(1)}`).join(' ');

test('(b) every exchange has its trace line, inside the server\'s own interval on the kernel clock', opts, async (t) => {
	D = await durations();
	const { ids, byId, rows } = D;
	const missing = ids.filter((id) => !byId.has(id));
	assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${ids.length} server records without a trace line`);
	const lined = rows.filter((r) => r.startLag !== undefined);
	t.diagnostic(`${rows.length} exchanges matched by request_id, ${lined.length} lined up with their read syscall`);
	assert.ok(lined.length >= rows.length * 0.99, 'the reads of (nearly) all requests are in the trace');
	// Against the kernel's own records: same connection, ends on a write,
	// and on the last one before the next request when it read alone.
	const wire = lined.filter((r) => !r.sameConn || !r.endIsWrite || (r.alone && !r.endIsLast));
	for (const r of wire.slice(0, 10)) t.diagnostic(`not the wire interval: ${r.method} ${r.url} observer ${r.obs} ns; same conn ${r.sameConn}, ends on a write ${r.endIsWrite}, alone in its read ${r.alone}, last write at +${r.lastWrite === undefined ? NaN : Number(r.lastWrite - readTs.get(r.id))} ns`);
	assert.equal(wire.length, 0, 'each duration = its read -> its last write, on the kernel records');
	const ends = lined.filter((r) => !r.endNsOk);
	assert.equal(ends.length, 0, `end_ns of ${ends.length} trace lines is not their read + duration_ns`);
	t.diagnostic(`${lined.filter((r) => r.alone).length} exchanges alone in their read end exactly on their connection's last write before the next request`);
	// The read comes before JS sees the request, the last write before
	// 'finish': a pairing or timing error of the observer breaks this.
	const bad = lined.filter((r) => r.startLag < 0 || r.endLag < 0);
	for (const r of bad.slice(0, 10)) t.diagnostic(`not causal: ${r.method} ${r.url} start lag ${r.startLag} ns, end lag ${r.endLag} ns`);
	assert.equal(bad.length, 0, 'observer start <= server request event, observer end <= server finish');
	t.diagnostic(`JS 'request' event after the read syscall, us: ${dist(lined.map((r) => r.startLag))}`);
	t.diagnostic(`JS 'finish' event after the last write syscall, us: ${dist(lined.map((r) => r.endLag))}`);
	t.diagnostic(`observer - server duration, us: ${dist(rows.map((r) => r.d))}`);
	// Systematic errors (a wrong end, a wrong start) move the middle.
	assert.ok(Math.abs(pct(rows.map((r) => r.d), 0.5)) <= 100000, 'median difference within 100 us');
});

test('(b) 98 % of exchanges are within 5 % or 100 us of the server\'s own hrtime', opts, async (t) => {
	// Each exchange's observer interval is its wire interval in the kernel's
	// records (the test above, for every exchange); a miss here is the
	// distance between those syscalls and the events JS timed them by.
	// A pipelined request (its head came in the read of an earlier one)
	// starts on the wire at that read, but Node emits its 'request' only
	// after the previous response: the server's hrtime leaves out the time
	// it queued, by design. Those are checked against the kernel records
	// above, not here.
	const all = (D || await durations()).rows;
	const warm = (r) => warmIds.has(r.id.replace(/-p$/, ''));	// -p: the call /proxy made
	const rows = all.filter((r) => r.alone !== false && !warm(r));
	t.diagnostic(`${all.filter((r) => r.alone === false).length} pipelined exchanges and ${all.filter(warm).length} of the warm-up left out`);
	// How often the servers' JS timed an exchange over 100 us after its
	// syscalls, measured on the kernel's records alone (the read, the last
	// write before the next request), so independent of the duration under
	// test. Fresh CI runs here had 2-7.5 % of the exchanges late at a median
	// lag of 37-49 us and 14-20 % on a slowed VM (p90 lag 220 us); fewer
	// miss the 5 % / 100 us (0.2-0.9 % in calm runs), as a late 'request'
	// and a late 'finish' cancel out.
	const lined = rows.filter((r) => r.startLag !== undefined && r.lastWrite !== undefined);
	const late = lined.filter((r) => r.refLate);
	t.diagnostic(`median JS 'request' lag behind its read: ${(pct(lined.map((r) => r.startLag), 0.5) / 1e3).toFixed(1)} us; JS over 100 us late for ${late.length} of ${lined.length} exchanges`);
	const bad = rows.filter((r) => !r.ok);
	t.diagnostic(`${bad.length} of ${rows.length} outside 5 % / 100 us; in ${bad.filter((r) => r.refLate).length} of those the server's JS ran over 100 us after the read or the last write`);
	for (const r of bad.slice(0, 10)) t.diagnostic(`outside: ${r.method} ${r.url} server ${(r.srv / 1e3).toFixed(1)} us observer ${(r.obs / 1e3).toFixed(1)} us; JS lags: request +${((r.startLag ?? NaN) / 1e3).toFixed(1)} us, finish +${((r.endLag ?? NaN) / 1e3).toFixed(1)} us`);
	// Whatever the machine's speed: an exchange that JS timed within 100 us
	// of both its syscalls must agree with the observer; a miss there is
	// the observer's.
	const own = bad.filter((r) => lined.includes(r) && !r.refLate);
	assert.equal(own.length, 0, `${own.length} exchanges outside 5 % / 100 us while the server's JS was on time`);
	// The budget: only where the reference itself is good to 100 us for
	// 98 % of the exchanges. Without real-time priority the servers' JS
	// waits behind the other processes, 1-3 ms at p99 here.
	if (rtError) t.todo(`the servers run without real-time priority (${rtError})`);
	if (late.length > Math.floor(HRTIME_MISS_BUDGET * rows.length)) t.todo(`the servers' JS ran over 100 us behind its syscalls for ${late.length} of ${lined.length} exchanges, more than the budget: this machine is too slow now for a 100 us reference`);
	assert.ok(bad.length <= Math.floor(HRTIME_MISS_BUDGET * rows.length), `${bad.length} of ${rows.length} exchanges outside 5 % / 100 us (budget ${HRTIME_MISS_BUDGET * 100} %)`);
});
