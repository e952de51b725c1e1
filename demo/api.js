// SPDX-License-Identifier: Apache-2.0
// demo-api: the back end. Users, invoices (1.5% fail with 500), slow
// reports, and orders, which enqueue a confirmation email (BullMQ producer).
'use strict';
const http = require('http');
const { Queue } = require('bullmq');
const { env, sleep, between, onStop, redis } = require('./common');

const emails = new Queue('emails', { connection: redis() });

async function handle(req, res) {
	const tenant = req.headers['x-tenant-id'] || 'none';
	const parts = req.url.split('?')[0].split('/').filter(Boolean);
	const json = (code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
	if (req.method === 'GET' && parts[0] === 'users' && parts.length === 2) {
		await sleep(between(2, 20));
		return json(200, { id: parts[1], tenant });
	}
	if (req.method === 'GET' && parts[0] === 'orgs' && parts[2] === 'invoices' && parts.length === 4) {
		await sleep(between(10, 60));
		if (Math.random() < 0.015) return json(500, { error: 'ledger unavailable' });
		return json(200, { org: parts[1], invoice: parts[3], amount: Math.round(between(10, 900)) });
	}
	if (req.method === 'GET' && parts[0] === 'reports' && parts.length === 2) {
		await sleep(between(80, 450));
		return json(200, { report: parts[1] });
	}
	if (req.method === 'POST' && parts[0] === 'orders' && parts.length === 1) {
		req.resume();
		await new Promise((r) => req.on('end', r));
		const id = Math.floor(between(1, 1e9));
		await emails.add('order-confirmation', { tenant, order: id, requestId: req.headers['x-request-id'] });
		return json(201, { order: id });
	}
	if (parts[0] === 'health') return json(200, { ok: true });
	return json(404, { error: 'not found' });
}

const server = http.createServer((req, res) => {
	handle(req, res).catch((e) => { res.writeHead(500); res.end(String(e.message)); });
});
server.keepAliveTimeout = 30000;
server.listen(Number(env('API_PORT')), '127.0.0.1');
onStop(() => new Promise((r) => server.close(r)), () => emails.close());
