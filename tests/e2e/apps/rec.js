// SPDX-License-Identifier: Apache-2.0
// rec.js - what a scenario app really sent and received, socket by socket.
//
// tap(socket, role) records the socket's ports and fd once known, every byte
// it received ('data' events, exact) and every byte handed to write()/end().
// done() writes, into $E2E_OUT, one <name>.<pid>.s<i>.{rx,tx}.bin pair per
// socket and a <name>.<pid>.json manifest that the checker reads.
// Tricky: an HTTP server socket is read by the parser without 'data' events;
// adding a 'data' listener makes node "unconsume" it, so the bytes still flow
// through here (the syscalls stay the same: libuv read()s either way).
'use strict';
const fs = require('fs');
const path = require('path');

const OUT = process.env.E2E_OUT;
const NAME = process.env.E2E_NAME || path.basename(process.argv[1], '.js');
const sockets = [];
const extra = {};

function toBuf(chunk, enc) {
	if (Buffer.isBuffer(chunk)) return Buffer.from(chunk);
	if (chunk instanceof Uint8Array) return Buffer.from(chunk);
	return Buffer.from(String(chunk), typeof enc === 'string' ? enc : 'utf8');
}

function tap(sock, role) {
	const rec = {
		role, fd: null, laddr: null, lport: null, raddr: null, rport: null,
		rx: [], tx: [], rxLen: 0, txLen: 0, closed: false, marks: {},
	};
	sockets.push(rec);
	const addr = () => {
		if (rec.lport !== null || !sock.remotePort) return;
		rec.laddr = sock.localAddress;
		rec.lport = sock.localPort;
		rec.raddr = sock.remoteAddress;
		rec.rport = sock.remotePort;
		rec.fd = sock._handle && typeof sock._handle.fd === 'number' ? sock._handle.fd : null;
	};
	addr();
	sock.once('connect', addr);
	sock.on('data', (b) => {
		addr();
		rec.rx.push(Buffer.from(b));
		rec.rxLen += b.length;
	});
	const write = sock.write;
	sock.write = function (chunk, enc, cb) {
		addr();
		const b = toBuf(chunk, enc);
		rec.tx.push(b);
		rec.txLen += b.length;
		return write.apply(this, arguments);
	};
	const end = sock.end;
	sock.end = function (chunk, enc, cb) {
		if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
			const b = toBuf(chunk, enc);
			rec.tx.push(b);
			rec.txLen += b.length;
		}
		return end.apply(this, arguments);
	};
	sock.on('close', () => { rec.closed = true; });
	return rec;
}

// mark(rec, label): remember how many bytes had gone each way at this point.
function mark(rec, label) {
	rec.marks[label] = { rx: rec.rxLen, tx: rec.txLen };
}

function done(more) {
	Object.assign(extra, more || {});
	if (!OUT) throw new Error('E2E_OUT is not set');
	const base = `${NAME}.${process.pid}`;
	const list = sockets.map((r, i) => {
		const rxFile = `${base}.s${i}.rx.bin`;
		const txFile = `${base}.s${i}.tx.bin`;
		fs.writeFileSync(path.join(OUT, rxFile), Buffer.concat(r.rx));
		fs.writeFileSync(path.join(OUT, txFile), Buffer.concat(r.tx));
		return {
			i, role: r.role, fd: r.fd, laddr: r.laddr, lport: r.lport, raddr: r.raddr,
			rport: r.rport, rxFile, txFile, rxLen: r.rxLen, txLen: r.txLen,
			closed: r.closed, marks: r.marks,
		};
	});
	const manifest = { name: NAME, pid: process.pid, sockets: list, extra };
	fs.writeFileSync(path.join(OUT, `${base}.json`), JSON.stringify(manifest, null, 1));
	return manifest;
}

// waitClosed(recs): resolves once every listed socket has emitted 'close'.
function waitClosed(recs, ms = 5000) {
	return new Promise((resolve, reject) => {
		const t0 = Date.now();
		const poll = () => {
			if (recs.every((r) => r.closed)) return resolve();
			if (Date.now() - t0 > ms) return reject(new Error('sockets did not close'));
			setTimeout(poll, 5);
		};
		poll();
	});
}

// A deterministic, position-dependent payload: a misplaced byte shows.
// Printable by default so a trace stays readable; binary covers all 256
// byte values (and so every JSON escape the trace uses).
function pattern(len, seed, binary) {
	const b = Buffer.alloc(len);
	let x = (seed * 2654435761) >>> 0 || 1;
	for (let i = 0; i < len; i++) {
		x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
		b[i] = binary ? x & 0xff : 0x21 + (x % 94);
	}
	return b;
}

// Read lines from stdin: the test drives multi-phase apps this way.
function stdinLines(onLine) {
	let buf = '';
	process.stdin.setEncoding('utf8');
	process.stdin.on('data', (s) => {
		buf += s;
		let i;
		while ((i = buf.indexOf('\n')) >= 0) {
			const line = buf.slice(0, i);
			buf = buf.slice(i + 1);
			onLine(line);
		}
	});
	return new Promise((resolve) => process.stdin.on('end', resolve));
}

function say(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

module.exports = { tap, mark, done, waitClosed, pattern, stdinLines, say, sockets, extra };
