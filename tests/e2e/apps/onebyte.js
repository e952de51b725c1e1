// SPDX-License-Identifier: Apache-2.0
// onebyte.js - one byte per write, each its own write() syscall.
//
// A net server echoes what it reads. The client first writes E2E_BURST single
// bytes, one per event-loop turn (setImmediate) without waiting, then
// E2E_PINGS bytes ping-pong (waits for each echo), so the direction flips on
// every byte. extra.clientWrites is the exact number of client write()s.
'use strict';
const net = require('net');
const rec = require('./rec');

const BURST = Number(process.env.E2E_BURST || 200);
const PINGS = Number(process.env.E2E_PINGS || 100);
const recs = [];
const server = net.createServer((s) => {
	recs.push(rec.tap(s, 'server'));
	s.on('data', (b) => s.write(b));
	s.on('end', () => s.end());
});
server.listen(0, '127.0.0.1', () => {
	const c = net.createConnection({ host: '127.0.0.1', port: server.address().port });
	const r = rec.tap(c, 'client');
	recs.push(r);
	const src = rec.pattern(BURST + PINGS, 42);
	let echoed = 0;
	let waiting = null;
	c.on('data', (b) => {
		echoed += b.length;
		if (waiting && echoed >= waiting.n) { const w = waiting; waiting = null; w.resolve(); }
	});
	const echoedAtLeast = (n) => new Promise((resolve) => {
		if (echoed >= n) resolve(); else waiting = { n, resolve };
	});
	const tick = () => new Promise((resolve) => setImmediate(resolve));
	c.on('connect', async () => {
		let i = 0;
		for (; i < BURST; i++) {
			c.write(src.subarray(i, i + 1));
			await tick();
		}
		await echoedAtLeast(BURST);
		for (; i < BURST + PINGS; i++) {
			c.write(src.subarray(i, i + 1));
			await echoedAtLeast(i + 1);
		}
		c.end();
		await rec.waitClosed(recs);
		server.close();
		rec.done({ clientWrites: BURST + PINGS, burst: BURST, pings: PINGS });
		process.exit(0);
	});
});
