// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of agg.c: series keyed by labels, sorted visits, the family and
 * service caps and every folding step, label checks, TTL expiry and slot
 * reuse, the helpers (HTTP, Redis, BullMQ), a writer/reader stress test on
 * two threads checking that no copy is ever torn, and timings: ns per
 * update and the visit of 10,000 series.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg.h"
#include "check.h"

#define MS 1000000ull
#define S  1000000000ull

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED " (sanitizer build)"
#else
#define SANITIZED ""
#endif

/* A visit flattened into strings "l1|l2|...=counter/histcount". */
struct dump {
	char line[64][160];
	int n;
	const struct agg_series *last;
	uint64_t counter0[64];
};

static int dump_cb(void *ctx, const struct agg_series *s)
{
	struct dump *d = ctx;
	char *p;
	size_t left;

	if (d->n >= 64)
		return 1;
	p = d->line[d->n];
	left = sizeof(d->line[0]);
	p[0] = '\0';
	for (uint32_t i = 0; i < s->n_labels; i++) {
		size_t k = strlen(p);

		snprintf(p + k, left - k, "%s%s", i ? "|" : "", s->label[i]);
	}
	d->n++;
	return 0;
}

static int dump_family(struct agg *a, enum agg_family f, struct dump *d)
{
	memset(d, 0, sizeof(*d));
	return agg__visit(a, f, dump_cb, d);
}

static int update5(struct agg *a, const char *svc, const char *method, const char *route,
		   const char *status, const char *tenant, uint64_t dur, uint64_t now)
{
	const char *l[5] = { svc, method, route, status, tenant };
	struct agg_update u;

	agg_update_init(&u);
	u.add[AGG_HTTP_REQUESTS] = 1;
	u.obs_ns[AGG_HTTP_DURATION] = dur;
	return agg__update(a, AGG_HTTP_SERVER, l, &u, now);
}

static void test_family_info(void)
{
	const struct agg_family_info *in = agg_family_info(AGG_HTTP_CLIENT);

	CHECK_EQ_STR(in->name, "http_client");
	CHECK_EQ_INT(in->n_labels, 6);
	CHECK_EQ_STR(in->label[2], "peer");
	CHECK_EQ_STR(agg_family_info(AGG_WORKER)->label[0], "queue_name");
	CHECK(agg_family_info(AGG_FAMILY__MAX) == NULL);
	CHECK_EQ_STR(agg_drop_reason_name(AGG_DROP_SERVICE_LIMIT), "service_limit");
	CHECK_EQ_STR(agg_drop_reason_name(AGG_DROP_LABEL_INVALID), "label_invalid");
	CHECK_EQ_STR(agg_drop_reason_name(AGG_DROP__MAX), "unknown");
	for (int f = 0; f < AGG_FAMILY__MAX; f++) {
		in = agg_family_info(f);
		CHECK(in->n_labels >= 1 && in->n_labels <= AGG_MAX_LABELS);
		CHECK(in->n_counters <= AGG_MAX_COUNTERS && in->n_gauges <= AGG_MAX_GAUGES &&
		      in->n_hists <= AGG_MAX_HISTS);
	}
}

struct http_check {
	uint64_t requests, dur_count, ttfb_count, dur_le_100ms, sum_ns;
	char labels[160];
	int n;
};

static int http_cb(void *ctx, const struct agg_series *s)
{
	struct http_check *c = ctx;
	struct hist_export e;

	c->n++;
	c->requests = s->counter[AGG_HTTP_REQUESTS];
	c->dur_count = s->hist[AGG_HTTP_DURATION].count;
	c->ttfb_count = s->hist[AGG_HTTP_TTFB].count;
	c->sum_ns = s->hist[AGG_HTTP_DURATION].sum_ns;
	hist_export(&s->hist[AGG_HTTP_DURATION], hist_bounds_default(), &e);
	c->dur_le_100ms = e.cum[7];
	snprintf(c->labels, sizeof(c->labels), "%s|%s|%s|%s|%s", s->label[0], s->label[1],
		 s->label[2], s->label[3], s->label[4]);
	return 0;
}

static void test_http_server(void)
{
	struct agg *a = agg__new(NULL);
	struct agg_http h = { .service = "api", .method = "GET", .route = "/users/:id",
			      .tenant = "acme", .status = 200, .duration_ns = 80 * MS,
			      .ttfb_ns = 5 * MS };
	struct http_check c = { 0 };
	struct agg_family_stats st;
	struct dump d;

	CHECK_EQ_INT(agg__http_server(a, &h, 1 * S), 0);
	h.duration_ns = 120 * MS;
	h.ttfb_ns = AGG_NO_VALUE;
	CHECK_EQ_INT(agg__http_server(a, &h, 2 * S), 0);
	CHECK_EQ_INT(agg__visit(a, AGG_HTTP_SERVER, http_cb, &c), 1);
	CHECK_EQ_INT(c.n, 1);
	CHECK_EQ_STR(c.labels, "api|GET|/users/:id|200|acme");
	CHECK_EQ_INT(c.requests, 2);
	CHECK_EQ_INT(c.dur_count, 2);
	CHECK_EQ_INT(c.ttfb_count, 1);
	CHECK_EQ_INT(c.dur_le_100ms, 1);
	CHECK_EQ_INT(c.sum_ns, 200 * MS);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	CHECK_EQ_INT(st.series, 1);
	CHECK_EQ_INT(st.created, 1);
	CHECK_EQ_INT(st.max_series, 10000);
	/* the window family got both durations */
	agg__stats(a, AGG_HTTP_QUANTILE, &st);
	CHECK_EQ_INT(st.series, 1);
	/* status codes are three digits */
	h.status = 5;
	agg__http_server(a, &h, 3 * S);
	CHECK_EQ_INT(dump_family(a, AGG_HTTP_SERVER, &d), 2);
	CHECK_EQ_STR(d.line[0], "api|GET|/users/:id|005|acme");
	CHECK_EQ_INT(agg__update(a, AGG_HTTP_SERVER, NULL, NULL, 1), -EINVAL);
	CHECK_EQ_INT(agg__update(a, AGG_FAMILY__MAX, (const char *[]){ "x" }, NULL, 1), -EINVAL);
	h.tenant = NULL;
	CHECK_EQ_INT(agg__http_server(a, &h, 3 * S), -EINVAL);
	agg__free(a);
}

