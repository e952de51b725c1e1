// SPDX-License-Identifier: Apache-2.0
// What every server of tests/e2e/http.test.mjs measures of itself: per
// request, hrtime from the server's 'request' event to the response's
// 'finish', keyed by x-request-id, plus upgrades. The test reads them over
// the IPC channel (a Unix socketpair: not traffic the observer captures).
'use strict';

const records = {};
let served = 0, upgrades = 0;

function hook(server) {
	server.prependListener('request', (req, res) => {
		const t0 = process.hrtime.bigint();
		const id = req.headers['x-request-id'];
		res.on('finish', () => {
			served++;
			const t1 = process.hrtime.bigint();
			// t0, t1: CLOCK_MONOTONIC ns (what uv_hrtime reads), the clock
			// of the observer's trace: the test lines them up with syscalls.
			if (id) records[id] = { ns: Number(t1 - t0), t0: String(t0), t1: String(t1), status: res.statusCode, method: req.method, url: req.url };
		});
	});
	server.prependListener('upgrade', () => { upgrades++; });
}

function ready(port) {
	process.on('message', (m) => {
		if (m === 'records') process.send({ records, served, upgrades });
	});
	process.send({ ready: port });
}

module.exports = { hook, ready };
