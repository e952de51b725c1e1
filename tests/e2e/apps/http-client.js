// SPDX-License-Identifier: Apache-2.0
// http-client.js - node as an HTTP/1.1 client over one keep-alive socket.
//
// E2E_PORT: the server (http-server.js). E2E_MODE:
//   keepalive  E2E_N requests in a row on one socket, then close it;
//   pre        E2E_N requests, mark the socket, print {"phase":"ready"}, wait
//              for "go" on stdin (the test starts the observer meanwhile),
//              then E2E_N2 more requests on the same socket;
// The first request leaves as soon as node has loaded this file, so a client
// started after the observer also shows whether it is covered at once.
// Each request carries a 2 KiB cookie then an x-tenant header; every tenth
// one is a POST with a body; response sizes vary up to 10000 bytes.
'use strict';
const http = require('http');
const net = require('net');
const rec = require('./rec');

const PORT = Number(process.env.E2E_PORT);
const MODE = process.env.E2E_MODE || 'keepalive';
const N = Number(process.env.E2E_N || 250);
const N2 = Number(process.env.E2E_N2 || 0);
const recs = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
agent.createConnection = (opts) => {
	const s = net.createConnection({ host: opts.host, port: opts.port });
	recs.push(rec.tap(s, 'client'));
	return s;
};

let firstRequestMs = null;

function request(n) {
	if (firstRequestMs === null) firstRequestMs = performance.now();
	return new Promise((resolve, reject) => {
		const len = (n * 397) % 10000;
		const post = n % 10 === 3;
		const body = post ? rec.pattern(3000 + n, n + 7) : null;
		const headers = { cookie: 'session=' + 'k'.repeat(2048), 'x-tenant': 't-' + n };
		if (body) headers['content-length'] = String(body.length);
		const req = http.request({
			host: '127.0.0.1', port: PORT, agent, method: post ? 'POST' : 'GET',
			path: `/r/${n}?len=${len}`, headers,
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => {
				const got = Buffer.concat(chunks);
				if (!got.equals(rec.pattern(len, n + 1))) reject(new Error(`bad body for ${n}`));
				else resolve();
			});
		});
		req.on('error', reject);
		req.end(body || undefined);
	});
}

async function main() {
	let n = 0;
	for (; n < N; n++) await request(n);
	if (MODE === 'pre') {
		rec.mark(rec.sockets[0], 'join');
		rec.say({ phase: 'ready', pid: process.pid, sockets: recs.length });
		await new Promise((resolve) => {
			rec.stdinLines((l) => { if (l.trim() === 'go') resolve(); });
		});
		for (; n < N + N2; n++) await request(n);
	}
	agent.destroy();
	await rec.waitClosed(recs);
	rec.done({ requests: n, mode: MODE, firstRequestMs });
	process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