struct ex_check {
	int with;		/* series that carried an exemplar */
	char id[AGG_EXEMPLAR_ID_MAX + 1];
	uint64_t kind, value_ns, ts_ns;
};

static int ex_cb(void *ctx, const struct agg_series *s)
{
	struct ex_check *c = ctx;

	if (s->ex) {
		c->with++;
		snprintf(c->id, sizeof(c->id), "%s", s->ex->id);
		c->kind = s->ex->kind;
		c->value_ns = s->ex->value_ns;
		c->ts_ns = s->ex->ts_ns;
	}
	return 0;
}

/* One exemplar per series: the slowest of the last AGG_EXEMPLAR_HOLD_NS,
 * then whatever comes; ids are cut to AGG_EXEMPLAR_ID_MAX; none without an id. */
static void test_exemplar(void)
{
	struct agg *a = agg__new(NULL);
	struct agg_http h = { .service = "api", .method = "GET", .route = "/r", .tenant = "t",
			      .status = 200, .duration_ns = 50 * MS, .ttfb_ns = AGG_NO_VALUE };
	char long_id[100];
	struct ex_check c;

	CHECK_EQ_INT(agg__http_server(a, &h, 1 * S), 0);
	memset(&c, 0, sizeof(c));
	agg__visit(a, AGG_HTTP_SERVER, ex_cb, &c);
	CHECK_EQ_INT(c.with, 0);

	h.ex_kind = AGG_EX_REQUEST_ID;
	h.ex_id = "req-1";
	agg__http_server(a, &h, 2 * S);
	h.ex_id = "req-2";		/* faster, 1 s later: the slow one stays */
	h.duration_ns = 10 * MS;
	agg__http_server(a, &h, 3 * S);
	memset(&c, 0, sizeof(c));
	agg__visit(a, AGG_HTTP_SERVER, ex_cb, &c);
	CHECK_EQ_INT(c.with, 1);
	CHECK_EQ_STR(c.id, "req-1");
	CHECK_EQ_INT(c.value_ns, 50 * MS);
	CHECK_EQ_INT(c.kind, AGG_EX_REQUEST_ID);

	h.ex_kind = AGG_EX_TRACE_ID;	/* slower: replaces at once */
	h.ex_id = "4bf92f3577b34da6a3ce929d0e0e4736";
	h.duration_ns = 900 * MS;
	agg__http_server(a, &h, 4 * S);
	memset(&c, 0, sizeof(c));
	agg__visit(a, AGG_HTTP_SERVER, ex_cb, &c);
	CHECK_EQ_STR(c.id, "4bf92f3577b34da6a3ce929d0e0e4736");
	CHECK_EQ_INT(c.kind, AGG_EX_TRACE_ID);
	CHECK_EQ_INT(c.ts_ns, 4 * S);

	memset(long_id, 'x', sizeof(long_id) - 1);	/* held longer than 10 s: any replaces */
	long_id[sizeof(long_id) - 1] = 0;
	h.ex_kind = AGG_EX_REQUEST_ID;
	h.ex_id = long_id;
	h.duration_ns = 1 * MS;
	agg__http_server(a, &h, 4 * S + AGG_EXEMPLAR_HOLD_NS + 1);
	memset(&c, 0, sizeof(c));
	agg__visit(a, AGG_HTTP_SERVER, ex_cb, &c);
	CHECK_EQ_INT(strlen(c.id), AGG_EXEMPLAR_ID_MAX);
	CHECK_EQ_INT(c.value_ns, 1 * MS);

	/* client family keeps one too; families without histograms never */
	h.peer = "api:80";
	agg__http_client(a, &h, 5 * S);
	memset(&c, 0, sizeof(c));
	agg__visit(a, AGG_HTTP_CLIENT, ex_cb, &c);
	CHECK_EQ_INT(c.with, 1);
	CHECK(!agg_family_info(AGG_REDIS)->exemplar);
	agg__free(a);
}

/* Sorted by label values, label by label: "a" < "ab" whatever follows. */
static void test_sorted_visit(void)
{
	struct agg *a = agg__new(NULL);
	struct dump d;
	static const char *const in[][2] = {
		{ "b", "/x" }, { "ab", "/a" }, { "a", "/z" }, { "a", "/" }, { "a", "/z/y" },
		{ "B", "/x" }, { "a", "/Z" },
	};
	static const char *const want[] = {
		"B|GET|/x|200|t", "a|GET|/|200|t", "a|GET|/Z|200|t", "a|GET|/z|200|t",
		"a|GET|/z/y|200|t", "ab|GET|/a|200|t", "b|GET|/x|200|t",
	};

	for (size_t i = 0; i < 7; i++)
		CHECK_EQ_INT(update5(a, in[i][0], "GET", in[i][1], "200", "t", MS, S), 0);
	CHECK_EQ_INT(dump_family(a, AGG_HTTP_SERVER, &d), 7);
	for (int i = 0; i < 7; i++)
		CHECK_EQ_STR(d.line[i], want[i]);
	agg__free(a);
}

static struct agg *small_agg(uint32_t max_series, uint32_t per_service, uint32_t services)
{
	struct agg_config cfg;

	agg_config_init(&cfg);
	cfg.max_series[AGG_HTTP_SERVER] = max_series;
	cfg.max_per_service[AGG_HTTP_SERVER] = per_service;
	cfg.max_services = services;
	cfg.ttl_ns = 10 * S;
	return agg__new(&cfg);
}

