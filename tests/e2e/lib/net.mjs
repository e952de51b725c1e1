// SPDX-License-Identifier: Apache-2.0
// net.mjs - what the end-to-end suites need to talk to their servers and
// to the observer's endpoint: a free port, waiting for a condition, and a
// scrape with the admin token.
import http from 'node:http';
import net from 'node:net';

// A TCP port on 127.0.0.1 that was free a moment ago.
export const freePort = () => new Promise((resolve) => {
	const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves once fn() (which may be async, and may throw: not yet) is true;
// throws after ms with what in the message.
export async function waitFor(fn, ms, what, stepMs = 50) {
	const end = Date.now() + ms;
	for (;;) {
		try { if (await fn()) return; } catch { /* not yet */ }
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(stepMs);
	}
}

// The body of GET path (default /metrics) from the observer's endpoint on
// port, with the admin token; rejects unless the status is 200.
export function scrape(port, token, path = '/metrics') {
	return new Promise((resolve, reject) => {
		http.get({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: `Bearer ${token}` } }, (r) => {
			let b = '';
			r.setEncoding('utf8');
			r.on('data', (d) => { b += d; });
			r.on('end', () => (r.statusCode === 200 ? resolve(b) : reject(new Error(`${path}: ${r.statusCode}`))));
		}).on('error', reject);
	});
}
