// SPDX-License-Identifier: Apache-2.0
// Plain `http` server of tests/e2e/http.test.mjs: the common API plus the
// edge cases (uploads, chunked and SSE responses, WebSocket upgrade, a call
// to another service). argv: PORT OTHER_PORT (the service /proxy calls).
'use strict';
const http = require('http');
const crypto = require('crypto');
const { hook, ready } = require('./record');

const port = Number(process.argv[2]), other = Number(process.argv[3]);
const seg = (u) => u.split('?')[0].split('/').filter(Boolean);

function api(req, res, s) {
	const json = (code, o) => { const b = JSON.stringify(o); res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) }); res.end(b); };
	if (req.headers['if-none-match']) { res.writeHead(304, { etag: req.headers['if-none-match'] }); return res.end(); }
	if (s[0] === 'users' && s.length === 1 && req.method === 'POST') return json(201, { made: true });
	if (s[0] === 'users' && s.length === 2) {
		if (req.method === 'GET' || req.method === 'HEAD') return json(200, { id: s[1] });
		if (req.method === 'PUT') return json(200, { put: s[1] });
		if (req.method === 'DELETE') { res.writeHead(204); return res.end(); }
	}
	if (s[0] === 'orders' && s.length === 4 && s[2] === 'items' && req.method === 'GET') return json(200, { order: s[1], item: s[3] });
	if (s[0] === 'boom') return json(500, { error: 'boom' });
	return json(404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
	const s = seg(req.url);
	let n = 0;
	req.on('data', (d) => { n += d.length; });
	req.on('end', () => {
		switch (s[0]) {
		case 'upload': { const b = String(n); res.writeHead(200, { 'content-length': b.length }); return res.end(b); }
		case 'continue': { const b = String(n); res.writeHead(201, { 'content-length': b.length }); return res.end(b); }
		case 'chunked': { // several writes, no length: Transfer-Encoding: chunked
			res.writeHead(200, { 'content-type': 'text/plain' });
			let i = 0;
			const more = () => { if (i++ < 8) { res.write('chunk ' + i + ' ' + 'x'.repeat(i * 100) + '\n'); setImmediate(more); } else res.end('end\n'); };
			return more();
		}
		case 'sse': { // a long streaming response
			res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
			let i = 0;
			const t = setInterval(() => { res.write(`id: ${i}\ndata: tick ${i}\n\n`); if (++i === 15) { clearInterval(t); res.end(); } }, 100);
			return;
		}
		case 'head': { const b = 'h'.repeat(100); res.writeHead(200, { 'content-length': b.length }); return res.end(b); }
		case 'proxy': { // client side: this service calls the express one
			const tenant = req.headers['x-tenant-id'];
			const headers = { host: `localhost:${other}`, 'x-request-id': req.headers['x-request-id'] + '-p' };
			if (tenant) headers['x-tenant-id'] = tenant;
			http.get({ host: '127.0.0.1', port: other, path: `/users/${s[1]}`, headers }, (r) => {
				r.resume();
				r.on('end', () => { const b = String(r.statusCode); res.writeHead(200, { 'content-length': b.length }); res.end(b); });
			}).on('error', () => { res.writeHead(502); res.end(); });
			return;
		}
		case 'ka': case 'pipe': case 'close': { res.writeHead(200, { 'content-length': 2 }); return res.end('ok'); }
		default: return api(req, res, s);
		}
	});
	req.resume();
});
server.on('upgrade', (req, sock) => {
	const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
	sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
		`Sec-WebSocket-Accept: ${accept}\r\n\r\n`);
	// Echo every frame's payload back unmasked, as a text frame (payloads < 126 bytes).
	sock.on('data', (d) => {
		const len = d[1] & 0x7f, mask = d.subarray(2, 6), p = Buffer.from(d.subarray(6, 6 + len));
		for (let i = 0; i < p.length; i++) p[i] ^= mask[i & 3];
		sock.write(Buffer.concat([Buffer.from([0x81, p.length]), p]));
	});
	sock.on('error', () => {});
});
hook(server);
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => ready(port));
