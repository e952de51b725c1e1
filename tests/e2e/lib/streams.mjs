// SPDX-License-Identifier: Apache-2.0
// streams.mjs - compare what the observer captured with what the apps did.
//
// An app manifest (apps/rec.js) lists its sockets with ports, fd and the exact
// bytes received (rx) and handed to write (tx). For each socket the checker
// finds the one `open` event with the same pid and ports, then walks that
// conn's data events in trace order, keeping one stream offset per direction
// (the sum of `bytes`): each event's captured bytes must be the expected
// bytes at that offset, its `cap` must be what the capture rule gives, and
// at the end each offset must equal the app's total exactly.
// The expected "out" stream is the peer socket's rx when the peer is another
// recorded socket (rx is exact: 'data' events), else the socket's own tx.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

export const CAP_MAX = 16384;

// Index the trace once: conns by id with their events, opens by pid.
export function indexTrace(events) {
	const conns = new Map();
	const byPid = new Map();
	const conn = (id) => {
		if (!conns.has(id)) conns.set(id, { id, opens: [], closes: [], data: [] });
		return conns.get(id);
	};
	events.forEach((ev, i) => {
		ev._i = i;
		if (ev.tgid !== undefined) {
			if (!byPid.has(ev.tgid)) byPid.set(ev.tgid, []);
			byPid.get(ev.tgid).push(ev);
		}
		if (ev.ev === 'open') conn(ev.conn).opens.push(ev);
		else if (ev.ev === 'close') conn(ev.conn).closes.push(ev);
		else if (ev.ev === 'data') conn(ev.conn).data.push(ev);
	});
	return { events, conns, byPid, of: (pid, kind) => (byPid.get(pid) || []).filter((e) => !kind || e.ev === kind) };
}

export function decode(ev) {
	assert.equal(typeof ev.data, 'string', `data event without a data string: ${show(ev)}`);
	assert.ok(!/[^\u0000-\u00ff]/.test(ev.data), `data holds a code point above U+00FF: ${show(ev)}`);
	return Buffer.from(ev.data, 'latin1');
}

// One trace line, shortened for a failure message.
export function show(ev) {
	const { _i, ...rest } = ev;
	let s = JSON.stringify(rest);
	if (s.length > 400) s = `${s.slice(0, 400)}...(${s.length} chars)`;
	return `#${_i} ${s}`;
}

function hexAround(buf, at) {
	const a = Math.max(0, at - 8);
	return `${JSON.stringify(buf.subarray(a, at + 24).toString('latin1'))} (from byte ${a})`;
}

// Read every manifest of one run: name -> [manifest], each socket's bytes loaded.
export function loadManifests(dir) {
	const out = new Map();
	for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
		const m = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
		for (const s of m.sockets) {
			s.pid = m.pid;
			s.app = m.name;
			s.rx = fs.readFileSync(path.join(dir, s.rxFile));
			s.tx = fs.readFileSync(path.join(dir, s.txFile));
		}
		if (!out.has(m.name)) out.set(m.name, []);
		out.get(m.name).push(m);
	}
	return out;
}

// The only manifest an app wrote in this run.
export function one(manifests, name) {
	const list = manifests.get(name) || [];
	assert.equal(list.length, 1, `app ${name}: expected one manifest, found ${list.length}`);
	return list[0];
}

const key = (la, lp, ra, rp) => `${la}:${lp}>${ra}:${rp}`;

// Peers: the socket at the other end of each recorded socket, if recorded.
export function peerIndex(manifests) {
	const idx = new Map();
	for (const list of manifests.values())
		for (const m of list) for (const s of m.sockets) idx.set(key(s.laddr, s.lport, s.raddr, s.rport), s);
	return (s) => idx.get(key(s.raddr, s.rport, s.laddr, s.lport)) || null;
}

/*
 * The capture rule (docs/TRACE.md, --capture-head/--capture-body): per
 * connection, each time the direction changes (and at the first event) the
 * next `head` bytes are captured; after that the first `body` bytes of each
 * further syscall. A syscall that straddles the end of the head run is the
 * one case the words leave open (only the rest of the head, or at least
 * `body`); both answers are accepted for that one event and no other.
 */
export function capChoices(st, dir, bytes, caps) {
	if (st.lastDir !== dir) {
		st.lastDir = dir;
		st.run = 0;
	}
	const rest = Math.max(0, caps.head - st.run);
	st.run += bytes;
	const lim = (x) => Math.min(bytes, x, CAP_MAX);
	if (rest === 0) return [lim(caps.body)];
	if (bytes <= rest) return [lim(bytes)];
	return [...new Set([lim(rest), lim(Math.max(rest, caps.body))])];
}

/*
 * checkSocket: the whole contract for one recorded socket. Returns the conn
 * record (open, data, close) for scenario-specific assertions.
 * opts.role: expected role ('server'/'client'/'unknown'); opts.joined.
 */