/* The family is full: existing fold targets are used, else the overflow. */
static void test_family_cap(void)
{
	struct agg *a = small_agg(4, 100, 0);
	struct agg_family_stats st;
	struct dump d;

	CHECK_EQ_INT(update5(a, "api", "GET", "/a", "200", "t1", MS, S), 0);
	CHECK_EQ_INT(update5(a, "api", "GET", "/a", "200", "other", MS, S), 0);
	CHECK_EQ_INT(update5(a, "api", "GET", "/b", "200", "t1", MS, S), 0);
	CHECK_EQ_INT(update5(a, "web", "GET", "/", "200", "t1", MS, S), 0);
	/* full: a new tenant of /a folds into the existing tenant=other series */
	CHECK_EQ_INT(update5(a, "api", "GET", "/a", "200", "t2", MS, S), AGG_FOLDED);
	/* /c has no fold target: the overflow series */
	CHECK_EQ_INT(update5(a, "api", "GET", "/c", "200", "t1", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(update5(a, "new", "PUT", "/d", "500", "t9", MS, S), AGG_FOLDED);
	/* existing series keep counting in place */
	CHECK_EQ_INT(update5(a, "api", "GET", "/b", "200", "t1", MS, S), 0);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	CHECK_EQ_INT(st.series, 5);
	CHECK_EQ_INT(st.created, 5);
	CHECK_EQ_INT(st.dropped[AGG_DROP_SERIES_LIMIT], 3);
	CHECK_EQ_INT(st.dropped[AGG_DROP_SERVICE_LIMIT], 0);
	CHECK_EQ_INT(dump_family(a, AGG_HTTP_SERVER, &d), 5);
	CHECK_EQ_STR(d.line[0], "api|GET|/a|200|other");
	CHECK_EQ_STR(d.line[1], "api|GET|/a|200|t1");
	CHECK_EQ_STR(d.line[2], "api|GET|/b|200|t1");
	CHECK_EQ_STR(d.line[3], "other|other|other|other|other");
	CHECK_EQ_STR(d.line[4], "web|GET|/|200|t1");
	/* a service that never got a series is not kept */
	CHECK_EQ_INT(agg__services(a), 2);
	agg__free(a);
}

struct count_by_label {
	const char *want;
	uint64_t count;
};

static int count_cb(void *ctx, const struct agg_series *s)
{
	struct count_by_label *c = ctx;
	char buf[256] = "";

	for (uint32_t i = 0; i < s->n_labels; i++) {
		strcat(buf, i ? "|" : "");
		strncat(buf, s->label[i], 40);
	}
	if (strcmp(buf, c->want) == 0)
		c->count = s->counter[0];
	return 0;
}

static uint64_t count_of(struct agg *a, enum agg_family f, const char *labels)
{
	struct count_by_label c = { labels, 0 };

	agg__visit(a, f, count_cb, &c);
	return c.count;
}

/* The service is full: fold labels one by one; its own all-`other` series
 * may exceed its cap; other services are unaffected. */
static void test_service_cap(void)
{
	struct agg *a = small_agg(100, 3, 0);
	struct agg_family_stats st;

	CHECK_EQ_INT(update5(a, "api", "GET", "/a", "200", "t1", MS, S), 0);
	CHECK_EQ_INT(update5(a, "api", "GET", "/b", "200", "t1", MS, S), 0);
	CHECK_EQ_INT(update5(a, "api", "GET", "/c", "200", "other", MS, S), 0);
	/* tenant folds into an existing series */
	CHECK_EQ_INT(update5(a, "api", "GET", "/c", "200", "t7", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(count_of(a, AGG_HTTP_SERVER, "api|GET|/c|200|other"), 2);
	/* nothing to fold into: the service's own overflow, beyond the cap */
	CHECK_EQ_INT(update5(a, "api", "POST", "/d", "201", "t1", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(update5(a, "api", "PUT", "/e", "404", "t2", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(count_of(a, AGG_HTTP_SERVER, "api|other|other|other|other"), 2);
	/* another service still gets its own series */
	CHECK_EQ_INT(update5(a, "web", "GET", "/", "200", "t1", MS, S), 0);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	CHECK_EQ_INT(st.series, 5);
	CHECK_EQ_INT(st.dropped[AGG_DROP_SERVICE_LIMIT], 3);
	CHECK_EQ_INT(st.dropped[AGG_DROP_SERIES_LIMIT], 0);
	agg__free(a);
}

/* Fold levels in order: tenant, then route, then method, then status. */
static void test_fold_order(void)
{
	struct agg *a = small_agg(100, 4, 0);

	CHECK_EQ_INT(update5(a, "s", "GET", "other", "200", "other", MS, S), 0);
	CHECK_EQ_INT(update5(a, "s", "other", "other", "500", "other", MS, S), 0);
	CHECK_EQ_INT(update5(a, "s", "GET", "/a", "200", "t", MS, S), 0);
	CHECK_EQ_INT(update5(a, "s", "GET", "/b", "200", "t", MS, S), 0);
	/* full; GET /c 200 -> (route, tenant) other exists */
	CHECK_EQ_INT(update5(a, "s", "GET", "/c", "200", "t", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(count_of(a, AGG_HTTP_SERVER, "s|GET|other|200|other"), 2);
	/* POST /c 500 -> method folds too: (other, other, 500, other) exists */
	CHECK_EQ_INT(update5(a, "s", "POST", "/c", "500", "t", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(count_of(a, AGG_HTTP_SERVER, "s|other|other|500|other"), 2);
	agg__free(a);
}

static void test_services_limit(void)
{
	struct agg *a = small_agg(100, 100, 2);
	struct agg_family_stats st;

	CHECK_EQ_INT(update5(a, "a", "GET", "/", "200", "t", MS, S), 0);
	CHECK_EQ_INT(update5(a, "b", "GET", "/", "200", "t", MS, S), 0);
	CHECK_EQ_INT(update5(a, "c", "GET", "/", "200", "t", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(count_of(a, AGG_HTTP_SERVER, "other|other|other|other|other"), 1);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	CHECK_EQ_INT(st.dropped[AGG_DROP_SERVICES_LIMIT], 1);
	CHECK_EQ_INT(agg__services(a), 2);
	/* the same services are shared by the other families */
	CHECK_EQ_INT(agg__redis(a, "a", "GET", "ok", MS, false, S), 0);
	CHECK_EQ_INT(agg__redis(a, "c", "GET", "ok", MS, false, S), AGG_FOLDED);
	agg__free(a);
}

struct first {
	char label[AGG_MAX_LABELS][AGG_LABEL_MAX + 1];
	uint64_t c0;
	int n;
};

static int first_cb(void *ctx, const struct agg_series *s)
{
	struct first *f = ctx;

	for (uint32_t i = 0; i < s->n_labels; i++)
		snprintf(f->label[i], sizeof(f->label[i]), "%s", s->label[i]);
	f->c0 = s->counter[0];
	f->n++;
	return 1;
}

static void test_labels_checked(void)
{
	struct agg *a = agg__new(NULL);
	struct agg_family_stats st;
	struct first fs = { .n = 0 };
	char long_route[300], r250[251];
	const char *cl[6];
	struct agg_update u;
	struct dump d;

	memset(long_route, 'r', sizeof(long_route) - 1);
	long_route[sizeof(long_route) - 1] = '\0';
	memset(r250, 'p', 250);
	r250[250] = '\0';
	CHECK_EQ_INT(update5(a, "s", "GET", long_route, "200", "t", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(update5(a, "s", "GET", "/caf\xc3", "200", "t", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(update5(a, "s", "GET", "/a\nb", "200", "t", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(update5(a, "s", "GET", "/\xc0\xaf", "200", "t", MS, S), AGG_FOLDED);
	CHECK_EQ_INT(update5(a, "s", "GET", "/\xed\xa0\x80", "200", "t", MS, S), AGG_FOLDED);
	/* valid UTF-8 stays */
	CHECK_EQ_INT(update5(a, "s", "GET", "/caf\xc3\xa9/\xf0\x9f\x98\x80", "200", "t", MS, S), 0);
	CHECK_EQ_INT(dump_family(a, AGG_HTTP_SERVER, &d), 2);
	CHECK_EQ_STR(d.line[0], "s|GET|/caf\xc3\xa9/\xf0\x9f\x98\x80|200|t");
	CHECK_EQ_STR(d.line[1], "s|GET|other|200|t");
	CHECK_EQ_INT(count_of(a, AGG_HTTP_SERVER, "s|GET|other|200|t"), 5);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	CHECK_EQ_INT(st.dropped[AGG_DROP_LABEL_TOO_LONG], 1);
	CHECK_EQ_INT(st.dropped[AGG_DROP_LABEL_INVALID], 4);
	CHECK_EQ_INT(st.series, 2);
	/* each value fits, the key does not (1+3+250+255+3+1 + 6 NULs = 519): the
	 * longest value folds */
	memset(long_route, 'r', 255);
	long_route[255] = '\0';
	cl[0] = "s";
	cl[1] = "GET";
	cl[2] = r250;
	cl[3] = long_route;
	cl[4] = "200";
	cl[5] = "t";
	agg_update_init(&u);
	u.add[0] = 1;
	CHECK_EQ_INT(agg__update(a, AGG_HTTP_CLIENT, cl, &u, S), AGG_FOLDED);
	CHECK_EQ_INT(agg__update(a, AGG_HTTP_CLIENT, cl, &u, S), AGG_FOLDED);
	CHECK_EQ_INT(agg__visit(a, AGG_HTTP_CLIENT, first_cb, &fs), 1);
	CHECK_EQ_STR(fs.label[0], "s");
	CHECK_EQ_STR(fs.label[2], r250);
	CHECK_EQ_STR(fs.label[3], "other");
	CHECK_EQ_STR(fs.label[5], "t");
	CHECK_EQ_INT(fs.c0, 2);
	agg__stats(a, AGG_HTTP_CLIENT, &st);
	CHECK_EQ_INT(st.dropped[AGG_DROP_LABEL_TOO_LONG], 2);
	CHECK_EQ_INT(st.series, 1);
	agg__free(a);
}

/* Expiry: idle series go, their service count is released, their slots are
 * reused, and a series that comes back restarts from zero. */
static void test_ttl(void)
{
	struct agg *a = small_agg(3, 2, 0);
	struct agg_family_stats st;
	struct dump d;

	CHECK_EQ_INT(update5(a, "s", "GET", "/a", "200", "t", MS, 1 * S), 0);
	CHECK_EQ_INT(update5(a, "s", "GET", "/a", "200", "t", MS, 2 * S), 0);
	CHECK_EQ_INT(update5(a, "s", "GET", "/b", "200", "t", MS, 5 * S), 0);
	CHECK_EQ_INT(update5(a, "s", "GET", "/c", "200", "t", MS, 5 * S), AGG_FOLDED);
	CHECK_EQ_INT(agg__expire(a, 11 * S), 0);	/* /a last seen at 2 s: kept until 12 s */
	CHECK_EQ_INT(agg__expire(a, 12 * S), 1);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	CHECK_EQ_INT(st.expired, 1);
	CHECK_EQ_INT(st.series, 2);
	CHECK_EQ_INT(dump_family(a, AGG_HTTP_SERVER, &d), 2);
	CHECK_EQ_STR(d.line[0], "s|GET|/b|200|t");
	CHECK_EQ_STR(d.line[1], "s|other|other|other|other");
	/* room again for the service: /a comes back from zero */
	CHECK_EQ_INT(update5(a, "s", "GET", "/a", "200", "t", MS, 13 * S), 0);
	CHECK_EQ_INT(count_of(a, AGG_HTTP_SERVER, "s|GET|/a|200|t"), 1);
	CHECK_EQ_INT(agg__expire(a, 100 * S), 3);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	CHECK_EQ_INT(st.series, 0);
	CHECK_EQ_INT(st.expired, 4);
	CHECK_EQ_INT(agg__services(a), 0);
	CHECK_EQ_INT(dump_family(a, AGG_HTTP_SERVER, &d), 0);
	/* every slot is usable again, the overflow's too */
	CHECK_EQ_INT(update5(a, "x", "GET", "/1", "200", "t", MS, 101 * S), 0);
	CHECK_EQ_INT(update5(a, "y", "GET", "/1", "200", "t", MS, 101 * S), 0);
	CHECK_EQ_INT(update5(a, "z", "GET", "/1", "200", "t", MS, 101 * S), 0);
	CHECK_EQ_INT(update5(a, "w", "GET", "/1", "200", "t", MS, 101 * S), AGG_FOLDED);
	CHECK_EQ_INT(dump_family(a, AGG_HTTP_SERVER, &d), 4);
	CHECK_EQ_INT(agg__services(a), 3);
	agg__free(a);
}

/* A million distinct label sets through tiny caps: bounded, all counted. */
static void test_bounded(void)
{
	struct agg *a = small_agg(50, 10, 8);
	struct agg_family_stats st;
	uint64_t own = 0, folded = 0, dropped = 0;
	char route[32], svc[16];

	for (int i = 0; i < 200000; i++) {
		int r;

		snprintf(svc, sizeof(svc), "s%d", i % 13);
		snprintf(route, sizeof(route), "/r%d", i);
		r = update5(a, svc, "GET", route, "200", "t", MS, S);
		own += r == 0;
		folded += r == AGG_FOLDED;
	}
	CHECK_EQ_INT(own + folded, 200000);
	agg__stats(a, AGG_HTTP_SERVER, &st);
	/* 8 services x (10 + their own overflow) > 50: the family cap binds */
	CHECK_EQ_INT(st.series, 51);
	CHECK_EQ_INT(own, 50);	/* s0..s7 get 6 each, then s0 and s1 a 7th */
	for (int r = 0; r < AGG_DROP__MAX; r++)
		dropped += st.dropped[r];
	CHECK_EQ_INT(dropped, folded);
	CHECK_EQ_INT(agg__services(a), 8);
	agg__free(a);
}

struct worker_check {
	uint64_t c[AGG_W__COUNTERS];
	int64_t active, depth;
	uint64_t dur_count, wait_count;
	uint64_t completed_w, failed_w, w4, w5, wt, attempts;
	double tput, err;
};

static int worker_cb(void *ctx, const struct agg_series *s)
{
	struct worker_check *w = ctx;
	uint64_t now = 30 * S, slot = 10 * S;

	memcpy(w->c, s->counter, sizeof(w->c));
	w->active = s->gauge[AGG_W_ACTIVE];
	w->depth = s->gauge[AGG_W_DEPTH];
	w->dur_count = s->hist[AGG_W_JOB_DURATION].count;
	w->wait_count = s->hist[AGG_W_JOB_WAIT].count;
	w->completed_w = wrate_sum(s->wr, slot, now, AGG_WR_COMPLETED);
	w->failed_w = wrate_sum(s->wr, slot, now, AGG_WR_FAILED);
	w->w4 = wrate_sum(s->wr, slot, now, AGG_WR_4XX);
	w->w5 = wrate_sum(s->wr, slot, now, AGG_WR_5XX);
	w->wt = wrate_sum(s->wr, slot, now, AGG_WR_TIMEOUT);
	w->attempts = wrate_sum(s->wr, slot, now, AGG_WR_ATTEMPTS);
	w->tput = wrate_per_s(s->wr, slot, now, AGG_WR_COMPLETED);
	w->err = wrate_ratio(s->wr, slot, now, AGG_WR_FAILED, AGG_WR_ATTEMPTS);
	return 0;
}

static void test_worker(void)
{
	struct agg *a = agg__new(NULL);
	struct worker_check w = { 0 };
	struct agg_worker_ev ev = { .queue = "emails", .duration_ns = AGG_NO_VALUE,
				    .wait_ns = AGG_NO_VALUE, .active = -1, .depth = -1 };

	CHECK_EQ_INT(agg__slot_ns(a), 10 * S);
	for (int i = 0; i < 10; i++) {
		ev.counter = AGG_W_ADDED;
		ev.depth = i + 1;
		agg__worker(a, &ev, S);
	}
	ev.depth = -1;
	for (int i = 0; i < 9; i++) {
		ev.counter = AGG_W_STARTED;
		ev.wait_ns = 50 * MS;
		ev.active = 1;
		agg__worker(a, &ev, 2 * S);
		ev.wait_ns = AGG_NO_VALUE;
		ev.active = 0;
		ev.duration_ns = 200 * MS;
		ev.counter = i < 6 ? AGG_W_COMPLETED : i < 8 ? AGG_W_RETRIED : AGG_W_FAILED;
		ev.fail = i == 6 ? AGG_WF_5XX : i == 7 ? AGG_WF_TIMEOUT : AGG_WF_4XX;
		agg__worker(a, &ev, 3 * S);
		ev.duration_ns = AGG_NO_VALUE;
	}
	ev.counter = -1;	/* getCounts: gauges only */
	ev.depth = 1;
	ev.active = 0;
	agg__worker(a, &ev, 4 * S);
	ev.counter = AGG_W__COUNTERS;
	CHECK_EQ_INT(agg__worker(a, &ev, 4 * S), -EINVAL);

	CHECK_EQ_INT(agg__visit(a, AGG_WORKER, worker_cb, &w), 1);
	CHECK_EQ_INT(w.c[AGG_W_ADDED], 10);
	CHECK_EQ_INT(w.c[AGG_W_STARTED], 9);
	CHECK_EQ_INT(w.c[AGG_W_COMPLETED], 6);
	CHECK_EQ_INT(w.c[AGG_W_RETRIED], 2);
	CHECK_EQ_INT(w.c[AGG_W_FAILED], 1);
	CHECK_EQ_INT(w.c[AGG_W_STALLED], 0);
	CHECK_EQ_INT(w.active, 0);
	CHECK_EQ_INT(w.depth, 1);
	CHECK_EQ_INT(w.dur_count, 9);
	CHECK_EQ_INT(w.wait_count, 9);
	CHECK_EQ_INT(w.completed_w, 6);
	CHECK_EQ_INT(w.failed_w, 3);
	CHECK_EQ_INT(w.w4, 1);
	CHECK_EQ_INT(w.w5, 1);
	CHECK_EQ_INT(w.wt, 1);
	CHECK_EQ_INT(w.attempts, 9);
	CHECK(fabs(w.tput - 6.0 / 60.0) < 1e-12);	/* read at 30 s: span 60 s */
	CHECK(fabs(w.err - 3.0 / 9.0) < 1e-12);
	agg__free(a);
}

struct redis_check {
	char line[4][80];
	uint64_t v[4];
	int n;
};

static int redis_cb(void *ctx, const struct agg_series *s)
{
	struct redis_check *r = ctx;

	if (r->n >= 4)
		return 1;
	snprintf(r->line[r->n], sizeof(r->line[0]), "%s|%s%s%s", s->label[0], s->label[1],
		 s->n_labels > 2 ? "|" : "", s->n_labels > 2 ? s->label[2] : "");
	r->v[r->n++] = s->n_labels > 2 ? s->counter[0] : s->hist[0].count;
	return 0;
}

static void test_redis(void)
{
	struct agg *a = agg__new(NULL);
	struct redis_check r = { 0 };

	agg__redis(a, "worker", "GET", "ok", 100000, false, S);
	agg__redis(a, "worker", "GET", "ok", 200000, false, S);
	agg__redis(a, "worker", "GET", "WRONGTYPE", 100000, false, S);
	agg__redis(a, "worker", "BZPOPMIN", "ok", 5 * S, true, S);
	agg__redis(a, "worker", "EVALSHA", "NOSCRIPT", AGG_NO_VALUE, false, S);
	CHECK_EQ_INT(agg__visit(a, AGG_REDIS, redis_cb, &r), 4);
	CHECK_EQ_STR(r.line[0], "worker|BZPOPMIN|ok");
	CHECK_EQ_STR(r.line[1], "worker|EVALSHA|NOSCRIPT");
	CHECK_EQ_STR(r.line[2], "worker|GET|WRONGTYPE");
	CHECK_EQ_STR(r.line[3], "worker|GET|ok");
	CHECK_EQ_INT(r.v[3], 2);
	memset(&r, 0, sizeof(r));
	/* blocking commands and unknown durations stay out of the histogram */
	CHECK_EQ_INT(agg__visit(a, AGG_REDIS_DURATION, redis_cb, &r), 1);
	CHECK_EQ_STR(r.line[0], "worker|GET");
	CHECK_EQ_INT(r.v[0], 3);
	agg__free(a);
}

struct q_check {
	double q[3];
	uint64_t n;
	char route[64];
};

static int quantile_cb(void *ctx, const struct agg_series *s)
{
	static const double qs[3] = { 0.5, 0.95, 0.99 };
	struct q_check *c = ctx;

	c->n = wquant_quantiles(s->wq, 10 * S, 50 * S, qs, c->q, 3);
	snprintf(c->route, sizeof(c->route), "%s|%s", s->label[0], s->label[1]);
	return 0;
}

static void test_http_quantile(void)
{
	struct agg *a = agg__new(NULL);
	struct agg_http h = { .service = "api", .method = "GET", .route = "/x", .tenant = "t",
			      .status = 200, .ttfb_ns = AGG_NO_VALUE };
	struct q_check c = { { 0 }, 0, "" };

	/* 1..100 ms, across tenants and statuses: one (service, route) window */
	for (int i = 1; i <= 100; i++) {
		h.duration_ns = (uint64_t)i * MS;
		h.status = i % 2 ? 200 : 500;
		h.tenant = i % 3 ? "a" : "b";
		agg__http_server(a, &h, 40 * S + (uint64_t)i);
	}
	CHECK_EQ_INT(agg__visit(a, AGG_HTTP_QUANTILE, quantile_cb, &c), 1);
	CHECK_EQ_STR(c.route, "api|/x");
	CHECK_EQ_INT(c.n, 100);
	CHECK(fabs(c.q[0] - 0.050) <= 0.050 / 8);
	CHECK(fabs(c.q[1] - 0.095) <= 0.095 / 8);
	CHECK(fabs(c.q[2] - 0.099) <= 0.099 / 8);
	agg__free(a);
}

static void test_bad_config(void)
{
	struct agg_config cfg;

	agg_config_init(&cfg);
	cfg.max_series[AGG_REDIS] = 2000000;
	errno = 0;
	CHECK(agg__new(&cfg) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	agg__free(NULL);
}

/* ---- two threads ---- */

#define STRESS_KEYS 600

struct stress {
	struct agg *a;
	int stop;
	uint64_t updates, visits, series_seen, torn, unsorted, backwards;
	uint64_t last_created[STRESS_KEYS + 1], last_count[STRESS_KEYS + 1];
	char prev[AGG_KEY_MAX];
	size_t prev_len;
	bool have_prev;
};

static void *stress_writer(void *p)
{
	struct stress *st = p;
	uint64_t now = S, x = 12345;
	char route[32];

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		for (int k = 0; k < 1000; k++) {
			struct agg_http h = { .service = "svc", .method = "GET", .tenant = "t",
					      .status = 200 };
			uint32_t i;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (uint32_t)(x % STRESS_KEYS);
			snprintf(route, sizeof(route), "/r%u", i);
			h.route = route;
			h.duration_ns = (i + 1) * 100000ull;
			h.ttfb_ns = h.duration_ns / 2;
			agg__http_server(st->a, &h, now);
			now += 20000;	/* 20 us of fake time per request */
		}
		st->updates += 1000;
		agg__expire(st->a, now);	/* ttl 5 ms of fake time: constant churn */
	}
	return NULL;
}

static int stress_cb(void *ctx, const struct agg_series *s)
{
	struct stress *st = ctx;
	const struct hist *d = &s->hist[AGG_HTTP_DURATION], *t = &s->hist[AGG_HTTP_TTFB];
	uint64_t sum = 0;
	char key[AGG_KEY_MAX];
	size_t len = 0;
	unsigned int i = STRESS_KEYS;

	st->series_seen++;
	for (int b = 0; b <= HIST_MAX_BOUNDS; b++)
		sum += d->bucket[b];
	if (s->counter[AGG_HTTP_REQUESTS] != d->count || d->count != sum ||
	    t->count != d->count || s->counter[0] == 0)
		st->torn++;
	for (uint32_t l = 0; l < s->n_labels; l++) {
		size_t n = strlen(s->label[l]) + 1;

		memcpy(key + len, s->label[l], n);
		len += n;
	}
	if (st->have_prev) {
		int c = memcmp(st->prev, key, len < st->prev_len ? len : st->prev_len);

		if (c > 0 || (c == 0 && st->prev_len >= len))
			st->unsorted++;
	}
	memcpy(st->prev, key, len);
	st->prev_len = len;
	st->have_prev = true;
	/* a series' counter never goes back while it lives */
	if (sscanf(s->label[2], "/r%u", &i) == 1 && i < STRESS_KEYS) {
		if (st->last_created[i] == s->created_ns && s->counter[0] < st->last_count[i])
			st->backwards++;
		st->last_created[i] = s->created_ns;
		st->last_count[i] = s->counter[0];
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_two_threads(void)
{
	struct agg_config cfg;
	static struct stress st;
	struct agg_family_stats fs;
	pthread_t w;
	double t0 = now_s();

	agg_config_init(&cfg);
	cfg.max_series[AGG_HTTP_SERVER] = 400;	/* < STRESS_KEYS: folds too */
	cfg.max_per_service[AGG_HTTP_SERVER] = 400;
	cfg.ttl_ns = 5 * MS;
	memset(&st, 0, sizeof(st));
	st.a = agg__new(&cfg);
	CHECK(pthread_create(&w, NULL, stress_writer, &st) == 0);
	while (now_s() - t0 < 0.25) {
		st.have_prev = false;
		CHECK(agg__visit(st.a, AGG_HTTP_SERVER, stress_cb, &st) >= 0);
		st.visits++;
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(w, NULL);
	agg__stats(st.a, AGG_HTTP_SERVER, &fs);
	printf("  stress: %llu updates, %llu visits, %llu series read, %llu read retries, "
	       "%llu expired, %llu folded\n",
	       (unsigned long long)st.updates, (unsigned long long)st.visits,
	       (unsigned long long)st.series_seen, (unsigned long long)fs.read_retries,
	       (unsigned long long)fs.expired,
	       (unsigned long long)fs.dropped[AGG_DROP_SERIES_LIMIT]);
	CHECK(st.updates > 0);
	CHECK(st.visits > 10);
	CHECK(st.series_seen > 0);
	CHECK(fs.expired > 0);
	CHECK_EQ_INT(st.torn, 0);
	CHECK_EQ_INT(st.unsorted, 0);
	CHECK_EQ_INT(st.backwards, 0);
	agg__free(st.a);
}

/* ---- timings ---- */

struct bench_ctx {
	uint64_t total;
};

static int bench_cb(void *ctx, const struct agg_series *s)
{
	struct bench_ctx *b = ctx;
	struct hist_export e;

	hist_export(&s->hist[AGG_HTTP_DURATION], hist_bounds_default(), &e);
	b->total += e.count + strlen(s->label[2]);
	return 0;
}

static void test_10k_series(void)
{
	static char routes[500][64], tenants[20][16];
	struct agg_config cfg;
	struct agg *a;
	struct bench_ctx b = { 0 };
	struct agg_http h = { .service = "checkout-api", .method = "GET", .status = 200,
			      .ttfb_ns = 2 * MS };
	uint64_t want = 0;
	double t0, t1, t2, t3;
	int n;

	for (int i = 0; i < 500; i++)
		snprintf(routes[i], sizeof(routes[i]), "/api/v1/resource%d/:id", i);
	for (int i = 0; i < 20; i++)
		snprintf(tenants[i], sizeof(tenants[i]), "tenant-%d", i);
	agg_config_init(&cfg);
	cfg.max_per_service[AGG_HTTP_SERVER] = 10000;
	a = agg__new(&cfg);
	t0 = now_s();
	for (int i = 0; i < 10000; i++) {
		h.route = routes[i / 20];
		h.tenant = tenants[i % 20];
		h.duration_ns = (uint64_t)(i % 997) * MS;
		CHECK_EQ_INT(agg__http_server(a, &h, S), 0);
		want += 21 + strlen(h.route);	/* 1 + 20 updates each (7919 is prime) */
	}
	t1 = now_s();
	/* hot path: 200,000 exchanges on existing series (two families each) */
	for (int i = 0; i < 200000; i++) {
		int k = (i * 7919) % 10000;

		h.route = routes[k / 20];
		h.tenant = tenants[k % 20];
		h.duration_ns = (uint64_t)k * 1000;
		agg__http_server(a, &h, 2 * S);
	}
	t2 = now_s();
	n = agg__visit(a, AGG_HTTP_SERVER, bench_cb, &b);
	t3 = now_s();
	CHECK_EQ_INT(n, 10000);
	CHECK_EQ_INT(b.total, want);
	printf("  10000 series: insert %.0f ns each; agg__http_server() %.0f ns each "
	       "(random series); visit with hist_export %.2f ms%s\n",
	       (t1 - t0) * 1e9 / 10000, (t2 - t1) * 1e9 / 200000, (t3 - t2) * 1e3, SANITIZED);
	/* a hot set that stays in cache: 50 label sets */
	t0 = now_s();
	for (int i = 0; i < 200000; i++) {
		h.route = routes[i % 5];
		h.tenant = tenants[i % 10];
		h.duration_ns = (uint64_t)i * 1000;
		agg__http_server(a, &h, 3 * S);
	}
	t1 = now_s();
	printf("  agg__http_server() on 50 hot series: %.0f ns each%s\n",
	       (t1 - t0) * 1e9 / 200000, SANITIZED);
	CHECK(t3 - t2 < 0.5);	/* sanity, not the budget */
	agg__free(a);
}

/* ---- batches ---- */

/* Everything a visit shows of a family, hashed: labels, counters, histogram
 * buckets, window counts, exemplars. */
struct digest {
	uint64_t h;
	int series;
	uint64_t slot_ns, now;
};

static void dmix(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ull;
}

static int digest_cb(void *ctx, const struct agg_series *s)
{
	struct digest *d = ctx;

	d->series++;
	for (uint32_t i = 0; i < s->n_labels; i++)
		dmix(&d->h, s->label[i], strlen(s->label[i]) + 1);
	dmix(&d->h, s->counter, sizeof(uint64_t));
	dmix(&d->h, &s->last_ns, sizeof(s->last_ns));
	if (s->wq) {
		uint64_t c = wquant_count(s->wq, d->slot_ns, d->now);

		dmix(&d->h, &c, sizeof(c));
	} else {
		dmix(&d->h, s->hist, 2 * sizeof(struct hist));
		if (s->ex)
			dmix(&d->h, s->ex, sizeof(*s->ex));
	}
	return 0;
}

static uint64_t digest_of(struct agg *a, enum agg_family f, uint64_t now, int *series)
{
	struct digest d = { .h = 1469598103934665603ull, .slot_ns = agg__slot_ns(a), .now = now };
	struct agg_family_stats st;

	agg__visit(a, f, digest_cb, &d);
	agg__stats(a, f, &st);
	dmix(&d.h, st.dropped, sizeof(st.dropped));
	dmix(&d.h, &st.created, sizeof(st.created));
	*series = d.series;
	return d.h;
}

/* A batch updates exactly as the same updates one by one: same series,
 * counts, buckets, windows, exemplars, folds (small caps, so they happen),
 * with labels too long and services past their cap among them. */
static void test_http_server_batch(void)
{
	static const char *const svc[] = { "api", "web", "billing" };
	static const char *const meth[] = { "GET", "POST", "PUT" };
	static char long_route[300];
	struct agg_config cfg;
	struct agg *one, *many;
	struct agg_http h[AGG_BATCH_MAX];
	uint64_t now[AGG_BATCH_MAX], t = 1000 * S, x = 88172645463325252ull;
	char route[AGG_BATCH_MAX][32], tenant[AGG_BATCH_MAX][16], ex[AGG_BATCH_MAX][16];
	int s1, s2;
	uint32_t expired = 0;

	memset(long_route, 'r', sizeof(long_route) - 1);
	agg_config_init(&cfg);
	cfg.max_series[AGG_HTTP_SERVER] = 150;
	cfg.max_per_service[AGG_HTTP_SERVER] = 60;
	cfg.max_series[AGG_HTTP_QUANTILE] = 20;
	cfg.max_per_service[AGG_HTTP_QUANTILE] = 8;
	cfg.ttl_ns = 60 * S;	/* series expire and slots are reused on the way */
	one = agg__new(&cfg);
	many = agg__new(&cfg);
	CHECK(one && many);
	for (int round = 0; round < 300; round++) {
		size_t n = 1 + (size_t)(x % AGG_BATCH_MAX);

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			snprintf(route[i], sizeof(route[i]), "/r%u/:id", (unsigned)(x % 23));
			snprintf(tenant[i], sizeof(tenant[i]), "t%u", (unsigned)(x >> 8) % 30);
			snprintf(ex[i], sizeof(ex[i]), "req-%u", (unsigned)(x >> 16) % 1000);
			h[i] = (struct agg_http){
				.service = svc[(x >> 20) % 3], .method = meth[(x >> 24) % 3],
				.route = (x >> 28) % 50 ? route[i] : long_route,
				.tenant = (x >> 30) % 97 ? tenant[i] : NULL,	/* refused */
				.status = (uint16_t)(200 + (x >> 32) % 4 * 100),
				.duration_ns = (x >> 36) % 3000 * 100000,
				.ttfb_ns = (x >> 40) % 8 ? (x >> 44) % 2000 * 50000 : AGG_NO_VALUE,
				.ex_kind = (x >> 48) % 2 ? AGG_EX_REQUEST_ID : AGG_EX_NONE, .ex_id = ex[i],
			};
			t += (x >> 52) % 40 * MS;
			now[i] = t;
			agg__http_server(one, &h[i], now[i]);
		}
		agg__http_server_batch(many, h, now, n);
		if (round % 20 == 19) {
			uint32_t e = agg__expire(one, t);

			CHECK_EQ_INT(agg__expire(many, t), e);
			expired += e;
		}
	}
	printf("  batch test: %u expired, ", expired);
	CHECK(expired > 100);	/* slots were freed and reused on the way */
	CHECK(digest_of(one, AGG_HTTP_SERVER, t, &s1) == digest_of(many, AGG_HTTP_SERVER, t, &s2));
	printf("%d series\n", s1);
	CHECK(s1 == s2 && s1 > 50);
	CHECK(digest_of(one, AGG_HTTP_QUANTILE, t, &s1) == digest_of(many, AGG_HTTP_QUANTILE, t, &s2));
	CHECK(s1 == s2 && s1 > 10);
	agg__free(one);
	agg__free(many);
}

int main(void)
{
	RUN(test_family_info);
	RUN(test_http_server);
	RUN(test_exemplar);
	RUN(test_sorted_visit);
	RUN(test_family_cap);
	RUN(test_service_cap);
	RUN(test_fold_order);
	RUN(test_services_limit);
	RUN(test_labels_checked);
	RUN(test_ttl);
	RUN(test_bounded);
	RUN(test_worker);
	RUN(test_redis);
	RUN(test_http_quantile);
	RUN(test_http_server_batch);
	RUN(test_bad_config);
	RUN(test_two_threads);
	RUN(test_10k_series);
	return check_summary();
}
