// SPDX-License-Identifier: Apache-2.0
// Reads a /metrics scrape on stdin and prints the demo's numbers: requests
// served by service and route, one column per tenant, and jobs per queue.
// Usage: summary.js SERVICE_PREFIX < scrape
'use strict';

const prefix = process.argv[2] || '';
const text = require('fs').readFileSync(0, 'utf8');

// [{ name, labels: {}, value }] of one family
function samples(name) {
	const out = [];
	for (const line of text.split('\n')) {
		if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
		const m = line.match(/^([^{ ]+)(?:\{(.*)\})? (\S+)/);
		if (!m || m[1] !== name) continue;
		const labels = {};
		for (const [, k, v] of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
		out.push({ labels, value: Number(m[3]) });
	}
	return out;
}

const pad = (s, n) => String(s).padEnd(n);
const rpad = (s, n) => String(s).padStart(n);

const reqs = samples('sba_http_server_requests_total').filter((s) => s.labels.service.startsWith(prefix));
const tenants = [...new Set(reqs.map((s) => s.labels.tenant))].sort();
const rows = new Map();
let errors = 0;
for (const s of reqs) {
	const key = `${s.labels.service}\t${s.labels.method} ${s.labels.route}`;
	if (!rows.has(key)) rows.set(key, {});
	const r = rows.get(key);
	r[s.labels.tenant] = (r[s.labels.tenant] || 0) + s.value;
	if (s.labels.status_code.startsWith('5')) errors += s.value;
}
console.log(`HTTP requests served (sba_http_server_requests_total), by service and route, per tenant:`);
console.log(`  ${pad('service', 10)} ${pad('route', 28)}${tenants.map((t) => rpad(t, 9)).join('')}${rpad('total', 8)}`);
for (const [key, r] of [...rows].sort()) {
	const [svc, route] = key.split('\t');
	const total = Object.values(r).reduce((a, b) => a + b, 0);
	console.log(`  ${pad(svc, 10)} ${pad(route, 28)}${tenants.map((t) => rpad(r[t] || 0, 9)).join('')}${rpad(total, 8)}`);
}
console.log(`  (${errors} answered 5xx)`);

const clientCalls = samples('sba_http_client_requests_total').filter((s) => s.labels.service.startsWith(prefix));
const byPeer = {};
for (const s of clientCalls) byPeer[`${s.labels.service} -> ${s.labels.peer}`] = (byPeer[`${s.labels.service} -> ${s.labels.peer}`] || 0) + s.value;
for (const [k, v] of Object.entries(byPeer)) console.log(`  client calls ${k}: ${v}`);

const cols = ['added', 'started', 'completed', 'failed', 'retried'];
const queues = {};
for (const c of cols)
	for (const s of samples(`sba_worker_jobs_${c}_total`)) (queues[s.labels.queue_name] ||= {})[c] = s.value;
for (const s of samples('sba_worker_queue_depth')) (queues[s.labels.queue_name] ||= {}).depth = s.value;
console.log('BullMQ jobs per queue (sba_worker_jobs_*_total, sba_worker_queue_depth):');
console.log(`  ${pad('queue', 10)}${[...cols, 'depth'].map((c) => rpad(c, 10)).join('')}`);
for (const [q, v] of Object.entries(queues).sort())
	console.log(`  ${pad(q, 10)}${[...cols, 'depth'].map((c) => rpad(v[c] ?? '-', 10)).join('')}`);
if (!reqs.length || !Object.keys(queues).length) {
	console.log('  (no demo traffic in the scrape: see the observer log above)');
	process.exit(1);
}
