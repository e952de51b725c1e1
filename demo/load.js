// SPDX-License-Identifier: Apache-2.0
// demo-load: customers of several tenants using the web tier, DEMO_RPS
// requests a second (default 30) for DEMO_SECONDS (0: until stopped).
// Prints what it sent as one JSON line when it stops.
'use strict';
const http = require('http');
const crypto = require('crypto');
const { env, pick, onStop, TENANTS } = require('./common');

const WEB = Number(env('WEB_PORT'));
const rps = Number(process.env.DEMO_RPS || 30);
const seconds = Number(process.env.DEMO_SECONDS || 30);
const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
const PAGES = [[6, ['GET', () => '/']], [4, ['GET', () => `/invoices/${Math.floor(Math.random() * 9999)}`]],
	[2, ['POST', () => '/checkout']], [1, ['GET', () => `/reports/${Math.floor(Math.random() * 99)}`]],
	[0.2, ['GET', () => '/missing-page']]];
const sent = {};

function one() {
	const tenant = pick(TENANTS);
	const [method, path] = pick(PAGES);
	const req = http.request({ host: '127.0.0.1', port: WEB, method, path: path(), agent,
		headers: { 'x-tenant-id': tenant, 'x-request-id': crypto.randomUUID() } }, (r) => {
		r.resume();
		r.on('end', () => { const k = `${tenant} ${r.statusCode}`; sent[k] = (sent[k] || 0) + 1; });
	});
	req.on('error', () => { sent[`${tenant} error`] = (sent[`${tenant} error`] || 0) + 1; });
	req.end();
}

const tick = setInterval(one, 1000 / rps);
const done = () => { clearInterval(tick); agent.destroy(); console.log(JSON.stringify(sent)); };
if (seconds > 0) setTimeout(() => { done(); setTimeout(() => process.exit(0), 200); }, seconds * 1000);
onStop(done);
