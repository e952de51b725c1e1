// SPDX-License-Identifier: Apache-2.0
// Node `http` hello world for the overhead benchmark (bench/run.sh): the same
// handler as fastify/benchmarks node-http. Keep-alive is Node's default, so
// under `wrk -c50` each request is one read + one writev on the server.
// Usage: node hello.js [port] [host]; prints "listening <port>" when ready.
'use strict';
const http = require('http');

const port = Number(process.argv[2] || process.env.PORT || 18080);
const host = process.argv[3] || '127.0.0.1';
const body = JSON.stringify({ hello: 'world' });

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(port, host, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
