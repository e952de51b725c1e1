// SPDX-License-Identifier: Apache-2.0
// filepipe.js - I/O that is not TCP and must never be captured.
//
// E2E_MARKER is a unique string. This process writes it to a file and reads
// it back (read() on the main thread and on the libuv thread pool), writes it
// to stdout (a pipe), through a child node's stdin/stdout (a socketpair),
// over a Unix-domain socket and over UDP. It also keeps one real TCP
// connection (client and server, no marker in it), so the observer has this
// process as a target and the test can check that every data event of this
// pid belongs to one of those two TCP sockets.
'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const dgram = require('dgram');
const { spawn } = require('child_process');
const rec = require('./rec');

const MARKER = process.env.E2E_MARKER;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-filepipe-'));

function unixEcho() {
	return new Promise((resolve, reject) => {
		const p = path.join(dir, 'sock');
		const srv = net.createServer((s) => s.pipe(s));
		srv.listen(p, () => {
			const c = net.createConnection(p);
			let got = '';
			c.on('data', (b) => {
				got += b;
				if (got === MARKER) { c.end(); srv.close(); resolve(); }
			});
			c.on('error', reject);
			c.write(MARKER);
		});
	});
}

function udpEcho() {
	return new Promise((resolve, reject) => {
		const s = dgram.createSocket('udp4');
		s.on('message', (m) => { if (String(m) === MARKER) { s.close(); resolve(); } });
		s.on('error', reject);
		s.bind(0, '127.0.0.1', () => s.send(MARKER, s.address().port, '127.0.0.1'));
	});
}

function childEcho() {
	return new Promise((resolve, reject) => {
		const ch = spawn(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'],
			{ stdio: ['pipe', 'pipe', 'inherit'] });
		let got = '';
		ch.stdout.on('data', (b) => { got += b; });
		ch.on('error', reject);
		ch.on('exit', (code) => (got === MARKER && code === 0 ? resolve(ch.pid) :
			reject(new Error(`child echo: ${code} ${got.length}`))));
		ch.stdin.end(MARKER);
	});
}

function tcpPair() {
	return new Promise((resolve) => {
		const recs = [];
		const srv = net.createServer((s) => {
			recs.push(rec.tap(s, 'server'));
			s.on('data', (b) => s.write(b));
			s.on('end', () => s.end());
		});
		srv.listen(0, '127.0.0.1', () => {
			const c = net.createConnection({ host: '127.0.0.1', port: srv.address().port });
			recs.push(rec.tap(c, 'client'));
			c.on('connect', () => c.end('tcp payload without the secret\n'));
			c.resume();
			c.on('close', async () => {
				await rec.waitClosed(recs);
				srv.close();
				resolve();
			});
		});
	});
}

(async () => {
	const file = path.join(dir, 'marker.txt');
	fs.writeFileSync(file, `${MARKER}\n`);
	if (!fs.readFileSync(file, 'utf8').includes(MARKER)) throw new Error('file read');
	if (!(await fs.promises.readFile(file, 'utf8')).includes(MARKER)) throw new Error('file read');
	await new Promise((resolve) => process.stdout.write(`${MARKER}\n`, resolve));
	const childPid = await childEcho();
	await unixEcho();
	await udpEcho();
	await tcpPair();
	fs.rmSync(dir, { recursive: true, force: true });
	rec.done({ childPid });
	process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
