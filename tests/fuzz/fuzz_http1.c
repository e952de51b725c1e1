// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_http1.c - libFuzzer harness for the HTTP path: httpconn (both
 * directions, pairing, gaps, uncaptured tails) over http1, then the route
 * template and the tenant label of every exchange, as the exporter would.
 *
 * Input: 1 mode byte, 4 seed bytes, then the request stream, "\n===OUT===\n",
 * the response stream (streams as the server sees them; the client role
 * swaps directions). A PRNG from the seed cuts both streams into syscalls of
 * random size, interleaves them, captures only a prefix of some, and drops
 * random runs, reported as gaps. Mode bits: 0-1 role (unknown, server,
 * client, server with exact gaps), 2 small limits, 3 large syscalls,
 * 4 tenant header "x-org", 5 even interleaving (else mostly requests
 * first, so most responses have a request to pair with), 6 frequent gaps,
 * 7 frequent uncaptured tails.
 *
 * Beyond ASan/UBSan: every exchange is checked for sane fields, and after
 * close every request is accounted for (exchanges + unanswered). A second
 * session whose parsers walk every byte (http1_config.bytewise) gets the
 * same syscalls: its exchanges and counters must be the same, so the
 * whole-head shortcut never decides anything the byte walk would not.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpconn.h"
#include "route.h"
#include "tenant.h"

#define SEP "\n===OUT===\n"

struct ctx {
	struct route_set *routes;
	struct tenant_topk *tenants;
	const struct route_patterns *patterns;
	uint64_t digest;	/* of every exchange, in order */
};

static void mix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ULL;
}

/* Everything an exchange says, into the session's digest. */
static void digest(uint64_t *h, const struct httpconn_exchange *x)
{
	const struct http1_head *hd[2] = { x->req, x->resp };

	mix(h, &x->start_ns, sizeof(x->start_ns));
	mix(h, &x->end_ns, sizeof(x->end_ns));
	mix(h, &x->ttfb_ns, sizeof(x->ttfb_ns));
	mix(h, &x->req_bytes, sizeof(x->req_bytes));
	mix(h, &x->resp_bytes, sizeof(x->resp_bytes));
	mix(h, &x->flags, sizeof(x->flags));
	for (int i = 0; i < 2; i++) {
		const struct http1_head *e = hd[i];

		mix(h, e, offsetof(struct http1_head, path));	/* every number */
		mix(h, e->path, e->path_len);
		mix(h, e->tenant, strlen(e->tenant));
		mix(h, e->request_id, e->request_id_len);
		mix(h, e->traceparent, e->traceparent_len);
		mix(h, e->host, e->host_len);
	}
}

static void on_shadow(const struct httpconn_exchange *x, void *arg)
{
	digest(arg, x);
}

static struct route_patterns *patterns;

static void check_head(const struct http1_head *h)
{
	if (h->path_len > HTTP1_PATH_MAX || strlen(h->path) != h->path_len)
		abort();
	if (strlen(h->tenant) > HTTP1_TENANT_MAX || h->tenant_len < strlen(h->tenant))
		abort();
	if (strlen(h->request_id) != h->request_id_len ||
	    strlen(h->traceparent) != h->traceparent_len)
		abort();
}

