// SPDX-License-Identifier: Apache-2.0
// fdreuse.js - two connections in a row on the same fd number.
//
// Raw HTTP/1.1 over net to http-server.js (E2E_PORT): connection 1 sends a
// request with "Connection: close", reads to the end and waits for 'close'
// (the fd is closed), then connection 2 does the same with another request.
// The kernel hands out the lowest free fd, so both get the same number;
// extra.fds records them so the test knows the premise held.
'use strict';
const net = require('net');
const rec = require('./rec');

const PORT = Number(process.env.E2E_PORT);

function once(n, len) {
	return new Promise((resolve, reject) => {
		const c = net.createConnection({ host: '127.0.0.1', port: PORT });
		const r = rec.tap(c, 'client');
		c.on('connect', () => {
			c.write(`GET /r/${n}?len=${len} HTTP/1.1\r\nHost: fd-${n}\r\nConnection: close\r\n\r\n`);
		});
		c.on('error', reject);
		c.on('close', () => resolve(r));
		c.resume();
	});
}

(async () => {
	const a = await once(1, 700);
	await new Promise((resolve) => setImmediate(resolve));
	const b = await once(2, 1900);
	rec.done({ fds: [a.fd, b.fd] });
	process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
