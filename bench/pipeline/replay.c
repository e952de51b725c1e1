// SPDX-License-Identifier: Apache-2.0
/*
 * replay.c - the observer's userspace pipeline alone, fed the ring records
 * of the express50 workload (bench/workloads/express50.sh), timed.
 *
 * What one HTTP exchange costs from the ring record to the series store:
 * events__handle() (the ring buffer callback of the real observer) ->
 * pipeline sink -> conntab -> httpconn -> http1 -> route templates (the
 * --routes file of the bench app) -> tenant top-K -> agg -> slow log.
 * No kernel, no Node: deterministic, repeatable, and perf-able.
 *
 * The records are the ones the real observer gets from Express 4 under
 * wrk + express50.lua (captured with `sba-observer --trace=data`): one read
 * of the request (Host, x-tenant-id, Content-Length on PUT/POST) and one
 * writev of the response (Content-Type, Content-Length, Date, Connection,
 * Keep-Alive, then the JSON body). The requests are the Lua script's
 * table (10 resources x 5 shapes x 20 tenants, ids varying, shuffled with
 * the same generator); --rich adds what browsers and SDKs send (User-Agent,
 * Accept, Accept-Encoding, x-request-id, traceparent) and Express's default
 * X-Powered-By and ETag.
 *
 * Like the real drain, records come in batches (--batch, default one round
 * of every connection: each connection's request, then each response), and
 * --thrash KB evicts the caches between batches, as wrk does on the CPU
 * the observer shares with it.
 *
 * Output: ns per exchange for the whole pipeline, then (--stages) the same
 * inputs through each stage alone.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "agg.h"
#include "buf.h"
#include "conntab.h"
#include "events.h"
#include "expo.h"
#include "http1.h"
#include "pipeline.h"
#include "route.h"
#include "slowlog.h"
#include "tenant.h"

#define NREQ	1000		/* the Lua script's table: 20 x 10 x 5 */
#define MAXCONN	1024
#define REC_MAX	(sizeof(struct sba_data_ev) + 1024)

static const char *const res[10] = { "users", "orders", "invoices", "products", "carts",
				      "payments", "shipments", "reviews", "teams", "projects" };

struct req {
	char wire[768];
	size_t len;
	char path[128];
	char tenant[16];
	int shape;		/* 1..5 as in express50.lua */
	char id[8], rev[8];
};

static struct req reqs[NREQ];
static bool rich;
static uint64_t clock_ns;
static pid_t tgid;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* express50.lua's init(): the same table, in the same shuffled order. */
static void make_requests(void)
{
	int i = 0;
	uint64_t s = 12345;

	for (int t = 1; t <= 20; t++) {
		for (int r = 0; r < 10; r++) {
			for (int shape = 1; shape <= 5; shape++) {
				struct req *q = &reqs[i++];
				const char *m = "GET";
				char extra[512] = "";
				int id = 1000 + (i * 7919) % 90000;

				q->shape = shape;
				snprintf(q->id, sizeof(q->id), "%d", id);
				snprintf(q->rev, sizeof(q->rev), "%d", i % 97);
				snprintf(q->tenant, sizeof(q->tenant), "tenant-%02d", t);
				switch (shape) {
				case 1: snprintf(q->path, sizeof(q->path), "/api/%s", res[r]); break;
				case 2: snprintf(q->path, sizeof(q->path), "/api/%s/%d", res[r], id); break;
				case 3:
					m = "PUT";
					snprintf(q->path, sizeof(q->path), "/api/%s/%d", res[r], id);
					break;
				case 4:
					snprintf(q->path, sizeof(q->path), "/api/%s/%d/history/%d", res[r],
						 id, i % 97);
					break;
				default:
					m = "POST";
					snprintf(q->path, sizeof(q->path), "/api/%s/%d/actions", res[r], id);
					break;
				}
				if (rich)
					snprintf(extra, sizeof(extra),
						 "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
						 "(KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
						 "Accept: application/json, text/plain, */*\r\n"
						 "Accept-Encoding: gzip, deflate, br\r\n"
						 "Accept-Language: en-US,en;q=0.9\r\n"
						 "x-request-id: 7f3c%04d-9a2b-4c1d-8e6f-1a2b3c4d5e6f\r\n"
						 "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e%04d-00f067aa0ba902b7-01\r\n",
						 i % 10000, i % 10000);
				/* wrk.format(): request line, Host, Content-Length when a
				 * body is given (PUT/POST: ""), then the headers table */
				q->len = (size_t)snprintf(q->wire, sizeof(q->wire),
							  "%s %s HTTP/1.1\r\nHost: bench\r\n%s%sx-tenant-id: %s\r\n\r\n",
							  m, q->path,
							  shape == 3 || shape == 5 ? "Content-Length: 0\r\n" : "",
							  extra, q->tenant);
			}
		}
	}
	for (int k = NREQ; k >= 2; k--) {
		int j;
		struct req t;

		s = (s * 1103515245 + 12345) % 2147483648ull;
		j = (int)(s % (uint64_t)k);
		t = reqs[k - 1];
		reqs[k - 1] = reqs[j];
		reqs[j] = t;
	}
}

