// SPDX-License-Identifier: Apache-2.0
// demo-web: the front tier. Each page calls demo-api over a keep-alive
// agent, passing on x-tenant-id and x-request-id (made here when absent).
'use strict';
const http = require('http');
const crypto = require('crypto');
const { env, onStop } = require('./common');

const API = Number(env('API_PORT'));
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function callApi(method, path, headers) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: API, method, path, agent, headers }, (r) => {
			let body = '';
			r.setEncoding('utf8');
			r.on('data', (d) => { body += d; });
			r.on('end', () => resolve({ status: r.statusCode, body }));
		});
		req.on('error', reject);
		req.end(method === 'POST' ? '{}' : undefined);
	});
}

// page -> API call
function route(method, parts, tenant) {
	if (method === 'GET' && parts.length === 0) return ['GET', `/users/${Math.floor(Math.random() * 500)}`];
	if (method === 'GET' && parts[0] === 'invoices' && parts.length === 2) return ['GET', `/orgs/${tenant}/invoices/${parts[1]}`];
	if (method === 'GET' && parts[0] === 'reports' && parts.length === 2) return ['GET', `/reports/${parts[1]}`];
	if (method === 'POST' && parts[0] === 'checkout' && parts.length === 1) return ['POST', '/orders'];
	return null;
}

const server = http.createServer(async (req, res) => {
	const tenant = req.headers['x-tenant-id'];
	const requestId = req.headers['x-request-id'] || crypto.randomUUID();
	req.resume();
	const call = route(req.method, req.url.split('?')[0].split('/').filter(Boolean), tenant || 'none');
	if (!call) { res.writeHead(404); res.end('no such page\n'); return; }
	const headers = { 'x-request-id': requestId, 'content-type': 'application/json' };
	if (tenant) headers['x-tenant-id'] = tenant;
	try {
		const r = await callApi(call[0], call[1], headers);
		res.writeHead(r.status >= 500 ? 502 : r.status, { 'content-type': 'text/html', 'x-request-id': requestId });
		res.end(`<pre>${r.body}</pre>\n`);
	} catch (e) {
		res.writeHead(502); res.end('api unreachable\n');
	}
});
server.keepAliveTimeout = 30000;
server.listen(Number(env('WEB_PORT')), '127.0.0.1');
onStop(() => new Promise((r) => server.close(r)), () => agent.destroy());
