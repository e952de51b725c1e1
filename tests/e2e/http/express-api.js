// SPDX-License-Identifier: Apache-2.0
// Express 4 server of tests/e2e/http.test.mjs (the common API). argv: PORT
'use strict';
const express = require('express');
const { hook, ready } = require('./record');

const port = Number(process.argv[2]);
const app = express();
app.set('etag', false);
app.use((req, res, next) => { if (req.headers['if-none-match']) return res.status(304).end(); next(); });
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.post('/users', express.json(), (req, res) => res.status(201).json({ made: true }));
app.put('/users/:id', express.json(), (req, res) => res.json({ put: req.params.id }));
app.delete('/users/:id', (req, res) => res.status(204).end());
app.get('/orders/:order/items/:item', (req, res) => res.json({ order: req.params.order, item: req.params.item }));
app.get('/boom/:id', () => { throw new Error('boom'); });
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => res.status(500).json({ error: 'boom' }));
const server = app.listen(port, '127.0.0.1', () => ready(port));
server.keepAliveTimeout = 30000;
hook(server);
