// SPDX-License-Identifier: Apache-2.0
// http-server.js - a plain node HTTP server for the capture tests.
//
// Prints {"port":N} once listening on 127.0.0.1. GET or POST /r/<n>?len=L
// answers L bytes of pattern(L, n) after draining the request body. When its
// stdin ends it stops listening, waits for its connections to close and
// writes its manifest. E2E_TITLE sets process.title first (the comm changes,
// the executable does not).
'use strict';
if (process.env.E2E_TITLE) process.title = process.env.E2E_TITLE;
const http = require('http');
const fs = require('fs');
const rec = require('./rec');

const recs = [];
const server = http.createServer((req, res) => {
	let got = 0;
	req.on('data', (b) => { got += b.length; });
	req.on('end', () => {
		const m = /^\/r\/(\d+)(?:\?len=(\d+))?/.exec(req.url) || [];
		const n = Number(m[1] || 0);
		const len = Number(m[2] || 0);
		const body = rec.pattern(len, n + 1, req.headers['x-binary'] === '1');
		res.writeHead(200, {
			'content-type': 'application/octet-stream',
			'content-length': String(len),
			'x-got': String(got),
		});
		res.end(body);
	});
});
server.keepAliveTimeout = 120000;
server.on('connection', (s) => recs.push(rec.tap(s, 'server')));
server.listen(0, '127.0.0.1', () => {
	let comm = null;
	try { comm = fs.readFileSync('/proc/self/comm', 'utf8').trim(); } catch { /* not linux */ }
	rec.say({ port: server.address().port, pid: process.pid, comm });
});
process.stdin.resume();
process.stdin.on('end', async () => {
	server.close();
	await rec.waitClosed(recs, 10000);
	let comm = null;
	try { comm = fs.readFileSync('/proc/self/comm', 'utf8').trim(); } catch { /* not linux */ }
	rec.done({ comm, title: process.title });
	process.exit(0);
});
