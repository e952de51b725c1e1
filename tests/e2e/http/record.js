// SPDX-License-Identifier: Apache-2.0
// What every server of tests/e2e/http.test.mjs measures of itself: per
// request, hrtime from the server's 'request' event to the response's
// 'finish', keyed by x-request-id, plus upgrades. The test reads them over
// the IPC channel (a Unix socketpair: not traffic the observer captures).
'use strict';

const records = {};
let served = 0, upgrades = 0;

const T0 = Symbol('t0');

function hook(server) {
	// Node writes '100 Continue' before it emits 'request' for a request
	// with 'Expect: 100-continue'; this is what it does when no one listens
	// to 'checkContinue', with the time taken first: the request arrived
	// when JS learnt of it, not after the write.
	server.on('checkContinue', (req, res) => {
		req[T0] = process.hrtime.bigint();
		res.writeContinue();
		server.emit('request', req, res);
	});
	server.prependListener('request', (req, res) => {
		const t0 = req[T0] ?? process.hrtime.bigint();
		const id = req.headers['x-request-id'];
		// First among the 'finish' listeners: before Node's own, which
		// detaches the socket and arms its keep-alive timer.
		res.prependListener('finish', () => {
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