/* What express50.js answers, with Express's headers. */
static size_t make_response(const struct req *q, uint64_t ts_ns, char *out, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char body[128], date[64], extra[128] = "";
	time_t t = (time_t)(1795337972 + ts_ns / 1000000000ull);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	snprintf(date, sizeof(date), "%s, %02d %s %d %02d:%02d:%02d GMT", days[tm.tm_wday],
		 tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	switch (q->shape) {
	case 1: snprintf(body, sizeof(body), "{\"list\":\"%s\"}", strchr(q->path + 1, '/') + 1); break;
	case 2: snprintf(body, sizeof(body), "{\"id\":\"%s\"}", q->id); break;
	case 3: snprintf(body, sizeof(body), "{\"put\":\"%s\"}", q->id); break;
	case 4: snprintf(body, sizeof(body), "{\"id\":\"%s\",\"rev\":\"%s\"}", q->id, q->rev); break;
	default: snprintf(body, sizeof(body), "{\"ok\":true}"); break;
	}
	if (rich)
		snprintf(extra, sizeof(extra), "ETag: W/\"%zx-Kx8LqP2bGf0yWc3aXJd9hTzQe1s\"\r\n",
			 strlen(body));
	n = snprintf(out, size,
		     "HTTP/1.1 %s\r\n%sContent-Type: application/json; charset=utf-8\r\n"
		     "Content-Length: %zu\r\n%sDate: %s\r\nConnection: keep-alive\r\n"
		     "Keep-Alive: timeout=5\r\n\r\n%s",
		     q->shape == 5 ? "201 Created" : "200 OK", rich ? "X-Powered-By: Express\r\n" : "",
		     strlen(body), extra, date, body);
	return (size_t)n;
}

/* Responses are made once per request; only their Date changes, once a
 * second, patched in place (same length), so building a batch costs little. */
static char resp_wire[NREQ][512];
static size_t resp_len[NREQ];
static size_t resp_date_off[NREQ];
static uint64_t resp_sec[NREQ];

static const char *response_at(uint32_t i, uint64_t ts_ns)
{
	static uint64_t date_sec = UINT64_MAX;
	static char date[512];
	uint64_t sec = ts_ns / 1000000000ull;

	if (!resp_len[i]) {
		resp_len[i] = make_response(&reqs[i], ts_ns, resp_wire[i], sizeof(resp_wire[i]));
		resp_date_off[i] = (size_t)(strstr(resp_wire[i], "Date: ") - resp_wire[i]) + 6;
		resp_sec[i] = sec;
	}
	if (resp_sec[i] != sec) {
		if (date_sec != sec) {	/* the same Date for every response of a second */
			make_response(&reqs[i], ts_ns, date, sizeof(date));
			memmove(date, strstr(date, "Date: ") + 6, 29);
			date_sec = sec;
		}
		memcpy(resp_wire[i] + resp_date_off[i], date, 29);
		resp_sec[i] = sec;
	}
	return resp_wire[i];
}

/* ---- ring records ---- */

struct batch {
	uint8_t *buf;		/* records back to back, 8-byte aligned */
	size_t len, cap;
	uint32_t n;
};

static void *rec_alloc(struct batch *b, size_t size)
{
	size_t need = (size + 7) & ~(size_t)7;
	void *p;

	if (b->len + need > b->cap) {
		fprintf(stderr, "batch buffer too small\n");
		exit(1);
	}
	p = b->buf + b->len;
	b->len += need;
	b->n++;
	return p;
}

static void rec_open(struct batch *b, uint64_t id, uint16_t rport)
{
	struct sba_conn_ev *ev = rec_alloc(b, sizeof(*ev));

	*ev = (struct sba_conn_ev){ .hdr = { .kind = SBA_EV_CONN_OPEN, .size = sizeof(*ev),
					     .tgid = (uint32_t)tgid, .ts_ns = clock_ns },
				    .conn_id = id, .tid = (uint32_t)tgid, .fd = (int32_t)(20 + id % 1000),
				    .role = SBA_ROLE_SERVER, .family = 2, .lport = 18090,
				    .rport = rport, .laddr = { 127, 0, 0, 1 }, .raddr = { 127, 0, 0, 1 } };
}

static void rec_data(struct batch *b, uint64_t id, uint8_t dir, const char *bytes, size_t n,
		     uint64_t ts)
{
	struct sba_data_ev *ev = rec_alloc(b, sizeof(*ev) + n);

	*ev = (struct sba_data_ev){ .hdr = { .kind = SBA_EV_DATA, .size = (uint16_t)(sizeof(*ev) + n),
					     .tgid = (uint32_t)tgid, .ts_ns = ts },
				    .conn_id = id, .bytes = n, .tid = (uint32_t)tgid,
				    .fd = (int32_t)(20 + id % 1000), .cap_len = (uint32_t)n, .dir = dir,
				    .sys = dir == SBA_DIR_IN ? SBA_SYS_READ : SBA_SYS_WRITEV };
	memcpy(ev + 1, bytes, n);
}

/* Hands every record of the batch to the decoder, as ring_buffer__consume() does. */
static void drain(struct events *ev, struct pipeline *p, const struct batch *b)
{
	size_t off = 0;

	for (uint32_t i = 0; i < b->n; i++) {
		struct sba_ev_hdr *h = (struct sba_ev_hdr *)(b->buf + off);

		events__handle(ev, h, h->size);
		off += ((size_t)h->size + 7) & ~(size_t)7;
	}
	pipeline__flush(p);	/* what the event loop does after a drain */
}

/* ---- the workload ---- */

struct opts {
	uint64_t exchanges;
	uint32_t conns;
	uint32_t batch;		/* exchanges per drain */
	size_t thrash_kb;
	const char *routes;
	bool stages;
	bool no_pipeline;	/* --stages-only */
	int repeat;
};

static uint8_t *thrash_buf;

static void thrash(size_t kb)
{
	volatile uint8_t *p = thrash_buf;

	for (size_t i = 0; i < kb * 1024; i += 64)
		p[i]++;
}

/* Duration of exchange k: 0.1 to ~10 ms, spread over the histogram buckets. */
static uint64_t duration_of(uint64_t k)
{
	uint64_t x = (k * 2654435761u) % 1000;

	return 100000 + x * x * 10;	/* 0.1 ms + up to 10 ms, skewed to fast */
}

struct run {
	struct events ev;
	struct pipeline *p;
	struct batch b;
	uint64_t next_req;	/* index into reqs, cycling */
	uint64_t done;
	uint64_t sent;		/* exchanges fed, warm-up included */
	uint64_t ns;
};

static bool quiet;
/* Sum of sba_http_server_requests_total{service="bench-express"} as
 * /metrics renders it; *series: how many label sets. */
static uint64_t count_requests(struct pipeline *p, uint32_t *series)
{
	static const char pre[] = "sba_http_server_requests_total{service=\"bench-express\"";
	struct buf out;
	struct expo e;
	uint64_t sum = 0;

	*series = 0;
	buf_init(&out, 0);
	expo_init(&e, &out, EXPO_FMT_TEXT, NULL);
	pipeline__render(p, &e);
	expo_finish(&e);
	buf_cstr(&out);
	for (char *l = out.data; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, pre, sizeof(pre) - 1))
			continue;
		sum += strtoull(strchr(l, '}') + 2, NULL, 10);
		(*series)++;
	}
	if (getenv("REPLAY_DUMP"))
		fputs(out.data, stderr);
	buf_free(&out);
	return sum;
}

