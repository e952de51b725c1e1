// SPDX-License-Identifier: Apache-2.0
// bigbody.js - a 1 MiB request body and a 1 MiB response, binary bytes.
//
// One process: an HTTP server and a client. The client POSTs 1 MiB of
// pattern bytes covering all 256 values; the server checks the size and
// answers 1 MiB of other pattern bytes. The kernel splits these into many
// partial read()/write()s; only the byte counts and captured prefixes are
// known in advance, which is what the checker compares.
'use strict';
const http = require('http');
const net = require('net');
const rec = require('./rec');

const SIZE = 1 << 20;
const recs = [];
const server = http.createServer((req, res) => {
	let got = 0;
	req.on('data', (b) => { got += b.length; });
	req.on('end', () => {
		res.writeHead(got === SIZE ? 200 : 400, { 'content-length': String(SIZE) });
		res.end(rec.pattern(SIZE, 99, true));
	});
});
server.on('connection', (s) => recs.push(rec.tap(s, 'server')));
server.listen(0, '127.0.0.1', () => {
	const agent = new http.Agent({ keepAlive: false });
	agent.createConnection = (opts) => {
		const s = net.createConnection({ host: opts.host, port: opts.port });
		recs.push(rec.tap(s, 'client'));
		return s;
	};
	const body = rec.pattern(SIZE, 77, true);
	const req = http.request({
		host: '127.0.0.1', port: server.address().port, agent, method: 'POST', path: '/upload',
		headers: { 'content-length': String(SIZE), 'content-type': 'application/octet-stream' },
	}, (res) => {
		const chunks = [];
		res.on('data', (c) => chunks.push(c));
		res.on('end', async () => {
			const got = Buffer.concat(chunks);
			if (res.statusCode !== 200 || !got.equals(rec.pattern(SIZE, 99, true))) {
				console.error('bad response');
				process.exit(1);
			}
			await rec.waitClosed(recs);
			server.close();
			rec.done({ size: SIZE });
			process.exit(0);
		});
	});
	req.end(body);
});
