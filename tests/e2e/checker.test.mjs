// SPDX-License-Identifier: Apache-2.0
// checker.test.mjs - the stream checker must catch what it is there to catch.
//
// No root, no observer: a synthetic app recording and a trace built from it
// by the capture rule pass; each mutation a buggy observer could produce (a
// flipped byte, a wrong cap, a lost or reordered event, a wrong count, role,
// fd, gap or cut, a missing close, a stray conn) must fail, with a message
// that names it. If one of these passes, the e2e suite could not fail either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { indexTrace, checkSocket, checkApp, capChoices } from './lib/streams.mjs';

const DEF = { head: 4096, body: 256 };

function bytes(n, seed) {
	const b = Buffer.alloc(n);
	for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
	return b;
}

// Two recorded sockets (client pid 100, server pid 200) and a trace of the
// client side for the syscalls `calls` ([dir, n]...), caps applied strictly.
function fixture(calls, caps = DEF, { boundaryMax = false } = {}) {
	const total = { in: 0, out: 0 };
	for (const [d, n] of calls) total[d] += n;
	const up = bytes(total.out, 1);
	const down = bytes(total.in, 2);
	const cli = { app: 'cli', pid: 100, role: 'client', fd: 7, laddr: '127.0.0.1', lport: 40000, raddr: '127.0.0.1', rport: 8080, rx: down, tx: up, closed: true, marks: {} };
	const srv = { app: 'srv', pid: 200, role: 'server', fd: 9, laddr: '127.0.0.1', lport: 8080, raddr: '127.0.0.1', rport: 40000, rx: up, tx: down, closed: true, marks: {} };
	const peerOf = (s) => (s === cli ? srv : s === srv ? cli : null);
	const ev = [{ ev: 'open', ts: 1, tgid: 100, tid: 100, conn: 11, fd: 7, role: 'client', joined: false, laddr: '127.0.0.1', lport: 40000, raddr: '127.0.0.1', rport: 8080 }];
	const off = { in: 0, out: 0 };
	const st = {};
	let ts = 10;
	for (const [dir, n] of calls) {
		const ch = capChoices(st, dir, n, caps);
		const cap = boundaryMax ? ch[ch.length - 1] : ch[0];
		const src = dir === 'out' ? up : down;
		const e = { ev: 'data', ts: ts + 1, tgid: 100, tid: 100, conn: 11, fd: 7, dir, sys: dir === 'out' ? 'write' : 'read', bytes: n, cap, gap: 0 };
		if (cap < n) e.cut = 'cap';
		e.data = src.subarray(off[dir], off[dir] + cap).toString('latin1');
		off[dir] += n;
		ts += 10;
		ev.push(e);
	}
	ev.push({ ev: 'close', ts: ts + 1, tgid: 100, conn: 11, fd: 7, by_exit: false });
	return { cli, srv, peerOf, ev, caps };
}

const CALLS = [['out', 3000], ['out', 2000], ['out', 700], ['in', 100], ['in', 9000], ['in', 50], ['out', 1], ['in', 1]];

function check(f, ev = f.ev) {
	return checkSocket(indexTrace(ev.map((e) => ({ ...e }))), f.cli, f.peerOf, f.caps);
}

test('a correct trace passes, default and max caps, either boundary reading', () => {
	check(fixture(CALLS));
	check(fixture(CALLS, { head: 16384, body: 16384 }));
	check(fixture(CALLS, DEF, { boundaryMax: true }));
});

test('the capture rule: head after each change of direction, then body per syscall', () => {
	const st = {};
	assert.deepEqual(capChoices(st, 'out', 3000, DEF), [3000]);
	assert.deepEqual(capChoices(st, 'out', 2000, DEF), [1096]);
	assert.deepEqual(capChoices(st, 'out', 700, DEF), [256]);
	assert.deepEqual(capChoices(st, 'in', 100, DEF), [100]);
	assert.deepEqual(capChoices(st, 'in', 4000, DEF), [3996]);
	assert.deepEqual(capChoices(st, 'in', 10, DEF), [10]);
	assert.deepEqual(capChoices(st, 'in', 10, DEF), [10]);
	const s2 = {};
	capChoices(s2, 'out', 4000, DEF);
	assert.deepEqual(capChoices(s2, 'out', 1000, DEF), [96, 256]);
	assert.deepEqual(capChoices({}, 'out', 1 << 20, { head: 16384, body: 16384 }), [16384]);
});