/* Builds the next batch of n exchanges, in rounds of one per connection
 * (wrk keeps one request in flight per connection): a round's requests,
 * read one per socket per epoll round, then its responses, a writev each,
 * as a saturated server does. */
static void build_batch(struct run *r, const struct opts *o, uint32_t n)
{
	static uint32_t c0;

	r->b.len = 0;
	r->b.n = 0;
	for (uint32_t start = 0; start < n; start += o->conns) {
		uint32_t m = n - start < o->conns ? n - start : o->conns;
		uint64_t t0 = clock_ns;

		for (uint32_t k = 0; k < m; k++) {
			const struct req *q = &reqs[(r->next_req + k) % NREQ];
			uint64_t id = 1 + (c0 + k) % o->conns;

			rec_data(&r->b, id, SBA_DIR_IN, q->wire, q->len, t0 + k * 2000);
		}
		for (uint32_t k = 0; k < m; k++) {
			uint32_t qi = (uint32_t)((r->next_req + k) % NREQ);
			uint64_t id = 1 + (c0 + k) % o->conns;
			uint64_t ts = t0 + k * 2000 + duration_of(r->done + start + k);
			const char *resp = response_at(qi, ts);	/* sets resp_len[qi] */

			rec_data(&r->b, id, SBA_DIR_OUT, resp, resp_len[qi], ts);
		}
		c0 = (c0 + m) % o->conns;
		r->next_req += m;
		clock_ns += (uint64_t)m * 150000;	/* ~6.7k req/s */
	}
}