export function checkSocket(trace, s, peerOf, caps, opts = {}) {
	const who = `${s.app} pid ${s.pid} ${s.role} ${s.laddr}:${s.lport}->${s.raddr}:${s.rport} fd ${s.fd}`;
	assert.ok(s.lport && s.rport, `${who}: the app never learned its ports (harness)`);
	assert.ok(s.closed, `${who}: the app did not see this socket close (harness)`);
	const opens = trace.of(s.pid, 'open').filter((e) => e.lport === s.lport && e.rport === s.rport);
	assert.equal(opens.length, 1, `${who}: expected exactly 1 open event with these ports, got ${opens.length}:\n${opens.map(show).join('\n')}`);
	const open = opens[0];
	const role = opts.role || s.role;
	const joined = opts.joined || false;
	assert.equal(open.role, role, `${who}: role: ${show(open)}`);
	assert.equal(open.joined, joined, `${who}: joined: ${show(open)}`);
	assert.equal(open.fd, s.fd, `${who}: fd: ${show(open)}`);
	assert.equal(open.laddr, s.laddr, `${who}: laddr: ${show(open)}`);
	assert.equal(open.raddr, s.raddr, `${who}: raddr: ${show(open)}`);
	const c = trace.conns.get(open.conn);
	assert.equal(c.opens.length, 1, `${who}: conn ${open.conn} opened ${c.opens.length} times:\n${c.opens.map(show).join('\n')}`);

	const peer = peerOf(s);
	const want = { in: s.rx, out: peer ? peer.rx : s.tx };
	if (peer)
		assert.ok(s.tx.equals(peer.rx), `${who}: harness: bytes written (${s.tx.length}) differ from what the peer read (${peer.rx.length})`);
	const mark = s.marks.join || (peer && peer.marks.join ? { rx: peer.marks.join.tx, tx: peer.marks.join.rx } : null);
	const off = { in: mark ? mark.rx : 0, out: mark ? mark.tx : 0 };
	const start = { ...off };
	if (joined) assert.ok(mark, `${who}: harness: a joined socket needs a join mark`);

	const st = {};
	let prevTs = 0;
	for (const ev of c.data) {
		const at = `${who}: conn ${c.id} ${show(ev)}`;
		assert.equal(ev.tgid, s.pid, `${at}: tgid`);
		assert.equal(ev.fd, s.fd, `${at}: fd`);
		assert.ok(ev.dir === 'in' || ev.dir === 'out', `${at}: dir`);
		assert.equal(ev.gap, 0, `${at}: gap`);
		assert.ok(Number.isInteger(ev.bytes) && ev.bytes > 0, `${at}: bytes must be a count > 0`);
		assert.ok(ev.ts >= prevTs, `${at}: timestamps out of order (prev ts ${prevTs})`);
		prevTs = ev.ts;
		const exp = want[ev.dir];
		assert.ok(off[ev.dir] + ev.bytes <= exp.length,
			`${at}: stream ${ev.dir} runs past the app's total: offset ${off[ev.dir]} + ${ev.bytes} > ${exp.length}`);
		const choices = capChoices(st, ev.dir, ev.bytes, caps);
		assert.ok(choices.includes(ev.cap), `${at}: cap ${ev.cap}, expected ${choices.join(' or ')} (head ${caps.head}, body ${caps.body}, dir run so far)`);
		const got = decode(ev);
		assert.equal(got.length, ev.cap, `${at}: data holds ${got.length} bytes, cap says ${ev.cap}`);
		if (ev.cap < ev.bytes) assert.equal(ev.cut, 'cap', `${at}: cut`);
		else assert.equal(ev.cut, undefined, `${at}: cut must be absent when cap == bytes`);
		const slice = exp.subarray(off[ev.dir], off[ev.dir] + ev.cap);
		if (!got.equals(slice)) {
			let k = 0;
			while (k < got.length && got[k] === slice[k]) k++;
			assert.fail(`${at}: captured bytes differ from the ${ev.dir} stream at offset ${off[ev.dir]} + ${k}:\n  expected ${hexAround(slice, k)}\n  got      ${hexAround(got, k)}`);
		}
		off[ev.dir] += ev.bytes;
	}
	assert.equal(off.in, want.in.length, `${who}: bytes in: the trace adds up to ${off.in - start.in} after offset ${start.in}, the app received ${want.in.length - start.in}`);
	assert.equal(off.out, want.out.length, `${who}: bytes out: the trace adds up to ${off.out - start.out} after offset ${start.out}, the app sent ${want.out.length - start.out}`);

	assert.equal(c.closes.length, 1, `${who}: expected exactly 1 close for conn ${c.id}, got ${c.closes.length}`);
	const close = c.closes[0];
	assert.equal(close.tgid, s.pid, `${who}: close tgid: ${show(close)}`);
	assert.equal(close.fd, s.fd, `${who}: close fd: ${show(close)}`);
	assert.equal(close.by_exit, false, `${who}: close by_exit: ${show(close)}`);
	const last = c.data.length ? c.data[c.data.length - 1]._i : open._i;
	assert.ok(open._i < (c.data[0] ? c.data[0]._i : Infinity) && close._i > last,
		`${who}: order must be open, data..., close: open #${open._i}, close #${close._i}, last data #${last}`);
	return c;
}

// Every connection event of this pid belongs to one of its recorded sockets.
export function checkProcessConns(trace, m, conns) {
	const ids = new Set(conns.map((c) => c.id));
	const opens = trace.of(m.pid, 'open');
	assert.equal(opens.length, m.sockets.length,
		`${m.name} pid ${m.pid}: ${opens.length} open events for ${m.sockets.length} TCP sockets:\n${opens.map(show).join('\n')}`);
	for (const ev of trace.of(m.pid)) {
		if (ev.ev === 'data' || ev.ev === 'open' || ev.ev === 'close')
			assert.ok(ids.has(ev.conn), `${m.name} pid ${m.pid}: event on a conn that is none of its TCP sockets: ${show(ev)}`);
	}
}

// checkApp: checkSocket for every socket of one manifest, then checkProcessConns.
export function checkApp(trace, m, peerOf, caps, opts = {}) {
	const conns = m.sockets.map((s) => checkSocket(trace, s, peerOf, caps, opts));
	checkProcessConns(trace, m, conns);
	return conns;
}
