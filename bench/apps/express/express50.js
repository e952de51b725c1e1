// SPDX-License-Identifier: Apache-2.0
// Issue 3's bench app: Express 4 with 50 routes (10 resources x 5 shapes,
// most with ids), answering small JSON. It counts the requests it answered
// itself ("sent" of captured/sent) and writes the count to COUNT_FILE on
// SIGUSR2 (a signal: asking over HTTP would add requests to what is counted).
// argv: PORT COUNT_FILE
'use strict';
const fs = require('fs');
const express = require('express');

const port = Number(process.argv[2]), countFile = process.argv[3];
const app = express();
app.set('etag', false);
app.set('x-powered-by', false);
let answered = 0;
app.use((req, res, next) => { res.on('finish', () => { answered++; }); next(); });
const RES = ['users', 'orders', 'invoices', 'products', 'carts', 'payments', 'shipments', 'reviews', 'teams', 'projects'];
for (const r of RES) {
	app.get(`/api/${r}`, (req, res) => res.json({ list: r }));
	app.get(`/api/${r}/:id`, (req, res) => res.json({ id: req.params.id }));
	app.put(`/api/${r}/:id`, (req, res) => res.json({ put: req.params.id }));
	app.get(`/api/${r}/:id/history/:rev`, (req, res) => res.json({ id: req.params.id, rev: req.params.rev }));
	app.post(`/api/${r}/:id/actions`, (req, res) => res.status(201).json({ ok: true }));
}
process.on('SIGUSR2', () => fs.writeFileSync(countFile, String(answered)));
app.listen(port, '127.0.0.1');