static int run_pipeline(const struct opts *o, const char *argv0, double *ns_per_x)
{
	struct pipeline_config cfg;
	struct run r = { 0 };
	uint32_t series;
	char rule[128];
	const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
	uint64_t t;

	pipeline_config_init(&cfg);
	cfg.routes_file = o->routes;
	snprintf(rule, sizeof(rule), "%s=bench-express", base);
	if (service_rules_add(&cfg.services, rule)) {
		fprintf(stderr, "bad service rule %s\n", rule);
		return -1;
	}
	r.p = pipeline__new(&cfg, NULL);
	if (!r.p) {
		fprintf(stderr, "pipeline__new: %s (routes %s)\n", strerror(errno), o->routes ? o->routes : "none");
		return -1;
	}
	struct event_sink s = pipeline__sink(r.p);

	events__add_sink(&r.ev, &s);
	r.b.cap = (size_t)o->batch * 2 * REC_MAX + 4096;
	r.b.buf = aligned_alloc(64, r.b.cap);
	/* the connections, accepted before the measurement */
	for (uint32_t c = 0; c < o->conns; c += 64) {
		r.b.len = 0;
		r.b.n = 0;
		for (uint32_t k = c; k < o->conns && k < c + 64; k++)
			rec_open(&r.b, 1 + k, (uint16_t)(40000 + k));
		drain(&r.ev, r.p, &r.b);
	}
	/* warm-up: every series exists, like a server that has run a while */
	while (r.done < 2 * NREQ) {
		build_batch(&r, o, o->batch);
		drain(&r.ev, r.p, &r.b);
		r.done += o->batch;
		r.sent += o->batch;
	}
	r.done = 0;
	uint64_t last_tick = clock_ns;

	while (r.done < o->exchanges) {
		uint32_t n = o->batch;

		/* evicted since the last drain, but the records are new: the
		 * kernel wrote them just now */
		if (o->thrash_kb)
			thrash(o->thrash_kb);
		build_batch(&r, o, n);
		t = mono_ns();
		drain(&r.ev, r.p, &r.b);
		r.ns += mono_ns() - t;
		r.done += n;
		r.sent += n;
		if (clock_ns - last_tick >= 1000000000ull) {	/* the 1 s tick, timed apart */
			pipeline__tick(r.p, clock_ns);
			last_tick = clock_ns;
		}
	}
	*ns_per_x = (double)r.ns / (double)r.done;
	/* every exchange counted once, as the real bench checks with a scrape */
	if (count_requests(r.p, &series) != r.sent) {
		fprintf(stderr, "replay: the pipeline counted %llu requests, %llu were sent\n",
			(unsigned long long)count_requests(r.p, &series), (unsigned long long)r.sent);
		return -1;
	}
	if (!quiet)
		printf("  checked: %llu requests counted in %u series\n", (unsigned long long)r.sent,
		       series);
	pipeline__free(r.p);
	free(r.b.buf);
	return 0;
}