static void on_exchange(const struct httpconn_exchange *x, void *arg)
{
	struct ctx *c = arg;
	char tmpl[ROUTE_BUF_SIZE];
	const char *route, *tenant;
	int n;

	if (x->end_ns < x->start_ns || x->duration_ns != x->end_ns - x->start_ns ||
	    x->ttfb_ns > x->duration_ns)
		abort();
	if ((x->resp->status < 200 && x->resp->status != 101) || x->resp->status > 999)
		abort();
	if (x->req->kind != HTTP1_REQUEST || x->resp->kind != HTTP1_RESPONSE ||
	    x->req->method >= HTTP1_METHOD__MAX)
		abort();
	check_head(x->req);
	check_head(x->resp);
	digest(&c->digest, x);
	n = route_template(c->patterns, x->req->path, x->req->path_len, tmpl, sizeof(tmpl));
	if (n <= 0 || n > ROUTE_MAX_LEN || (size_t)n != strlen(tmpl))
		abort();
	route = route_set__intern(c->routes, tmpl);
	tenant = tenant_topk__label(c->tenants, x->req->tenant, x->req->tenant_len,
				    x->req->flags & HTTP1_F_TENANT);
	if (!route || !tenant || strlen(tenant) > TENANT_MAX_LEN)
		abort();
}

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct stream {
	const uint8_t *d;
	size_t n, off;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpconn_config cfg, cfg2;
	struct httpconn_stats st, st2;
	uint64_t shadow = 0;
	struct httpconn *c2;
	struct stream s[2];
	struct ctx ctx;
	struct httpconn *c;
	const uint8_t *sep;
	uint64_t seed = 0x9e3779b97f4a7c15ULL, ts = 1000;
	uint8_t mode;
	int role;

	if (size < 5)
		return 0;
	if (!patterns) {
		patterns = route_patterns__new();
		route_patterns__add(patterns, "/users/:id");
		route_patterns__add(patterns, "/static/*");
	}
	mode = data[0];
	for (int i = 1; i < 5; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ULL;
	seed |= 1;
	data += 5;
	size -= 5;
	sep = memmem(data, size, SEP, strlen(SEP));
	s[0].d = data;
	s[0].n = sep ? (size_t)(sep - data) : size;
	s[1].d = sep ? sep + strlen(SEP) : data + size;
	s[1].n = sep ? size - s[0].n - strlen(SEP) : 0;
	s[0].off = s[1].off = 0;

	memset(&st, 0, sizeof(st));
	httpconn_config_init(&cfg);
	cfg.on_exchange = on_exchange;
	cfg.ctx = &ctx;
	cfg.stats = &st;
	cfg.exact_gaps = (mode & 3) == 3;
	if (mode & 4) {
		cfg.max_pending = 2;
		cfg.http1.max_head = 256;
		cfg.http1.max_headers = 4;
	}
	if (mode & 16)
		http1_config_set_tenant_header(&cfg.http1, "x-org");
	role = (mode & 3) == 0 ? SBA_ROLE_UNKNOWN : (mode & 3) == 2 ? SBA_ROLE_CLIENT
								      : SBA_ROLE_SERVER;
	ctx.routes = route_set__new(8);
	ctx.tenants = tenant_topk__new(4);
	ctx.patterns = patterns;
	ctx.digest = 0;
	c = httpconn__new(&cfg, (enum sba_role)role);
	memset(&st2, 0, sizeof(st2));
	cfg2 = cfg;
	cfg2.http1.bytewise = true;
	cfg2.on_exchange = on_shadow;
	cfg2.ctx = &shadow;
	cfg2.stats = &st2;
	c2 = httpconn__new(&cfg2, (enum sba_role)role);
	if (!c || !c2 || !ctx.routes || !ctx.tenants)
		abort();

	while (s[0].off < s[0].n || s[1].off < s[1].n) {
		int which = s[0].off >= s[0].n	 ? 1
			    : s[1].off >= s[1].n ? 0
			    : (mode & 32)	 ? (int)(next(&seed) & 1)
						 : next(&seed) % 8 == 0;
		struct stream *st_ = &s[which];
		size_t left = st_->n - st_->off;
		size_t len = 1 + next(&seed) % ((mode & 8) ? 4096 : 48);
		uint64_t gap = 0;
		size_t cap;
		enum sba_dir dir;

		if (next(&seed) % ((mode & 64) ? 6 : 64) == 0 && left > 1) {	/* lose a run */
			gap = 1 + next(&seed) % (left - 1 < 300 ? left - 1 : 300);
			st_->off += gap;
			left -= gap;
		}
		if (len > left)
			len = left;
		cap = next(&seed) % ((mode & 128) ? 3 : 64) == 0 ? next(&seed) % (len + 1) : len;
		dir = which == 0 ? SBA_DIR_IN : SBA_DIR_OUT;
		if (role == SBA_ROLE_CLIENT)
			dir = dir == SBA_DIR_IN ? SBA_DIR_OUT : SBA_DIR_IN;
		if (httpconn__feed(c, dir, st_->d + st_->off, cap, len, gap, ts, ts + 7) != 0 ||
		    httpconn__feed(c2, dir, st_->d + st_->off, cap, len, gap, ts, ts + 7) != 0)
			abort();
		st_->off += len;
		ts += 10;
	}
	httpconn__close(c);
	httpconn__close(c2);
	if (ctx.digest != shadow || memcmp(&st, &st2, sizeof(st)) != 0)
		abort();	/* the whole-head shortcut decided something else */
	if (st.requests != st.exchanges + st.unanswered_requests)
		abort();
	if (st.exchanges > st.responses)
		abort();
	if (httpconn__pending(c) != 0)
		abort();
	httpconn__free(c);
	httpconn__free(c2);
	route_set__free(ctx.routes);
	tenant_topk__free(ctx.tenants);
	return 0;
}
