// SPDX-License-Identifier: Apache-2.0
// Connection churn (what a production node sees all day): a real Node server
// watched by the real observer gets four rounds of traffic, each 2000
// requests on connections of their own (`Connection: close`) and 400 on 40
// keep-alive connections that the client then closes. After each round:
// - the observer counted exactly the requests the client got answers to;
// - it holds no connection any more (sba_observer_connections_tracked, and
//   with --hooks skb the packet decoder's sba_observer_packet_sockets);
// - its kernel table (`conns`, or `skb_socks` with --hooks skb), counted
//   with bpftool, holds no more than after the first round, and that is at
//   most a few entries more than before any traffic (`conns` also keeps the
//   server's eventfds and pipes, classified once as not TCP);
// - nothing was dropped or left untracked;
// and its anonymous memory does not grow round after round: in at least one
// of the last two rounds by less than 64 KiB (a leak grows it every round by
// the same amount: the round's 2040 connections, each leaving 32 bytes and
// malloc's header behind; the allocator's noise does not).
// Then more connections at once than --max-conns: the losses are counted,
// and the next traffic within the cap is counted exactly again.
// E2E_HOOKS=skb (churn-skb.test.mjs) runs it against the packet layer.
// Needs root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { freePort, sleep, waitFor, scrape as scrapeMetrics } from './lib/net.mjs';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const OBS = process.env.SBA_OBSERVER || path.join(ROOT, process.env.OUTPUT || 'build', 'sba-observer');
const HOOKS = process.env.E2E_HOOKS || 'tp';
const TOKEN = 'e2e-churn-' + 'c'.repeat(40);
const SVC = 'e2e-churn';
const isRoot = process.getuid && process.getuid() === 0;
const opts = { skip: !isRoot && 'needs root' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sba-churn-'));
const ROUNDS = 4, CLOSE_REQS = 2000, KA_CONNS = 40, KA_REQS = 400;
const kids = [];
let server, port, obs, obsPort, obsErr = '', cgdir = '';

// Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or
// /sys/fs/cgroup/unified on hybrid hosts); '' when it is not.
function cgroup2Root() {
	for (const l of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
		const f = l.split(' ');
		const dash = f.indexOf('-');
		if (dash > 0 && f[dash + 1] === 'cgroup2' && f[3] === '/') return f[4];
	}
	return '';
}

const scrape = () => scrapeMetrics(obsPort, TOKEN);
// The sum of a family's samples whose line matches `re` (all when null).
const total = (text, family, re = null) => text.split('\n')
	.filter((l) => (l.startsWith(family + '{') || l.startsWith(family + ' ')) && (!re || re.test(l)))
	.reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
const served = (text) => total(text, 'sba_http_server_requests_total', new RegExp(`service="${SVC}".*status_code="200"`));

// The id of the observer's kernel table of connections (`conns`, or
// `skb_socks` with --hooks skb): among the maps its fds hold, found once per
// observer process.
let tableOf = { pid: 0, id: '' };
function tableId() {
	if (tableOf.pid === obs.pid) return tableOf.id;
	const name = HOOKS === 'skb' ? 'skb_socks' : 'conns';
	const ids = new Set();
	for (const f of fs.readdirSync(`/proc/${obs.pid}/fdinfo`)) {
		let s;
		try { s = fs.readFileSync(`/proc/${obs.pid}/fdinfo/${f}`, 'utf8'); } catch { continue; }
		const m = s.match(/^map_id:\s+(\d+)$/m);
		if (m) ids.add(Number(m[1]));
	}
	const all = JSON.parse(spawnSync('bpftool', ['-j', 'map', 'show'], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout || '[]');
	const map = all.find((m) => ids.has(m.id) && m.name === name);
	if (!map) throw new Error(`no map named ${name} among the observer's`);
	tableOf = { pid: obs.pid, id: String(map.id) };
	return tableOf.id;
}
// Entries of that table, from bpftool.
function kernelEntries() {
	const id = tableId();
	const r = spawnSync('bpftool', ['-j', 'map', 'dump', 'id', id], { encoding: 'utf8', maxBuffer: 1 << 26 });
	assert.equal(r.status, 0, `bpftool map dump id ${id}: ${r.stderr}`);
	return JSON.parse(r.stdout).length;
}
// Its anonymous memory: the heap, where a leak would be (the ring's pages
// are mapped from the kernel, and come in as the ring fills the first time).
const rssKiB = () => Number(fs.readFileSync(`/proc/${obs.pid}/status`, 'utf8').match(/^RssAnon:\s+(\d+) kB$/m)[1]);

// One request; resolves with its status.
const get = (agent, headers = {}) => new Promise((resolve, reject) => {
	http.get({ host: '127.0.0.1', port, path: `/items/${Math.floor(Math.random() * 1e6)}`, agent, headers }, (r) => {
		r.resume();
		r.on('end', () => resolve(r.statusCode));
	}).on('error', reject);
});

// A round of churn; returns the requests answered 200.
async function round() {
	let ok = 0, left = CLOSE_REQS;
	const closer = async () => {
		while (left-- > 0) if (await get(false, { connection: 'close' }) === 200) ok++;
	};
	await Promise.all(Array.from({ length: 10 }, closer));
	const agent = new http.Agent({ keepAlive: true, maxSockets: KA_CONNS });
	const st = await Promise.all(Array.from({ length: KA_REQS }, () => get(agent)));
	ok += st.filter((s) => s === 200).length;
	agent.destroy();
	return ok;
}

before(async () => {
	if (!isRoot) return;
	[port, obsPort] = await Promise.all([freePort(), freePort()]);
	const script = path.join(tmp, 'churn-server.js');
	fs.writeFileSync(script, `'use strict';
const http = require('http');
const s = http.createServer((req, res) => {
	req.resume();
	req.on('end', () => { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); });
});
s.keepAliveTimeout = 60000;
s.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready'));
`);
	// The server in a cgroup of its own, as in a pod, from its first socket
	// on: with --hooks skb only its packets run the programs, not the test's
	// nor the observer's (their connections would come and go in the table).
	const root = cgroup2Root();
	if (root) {
		cgdir = path.join(root, `sba-e2e-churn-${process.pid}`);
		fs.mkdirSync(cgdir);
	}
	server = spawn(path.join(ROOT, 'scripts/in-cgroup'), [cgdir, process.execPath, script, String(port)],
		{ stdio: ['ignore', 'pipe', 'inherit'] });
	kids.push(server);
	await new Promise((resolve, reject) => {
		server.stdout.once('data', resolve);
		server.once('exit', (c) => reject(new Error(`server exited ${c}`)));
	});
	fs.writeFileSync(path.join(tmp, 'token'), TOKEN + '\n', { mode: 0o600 });
	await startObserver([]);
});

// The observer on the server, with these extra arguments; obs is it.
async function startObserver(extra) {
	obsErr = '';
	obs = spawn(OBS, ['--listen', `127.0.0.1:${obsPort}`, '--token-file', path.join(tmp, 'token'),
		'--hooks', HOOKS, '--pid', String(server.pid), '--service', `churn-server=${SVC}`, ...extra],
	{ stdio: ['ignore', 'ignore', 'pipe'] });
	kids.push(obs);
	obs.stderr.setEncoding('utf8');
	obs.stderr.on('data', (d) => { if (obsErr.length < 65536) obsErr += d; });
	await waitFor(() => obsErr.includes('ready:') || obs.exitCode !== null, 30000, 'the observer');
	assert.match(obsErr, /ready:/, `observer did not start: ${obsErr}`);
}

async function stopObserver() {
	const exited = new Promise((r) => obs.once('exit', r));
	obs.kill('SIGINT');
	await exited;
}

after(async () => {
	const gone = (k) => k.exitCode !== null || k.signalCode !== null;
	for (const k of kids) try { k.kill('SIGINT'); } catch { /* gone */ }
	const end = Date.now() + 5000;
	while (kids.some((k) => !gone(k)) && Date.now() < end) await sleep(50);
	for (const k of kids) if (!gone(k)) try { k.kill('SIGKILL'); } catch { /* gone */ }
	if (cgdir) {
		// whatever is left in it (cgroup.kill: kernel 5.14), then the
		// directory, which goes once its last task has exited
		try { fs.writeFileSync(path.join(cgdir, 'cgroup.kill'), '1'); } catch { /* older kernel */ }
		for (let i = 0; i < 50; i++) {
			try { fs.rmdirSync(cgdir); break; } catch { await sleep(100); }
		}
	}
	fs.rmSync(tmp, { recursive: true, force: true });
});

test(`--hooks ${HOOKS}: ${ROUNDS} rounds of connection churn leave no state behind`, opts, async (t) => {
	const entries0 = kernelEntries();
	let answered = 0, base = entries0 + 8;
	const rss = [];
	for (let r = 1; r <= ROUNDS; r++) {
		const ok = await round();
		answered += ok;
		assert.equal(ok, CLOSE_REQS + KA_REQS, `round ${r}: every request answered`);
		let text = '';
		await waitFor(async () => {
			text = await scrape();
			return served(text) >= answered && total(text, 'sba_observer_connections_tracked') === 0 &&
				total(text, 'sba_observer_packet_sockets') === 0 && kernelEntries() <= base;
		}, 15000, `round ${r}: counts in, state gone`).catch(() => {});
		const tracked = total(text, 'sba_observer_connections_tracked');
		const sockets = total(text, 'sba_observer_packet_sockets');
		const entries = kernelEntries();
		t.diagnostic(`round ${r}: served ${served(text)} of ${answered}, tracked ${tracked}, ` +
			`decoder sockets ${sockets}, kernel entries ${entries} (${entries0} before), anonymous memory ${rssKiB()} KiB`);
		assert.equal(served(text), answered, `round ${r}: requests counted = requests answered`);
		assert.equal(tracked, 0, `round ${r}: no connection held after the clients closed`);
		assert.equal(sockets, 0, `round ${r}: no socket held by the packet decoder`);
		assert.ok(entries <= base, `round ${r}: kernel table at most ${base} entries, has ${entries}`);
		if (r === 1) base = entries;
		assert.equal(total(text, 'sba_observer_dropped_events_total'), 0, `round ${r}: no drops`);
		assert.equal(total(text, 'sba_observer_untracked_records_total'), 0, `round ${r}: nothing untracked`);
		assert.equal(total(text, 'sba_observer_parse_errors_total'), 0, `round ${r}: no parse errors`);
		rss.push(rssKiB());
	}
	const grown = Math.min(rss[ROUNDS - 1] - rss[ROUNDS - 2], rss[ROUNDS - 2] - rss[ROUNDS - 3]);
	assert.ok(grown < 64, `anonymous memory grew by ${grown} KiB or more in each of the last two rounds (${rss.join(', ')} KiB after each)`);
});

// More connections open at once than --max-conns allows: what does not fit
// is lost and counted (the kernel map's conn_map_full drops, the observer's
// untracked records), the observer holds nothing once they close, and the
// next traffic within the cap is counted exactly again.
test(`--hooks ${HOOKS}: past --max-conns, losses are counted, and counts are exact again below it`, opts, async (t) => {
	await stopObserver();
	await startObserver(['--max-conns', '64']);
	const served0 = served(await scrape());
	const entries0 = kernelEntries();
	const agent = new http.Agent({ keepAlive: true, maxSockets: 150 });
	const st = await Promise.all(Array.from({ length: 450 }, () => get(agent)));
	agent.destroy();
	assert.equal(st.filter((x) => x === 200).length, 450, 'every request answered');
	let text = '';
	await waitFor(async () => {
		text = await scrape();
		return total(text, 'sba_observer_connections_tracked') === 0 &&
			total(text, 'sba_observer_packet_sockets') === 0 && kernelEntries() <= entries0 + 8;
	}, 15000, 'the connections closed').catch(() => {});
	const counted = served(text) - served0;
	const mapFull = total(text, 'sba_observer_dropped_events_total', /reason="conn_map_full"/);
	t.diagnostic(`150 connections over a cap of 64: ${counted} of 450 requests counted, conn_map_full ${mapFull}, ` +
		`untracked ${total(text, 'sba_observer_untracked_records_total')}, ` +
		`max ${total(text, 'sba_observer_connections_max')}`);
	assert.equal(total(text, 'sba_observer_connections_max'), 64, 'the cap is --max-conns');
	assert.ok(counted > 0 && counted < 450, `some requests counted, not all: ${counted}`);
	assert.ok(mapFull > 0, 'the connections with no room are counted as conn_map_full drops');
	assert.equal(total(text, 'sba_observer_connections_tracked'), 0, 'nothing held after they closed');
	assert.ok(kernelEntries() <= entries0 + 8, 'the kernel map emptied');

	const agent2 = new http.Agent({ keepAlive: true, maxSockets: 30 });
	const st2 = await Promise.all(Array.from({ length: 300 }, () => get(agent2)));
	agent2.destroy();
	assert.equal(st2.filter((x) => x === 200).length, 300, 'every request answered');
	await waitFor(async () => { text = await scrape(); return served(text) - served0 >= counted + 300; }, 15000, 'the counts')
		.catch(() => {});
	assert.equal(served(text) - served0, counted + 300, '30 connections within the cap: every request counted');
});