/* ---- stages alone, on the same inputs ---- */

static double per(uint64_t ns, uint64_t n)
{
	return (double)ns / (double)n;
}

static double stage_ns[6];
static uint64_t stage_t0, stage_acc;

/* A stage's clock, stopped while the caches are evicted (-t) every batch. */
static void stage_begin(void)
{
	stage_acc = 0;
	stage_t0 = mono_ns();
}

/* The inputs of exchanges k.. are the ring records the kernel just wrote:
 * warm, unlike the observer's own state. */
static void warm_inputs(const struct opts *o, uint64_t k)
{
	volatile char sink = 0;

	for (uint64_t j = k; j < k + o->batch; j++) {
		const struct req *q = &reqs[j % NREQ];

		for (size_t b = 0; b < sizeof(*q); b += 64)
			sink ^= ((const char *)q)[b];
		for (size_t b = 0; b < resp_len[j % NREQ]; b += 64)
			sink ^= resp_wire[j % NREQ][b];
	}
}

static void stage_tick(const struct opts *o, uint64_t k)
{
	if (o->thrash_kb && k % o->batch == 0) {
		stage_acc += mono_ns() - stage_t0;
		thrash(o->thrash_kb);
		warm_inputs(o, k);
		stage_t0 = mono_ns();
	}
}

static double stage_end(uint64_t n)
{
	stage_acc += mono_ns() - stage_t0;
	return per(stage_acc, n);
}

