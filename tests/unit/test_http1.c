// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of http1.c: a table of heads (fields, flags, every error kind),
 * a table of streams fed whole, split at every byte and one byte at a time
 * (the event log must not change), bytes that were not captured or were lost,
 * resync points, limits, privacy (no credential byte anywhere in the parser's
 * memory) and random input. `test_http1 --bench` times a typical exchange.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "http1.h"

#define ALL 0	/* expected return of http1_parse_head: the whole input */

/* ---- heads ---- */

struct head_case {
	const char *why;
	enum http1_kind kind;
	const char *in;
	int ret;		/* ALL, HTTP1_PARTIAL or HTTP1_MALFORMED */
	enum http1_err err;
	int code;		/* method (requests) or status (responses) */
	const char *path;
	uint32_t flags;		/* exact */
	uint64_t cl;
	const char *tenant;	/* NULL: header absent */
	const char *rid;
	const char *tp;
	const char *host;
	size_t len;		/* 0: strlen(in) */
};

#define BIN(s) .in = s, .len = sizeof(s) - 1	/* input with a NUL inside */
#define REQ HTTP1_REQUEST
#define RESP HTTP1_RESPONSE
#define M(x) HTTP1_METHOD_##x
#define F(x) HTTP1_F_##x
#define E(x) HTTP1_ERR_##x
#define TP "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define LONG70 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
#define P64 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct head_case head_cases[] = {
	{ .why = "simplest GET", .kind = REQ, .in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = 0, .host = "a" },
	{ .why = "query dropped, ids kept", .kind = REQ, .in = "GET /users/42?x=1&y=2 HTTP/1.1\r\nHost: a\r\nX-Tenant-Id: acme\r\n"
	  "X-Request-Id: r-1\r\ntraceparent: " TP "\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/users/42", .flags = F(TENANT), .cl = 0, .tenant = "acme", .rid = "r-1", .tp = TP, .host = "a" },
	{ .why = "fragment dropped", .kind = REQ, .in = "GET /a#frag HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/a", .flags = 0 },
	{ .why = "header names are case-insensitive", .kind = REQ, .in = "GET / HTTP/1.1\r\nx-TENANT-id: Acme\r\nCONTENT-LENGTH: 0\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = F(TENANT) | F(LENGTH), .cl = 0, .tenant = "Acme" },
	{ .why = "OWS around a value is trimmed", .kind = REQ, .in = "GET / HTTP/1.1\r\nx-tenant-id: \t acme \t\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = F(TENANT), .cl = 0, .tenant = "acme" },
	{ .why = "empty tenant value is present", .kind = REQ, .in = "GET / HTTP/1.1\r\nx-tenant-id:\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = F(TENANT), .cl = 0, .tenant = "" },
	{ .why = "first tenant header wins", .kind = REQ, .in = "GET / HTTP/1.1\r\nx-tenant-id: a\r\nx-tenant-id: b\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = F(TENANT), .cl = 0, .tenant = "a" },
	{ .why = "POST with Content-Length", .kind = REQ, .in = "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\n", .ret = ALL, .err = 0, .code = M(POST), .path = "/p", .flags = F(LENGTH), .cl = 5 },
	{ .why = "same Content-Length twice is fine", .kind = REQ, .in = "POST /p HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", .ret = ALL, .err = 0, .code = M(POST), .path = "/p", .flags = F(LENGTH), .cl = 5 },
	{ .why = "chunked is the last coding", .kind = REQ, .in = "POST /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .ret = ALL, .err = 0, .code = M(POST), .path = "/c", .flags = F(CHUNKED) },
	{ .why = "chunked wins over Content-Length", .kind = REQ, .in = "POST /c HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", .ret = ALL, .err = 0, .code = M(POST), .path = "/c", .flags = F(CHUNKED) | F(LENGTH), .cl = 3 },
	{ .why = "Connection: close", .kind = REQ, .in = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = F(CLOSE) },
	{ .why = "HTTP/1.0 closes by default", .kind = REQ, .in = "GET / HTTP/1.0\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = F(CLOSE) },
	{ .why = "HTTP/1.0 keep-alive", .kind = REQ, .in = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = 0 },
	{ .why = "websocket upgrade", .kind = REQ, .in = "GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/ws", .flags = F(UPGRADE) },
	{ .why = "Upgrade header without Connection: upgrade", .kind = REQ, .in = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/ws", .flags = 0 },
	{ .why = "Expect: 100-continue", .kind = REQ, .in = "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 9\r\n\r\n", .ret = ALL, .err = 0, .code = M(PUT), .path = "/f", .flags = F(EXPECT_CONTINUE) | F(LENGTH), .cl = 9 },
	{ .why = "bare LF line ends", .kind = REQ, .in = "GET /lf HTTP/1.1\nHost: a\n\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/lf", .flags = 0, .host = "a" },
	{ .why = "Host kept, first one wins", .kind = REQ, .in = "GET / HTTP/1.1\r\nHOST:  Api.Internal:3000 \r\nhost: b\r\n\r\n", .ret = ALL, .code = M(GET), .path = "/", .host = "Api.Internal:3000" },
	{ .why = "Host cut to 64 bytes", .kind = REQ, .in = "GET / HTTP/1.1\r\nHost: " P64 "zz\r\n\r\n", .ret = ALL, .code = M(GET), .path = "/", .host = P64 },
	{ .why = "Host is a request header", .kind = RESP, .in = "HTTP/1.1 200 OK\r\nHost: a\r\n\r\n", .ret = ALL, .code = 200 },
	{ .why = "leading empty lines are skipped", .kind = REQ, .in = "\r\n\r\nGET / HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = 0 },
	{ .why = "absolute-form keeps the path", .kind = REQ, .in = "GET http://example.com:8080/a/b?q=1 HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/a/b", .flags = 0 },
	{ .why = "absolute-form without path", .kind = REQ, .in = "GET http://example.com HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = "/", .flags = 0 },
	{ .why = "asterisk-form", .kind = REQ, .in = "OPTIONS * HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(OPTIONS), .path = "*", .flags = 0 },
	{ .why = "authority-form", .kind = REQ, .in = "CONNECT db.local:5432 HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(CONNECT), .path = "db.local:5432", .flags = 0 },
	{ .why = "unnamed method token", .kind = REQ, .in = "PROPFIND /d HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(OTHER), .path = "/d", .flags = 0 },
	{ .why = "every named method", .kind = REQ, .in = "DELETE /x HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(DELETE), .path = "/x", .flags = 0 },
	{ .why = "PATCH", .kind = REQ, .in = "PATCH /x HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(PATCH), .path = "/x", .flags = 0 },
	{ .why = "TRACE", .kind = REQ, .in = "TRACE /x HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(TRACE), .path = "/x", .flags = 0 },
	{ .why = "HEAD", .kind = REQ, .in = "HEAD /x HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(HEAD), .path = "/x", .flags = 0 },
	{ .why = "path cut at 255 bytes", .kind = REQ, .in = "GET " P64 P64 P64 P64 "/tail HTTP/1.1\r\n\r\n", .ret = ALL, .err = 0, .code = M(GET), .path = P64 P64 P64 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", .flags = F(PATH_TRUNCATED) },
	{ .why = "partial head", .kind = REQ, .in = "GET / HTTP/1.1\r\nHost: a\r\n", .ret = HTTP1_PARTIAL },
	{ .why = "partial start line", .kind = REQ, .in = "GET /abc HTT", .ret = HTTP1_PARTIAL },
	/* malformed requests */
	{ .why = "double space", .kind = REQ, .in = "GET  / HTTP/1.1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "no version", .kind = REQ, .in = "GET /\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "junk after version", .kind = REQ, .in = "GET / HTTP/1.1 x\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "control byte in method", .kind = REQ, .in = "G\x01T / HTTP/1.1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "leading space", .kind = REQ, .in = " GET / HTTP/1.1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "control byte in target", .kind = REQ, .in = "GET /a\x7f HTTP/1.1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "method too long", .kind = REQ, .in = "ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "CR not followed by LF", .kind = REQ, .in = "GET / HTTP/1.1\r\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "HTTP/2 preface", .kind = REQ, .in = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(VERSION) },
	{ .why = "HTTP/1.2", .kind = REQ, .in = "GET / HTTP/1.2\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(VERSION) },
	{ .why = "not HTTP", .kind = REQ, .in = "GET / HTTPS/1.1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "space before colon", .kind = REQ, .in = "GET / HTTP/1.1\r\nHost : a\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "obs-fold", .kind = REQ, .in = "GET / HTTP/1.1\r\nA: b\r\n  c\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "empty header name", .kind = REQ, .in = "GET / HTTP/1.1\r\n: b\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "header without colon", .kind = REQ, .in = "GET / HTTP/1.1\r\nHost a\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "NUL in a kept header value", .kind = REQ, BIN("GET / HTTP/1.1\r\ntraceparent: 00\x00-ab\r\n\r\n"), .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "bare CR inside a kept header value", .kind = REQ, .in = "GET / HTTP/1.1\r\nx-request-id: a\rb\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "control byte in a kept value", .kind = RESP, .in = "HTTP/1.1 200 OK\r\nContent-Type: text/\x01html\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "HTAB inside a value is fine", .kind = REQ, .in = "GET / HTTP/1.1\r\nx-request-id: a\tb\r\n\r\n", .ret = ALL, .code = M(GET), .path = "/", .rid = "a\tb" },
	{ .why = "underscore is not a dash in a known name", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent_Length: 5\r\n\r\n", .ret = ALL, .code = M(POST), .path = "/" },
	{ .why = "CR not followed by LF at head end", .kind = REQ, .in = "GET / HTTP/1.1\r\n\rX", .ret = HTTP1_MALFORMED, .err = E(HEADER) },
	{ .why = "Content-Length not a number", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(LENGTH) },
	{ .why = "Content-Length negative", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(LENGTH) },
	{ .why = "Content-Length with sign", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(LENGTH) },
	{ .why = "Content-Length empty", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(LENGTH) },
	{ .why = "Content-Length overflow", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(LENGTH) },
	{ .why = "Content-Length conflict", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(LENGTH) },
	{ .why = "Content-Length list", .kind = REQ, .in = "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(LENGTH) },
	{ .why = "request Transfer-Encoding not chunked", .kind = REQ, .in = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(TRANSFER_ENCODING) },
	/* responses */
	{ .why = "200 with length", .kind = RESP, .in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", .ret = ALL, .err = 0, .code = 200, .path = NULL, .flags = F(LENGTH), .cl = 2 },
	{ .why = "no reason phrase", .kind = RESP, .in = "HTTP/1.1 404\r\n\r\n", .ret = ALL, .err = 0, .code = 404 },
	{ .why = "empty reason phrase", .kind = RESP, .in = "HTTP/1.1 500 \r\n\r\n", .ret = ALL, .err = 0, .code = 500 },
	{ .why = "HTTP/1.0 response", .kind = RESP, .in = "HTTP/1.0 200 OK\r\n\r\n", .ret = ALL, .err = 0, .code = 200, .path = NULL, .flags = F(CLOSE) },
	{ .why = "event stream", .kind = RESP, .in = "HTTP/1.1 200 OK\r\nContent-Type: Text/Event-Stream; charset=utf-8\r\n\r\n", .ret = ALL, .err = 0, .code = 200, .path = NULL, .flags = F(EVENT_STREAM) },
	{ .why = "not an event stream", .kind = RESP, .in = "HTTP/1.1 200 OK\r\nContent-Type: text/event-streamer\r\n\r\n", .ret = ALL, .err = 0, .code = 200 },
	{ .why = "tenant header is a request header", .kind = RESP, .in = "HTTP/1.1 200 OK\r\nx-tenant-id: acme\r\n\r\n", .ret = ALL, .err = 0, .code = 200 },
	{ .why = "response other coding", .kind = RESP, .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .ret = ALL, .err = 0, .code = 200, .path = NULL, .flags = F(TE_OTHER) },
	{ .why = "status below 100", .kind = RESP, .in = "HTTP/1.1 099 X\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "two-digit status", .kind = RESP, .in = "HTTP/1.1 20 OK\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "four-digit status", .kind = RESP, .in = "HTTP/1.1 2000 OK\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
	{ .why = "HTTP/2 status line", .kind = RESP, .in = "HTTP/2 200\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(VERSION) },
	{ .why = "request on the response side", .kind = RESP, .in = "GET / HTTP/1.1\r\n\r\n", .ret = HTTP1_MALFORMED, .err = E(START_LINE) },
};

static void test_head_table(void)
{
	for (size_t i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++) {
		const struct head_case *c = &head_cases[i];
		struct http1_head h;
		enum http1_err err;
		size_t n = c->len ? c->len : strlen(c->in);
		int want = c->ret == ALL ? (int)n : c->ret;
		int r = http1_parse_head((const uint8_t *)c->in, n, c->kind, NULL, &h, &err);

		CHECK_MSG(r == want, "%s: returned %d, want %d", c->why, r, want);
		if (c->ret == HTTP1_MALFORMED)
			CHECK_MSG(err == c->err, "%s: err %s, want %s", c->why, http1_err_name(err),
				  http1_err_name(c->err));
		if (c->ret != ALL || r != want)
			continue;
		CHECK_MSG(err == HTTP1_ERR_NONE, "%s", c->why);
		CHECK_MSG(h.flags == c->flags, "%s: flags %#x, want %#x", c->why, h.flags, c->flags);
		CHECK_MSG(h.content_length == c->cl, "%s: cl %llu", c->why,
			  (unsigned long long)h.content_length);
		CHECK_MSG(h.head_len <= n, "%s", c->why);
		if (c->kind == REQ) {
			CHECK_MSG(h.method == c->code, "%s: method %d", c->why, h.method);
			CHECK_MSG(strcmp(h.path, c->path) == 0, "%s: path \"%s\"", c->why, h.path);
			CHECK_MSG(h.path_len == strlen(c->path), "%s", c->why);
		} else {
			CHECK_MSG(h.status == c->code, "%s: status %d", c->why, h.status);
		}
		CHECK_EQ_STR(h.tenant, c->tenant ? c->tenant : "");
		CHECK_EQ_STR(h.request_id, c->rid ? c->rid : "");
		CHECK_EQ_STR(h.traceparent, c->tp ? c->tp : "");
		CHECK_EQ_INT(h.request_id_len, c->rid ? strlen(c->rid) : 0);
		CHECK_EQ_INT(h.traceparent_len, c->tp ? strlen(c->tp) : 0);
		CHECK_MSG(strcmp(h.host, c->host ? c->host : "") == 0, "%s: host \"%s\"", c->why, h.host);
		CHECK_EQ_INT(h.host_len, c->host ? strlen(c->host) : 0);
	}
}

static void test_long_tenant_keeps_real_length(void)
{
	const char *in = "GET / HTTP/1.1\r\nx-tenant-id: " LONG70 LONG70 LONG70 "\r\n\r\n";
	struct http1_head h;
	enum http1_err err;
	int r = http1_parse_head((const uint8_t *)in, strlen(in), REQ, NULL, &h, &err);

	CHECK_EQ_INT(r, strlen(in));
	CHECK_EQ_INT(h.tenant_len, 210);
	CHECK_EQ_INT(strlen(h.tenant), HTTP1_TENANT_MAX);
	CHECK(memcmp(h.tenant, LONG70, HTTP1_TENANT_MAX) == 0);
}

static void test_configured_tenant_header(void)
{
	struct http1_config cfg;
	struct http1_head h;
	enum http1_err err;
	const char *in = "GET / HTTP/1.1\r\nx-tenant-id: no\r\nX-Org: yes\r\n\r\n";

	http1_config_init(&cfg);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, "X-Org"), 0);
	CHECK_EQ_STR(cfg.tenant_header, "x-org");
	CHECK_EQ_INT(http1_parse_head((const uint8_t *)in, strlen(in), REQ, &cfg, &h, &err),
		     strlen(in));
	CHECK_EQ_STR(h.tenant, "yes");

	/* credentials and headers the parser already owns are refused */
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, "Authorization"), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, "proxy-authorization"), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, "COOKIE"), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, "set-cookie"), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, "content-length"), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, "x org"), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, ""), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, NULL), -EINVAL);
	CHECK_EQ_INT(http1_config_set_tenant_header(
			     &cfg, "x-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
		     -EINVAL);
	CHECK_EQ_STR(cfg.tenant_header, "x-org");	/* unchanged by refusals */

	/* names compared 4 or 8 bytes at a time, and names that cannot be:
	 * '^' is not '~', '_' is not DEL, whatever their case */
	{
		static const struct {
			const char *name, *line;
			bool match;
		} t[] = {
			{ "X-Org", "X-ORG: a", true },	{ "X-Org", "X-ORH: a", false },
			{ "x-tenant-id", "X-Tenant-ID: a", true },
			{ "x-tenant-id", "x-tenant-ie: a", false },
			{ "org~id", "ORG~ID: a", true },	{ "org~id", "org^id: a", false },
			{ "tenant_id", "TENANT_ID: a", true },	{ "tenant~id", "tenant^id: a", false },
			{ "t9", "T9: a", true },		{ "t9", "T8: a", false },
			{ "tenant.1", "TENANT.1: a", true },	{ "tenant.1", "tenant.2: a", false },
		};

		for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			char req[128];

			http1_config_init(&cfg);
			CHECK_EQ_INT(http1_config_set_tenant_header(&cfg, t[i].name), 0);
			snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s\r\n\r\n", t[i].line);
			CHECK(http1_parse_head((const uint8_t *)req, strlen(req), REQ, &cfg, &h, &err) > 0);
			CHECK_MSG(!!(h.flags & HTTP1_F_TENANT) == t[i].match, "%s vs %s", t[i].name,
				  t[i].line);
		}
	}
}

static void test_header_count_limit(void)
{
	char in[4096];
	size_t n = (size_t)sprintf(in, "GET / HTTP/1.1\r\n");
	struct http1_head h;
	enum http1_err err;

	for (int i = 0; i < HTTP1_MAX_HEADERS_DEFAULT; i++)
		n += (size_t)sprintf(in + n, "h%d: v\r\n", i);
	strcpy(in + n, "\r\n");
	CHECK_EQ_INT(http1_parse_head((const uint8_t *)in, n + 2, REQ, NULL, &h, &err), n + 2);
	strcpy(in + n, "x: y\r\n\r\n");
	CHECK_EQ_INT(http1_parse_head((const uint8_t *)in, n + 8, REQ, NULL, &h, &err),
		     HTTP1_MALFORMED);
	CHECK_EQ_INT(err, HTTP1_ERR_TOO_MANY_HEADERS);
}

static void test_head_size_limit(void)
{
	struct http1_config cfg;
	struct http1_head h;
	enum http1_err err;
	char *in = malloc(70000);
	size_t n;

	/* default 16 KiB: a 20 KB cookie is too much, wherever the head is cut */
	n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nCookie: ");
	memset(in + n, 'c', 20000);
	n += 20000;
	n += (size_t)sprintf(in + n, "\r\n\r\n");
	CHECK_EQ_INT(http1_parse_head((const uint8_t *)in, n, REQ, NULL, &h, &err),
		     HTTP1_MALFORMED);
	CHECK_EQ_INT(err, HTTP1_ERR_HEAD_TOO_LARGE);

	/* configurable: exactly max_head bytes pass, one more fails */
	http1_config_init(&cfg);
	cfg.max_head = 100;
	n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nA: ");
	memset(in + n, 'a', 100 - n - 4);
	strcpy(in + 96, "\r\n\r\n");
	CHECK_EQ_INT(http1_parse_head((const uint8_t *)in, 100, REQ, &cfg, &h, &err), 100);
	CHECK_EQ_INT(h.head_len, 100);
	memmove(in + 97, in + 96, 4);
	in[96] = 'a';
	CHECK_EQ_INT(http1_parse_head((const uint8_t *)in, 101, REQ, &cfg, &h, &err),
		     HTTP1_MALFORMED);
	CHECK_EQ_INT(err, HTTP1_ERR_HEAD_TOO_LARGE);
	/* a long request line counts too */
	n = (size_t)sprintf(in, "GET /");
	memset(in + n, 'p', 200);
	strcpy(in + n + 200, " HTTP/1.1\r\n\r\n");
	CHECK_EQ_INT(http1_parse_head((const uint8_t *)in, strlen(in), REQ, &cfg, &h, &err),
		     HTTP1_MALFORMED);
	CHECK_EQ_INT(err, HTTP1_ERR_HEAD_TOO_LARGE);
	free(in);
}

struct start_case {
	const char *in;
	bool req, resp;
};

static const struct start_case start_cases[] = {
	{ "GET / HTTP/1.1\r\n", true, false },
	{ "POST /a?b HTTP/1.0\n", true, false },
	{ "DELETE /x HTTP/1.1\r\nHost: a\r\n", true, false },
	{ "GET / HTTP/1.1", false, false },		/* line end not captured */
	{ "GET / HTTP/1.1\r", false, false },
	{ "PROPFIND / HTTP/1.1\r\n", false, false },	/* not a named method */
	{ "get / HTTP/1.1\r\n", false, false },
	{ "GET  / HTTP/1.1\r\n", false, false },
	{ "GET / HTTP/2.0\r\n", false, false },
	{ "GETX / HTTP/1.1\r\n", false, false },
	{ "{\"json\":\"GET / HTTP/1.1\r\n\"}", false, false },
	{ "HTTP/1.1 200 OK\r\n", false, true },
	{ "HTTP/1.0 404\r\n", false, true },
	{ "HTTP/1.1 101 Switching Protocols\r\n", false, true },
	{ "HTTP/1.1 200 OK", false, false },
	{ "HTTP/1.1 099 X\r\n", false, false },
	{ "HTTP/1.1 20x OK\r\n", false, false },
	{ "HTTP/2 200\r\n", false, false },
	{ "", false, false },
};

static void test_resync_points(void)
{
	for (size_t i = 0; i < sizeof(start_cases) / sizeof(start_cases[0]); i++) {
		const struct start_case *c = &start_cases[i];
		const uint8_t *d = (const uint8_t *)c->in;

		CHECK_MSG(http1_is_request_start(d, strlen(c->in)) == c->req, "req \"%s\"", c->in);
		CHECK_MSG(http1_is_response_start(d, strlen(c->in)) == c->resp, "resp \"%s\"",
			  c->in);
	}
}

static void test_names(void)
{
	CHECK_EQ_STR(http1_method_name(HTTP1_METHOD_GET), "GET");
	CHECK_EQ_STR(http1_method_name(HTTP1_METHOD_OTHER), "_OTHER");
	CHECK_EQ_STR(http1_method_name((enum http1_method)99), "_OTHER");
	CHECK_EQ_STR(http1_err_name(HTTP1_ERR_CHUNK), "chunk");
	CHECK_EQ_STR(http1_err_name(HTTP1_ERR_HEAD_TOO_LARGE), "head_too_large");
	CHECK_EQ_STR(http1_err_name((enum http1_err)99), "unknown");
}

/* ---- streams ---- */

struct feeder {
	struct http1 *p;
	const char *no_body;	/* responses: '1' per head that answers a HEAD request */
	int heads;
	int k;			/* chunks fed */
	char log[8192];
	size_t n;
	struct http1_head last;	/* copy of the last head */
	int events;
};

static void logf_(struct feeder *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct feeder *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (f->n >= sizeof(f->log) - 1)
		return;
	va_start(ap, fmt);
	r = vsnprintf(f->log + f->n, sizeof(f->log) - f->n, fmt, ap);
	va_end(ap);
	if (r > 0)
		f->n += (size_t)r;
	if (f->n > sizeof(f->log) - 1)
		f->n = sizeof(f->log) - 1;
}

static uint64_t ts_enter_of(int k)
{
	return 1000 * (uint64_t)(k + 1);
}

static uint64_t ts_exit_of(int k)
{
	return 1000 * (uint64_t)(k + 1) + 500;
}

static void log_event(struct feeder *f, const struct http1_event *ev, uint64_t tx)
{
	const struct http1_head *h = ev->head;

	f->events++;
	switch (ev->type) {
	case HTTP1_EV_HEAD:
		f->last = *h;
		if (h->kind == HTTP1_REQUEST)
			logf_(f, "H %s %s", http1_method_name(h->method), h->path);
		else
			logf_(f, "H %d", h->status);
		if (h->flags & HTTP1_F_TRUNCATED)
			logf_(f, " T");
		if (h->flags & HTTP1_F_AFTER_LOSS)
			logf_(f, " R");
		if (h->ts_head_exit != tx)
			logf_(f, " !ts");
		if (h->kind == HTTP1_RESPONSE && f->no_body && f->no_body[f->heads] == '1')
			http1__set_no_body(f->p);
		if (f->no_body && f->no_body[f->heads])
			f->heads++;
		logf_(f, ";");
		break;
	case HTTP1_EV_END:
		logf_(f, "E%llu%s%s%s%s", (unsigned long long)ev->msg_bytes,
		      ev->end_flags & HTTP1_END_APPROX ? "A" : "",
		      ev->end_flags & HTTP1_END_IN_GAP ? "G" : "",
		      ev->end_flags & HTTP1_END_AT_CLOSE ? "C" : "",
		      ev->end_flags & HTTP1_END_INCOMPLETE ? "I" : "");
		if (!ev->end_flags && ev->ts_last != tx)
			logf_(f, " !ts");
		logf_(f, ";");
		break;
	case HTTP1_EV_ERROR:
		logf_(f, "X%s;", http1_err_name(ev->err));
		break;
	case HTTP1_EV_LOST:
		logf_(f, "L%s;", ev->in_gap ? "g" : "u");
		break;
	case HTTP1_EV_NONE:
		break;
	}
}

/* Feeds one syscall: bytes moved, the first cap of them in d, after gap. */
static void feed(struct feeder *f, const void *d, size_t cap, uint64_t bytes, uint64_t gap)
{
	struct http1_input in;
	struct http1_event ev;
	uint64_t tx = ts_exit_of(f->k);
	int guard = 0;

	http1_input_init(&in, d, cap, bytes, gap, ts_enter_of(f->k), tx);
	f->k++;
	while (http1__next(f->p, &in, &ev) != HTTP1_EV_NONE && ++guard < 100000)
		log_event(f, &ev, tx);
	CHECK_MSG(in.pos == in.bytes && in.gap_left == 0, "input not used up: %llu/%llu",
		  (unsigned long long)in.pos, (unsigned long long)in.bytes);
}

static void feed_str(struct feeder *f, const char *s, size_t len)
{
	feed(f, s, len, len, 0);
}

static void feed_s(struct feeder *f, const char *s)
{
	feed_str(f, s, strlen(s));
}

static void feeder_init(struct feeder *f, enum http1_kind kind, const char *no_body)
{
	memset(f, 0, sizeof(*f));
	f->p = http1__new(NULL, kind, true);
	f->no_body = no_body;
	CHECK(f->p != NULL);
}

static void feeder_close(struct feeder *f)
{
	struct http1_event ev;

	if (http1__close(f->p, &ev))
		log_event(f, &ev, ev.ts_last);
	http1__free(f->p);
	f->log[f->n] = 0;
}

struct stream_case {
	const char *why;
	enum http1_kind kind;
	const char *in;
	const char *no_body;
	const char *log;
};

#define REQ_GET(p) "GET " p " HTTP/1.1\r\nHost: x\r\n\r\n"

static const struct stream_case stream_cases[] = {
	{ "one GET", REQ, REQ_GET("/a"), NULL, "H GET /a;E28;" },
	{ "three pipelined GETs", REQ, REQ_GET("/1") REQ_GET("/2") REQ_GET("/3"), NULL,
	  "H GET /1;E28;H GET /2;E28;H GET /3;E28;" },
	{ "POST body then GET", REQ,
	  "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" REQ_GET("/g"), NULL,
	  "H POST /p;E44;H GET /g;E28;" },
	{ "chunked with extension and trailer, then GET", REQ,
	  "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n" REQ_GET("/g"),
	  NULL, "H POST /c;E94;H GET /g;E28;" },
	{ "chunked, bare LF after data, uppercase hex", REQ,
	  "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\n0\r\n\r\n",
	  NULL, "H POST /c;E67;" },
	{ "empty lines between requests", REQ, REQ_GET("/1") "\r\n" REQ_GET("/2"), NULL,
	  "H GET /1;E28;H GET /2;E28;" },
	{ "Expect 100-continue request with body", REQ,
	  "PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", NULL,
	  "H PUT /f;E63;" },
	{ "responses: length, 204, 304 with a length, chunked", RESP,
	  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	  "HTTP/1.1 204 No Content\r\n\r\n"
	  "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
	  "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	  NULL, "H 200;E40;H 204;E27;H 304;E49;H 201;E65;" },
	{ "interim 100 then final", RESP,
	  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", NULL,
	  "H 100;E25;H 200;E38;" },
	{ "HEAD response has no body", RESP,
	  "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
	  "10", "H 200;E41;H 200;E39;" },
	{ "HEAD response, chunked header", RESP,
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
	  "10", "H 200;E47;H 404;E45;" },
	{ "close-delimited body ends at close", RESP,
	  "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of this is body HTTP/1.1 200 OK\r\n\r\n", NULL,
	  "H 200;E69C;" },
	{ "101 head", RESP, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
	  NULL, "H 101;E56;" },
	{ "bad chunk size keeps the message open until close", RESP,
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", NULL,
	  "H 200;Xchunk;E51AC;" },
	{ "chunk size overflow", RESP,
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000000\r\n", NULL,
	  "H 200;Xchunk;E68AC;" },
	{ "missing CRLF after chunk data", RESP,
	  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", NULL,
	  "H 200;Xchunk;E54AC;" },
	{ "body cut by close is incomplete", RESP,
	  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", NULL, "H 200;E42CI;" },
};

static void run_case(const struct stream_case *c, const size_t *cuts, size_t ncuts, char *out,
		     size_t out_size)
{
	struct feeder f;
	size_t len = strlen(c->in), at = 0;

	feeder_init(&f, c->kind, c->no_body);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		feed_str(&f, c->in + at, to - at);
		at = to;
	}
	feeder_close(&f);
	snprintf(out, out_size, "%s", f.log);
}

static void test_stream_table_whole(void)
{
	char log[8192];

	for (size_t i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
		run_case(&stream_cases[i], NULL, 0, log, sizeof(log));
		CHECK_MSG(strcmp(log, stream_cases[i].log) == 0, "%s:\n  got  %s\n  want %s",
			  stream_cases[i].why, log, stream_cases[i].log);
	}
}

/* Every split point of every entry gives the same events. */
static void test_stream_table_every_split(void)
{
	char log[8192];

	for (size_t i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
		const struct stream_case *c = &stream_cases[i];
		size_t len = strlen(c->in);

		for (size_t cut = 1; cut < len; cut++) {
			run_case(c, &cut, 1, log, sizeof(log));
			CHECK_MSG(strcmp(log, c->log) == 0, "%s, split at %zu:\n  got  %s\n  want %s",
				  c->why, cut, log, c->log);
		}
	}
}

static void test_stream_table_byte_by_byte(void)
{
	char log[8192];
	size_t cuts[1024];

	for (size_t i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
		const struct stream_case *c = &stream_cases[i];
		size_t len = strlen(c->in);

		for (size_t k = 1; k < len; k++)
			cuts[k - 1] = k;
		run_case(c, cuts, len - 1, log, sizeof(log));
		CHECK_MSG(strcmp(log, c->log) == 0, "%s, byte by byte:\n  got  %s\n  want %s",
			  c->why, log, c->log);
	}
}

/* ---- unseen bytes ---- */

static void test_large_body_skipped_by_count(void)
{
	const char *head = "POST /up HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n";
	size_t hl = strlen(head);
	char first[4096];
	char body[256];
	struct feeder f;

	memset(body, 'x', sizeof(body));
	memcpy(first, head, hl);
	memset(first + hl, 'x', 256);
	feeder_init(&f, REQ, NULL);
	/* head + 64 KiB read, head and 256 body bytes captured */
	feed(&f, first, hl + 256, hl + 65536, 0);
	for (int i = 1; i < 16; i++)
		feed(&f, body, sizeof(body), 65536, 0);
	feed_s(&f, REQ_GET("/next"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H POST /up;E1048622;H GET /next;E31;");
}

static void test_chunk_data_skipped_by_count(void)
{
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n";
	char buf[128];
	struct feeder f;
	size_t hl = strlen(head);

	feeder_init(&f, RESP, NULL);
	memcpy(buf, head, hl);
	memset(buf + hl, 'd', 16);
	/* 8 KiB chunk: data and its CRLF beyond the capture; next size line seen */
	feed(&f, buf, hl + 16, hl + 0x2000 + 2, 0);
	feed_s(&f, "0\r\n\r\n");
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H 200;E8252;");
}

static void test_uncaptured_chunk_size_line(void)
{
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel";
	struct feeder f;
	size_t hl = strlen(head);

	/* framing lost inside one syscall: the message stays open (no event),
	 * a later fully captured "\r\n0\r\n\r\n" ends it, exact chunks follow */
	feeder_init(&f, RESP, NULL);
	feed(&f, head, hl, hl + 100, 0);
	feed(&f, "more\r\n0\r\n\r\n", 11, 11, 0);
	feed_s(&f, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H 200;E164A;H 200;E38;");

	/* without the terminator: the next response at a syscall start ends it */
	feeder_init(&f, RESP, NULL);
	feed(&f, head, hl, hl + 100, 0);
	feed(&f, "more", 4, 300, 0);
	feed_s(&f, "HTTP/1.1 204 No Content\r\n\r\n");
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H 200;E453A;H 204;E27;");

	/* a status line inside a syscall is not a resync point; close ends it */
	feeder_init(&f, RESP, NULL);
	feed(&f, head, hl, hl + 100, 0);
	feed_s(&f, "x HTTP/1.1 200 OK\r\n\r\n");
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H 200;E174AC;");
}

static void test_force_end(void)
{
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n";
	struct http1_event ev;
	struct feeder f;
	size_t hl = strlen(head);

	feeder_init(&f, RESP, NULL);
	CHECK(!http1__force_end(f.p, &ev));	/* nothing open */
	feed(&f, head, hl, hl + 50, 0);
	feed(&f, "zz", 2, 70, 0);
	CHECK(http1__force_end(f.p, &ev));
	CHECK_EQ_INT(ev.type, HTTP1_EV_END);
	CHECK_EQ_INT(ev.end_flags, HTTP1_END_APPROX);
	CHECK_EQ_INT(ev.ts_last, ts_exit_of(1));	/* the last syscall fed */
	CHECK_EQ_INT(ev.msg_bytes, hl + 120);
	CHECK(!http1__force_end(f.p, &ev));
	/* waits for a resync point, then goes on */
	feed_s(&f, "abc");
	feed_s(&f, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H 200;H 200;E38;");
}

static void test_truncated_head(void)
{
	const char *req = "GET /t HTTP/1.1\r\nx-tenant-id: acme\r\nCookie: a=b\r\nX-Request-Id: r";
	struct feeder f;
	size_t n = strlen(req);

	/* head longer than the capture: what was seen is reported, flagged */
	feeder_init(&f, REQ, NULL);
	feed(&f, req, n, n + 3000, 0);
	CHECK_EQ_STR(f.last.tenant, "acme");
	CHECK_EQ_STR(f.last.request_id, "");	/* its line was cut */
	CHECK(f.last.flags & HTTP1_F_TRUNCATED);
	feed_s(&f, REQ_GET("/n"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H GET /t T;E3064A;H GET /n;E28;");

	/* cut inside the request line: nothing to report, sync lost */
	feeder_init(&f, REQ, NULL);
	feed(&f, "GET /abc", 8, 200, 0);
	feed_s(&f, "tail of the head\r\n\r\n");
	feed_s(&f, REQ_GET("/n"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "Lu;H GET /n R;E28;");

	/* nothing captured at a boundary (e.g. sendfile): sync lost */
	feeder_init(&f, RESP, NULL);
	feed(&f, NULL, 0, 500, 0);
	feed_s(&f, "HTTP/1.1 200 OK\r\n\r\n");
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "Lu;H 200 R;E19C;");
}

static void test_gaps(void)
{
	const char *head = "POST /g HTTP/1.1\r\nContent-Length: 1000\r\n\r\n";
	char body[600];
	struct feeder f;

	memset(body, 'b', sizeof(body));
	/* exact gap inside a body: skipped, still in sync, exact end */
	feeder_init(&f, REQ, NULL);
	feed_s(&f, head);
	feed(&f, body, 100, 100, 0);
	feed(&f, body, 100, 100, 500);
	feed(&f, body, 300, 300, 0);
	feed_s(&f, REQ_GET("/n"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H POST /g;E1042;H GET /n;E28;");

	/* the gap ends exactly at the body's end: end in the gap, next head in sync */
	feeder_init(&f, REQ, NULL);
	feed_s(&f, head);
	feed(&f, body, 100, 100, 0);
	feed(&f, REQ_GET("/n"), 28, 28, 900);
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H POST /g;E1042G;H GET /n;E28;");

	/* the gap goes past the body: whole messages may be in it */
	feeder_init(&f, REQ, NULL);
	feed_s(&f, head);
	feed(&f, REQ_GET("/n"), 28, 28, 1500);
	feed_s(&f, "garbage\r\n");
	feed_s(&f, REQ_GET("/m"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H POST /g;E1042G;Lg;H GET /n R;E28;Xstart_line;H GET /m R;E28;");

	/* a gap of unknown size cannot be skipped: framing lost */
	feeder_init(&f, REQ, NULL);
	feed_s(&f, head);
	feed(&f, body, 100, 100, HTTP1_GAP_UNKNOWN);
	feed_s(&f, REQ_GET("/n"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H POST /g;E142AG;H GET /n R;E28;");

	/* gap at a boundary, then a request in the same syscall */
	feeder_init(&f, REQ, NULL);
	feed(&f, REQ_GET("/a"), 28, 28, 10);
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "Lg;H GET /a R;E28;");
}

/* After malformed input the rest of that syscall is dropped; the next
 * syscall starting with a request line resynchronises. */
static void test_error_then_resync(void)
{
	struct feeder f;

	feeder_init(&f, REQ, NULL);
	feed_s(&f, "GET / HTTP/9.9\r\n\r\n" REQ_GET("/lost"));
	feed_s(&f, "x" REQ_GET("/lost2"));
	feed_s(&f, REQ_GET("/ok"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "Xversion;H GET /ok R;E29;");
}

static void test_unsynced_start(void)
{
	struct feeder f;

	memset(&f, 0, sizeof(f));
	f.p = http1__new(NULL, REQ, false);
	feed_s(&f, "dy of something\r\n\r\n" REQ_GET("/x"));
	feed_s(&f, REQ_GET("/a"));
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H GET /a R;E28;");
	CHECK(http1__new(NULL, (enum http1_kind)7, true) == NULL);
}

static void test_stop(void)
{
	struct feeder f;

	feeder_init(&f, RESP, NULL);
	feed_s(&f, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
	http1__stop(f.p);
	feed_s(&f, "\x81\x05hello");
	feed(&f, "xx", 2, 5000, 77);
	feeder_close(&f);
	CHECK_EQ_STR(f.log, "H 101;E36;");
}

/* No byte of a credential or unknown header value is ever in parser memory. */
static void test_privacy(void)
{
	const char *req = "GET /p HTTP/1.1\r\nAuthorization: Bearer SECRETA1\r\n"
			  "Cookie: sid=SECRETC2\r\nX-Other: SECRETO3\r\nx-tenant-id: t\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nSet-Cookie: SECRETS4; HttpOnly\r\n"
			   "Content-Length: 0\r\n\r\n";
	const char *sets[] = { req, resp };

	for (int s = 0; s < 2; s++) {
		size_t n = strlen(sets[s]);

		for (size_t cut = 0; cut < n; cut++) {
			struct http1 *p = http1__new(NULL, s ? RESP : REQ, true);
			struct http1_input in;
			struct http1_event ev;
			size_t sz = malloc_usable_size(p);
			const uint8_t *mem = (const uint8_t *)p;
			bool leak = false;

			http1_input_init(&in, (const uint8_t *)sets[s], cut, cut, 0, 1, 2);
			while (http1__next(p, &in, &ev) != HTTP1_EV_NONE)
				;
			http1_input_init(&in, (const uint8_t *)sets[s] + cut, n - cut, n - cut, 0, 3, 4);
			while (http1__next(p, &in, &ev) != HTTP1_EV_NONE)
				;
			for (size_t i = 0; i + 6 <= sz; i++)
				if (memcmp(mem + i, "SECRET", 6) == 0 || memcmp(mem + i, "ECRET", 5) == 0 ||
				    memcmp(mem + i, "sid=", 4) == 0 || memcmp(mem + i, "Bearer", 6) == 0)
					leak = true;
			CHECK_MSG(!leak, "credential bytes in parser memory (set %d, cut %zu)", s, cut);
			http1__free(p);
		}
	}
}

/* ---- hostile input ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const char *const pieces[] = {
	"GET ",	     "POST ",	"HTTP/1.1",	      "HTTP/1.0 ",	"\r\n",	    "\r\n\r\n",
	"200 OK",    "/a/b",	"Content-Length: ",   "Transfer-Encoding: chunked",
	"0\r\n\r\n", "ff\r\n",	"x-tenant-id: ",      "Connection: close", ": ",   " ",
	"9999999999999999999999", "\n", ";ext", "1\r\nx\r\n", "HTTP/1.1 101 ",
};

/* four requests, then four responses */
static const char *const templates[] = {
	"GET /a/1?q HTTP/1.1\r\nHost: x\r\nx-tenant-id: t1\r\n\r\n",
	"POST /b HTTP/1.1\r\nContent-Length: 3\r\nx-request-id: r\r\n\r\nabc",
	"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
	"GET /d HTTP/1.0\r\nConnection: keep-alive\r\ntraceparent: 00-ab-cd-01\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n1;x\r\na\r\n0\r\nT: v\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
};

static void check_head_sane(const struct http1_head *h)
{
	CHECK(h->path_len <= HTTP1_PATH_MAX && strlen(h->path) == h->path_len);
	CHECK(strlen(h->tenant) <= HTTP1_TENANT_MAX);
	CHECK(h->tenant_len >= strlen(h->tenant));
	CHECK(strlen(h->request_id) == h->request_id_len);
	CHECK(strlen(h->traceparent) == h->traceparent_len);
	CHECK(h->kind == HTTP1_REQUEST ? h->method < HTTP1_METHOD__MAX
				       : h->status >= 100 && h->status <= 999);
}

static void test_random_input(void)
{
	uint8_t buf[2048];
	int heads = 0, errors = 0;

	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 0, at = 0;
		struct http1 *p = http1__new(NULL, iter & 1 ? RESP : REQ, (iter & 2) != 0);
		struct http1_event ev;
		int k = 0;

		/* half: valid messages with a few mutated bytes; half: token soup */
		while ((iter & 4) && n < sizeof(buf) - 256 && rnd() % 5) {
			const char *t = templates[(iter & 1) * 4 + rnd() % 4];

			memcpy(buf + n, t, strlen(t));
			n += strlen(t);
		}
		for (int m = (iter & 4) ? (int)(rnd() % 4) : 0; m > 0 && n; m--)
			buf[rnd() % n] = (uint8_t)rnd();
		while (!(iter & 4) && n < sizeof(buf) - 64 && rnd() % 40) {
			if (rnd() % 3) {
				const char *s = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];

				memcpy(buf + n, s, strlen(s));
				n += strlen(s);
			} else {
				buf[n++] = (uint8_t)rnd();
			}
		}
		while (at < n) {
			struct http1_input in;
			size_t len = 1 + rnd() % (n - at);
			size_t cap = rnd() % 4 ? len : rnd() % (len + 1);
			uint64_t gap = rnd() % 8 ? 0 : rnd() % 3 ? rnd() % 100 : HTTP1_GAP_UNKNOWN;
			int guard = 0;

			http1_input_init(&in, buf + at, cap, len, gap, (uint64_t)k * 10,
					 (uint64_t)k * 10 + 5);
			k++;
			while (http1__next(p, &in, &ev) != HTTP1_EV_NONE && ++guard < 10000) {
				if (ev.type == HTTP1_EV_HEAD) {
					heads++;
					check_head_sane(ev.head);
				}
				errors += ev.type == HTTP1_EV_ERROR;
			}
			CHECK(guard < 10000);
			CHECK(in.pos == in.bytes && in.gap_left == 0);
			at += len;
		}
		if (http1__close(p, &ev))
			CHECK(ev.type == HTTP1_EV_END);
		http1__free(p);
	}
	/* the generator makes both valid heads and errors */
	printf("  random: %d heads, %d errors\n", heads, errors);
	CHECK(heads > 100);
	CHECK(errors > 100);
}

/* ---- whole heads at once vs byte by byte ---- */

/* Everything an event tells, head included, as a comparable string. */
static void event_str(const struct http1_event *ev, const struct http1_input *in, char *out,
		      size_t size)
{
	const struct http1_head *h = ev->head;
	int n = snprintf(out, size, "t%d e%d g%d f%u ts%llu m%llu pos%llu", ev->type, ev->err,
			 ev->in_gap, ev->end_flags, (unsigned long long)ev->ts_last,
			 (unsigned long long)ev->msg_bytes, (unsigned long long)in->pos);

	if (h && n > 0 && (size_t)n < size)
		snprintf(out + n, size - (size_t)n,
			 " | k%u m%u v%u s%u fl%x cl%llu hl%u ts%llu/%llu/%llu/%llu"
			 " [%s] %u [%s] %u [%s] [%s] [%s]",
			 h->kind, h->method, h->version, h->status, h->flags,
			 (unsigned long long)h->content_length, h->head_len,
			 (unsigned long long)h->ts_first_enter, (unsigned long long)h->ts_first_exit,
			 (unsigned long long)h->ts_head_enter, (unsigned long long)h->ts_head_exit,
			 h->path, h->path_len, h->tenant, h->tenant_len, h->request_id,
			 h->traceparent, h->host);
}

static int disagreements;

/* Feeds buf[0..n) to a parser that may take whole heads at once and to one
 * that walks every byte, cut the same way, and compares every event. */
static int agree(const uint8_t *buf, size_t n, enum http1_kind kind, bool synced,
		 const struct http1_config *base, bool whole, bool mess)
{
	struct http1_config cf = *base, cs = *base;
	struct http1 *fast, *slow;
	size_t at = 0;
	int k = 0, heads = 0;

	cf.bytewise = false;
	cs.bytewise = true;
	fast = http1__new(&cf, kind, synced);
	slow = http1__new(&cs, kind, synced);
	while (at < n) {
		struct http1_input a, b;
		struct http1_event ea, eb;
		size_t len = whole ? n - at : 1 + rnd() % (n - at);
		size_t cap = !mess || rnd() % 4 ? len : rnd() % (len + 1);
		uint64_t gap = !mess || rnd() % 8 ? 0 : rnd() % 3 ? rnd() % 100 : HTTP1_GAP_UNKNOWN;
		int guard = 0;

		http1_input_init(&a, buf + at, cap, len, gap, (uint64_t)k * 10, (uint64_t)k * 10 + 5);
		b = a;
		k++;
		for (;;) {
			char sa[1024], sb[1024];
			enum http1_ev ra = http1__next(fast, &a, &ea), rb = http1__next(slow, &b, &eb);

			event_str(&ea, &a, sa, sizeof(sa));
			event_str(&eb, &b, sb, sizeof(sb));
			/* the first few differences are enough to see what is wrong;
			 * the test checks their count at the end */
			if (strcmp(sa, sb) && ++disagreements <= 5)
				fprintf(stderr, "input %.*s\n  fast %s\n  walk %s\n", (int)n,
					(const char *)buf, sa, sb);
			if (strcmp(sa, sb) || ra == HTTP1_EV_NONE || rb == HTTP1_EV_NONE || ++guard > 10000)
				break;
			heads += ra == HTTP1_EV_HEAD;
			if (ra == HTTP1_EV_HEAD && ea.head->kind == HTTP1_RESPONSE && rnd() % 4 == 0) {
				http1__set_no_body(fast);	/* as if it answered a HEAD */
				http1__set_no_body(slow);
			}
		}
		at += len;
	}
	http1__free(fast);
	http1__free(slow);
	return heads;
}

static void test_fast_head_agrees(void)
{
	struct http1_config def, small, org;
	uint8_t buf[2048];
	int heads = 0;

	http1_config_init(&def);
	small = def;
	small.max_head = 64;
	small.max_headers = 3;
	org = def;
	CHECK_EQ_INT(http1_config_set_tenant_header(&org, "X-Org"), 0);
	/* the head table and the stream table, whole and cut at random */
	for (size_t i = 0; i < sizeof(head_cases) / sizeof(head_cases[0]); i++) {
		const struct head_case *c = &head_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);

		heads += agree((const uint8_t *)c->in, len, c->kind, true, &def, true, false);
		agree((const uint8_t *)c->in, len, c->kind, true, &small, true, false);
		agree((const uint8_t *)c->in, len, c->kind, true, &def, false, false);
	}
	for (size_t i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
		const struct stream_case *c = &stream_cases[i];

		heads += agree((const uint8_t *)c->in, strlen(c->in), c->kind, true, &def, true, false);
		agree((const uint8_t *)c->in, strlen(c->in), c->kind, true, &def, false, true);
	}
	/* edges of the limits: method length, path length, name length, and
	 * every head size and header count around a head's own */
	{
		static const char *const edges[] = {
			"ABCDEFGHIJKLMNOPQRSTUVWX / HTTP/1.1\r\n\r\n",	/* 24: the longest */
			"ABCDEFGHIJKLMNOPQRSTUVWXY / HTTP/1.1\r\n\r\n",
			"GET " P64 P64 P64 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
			"GET " P64 P64 P64 "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n",
			"GET / HTTP/1.1\r\n" LONG70 ": v\r\nx-tenant-id: " LONG70 "\r\n\r\n",
			"GET /a?b#c HTTP/1.1\r\nHost:\r\nx-request-id:   \r\nConnection: close, upgrade\r\nUpgrade: h2c\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
			"HTTP/1.1 200\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Type: text/event-stream\r\n\r\n",
		};

		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
			const char *e = edges[i];
			enum http1_kind kind = e[0] == 'H' && e[1] == 'T' ? RESP : REQ;
			size_t len = strlen(e);

			heads += agree((const uint8_t *)e, len, kind, true, &def, true, false);
			for (uint32_t mh = len > 4 ? (uint32_t)len - 4 : 1; mh <= len + 2; mh++) {
				for (uint32_t mn = 1; mn <= 6; mn++) {
					struct http1_config c = def;

					c.max_head = mh;
					c.max_headers = mn;
					agree((const uint8_t *)e, len, kind, true, &c, true, false);
				}
			}
		}
	}
	/* valid messages with a few bytes changed, and token soup */
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 0;
		enum http1_kind kind = iter & 1 ? RESP : REQ;

		while ((iter & 4) && n < sizeof(buf) - 256 && rnd() % 5) {
			const char *t = templates[(iter & 1) * 4 + rnd() % 4];

			memcpy(buf + n, t, strlen(t));
			n += strlen(t);
		}
		for (int m = (iter & 4) ? (int)(rnd() % 3) : 0; m > 0 && n; m--) {
			static const char bytes[] = "\r\n :\t?#/\x01\x7f" "0aA-";

			buf[rnd() % n] = rnd() % 2 ? (uint8_t)rnd() : (uint8_t)bytes[rnd() % 15];
		}
		while (!(iter & 4) && n < sizeof(buf) - 64 && rnd() % 40) {
			if (rnd() % 3) {
				const char *s = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];

				memcpy(buf + n, s, strlen(s));
				n += strlen(s);
			} else {
				buf[n++] = (uint8_t)rnd();
			}
		}
		heads += agree(buf, n, kind, (iter & 2) != 0,
			       iter % 5 == 0 ? &small : iter % 7 == 0 ? &org : &def,
			       (iter & 8) != 0, (iter & 16) != 0);
	}
	printf("  agreed on %d heads, %d disagreements\n", heads, disagreements);
	CHECK_EQ_INT(disagreements, 0);
	CHECK(heads > 10000);
}

/* ---- micro-benchmark (not part of the suite) ---- */

static void bench(int n)
{
	const char *req = "GET /api/users/42?expand=1 HTTP/1.1\r\nHost: svc:3000\r\n"
			  "User-Agent: node\r\nAccept: application/json\r\nx-tenant-id: acme\r\n"
			  "x-request-id: 6f1c2a\r\nConnection: keep-alive\r\n\r\n";
	const char *resp = "HTTP/1.1 200 OK\r\nX-Powered-By: Express\r\n"
			   "Content-Type: application/json; charset=utf-8\r\nContent-Length: 26\r\n"
			   "ETag: W/\"1b-abc\"\r\nDate: Thu, 01 Jan 2025 00:00:00 GMT\r\n"
			   "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n"
			   "{\"id\":42,\"name\":\"someone\"}";
	struct http1 *a = http1__new(NULL, REQ, true), *b = http1__new(NULL, RESP, true);
	struct http1_input in;
	struct http1_event ev;
	struct timespec t0, t1;

	int events = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		http1_input_init(&in, (const uint8_t *)req, strlen(req), strlen(req), 0, 1, 2);
		while (http1__next(a, &in, &ev) != HTTP1_EV_NONE)
			events++;
		http1_input_init(&in, (const uint8_t *)resp, strlen(resp), strlen(resp), 0, 3, 4);
		while (http1__next(b, &in, &ev) != HTTP1_EV_NONE)
			events++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("request+response parse: %.1f ns (%zu + %zu bytes, %d events)\n",
	       ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n, strlen(req),
	       strlen(resp), events / n);
	http1__free(a);
	http1__free(b);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		bench(argc > 2 ? atoi(argv[2]) : 1000000);
		return 0;
	}
	RUN(test_head_table);
	RUN(test_long_tenant_keeps_real_length);
	RUN(test_configured_tenant_header);
	RUN(test_header_count_limit);
	RUN(test_head_size_limit);
	RUN(test_resync_points);
	RUN(test_names);
	RUN(test_stream_table_whole);
	RUN(test_stream_table_every_split);
	RUN(test_stream_table_byte_by_byte);
	RUN(test_large_body_skipped_by_count);
	RUN(test_chunk_data_skipped_by_count);
	RUN(test_uncaptured_chunk_size_line);
	RUN(test_force_end);
	RUN(test_truncated_head);
	RUN(test_gaps);
	RUN(test_error_then_resync);
	RUN(test_unsynced_start);
	RUN(test_stop);
	RUN(test_privacy);
	RUN(test_random_input);
	RUN(test_fast_head_agrees);
	return check_summary();
}
