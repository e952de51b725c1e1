// SPDX-License-Identifier: Apache-2.0
// NestJS server of tests/e2e/http.test.mjs (the common API), plain
// JavaScript: decorators applied by hand, as TypeScript would emit them.
// argv: PORT
'use strict';
require('reflect-metadata');
const { NestFactory } = require('@nestjs/core');
const { Module, Controller, Get, Post, Put, Delete, Param, HttpCode } = require('@nestjs/common');
const { hook, ready } = require('./record');

const port = Number(process.argv[2]);
const method = (dec, cls, name) => dec(cls.prototype, name, Object.getOwnPropertyDescriptor(cls.prototype, name));

class UsersCtl {
	get(id) { return { id }; }
	create() { return { made: true }; }
	update(id) { return { put: id }; }
	remove() { }
}
Controller('users')(UsersCtl);
method(Get(':id'), UsersCtl, 'get');
Param('id')(UsersCtl.prototype, 'get', 0);
method(Post(), UsersCtl, 'create');
method(Put(':id'), UsersCtl, 'update');
Param('id')(UsersCtl.prototype, 'update', 0);
method(Delete(':id'), UsersCtl, 'remove');
method(HttpCode(204), UsersCtl, 'remove');

class OrdersCtl {
	item(order, item) { return { order, item }; }
}
Controller('orders')(OrdersCtl);
method(Get(':order/items/:item'), OrdersCtl, 'item');
Param('order')(OrdersCtl.prototype, 'item', 0);
Param('item')(OrdersCtl.prototype, 'item', 1);

class BoomCtl {
	boom() { throw new Error('boom'); }
}
Controller('boom')(BoomCtl);
method(Get(':id'), BoomCtl, 'boom');

class AppModule {}
Module({ controllers: [UsersCtl, OrdersCtl, BoomCtl] })(AppModule);

(async () => {
	const app = await NestFactory.create(AppModule, { logger: false });
	app.use((req, res, next) => { if (req.headers['if-none-match']) { res.statusCode = 304; return res.end(); } next(); });
	hook(app.getHttpServer());
	await app.listen(port, '127.0.0.1');
	app.getHttpServer().keepAliveTimeout = 30000;
	ready(port);
})();