static void run_stages(const struct opts *o)
{
	uint64_t n = o->exchanges;
	struct route_patterns *rp = route_patterns__new();
	struct route_set *rs = route_set__new(0);
	struct tenant_topk *tk = tenant_topk__new(0);
	struct agg *agg = agg__new(NULL);
	struct slowlog *sl = slowlog__new(0, 0);
	char route[ROUTE_BUF_SIZE];
	static const char *route_of[NREQ], *tenant_of[NREQ];
	volatile uint64_t sink = 0;

	if (o->routes && route_patterns__load(rp, o->routes, NULL)) {
		fprintf(stderr, "cannot load %s\n", o->routes);
		exit(1);
	}
	for (uint32_t i = 0; i < NREQ; i++)
		response_at(i, clock_ns);

	/* parse: conntab -> httpconn -> http1, no sink */
	{
		struct conntab_config cc;
		struct conntab *ct;
		static uint8_t rec[REC_MAX] __attribute__((aligned(8)));
		struct sba_data_ev *ev = (struct sba_data_ev *)rec;

		conntab_config_init(&cc);
		ct = conntab__new(&cc);
		for (uint32_t c = 0; c < o->conns; c++) {
			struct sba_conn_ev oe = { .hdr = { .kind = SBA_EV_CONN_OPEN, .size = sizeof(oe),
							   .tgid = (uint32_t)tgid },
						  .conn_id = 1 + c, .role = SBA_ROLE_SERVER, .family = 2,
						  .rport = (uint16_t)(40000 + c) };

			conntab__open(ct, &oe);
		}
		stage_begin();
		for (uint64_t k = 0; k < n; k++) {
		stage_tick(o, k);
			const struct req *q = &reqs[k % NREQ];
			uint64_t id = 1 + k % o->conns;

			*ev = (struct sba_data_ev){ .hdr = { .kind = SBA_EV_DATA, .tgid = (uint32_t)tgid,
							     .ts_ns = clock_ns + k },
						    .conn_id = id, .bytes = q->len, .cap_len = (uint32_t)q->len,
						    .dir = SBA_DIR_IN };
			memcpy(rec + sizeof(*ev), q->wire, q->len);
			conntab__data(ct, ev, rec + sizeof(*ev));
			ev->dir = SBA_DIR_OUT;
			ev->bytes = ev->cap_len = (uint32_t)resp_len[k % NREQ];
			memcpy(rec + sizeof(*ev), resp_wire[k % NREQ], resp_len[k % NREQ]);
			conntab__data(ct, ev, rec + sizeof(*ev));
		}
		stage_ns[0] = stage_end(n);
		conntab__free(ct);
	}
	/* route templates */
	stage_begin();
	for (uint64_t k = 0; k < n; k++) {
		stage_tick(o, k);
		const struct req *q = &reqs[k % NREQ];

		sink += (uint64_t)route_template(rp, q->path, strlen(q->path), route, sizeof(route));
	}
	stage_ns[1] = stage_end(n);
	for (int i = 0; i < NREQ; i++) {
		route_template(rp, reqs[i].path, strlen(reqs[i].path), route, sizeof(route));
		route_of[i] = route_set__intern(rs, route);
	}
	stage_begin();
	for (uint64_t k = 0; k < n; k++) {
		stage_tick(o, k);
		route_template(rp, reqs[k % NREQ].path, strlen(reqs[k % NREQ].path), route,
			       sizeof(route));
		sink += (uintptr_t)route_set__intern(rs, route);
	}
	stage_ns[2] = stage_end(n);
	stage_begin();
	for (uint64_t k = 0; k < n; k++) {
		stage_tick(o, k);
		const struct req *q = &reqs[k % NREQ];

		tenant_of[k % NREQ] = tenant_topk__label(tk, q->tenant, strlen(q->tenant), true);
	}
	stage_ns[3] = stage_end(n);
	stage_begin();
	for (uint64_t k = 0; k < n;) {
		struct agg_http h[AGG_BATCH_MAX];
		uint64_t now[AGG_BATCH_MAX];
		uint32_t m = 0;

		stage_tick(o, k);
		/* as the pipeline does: a drain's server exchanges at once */
		for (; m < AGG_BATCH_MAX && m < o->batch && k < n; m++, k++) {
			const struct req *q = &reqs[k % NREQ];

			h[m] = (struct agg_http){ .service = "bench-express",
						  .method = q->shape == 3 ? "PUT" : q->shape == 5 ? "POST" : "GET",
						  .route = route_of[k % NREQ], .tenant = tenant_of[k % NREQ],
						  .status = q->shape == 5 ? 201 : 200,
						  .duration_ns = duration_of(k), .ttfb_ns = duration_of(k) };
			now[m] = clock_ns + k * 150000;
		}
		agg__http_server_batch(agg, h, now, m);
	}
	stage_ns[4] = stage_end(n);
	stage_begin();
	for (uint64_t k = 0; k < n; k++) {
		stage_tick(o, k);
		const struct req *q = &reqs[k % NREQ];
		struct slowlog_req sr = { .service = "bench-express", .method = "GET",
					  .route = route_of[k % NREQ], .tenant = tenant_of[k % NREQ],
					  .request_id = "", .traceparent = "", .status = 200,
					  .duration_ns = duration_of(k), .end_ns = clock_ns + k * 150000 };

		(void)q;
		sink += slowlog__add(sl, &sr);
	}
	stage_ns[5] = stage_end(n);
	(void)sink;
	route_patterns__free(rp);
	route_set__free(rs);
	tenant_topk__free(tk);
	agg__free(agg);
	slowlog__free(sl);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n EXCHANGES] [-c CONNS] [-b BATCH] [-t THRASH_KB] [-r ROUTES|none]\n"
		"          [-R REPEAT] [--rich] [--stages | --stages-only]\n", argv0);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "rich", no_argument, NULL, 'x' },
		{ "stages", no_argument, NULL, 's' },
		{ "stages-only", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .exchanges = 500000, .conns = 50, .batch = 0, .thrash_kb = 0,
			  .routes = "bench/apps/express/routes.txt", .repeat = 3 };
	double best = 1e18, ns;
	int c;

	while ((c = getopt_long(argc, argv, "n:c:b:t:r:R:", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o.exchanges = strtoull(optarg, NULL, 10); break;
		case 'c': o.conns = (uint32_t)atoi(optarg); break;
		case 'b': o.batch = (uint32_t)atoi(optarg); break;
		case 't': o.thrash_kb = strtoull(optarg, NULL, 10); break;
		case 'r': o.routes = strcmp(optarg, "none") ? optarg : NULL; break;
		case 'R': o.repeat = atoi(optarg); break;
		case 'x': rich = true; break;
		case 's': o.stages = true; break;
		case 'S': o.stages = true; o.no_pipeline = true; break;
		default: usage(argv[0]); return 2;
		}
	}
	if (!o.conns || o.conns > MAXCONN || !o.exchanges || o.repeat < 1) {
		usage(argv[0]);
		return 2;
	}
	if (!o.batch)
		o.batch = o.conns;
	tgid = getpid();
	clock_ns = mono_ns();
	make_requests();
	if (o.thrash_kb) {
		/* small pages, so that it evicts the TLB as well as the caches */
		thrash_buf = mmap(NULL, o.thrash_kb * 1024, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (thrash_buf == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(thrash_buf, o.thrash_kb * 1024, MADV_NOHUGEPAGE);
	}
	printf("replay: %llu exchanges, %u connections, %u per drain, thrash %zu KiB, routes %s, %s headers\n",
	       (unsigned long long)o.exchanges, o.conns, o.batch, o.thrash_kb,
	       o.routes ? o.routes : "none", rich ? "rich" : "wrk");
	for (int i = 0; i < o.repeat && !o.no_pipeline; i++) {
		if (run_pipeline(&o, argv[0], &ns))
			return 1;
		printf("  run %d: %.1f ns/exchange\n", i + 1, ns);
		if (ns < best)
			best = ns;
	}
	if (!o.no_pipeline)
		printf("pipeline: %.1f ns/exchange (best of %d)\n", best, o.repeat);
	if (o.stages) {
		static const char *const what[6] = {
			"parse (conntab + httpconn + http1, 2 record copies)",
			"route_template (the --routes patterns)",
			"route_template + route_set__intern",
			"tenant_topk__label",
			"agg__http_server (+ quantile window)",
			"slowlog__add",
		};
		double best_stage[6];

		for (int i = 0; i < o.repeat; i++) {
			run_stages(&o);
			for (int k = 0; k < 6; k++)
				if (!i || stage_ns[k] < best_stage[k])
					best_stage[k] = stage_ns[k];
		}
		printf("stages alone (best of %d):\n", o.repeat);
		for (int k = 0; k < 6; k++)
			printf("  %-52s %8.1f ns/exchange\n", what[k], best_stage[k]);
	}
	if (thrash_buf)
		munmap(thrash_buf, o.thrash_kb * 1024);
	return 0;
}
