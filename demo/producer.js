// SPDX-License-Identifier: Apache-2.0
// demo-producer: scheduled jobs. Invoices in bursts every second (with a
// retry), a report for a tenant every 400 ms: more than the one report
// worker keeps up with, so the reports queue grows.
'use strict';
const { Queue } = require('bullmq');
const { pick, onStop, TENANTS, redis } = require('./common');

const invoices = new Queue('invoices', { connection: redis() });
const reports = new Queue('reports', { connection: redis() });
let n = 0;
const burst = setInterval(async () => {
	for (let i = 0; i < 5; i++)
		await invoices.add('render', { tenant: pick(TENANTS), n: n++ }, { attempts: 2, backoff: { type: 'fixed', delay: 100 } });
}, 1000);
const report = setInterval(() => reports.add('monthly', { tenant: pick(TENANTS) }), 400);
onStop(() => { clearInterval(burst); clearInterval(report); }, () => invoices.close(), () => reports.close());
