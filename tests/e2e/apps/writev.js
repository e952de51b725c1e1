// SPDX-License-Identifier: Apache-2.0
// writev.js - many buffers in one writev() syscall.
//
// The client corks its socket, writes 150 buffers of 1..200 bytes, uncorks:
// node hands all of them to libuv at once, which issues a single writev()
// with 150 iovecs. It waits for the server's ack, then does it again with
// 1000 buffers of 16 bytes (under IOV_MAX = 1024: still one writev). Each
// buffer starts with its index so a skipped or reordered iovec shows.
// extra.writevs lists the byte size of each writev, in order.
'use strict';
const net = require('net');
const rec = require('./rec');

const recs = [];
const bursts = [
	Array.from({ length: 150 }, (_, i) => 1 + ((i * 37) % 200)),
	Array.from({ length: 1000 }, () => 16),
];
const sizes = bursts.map((b) => b.reduce((a, x) => a + x, 0));

const server = net.createServer((s) => {
	recs.push(rec.tap(s, 'server'));
	let got = 0;
	let k = 0;
	s.on('data', (b) => {
		got += b.length;
		while (k < sizes.length && got >= sizes.slice(0, k + 1).reduce((a, x) => a + x, 0)) {
			s.write(`ack ${k}\n`);
			k++;
		}
	});
	s.on('end', () => s.end());
});

function burst(c, lens, seed) {
	c.cork();
	lens.forEach((len, i) => {
		const b = rec.pattern(len, seed + i);
		b.write(String(i % 10), 0);
		c.write(b);
	});
	c.uncork();
}

server.listen(0, '127.0.0.1', () => {
	const c = net.createConnection({ host: '127.0.0.1', port: server.address().port });
	recs.push(rec.tap(c, 'client'));
	let acks = '';
	let next = null;
	c.on('data', (b) => {
		acks += b.toString();
		if (next && acks.includes(`ack ${next.k}\n`)) { const w = next; next = null; w.resolve(); }
	});
	const ack = (k) => new Promise((resolve) => {
		if (acks.includes(`ack ${k}\n`)) resolve(); else next = { k, resolve };
	});
	c.on('connect', async () => {
		for (let k = 0; k < bursts.length; k++) {
			burst(c, bursts[k], 1000 * (k + 1));
			await ack(k);
		}
		c.end();
		await rec.waitClosed(recs);
		server.close();
		rec.done({ writevs: sizes, iovecs: bursts.map((b) => b.length) });
		process.exit(0);
	});
});
