// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of httpconn.c: transcripts of whole connections (keep-alive,
 * pipelining, chunked, Expect: 100-continue, HEAD, 204/304, close-delimited,
 * upgrade, SSE, CONNECT) played as server and as client, whole, with one
 * syscall split at every byte, and one byte per syscall: the exchanges must
 * not change. Then timings from exact timestamps, best-effort ends, role
 * inference, gaps, causality, limits, stats and argument checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "check.h"
#include "httpconn.h"

#define IN SBA_DIR_IN
#define OUT SBA_DIR_OUT

/* ---- recording exchanges ---- */

struct rec {
	char log[8192];
	size_t n;
	int count;
	struct httpconn_exchange last;
	struct http1_head last_req, last_resp;
	bool secret_seen;
};

static void rec_printf(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_printf(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (r->n >= sizeof(r->log) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(r->log + r->n, sizeof(r->log) - r->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		r->n += (size_t)k;
	if (r->n > sizeof(r->log) - 1)
		r->n = sizeof(r->log) - 1;
}

static bool has_secret(const void *p, size_t n)
{
	const char *s = p;

	for (size_t i = 0; i + 6 <= n; i++)
		if (memcmp(s + i, "SECRET", 6) == 0)
			return true;
	return false;
}

static void on_exchange(const struct httpconn_exchange *x, void *ctx)
{
	struct rec *r = ctx;
	uint32_t f = x->flags;

	r->count++;
	r->last = *x;
	r->last_req = *x->req;
	r->last_resp = *x->resp;
	r->secret_seen |= has_secret(x->req, sizeof(*x->req)) ||
			  has_secret(x->resp, sizeof(*x->resp));
	rec_printf(r, "%s %s %d q%llu r%llu", http1_method_name(x->req->method), x->req->path,
		   x->resp->status, (unsigned long long)x->req_bytes,
		   (unsigned long long)x->resp_bytes);
	if (f)
		rec_printf(r, " %s%s%s%s%s%s%s", f & HTTPCONN_X_STREAMING ? "S" : "",
			   f & HTTPCONN_X_UPGRADE ? "U" : "", f & HTTPCONN_X_APPROX_END ? "A" : "",
			   f & HTTPCONN_X_END_LOST ? "L" : "", f & HTTPCONN_X_INCOMPLETE ? "I" : "",
			   f & HTTPCONN_X_TRUNCATED ? "T" : "", f & HTTPCONN_X_AT_CLOSE ? "C" : "");
	rec_printf(r, "|");
	/* invariants of every exchange */
	CHECK(x->end_ns >= x->start_ns);
	CHECK(x->duration_ns == x->end_ns - x->start_ns);
	CHECK(x->ttfb_ns <= x->duration_ns);
	CHECK(x->resp->status >= 200 || x->resp->status == 101);
	CHECK(x->role == SBA_ROLE_SERVER || x->role == SBA_ROLE_CLIENT);
}

struct conn {
	struct httpconn *c;
	struct rec rec;
	struct httpconn_stats stats;
	int k;		/* syscalls fed: timestamps come from it */
};

static void conn_open(struct conn *t, enum sba_role role, uint32_t max_pending, bool exact_gaps)
{
	struct httpconn_config cfg;

	memset(t, 0, sizeof(*t));
	httpconn_config_init(&cfg);
	cfg.on_exchange = on_exchange;
	cfg.ctx = &t->rec;
	cfg.stats = &t->stats;
	cfg.max_pending = max_pending;
	cfg.exact_gaps = exact_gaps;
	t->c = httpconn__new(&cfg, role);
	CHECK(t->c != NULL);
}

static void conn_close(struct conn *t)
{
	httpconn__close(t->c);
	httpconn__free(t->c);
	t->rec.log[t->rec.n] = 0;
}

/* syscall k: entry at 1000k + 1000, exit 100 later */
static uint64_t tin(int k)
{
	return 1000 * (uint64_t)k + 1000;
}

static uint64_t tout(int k)
{
	return 1000 * (uint64_t)k + 1100;
}

static void feedx(struct conn *t, enum sba_dir dir, const void *d, size_t cap, uint64_t bytes,
		  uint64_t gap)
{
	CHECK_EQ_INT(httpconn__feed(t->c, dir, d, cap, bytes, gap, tin(t->k), tout(t->k)), 0);
	t->k++;
}

static void feeds(struct conn *t, enum sba_dir dir, const char *s)
{
	feedx(t, dir, s, strlen(s), strlen(s), 0);
}

/* ---- transcripts ---- */

struct seg {
	enum sba_dir dir;	/* as seen by the server: IN carries requests */
	const char *data;
};

struct transcript {
	const char *why;
	struct seg segs[8];
	const char *log;	/* expected exchanges */
	uint64_t interim;
};

#define GET(p) "GET " p " HTTP/1.1\r\nHost: x\r\n\r\n"
#define OK(body) "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" body

static const struct transcript transcripts[] = {
	{ "keep-alive: two requests, one connection",
	  { { IN, GET("/a") }, { OUT, OK("ok") }, { IN, GET("/b") },
	    { OUT, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" } },
	  "GET /a 200 q28 r40|GET /b 404 q28 r45|", 0 },
	{ "pipelining: three requests in one read, three responses in one write",
	  { { IN, GET("/1") GET("/2") GET("/3") },
	    { OUT, OK("r1") "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n" OK("r3") } },
	  "GET /1 200 q28 r40|GET /2 201 q28 r43|GET /3 200 q28 r40|", 0 },
	{ "POST with a body, chunked response with a trailer",
	  { { IN, "POST /p HTTP/1.1\r\nContent-Length: 5\r\nx-tenant-id: acme\r\n\r\nhello" },
	    { OUT, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "4\r\nabcd\r\n0\r\nT: 1\r\n\r\n" } },
	  "POST /p 201 q63 r72|", 0 },
	{ "Expect: 100-continue: the interim response is not the final one",
	  { { IN, "PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n" },
	    { OUT, "HTTP/1.1 100 Continue\r\n\r\n" },
	    { IN, "abc" },
	    { OUT, "HTTP/1.1 204 No Content\r\n\r\n" } },
	  "PUT /f 204 q63 r27|", 1 },
	{ "HEAD: the response has a length but no body",
	  { { IN, "HEAD /h HTTP/1.1\r\n\r\n" },
	    { OUT, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" },
	    { IN, GET("/x") }, { OUT, OK("ok") } },
	  "HEAD /h 200 q20 r41|GET /x 200 q28 r40|", 0 },
	{ "HEAD pipelined with GET: both responses in one write",
	  { { IN, "HEAD /h HTTP/1.1\r\n\r\n" GET("/x") },
	    { OUT, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" OK("ok") } },
	  "HEAD /h 200 q20 r41|GET /x 200 q28 r40|", 0 },
	{ "204 and 304 carry no body",
	  { { IN, GET("/a") GET("/b") },
	    { OUT, "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
		   "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n" } },
	  "GET /a 204 q28 r46|GET /b 304 q28 r49|", 0 },
	{ "Connection: close, response delimited by close",
	  { { IN, "GET /c HTTP/1.1\r\nConnection: close\r\n\r\n" },
	    { OUT, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of the body" } },
	  "GET /c 200 q38 r53 C|", 0 },
	{ "WebSocket upgrade: counted, then parsing stops",
	  { { IN, "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" },
	    { OUT, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		   "Upgrade: websocket\r\n\r\n\x81\x05hello" },
	    { IN, "\x81\x85\x01\x02\x03\x04xxxxx" }, { OUT, "HTTP/1.1 200 OK\r\n\r\n" } },
	  "GET /ws 101 q61 r77 U|", 0 },
	{ "server-sent events: one exchange, ends with the stream",
	  { { IN, "GET /events HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n" },
	    { OUT, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n" },
	    { OUT, "d\r\ndata: hello\n\n\r\n" }, { OUT, "d\r\ndata: again\n\n\r\n" },
	    { OUT, "0\r\n\r\n" } },
	  "GET /events 200 q51 r121 S|", 0 },
	{ "CONNECT tunnel: counted as an upgrade",
	  { { IN, "CONNECT db:5432 HTTP/1.1\r\n\r\n" },
	    { OUT, "HTTP/1.1 200 Connection Established\r\n\r\n" },
	    { IN, "\x16\x03\x01 tls bytes" }, { OUT, "\x16\x03\x03 more" } },
	  "CONNECT db:5432 200 q28 r39 U|", 0 },
	{ "credentials are not in any exchange",
	  { { IN, "GET /p HTTP/1.1\r\nAuthorization: Bearer SECRET1\r\nCookie: SECRET2\r\n\r\n" },
	    { OUT, "HTTP/1.1 200 OK\r\nSet-Cookie: SECRET3\r\nContent-Length: 0\r\n\r\n" } },
	  "GET /p 200 q67 r59|", 0 },
};

#define NT (sizeof(transcripts) / sizeof(transcripts[0]))

/* Plays t as `role`; syscall `split` (or all, if split < 0 and bytewise) is cut. */
static void play(const struct transcript *t, enum sba_role role, int split, size_t at,
		 bool bytewise, struct conn *cn)
{
	conn_open(cn, role, 0, false);
	for (int i = 0; i < 8 && t->segs[i].data; i++) {
		const char *d = t->segs[i].data;
		size_t n = strlen(d);
		enum sba_dir dir = t->segs[i].dir;

		if (role == SBA_ROLE_CLIENT)
			dir = dir == IN ? OUT : IN;
		if (bytewise) {
			for (size_t k = 0; k < n; k++)
				feedx(cn, dir, d + k, 1, 1, 0);
		} else if (i == split) {
			feedx(cn, dir, d, at, at, 0);
			feedx(cn, dir, d + at, n - at, n - at, 0);
		} else {
			feedx(cn, dir, d, n, n, 0);
		}
	}
	conn_close(cn);
}

static void check_play(const struct transcript *t, struct conn *cn, const char *how)
{
	CHECK_MSG(strcmp(cn->rec.log, t->log) == 0, "%s (%s):\n  got  %s\n  want %s", t->why, how,
		  cn->rec.log, t->log);
	CHECK_MSG(cn->stats.interim == t->interim, "%s (%s): interim %llu", t->why, how,
		  (unsigned long long)cn->stats.interim);
	for (int e = 0; e < HTTP1_ERR__MAX; e++)
		CHECK_MSG(cn->stats.parse_errors[e] == 0, "%s (%s): %s errors", t->why, how,
			  http1_err_name((enum http1_err)e));
	CHECK_MSG(!cn->rec.secret_seen, "%s: a credential reached an exchange", t->why);
	CHECK_MSG(cn->stats.requests == cn->stats.exchanges + cn->stats.unanswered_requests,
		  "%s (%s): requests not conserved", t->why, how);
	CHECK_MSG(cn->stats.unpaired_responses == 0 && cn->stats.unanswered_requests == 0,
		  "%s (%s): unpaired %llu unanswered %llu", t->why, how,
		  (unsigned long long)cn->stats.unpaired_responses,
		  (unsigned long long)cn->stats.unanswered_requests);
}

static void test_transcripts_whole(void)
{
	struct conn cn;

	for (size_t i = 0; i < NT; i++) {
		play(&transcripts[i], SBA_ROLE_SERVER, -1, 0, false, &cn);
		check_play(&transcripts[i], &cn, "server");
		play(&transcripts[i], SBA_ROLE_CLIENT, -1, 0, false, &cn);
		check_play(&transcripts[i], &cn, "client");
	}
}

static void test_transcripts_every_split(void)
{
	struct conn cn;
	char how[64];

	for (size_t i = 0; i < NT; i++) {
		const struct transcript *t = &transcripts[i];

		for (int s = 0; s < 8 && t->segs[s].data; s++) {
			for (size_t at = 1; at < strlen(t->segs[s].data); at++) {
				snprintf(how, sizeof(how), "server, syscall %d split at %zu", s, at);
				play(t, SBA_ROLE_SERVER, s, at, false, &cn);
				check_play(t, &cn, how);
				snprintf(how, sizeof(how), "client, syscall %d split at %zu", s, at);
				play(t, SBA_ROLE_CLIENT, s, at, false, &cn);
				check_play(t, &cn, how);
			}
		}
	}
}

static void test_transcripts_byte_by_byte(void)
{
	struct conn cn;

	for (size_t i = 0; i < NT; i++) {
		play(&transcripts[i], SBA_ROLE_SERVER, -1, 0, true, &cn);
		check_play(&transcripts[i], &cn, "server, byte by byte");
		play(&transcripts[i], SBA_ROLE_CLIENT, -1, 0, true, &cn);
		check_play(&transcripts[i], &cn, "client, byte by byte");
	}
}

/* ---- timings ---- */

static void test_server_timing(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, "POST /t HTTP/1.1\r\nContent-Length: 4\r\n\r\nab");	/* k0 */
	feeds(&t, IN, "cd");						/* k1 */
	feeds(&t, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n");	/* k2 */
	feeds(&t, OUT, "abc");						/* k3 */
	feeds(&t, OUT, "def");						/* k4 */
	CHECK_EQ_INT(t.rec.count, 1);
	CHECK_EQ_INT(t.rec.last.start_ns, tout(0));	/* first request byte read */
	CHECK_EQ_INT(t.rec.last.end_ns, tout(4));	/* last response byte written */
	CHECK_EQ_INT(t.rec.last.duration_ns, tout(4) - tout(0));
	CHECK_EQ_INT(t.rec.last.ttfb_ns, tin(2) - tout(0));	/* first response write entered */
	CHECK_EQ_INT(t.rec.last.req_bytes, 43);
	CHECK_EQ_INT(t.rec.last.resp_bytes, 44);
	CHECK_EQ_INT(t.rec.last.role, SBA_ROLE_SERVER);
	conn_close(&t);
}

static void test_client_timing(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_CLIENT, 0, false);
	feeds(&t, OUT, "GET /c HTTP/1.1\r\n");		/* k0 */
	feeds(&t, OUT, "Host: y\r\n\r\n");		/* k1 */
	feeds(&t, IN, "HTTP/1.1 200 OK\r\nContent-Len");	/* k2 */
	feeds(&t, IN, "gth: 1\r\n\r\nz");		/* k3 */
	CHECK_EQ_INT(t.rec.count, 1);
	CHECK_EQ_INT(t.rec.last.start_ns, tin(0));	/* first request byte written */
	CHECK_EQ_INT(t.rec.last.end_ns, tout(3));	/* last response byte read */
	CHECK_EQ_INT(t.rec.last.ttfb_ns, tout(2) - tin(0));
	CHECK_EQ_INT(t.rec.last.role, SBA_ROLE_CLIENT);
	conn_close(&t);
}

static void test_interim_does_not_count_as_first_byte(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, "POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
	feeds(&t, OUT, "HTTP/1.1 100 Continue\r\n\r\n");	/* k1 */
	feeds(&t, IN, "x");
	feeds(&t, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");	/* k3 */
	CHECK_EQ_INT(t.rec.count, 1);
	CHECK_EQ_INT(t.rec.last.ttfb_ns, tin(3) - tout(0));
	CHECK_EQ_INT(t.rec.last.duration_ns, tout(3) - tout(0));
	CHECK_EQ_INT(t.stats.interim, 1);
	CHECK_EQ_INT(t.stats.responses, 1);
	conn_close(&t);
}

/* A stream is one exchange: its duration runs to its last byte (issue 3:
 * first request byte -> last response byte), however long it lasts. */
static void test_sse_ends_with_the_stream(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/sse"));
	feeds(&t, OUT, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n");	/* k1 */
	for (int i = 0; i < 50; i++)
		feeds(&t, OUT, "c\r\ndata: tick\n\n\r\n");	/* k2..k51 */
	CHECK_EQ_INT(t.rec.count, 0);
	CHECK_EQ_INT(httpconn__pending(t.c), 1);
	feeds(&t, OUT, "0\r\n\r\n");	/* k52 */
	CHECK_EQ_INT(t.rec.count, 1);
	CHECK_EQ_INT(t.rec.last.end_ns, tout(52));
	CHECK_EQ_INT(t.rec.last.ttfb_ns, tin(1) - tout(0));
	CHECK_EQ_INT(t.rec.last.flags, HTTPCONN_X_STREAMING);
	CHECK_EQ_INT(httpconn__pending(t.c), 0);
	/* the next request on the connection is an exchange of its own */
	feeds(&t, IN, GET("/after"));
	feeds(&t, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(t.rec.count, 2);
	CHECK_EQ_INT(t.rec.last.flags, 0);
	conn_close(&t);
	CHECK_EQ_INT(t.stats.streaming, 1);
	CHECK_EQ_INT(t.stats.exchanges, 2);

	/* without framing (HTTP/1.0 style), the stream ends at close */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/sse"));
	feeds(&t, OUT, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
	for (int i = 0; i < 50; i++)
		feeds(&t, OUT, "data: tick\n\n");	/* k2..k51 */
	CHECK_EQ_INT(t.rec.count, 0);
	conn_close(&t);
	CHECK_EQ_INT(t.rec.count, 1);
	CHECK_EQ_INT(t.rec.last.end_ns, tout(51));
	CHECK_EQ_INT(t.rec.last.flags, HTTPCONN_X_STREAMING | HTTPCONN_X_AT_CLOSE);
	CHECK_EQ_INT(t.stats.streaming, 1);
}

/* Chunk-size lines not captured: the response ends when the next request
 * arrives, at the last response syscall seen before it. */
static void test_uncaptured_chunked_ends_at_next_request(void)
{
	const char *h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123";
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/big"));			/* k0 */
	feedx(&t, OUT, h, strlen(h), 9000, 0);		/* k1: framing lost inside */
	feedx(&t, OUT, "more", 4, 9000, 0);		/* k2 */
	CHECK_EQ_INT(t.rec.count, 0);
	feeds(&t, IN, GET("/next"));			/* k3 */
	CHECK_EQ_INT(t.rec.count, 1);
	CHECK_EQ_STR(t.rec.log, "GET /big 200 q30 r18000 A|");
	CHECK_EQ_INT(t.rec.last.end_ns, tout(2));
	feeds(&t, OUT, OK("ok"));			/* resyncs, pairs with /next */
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /big 200 q30 r18000 A|GET /next 200 q31 r40|");
	CHECK_EQ_INT(t.stats.approx_ends, 1);

	/* the last chunk, fully captured, ends it right away */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/big"));
	feedx(&t, OUT, h, strlen(h), 9000, 0);
	feeds(&t, OUT, "tail\r\n0\r\n\r\n");		/* k2 */
	CHECK_EQ_STR(t.rec.log, "GET /big 200 q30 r9011 A|");
	CHECK_EQ_INT(t.rec.last.end_ns, tout(2));
	conn_close(&t);

	/* or the close */
	conn_open(&t, SBA_ROLE_CLIENT, 0, false);
	feeds(&t, OUT, GET("/big"));
	feedx(&t, IN, h, strlen(h), 9000, 0);
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /big 200 q30 r9000 AC|");
}

static void test_large_upload_counted(void)
{
	const char *h = "POST /up HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n";
	char cap[256];
	struct conn t;

	memset(cap, 'u', sizeof(cap));
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feedx(&t, IN, h, strlen(h), strlen(h) + 65536 - 46, 0);
	for (int i = 1; i < 16; i++)
		feedx(&t, IN, cap, sizeof(cap), 65536, 0);
	feedx(&t, IN, cap, 46, 46, 0);
	feeds(&t, OUT, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "POST /up 413 q1048622 r53|");
}

/* A chunked upload whose size lines were not captured: the request's end is
 * unknown, yet pairing holds and the next request resyncs. */
static void test_uncaptured_chunked_upload(void)
{
	const char *h = "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4000\r\nabcd";
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feedx(&t, IN, h, strlen(h), 40000, 0);		/* sizes beyond the capture */
	feedx(&t, IN, "efgh", 4, 30000, 0);
	feeds(&t, OUT, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	feeds(&t, IN, GET("/next"));
	feeds(&t, OUT, OK("ok"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "POST /up 201 q70000 r43|GET /next 200 q31 r40|");
	CHECK_EQ_INT(t.stats.unpaired_responses, 0);
	CHECK_EQ_INT(t.stats.unanswered_requests, 0);
}

/* ---- joining mid-stream, gaps, causality ---- */

static void test_role_inferred(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_UNKNOWN, 0, false);
	feeds(&t, OUT, "middle of some response body");	/* nothing known: ignored */
	feeds(&t, IN, "tail of a request body");
	CHECK_EQ_INT(httpconn__role(t.c), SBA_ROLE_UNKNOWN);
	feeds(&t, IN, GET("/a"));
	CHECK_EQ_INT(httpconn__role(t.c), SBA_ROLE_SERVER);
	feeds(&t, OUT, OK("ok"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /a 200 q28 r40|");
	CHECK_EQ_INT(t.stats.ignored_bytes, 50);

	conn_open(&t, SBA_ROLE_UNKNOWN, 0, false);
	feeds(&t, IN, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");	/* not a request */
	feeds(&t, OUT, GET("/b"));
	CHECK_EQ_INT(httpconn__role(t.c), SBA_ROLE_CLIENT);
	feeds(&t, IN, OK("ok"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /b 200 q28 r40|");
}

/* A response whose request was lost must not be paired with the next one. */
static void test_lost_response_not_mispaired(void)
{
	struct conn t;

	/* response to /1 lost; the kernel reports the gap on the next event */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/1"));
	feedx(&t, IN, GET("/2"), 28, 28, 40);
	feeds(&t, OUT, OK("r2"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /2 200 q28 r40|");
	CHECK_EQ_INT(t.stats.unanswered_requests, 1);
	CHECK_EQ_INT(t.stats.gap_bytes, 40);

	/* same, gap reported with the response */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/1"));
	feeds(&t, IN, GET("/2"));
	feedx(&t, OUT, OK("r2"), 40, 40, 40);
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /2 200 q28 r40|");
	CHECK_EQ_INT(t.stats.unanswered_requests, 1);
}

static void test_lost_request_not_mispaired(void)
{
	struct conn t;

	/* /2 was read in a lost event; its response arrives before /3 is read */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/1"));
	feeds(&t, OUT, OK("r1"));
	feedx(&t, OUT, OK("r2"), 40, 40, 28);	/* the gap was the read of /2 */
	feeds(&t, IN, GET("/3"));
	feeds(&t, OUT, OK("r3"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /1 200 q28 r40|GET /3 200 q28 r40|");
	CHECK_EQ_INT(t.stats.unpaired_responses, 1);
	CHECK_EQ_INT(t.stats.unanswered_requests, 0);
}

static void test_causality(void)
{
	struct conn t;

	/* a response that moved before the request's head was complete */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	CHECK_EQ_INT(httpconn__feed(t.c, IN, (const uint8_t *)GET("/a"), 28, 28, 0, 5000, 5100), 0);
	CHECK_EQ_INT(httpconn__feed(t.c, OUT, (const uint8_t *)OK("xx"), 40, 40, 0, 4000, 4100), 0);
	CHECK_EQ_INT(httpconn__feed(t.c, OUT, (const uint8_t *)OK("ok"), 40, 40, 0, 6000, 6100), 0);
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /a 200 q28 r40|");
	CHECK_EQ_INT(t.stats.unpaired_responses, 1);
}

static void test_gap_inside_body(void)
{
	const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
	char body[100];
	struct conn t;

	memset(body, 'b', sizeof(body));
	/* exact gaps: skipped by count, exact end */
	conn_open(&t, SBA_ROLE_SERVER, 0, true);
	feeds(&t, IN, GET("/g"));
	feeds(&t, OUT, h);
	feedx(&t, OUT, body, 10, 10, 0);
	feedx(&t, OUT, body, 10, 10, 80);	/* k3: 80 lost, 10 seen: body ends */
	CHECK_EQ_STR(t.rec.log, "GET /g 200 q28 r140|");
	CHECK_EQ_INT(t.rec.last.end_ns, tout(3));
	conn_close(&t);

	/* connection gaps (the ABI today): framing lost, ends at the next request */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/g"));
	feeds(&t, OUT, h);
	feedx(&t, OUT, body, 10, 10, 0);
	feedx(&t, OUT, body, 10, 10, 70);	/* k3 */
	CHECK_EQ_INT(t.rec.count, 0);
	feeds(&t, IN, GET("/h"));
	CHECK_EQ_STR(t.rec.log, "GET /g 200 q28 r60 AL|");
	CHECK_EQ_INT(t.rec.last.end_ns, tout(3));
	feeds(&t, OUT, OK("ok"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /g 200 q28 r60 AL|GET /h 200 q28 r40|");
}

/* ---- limits, stats, errors ---- */

static void test_pipeline_limit(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 4, false);
	feeds(&t, IN, GET("/1") GET("/2") GET("/3") GET("/4"));
	CHECK_EQ_INT(httpconn__pending(t.c), 4);
	feeds(&t, IN, GET("/5") GET("/6"));	/* overflow: pairing dropped */
	CHECK_EQ_INT(httpconn__pending(t.c), 0);
	CHECK_EQ_INT(t.stats.pipeline_overflows, 1);
	CHECK_EQ_INT(t.stats.unanswered_requests, 5);	/* 4 pending and the 5th */
	feeds(&t, OUT, OK("r1"));		/* not paired with anything */
	feeds(&t, IN, GET("/7"));
	feeds(&t, OUT, OK("r7"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /7 200 q28 r40|");
	CHECK_EQ_INT(t.stats.requests, 6);
}

static void test_parse_errors_counted(void)
{
	static const char *const bad[] = {
		"BAD\x01 / HTTP/1.1\r\n\r\n",
		"GET / HTTP/3.0\r\n\r\n",
		"GET / HTTP/1.1\r\nA b\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",	/* TLS on a plain port */
	};
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		feeds(&t, IN, bad[i]);
		/* again, while resynchronising: counted again only if it starts
		 * with a valid request line (a resync point) */
		feeds(&t, IN, bad[i]);
		feeds(&t, IN, GET("/ok"));
		feeds(&t, OUT, OK("ok"));
	}
	conn_close(&t);
	CHECK_EQ_INT(t.stats.parse_errors[HTTP1_ERR_START_LINE], 2);
	CHECK_EQ_INT(t.stats.parse_errors[HTTP1_ERR_VERSION], 1);
	CHECK_EQ_INT(t.stats.parse_errors[HTTP1_ERR_HEADER], 2);
	CHECK_EQ_INT(t.stats.parse_errors[HTTP1_ERR_LENGTH], 2);
	CHECK_EQ_INT(t.stats.parse_errors[HTTP1_ERR_TRANSFER_ENCODING], 2);
	CHECK_EQ_INT(t.stats.parse_errors[HTTP1_ERR_CHUNK], 0);
	CHECK_EQ_INT(t.stats.requests, 6);
	CHECK_EQ_INT(t.stats.exchanges, 6);
	CHECK_EQ_STR(t.rec.log, "GET /ok 200 q29 r40|GET /ok 200 q29 r40|GET /ok 200 q29 r40|"
				"GET /ok 200 q29 r40|GET /ok 200 q29 r40|GET /ok 200 q29 r40|");
}

static void test_close_counts_unanswered(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/1") GET("/2"));
	feeds(&t, OUT, OK("r1"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /1 200 q28 r40|");
	CHECK_EQ_INT(t.stats.unanswered_requests, 1);
	CHECK_EQ_INT(t.stats.exchanges, 1);

	/* a response cut by the close is emitted, flagged */
	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, GET("/1"));
	feeds(&t, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /1 200 q28 r42 IC|");
}

static void test_upgrade_stops_parsing(void)
{
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, IN, "GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
	feeds(&t, OUT, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
	CHECK(httpconn__upgraded(t.c));
	feeds(&t, IN, GET("/not-http-any-more"));
	feeds(&t, OUT, "garbage");
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /ws 101 q61 r36 U|");
	CHECK_EQ_INT(t.stats.upgrades, 1);
	CHECK_EQ_INT(t.stats.requests, 1);
	CHECK_EQ_INT(t.stats.ignored_bytes, 51);
}

static void test_unpaired_and_truncated(void)
{
	const char *req = "GET /t HTTP/1.1\r\nx-tenant-id: acme\r\nCookie: ";
	struct conn t;

	conn_open(&t, SBA_ROLE_SERVER, 0, false);
	feeds(&t, OUT, OK("no"));			/* no request: unpaired */
	feedx(&t, IN, req, strlen(req), 6000, 0);	/* head longer than captured */
	feeds(&t, OUT, OK("ok"));
	conn_close(&t);
	CHECK_EQ_STR(t.rec.log, "GET /t 200 q6000 r40 T|");
	CHECK_EQ_STR(t.rec.last_req.tenant, "acme");
	CHECK_EQ_INT(t.stats.unpaired_responses, 1);
	CHECK_EQ_INT(t.stats.truncated_heads, 1);
}

static void test_shared_stats(void)
{
	struct httpconn_config cfg;
	struct httpconn_stats st;
	struct httpconn *a, *b;

	memset(&st, 0, sizeof(st));
	httpconn_config_init(&cfg);
	cfg.stats = &st;
	a = httpconn__new(&cfg, SBA_ROLE_SERVER);
	b = httpconn__new(&cfg, SBA_ROLE_CLIENT);
	httpconn__feed(a, IN, (const uint8_t *)GET("/a"), 28, 28, 0, 1, 2);
	httpconn__feed(b, OUT, (const uint8_t *)GET("/b"), 28, 28, 0, 1, 2);
	httpconn__feed(b, IN, (const uint8_t *)OK("ok"), 40, 40, 0, 3, 4);
	CHECK_EQ_INT(st.requests, 2);
	CHECK_EQ_INT(st.exchanges, 1);
	CHECK(httpconn__stats(a) == &st);
	httpconn__close(a);
	CHECK_EQ_INT(st.unanswered_requests, 1);
	httpconn__free(a);
	httpconn__free(b);
	httpconn__free(NULL);
}

static void test_arguments(void)
{
	struct httpconn *c = httpconn__new(NULL, SBA_ROLE_SERVER);

	CHECK(c != NULL);
	CHECK_EQ_INT(httpconn__feed(c, (enum sba_dir)3, (const uint8_t *)"x", 1, 1, 0, 1, 2),
		     -EINVAL);
	CHECK_EQ_INT(httpconn__feed(c, IN, NULL, 5, 5, 0, 1, 2), -EINVAL);
	CHECK_EQ_INT(httpconn__feed(NULL, IN, (const uint8_t *)"x", 1, 1, 0, 1, 2), -EINVAL);
	/* cap_len beyond bytes is clamped, nothing captured is fine */
	CHECK_EQ_INT(httpconn__feed(c, IN, (const uint8_t *)GET("/a"), 28, 20, 0, 1, 2), 0);
	CHECK_EQ_INT(httpconn__feed(c, IN, NULL, 0, 100, 0, 3, 4), 0);
	httpconn__close(c);
	httpconn__close(c);
	CHECK_EQ_INT(httpconn__feed(c, IN, (const uint8_t *)"x", 1, 1, 0, 1, 2), -EPIPE);
	httpconn__free(c);
	errno = 0;
	CHECK(httpconn__new(NULL, (enum sba_role)9) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
}

int main(void)
{
	RUN(test_transcripts_whole);
	RUN(test_transcripts_every_split);
	RUN(test_transcripts_byte_by_byte);
	RUN(test_server_timing);
	RUN(test_client_timing);
	RUN(test_interim_does_not_count_as_first_byte);
	RUN(test_sse_ends_with_the_stream);
	RUN(test_uncaptured_chunked_ends_at_next_request);
	RUN(test_large_upload_counted);
	RUN(test_uncaptured_chunked_upload);
	RUN(test_role_inferred);
	RUN(test_lost_response_not_mispaired);
	RUN(test_lost_request_not_mispaired);
	RUN(test_causality);
	RUN(test_gap_inside_body);
	RUN(test_pipeline_limit);
	RUN(test_parse_errors_counted);
	RUN(test_close_counts_unanswered);
	RUN(test_upgrade_stops_parsing);
	RUN(test_unpaired_and_truncated);
	RUN(test_shared_stats);
	RUN(test_arguments);
	return check_summary();
}