const mutations = [
	['a flipped captured byte', (ev) => { const e = ev[2]; const b = Buffer.from(e.data, 'latin1'); b[17] ^= 1; e.data = b.toString('latin1'); }, /captured bytes differ .* offset 3000 \+ 17/],
	['a cap one short', (ev) => { const e = ev[3]; e.cap -= 1; e.data = e.data.slice(0, -1); }, /cap 255, expected 256/],
	['data longer than cap', (ev) => { ev[1].data += 'x'; }, /data holds 3001 bytes, cap says 3000/],
	['a byte count one high, mid-stream', (ev) => { ev[5].bytes += 1; }, /captured bytes differ from the in stream at offset 9101/],
	['a byte count one high, last event', (ev) => { ev[8].bytes += 1; }, /runs past the app's total: offset 9150 \+ 2 > 9151/],
	['a lost data event, mid-stream', (ev) => { ev.splice(6, 1); }, /captured bytes differ from the in stream at offset 9100/],
	['a lost data event, last one', (ev) => { ev.splice(8, 1); }, /bytes in: the trace adds up to 9150 after offset 0, the app received 9151/],
	['a lost capped-out event', (ev) => { ev.splice(3, 1); }, /differ from the out stream at offset 5000 \+ 0/],
	['two events swapped', (ev) => { [ev[1], ev[2]] = [ev[2], ev[1]]; }, /cap|differ/],
	['a duplicated event', (ev) => { ev.splice(2, 0, { ...ev[2] }); }, /cap|differ|runs past/],
	['a non-zero gap', (ev) => { ev[4].gap = 5; }, /gap/],
	['cut missing on a capped event', (ev) => { delete ev[3].cut; }, /cut/],
	['cut on a complete event', (ev) => { ev[1].cut = 'cap'; }, /cut must be absent/],
	['a zero-byte event', (ev) => { ev.splice(2, 0, { ...ev[2], bytes: 0, cap: 0, data: '' }); }, /bytes must be a count > 0/],
	['the wrong role', (ev) => { ev[0].role = 'server'; }, /role/],
	['joined when it was not', (ev) => { ev[0].joined = true; }, /joined/],
	['the wrong fd on data', (ev) => { ev[3].fd = 8; }, /: fd/],
	['the wrong local port', (ev) => { ev[0].lport = 40001; }, /expected exactly 1 open event .* got 0/],
	['a second open of the same conn', (ev) => { ev.splice(1, 0, { ...ev[0], lport: 40002 }); }, /opened 2 times/],
	['no close', (ev) => { ev.pop(); }, /exactly 1 close .* got 0/],
	['close by exit', (ev) => { ev[ev.length - 1].by_exit = true; }, /by_exit/],
	['data after the close', (ev) => { ev.push({ ...ev[ev.length - 2], ts: 1e9 }); }, /runs past|order must be/],
	['timestamps going back', (ev) => { ev[4].ts = 2; }, /timestamps out of order/],
	['a code point above U+00FF', (ev) => { ev[1].data = `\u0100${ev[1].data.slice(1)}`; }, /code point above/],
];

for (const [name, mutate, re] of mutations) {
	test(`catches ${name}`, () => {
		const f = fixture(CALLS);
		const ev = f.ev.map((e) => ({ ...e }));
		mutate(ev);
		assert.throws(() => check(f, ev), re);
	});
}

test('catches a data event of the process on a conn that is none of its sockets', () => {
	const f = fixture(CALLS);
	const ev = f.ev.map((e) => ({ ...e }));
	ev.push({ ...ev[0], conn: 12, lport: 1, rport: 2, fd: 3 });
	const m = { name: 'cli', pid: 100, sockets: [f.cli] };
	assert.throws(() => checkApp(indexTrace(ev), m, f.peerOf, f.caps), /2 open events for 1 TCP sockets/);
	const ev2 = f.ev.map((e) => ({ ...e }));
	ev2.push({ ...ev2[1], conn: 13, fd: 4 });
	assert.throws(() => checkApp(indexTrace(ev2), m, f.peerOf, f.caps), /none of its TCP sockets/);
});

test('a joined socket is checked from its join mark on', () => {
	const f = fixture(CALLS);
	// Pretend 100 bytes went each way before the observer: the app marks it
	// and the trace starts there.
	const cli = { ...f.cli, marks: { join: { rx: 100, tx: 100 } }, rx: Buffer.concat([bytes(100, 5), f.cli.rx]), tx: Buffer.concat([bytes(100, 6), f.cli.tx]) };
	const srv = { ...f.srv, rx: cli.tx, tx: cli.rx };
	const peerOf = (s) => (s === cli ? srv : cli);
	const ev = f.ev.map((e) => ({ ...e }));
	ev[0].role = 'unknown';
	ev[0].joined = true;
	checkSocket(indexTrace(ev), cli, peerOf, f.caps, { role: 'unknown', joined: true });
	const bad = ev.map((e) => ({ ...e }));
	assert.throws(() => checkSocket(indexTrace(bad), { ...cli, marks: {} }, () => null, f.caps, { role: 'unknown', joined: true }), /join mark/);
});
