// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of slowlog.c: the N slowest per slot, the merge across slots
 * (exact), the one-minute cut, late requests, string bounds, the exact JSON
 * text with escaping, and a writer adding while a reader renders.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "buf.h"
#include "check.h"
#include "slowlog.h"

#define MS 1000000ull
#define S  1000000000ull

static bool add(struct slowlog *sl, const char *route, uint64_t dur, uint64_t end)
{
	struct slowlog_req r = { .service = "api", .method = "GET", .route = route,
				 .tenant = "acme", .status = 200, .duration_ns = dur,
				 .end_ns = end };

	return slowlog__add(sl, &r);
}

static void test_n_slowest(void)
{
	struct slowlog *sl = slowlog__new(3, 0);
	struct slowlog_entry e[8];
	static const uint64_t d[] = { 5, 1, 9, 3, 7, 9 };
	struct slowlog_stats st;

	for (int i = 0; i < 6; i++)
		add(sl, "/x", d[i] * MS, 1 * S + (uint64_t)i);
	/* not slower than the 3 kept: refused before any copy */
	CHECK(!add(sl, "/y", 2 * MS, 2 * S));
	CHECK_EQ_INT(slowlog__snapshot(sl, 3 * S, e, 8), 3);
	CHECK_EQ_INT(e[0].duration_ns, 9 * MS);
	CHECK_EQ_INT(e[0].end_ns, 1 * S + 5);	/* ties: the most recent first */
	CHECK_EQ_INT(e[1].duration_ns, 9 * MS);
	CHECK_EQ_INT(e[2].duration_ns, 7 * MS);
	CHECK_EQ_STR(e[2].route, "/x");
	CHECK_EQ_STR(e[2].tenant, "acme");
	CHECK_EQ_INT(e[2].status, 200);
	/* max limits the copy */
	CHECK_EQ_INT(slowlog__snapshot(sl, 3 * S, e, 1), 1);
	slowlog__stats(sl, &st);
	CHECK_EQ_INT(st.added, 6);	/* 5, 1, 9, then 3, 7 and 9 each replace the least */
	CHECK_EQ_INT(st.busy_dropped, 0);
	slowlog__free(sl);
	errno = 0;
	CHECK(slowlog__new(SLOWLOG_N_MAX + 1, 0) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	slowlog__free(NULL);
}

/* N = 2: slot 1 keeps 30 and 20 (10 dropped), slot 2 keeps 25: the merge is
 * the true top 2 of the minute. */
static void test_merge_and_window(void)
{
	struct slowlog *sl = slowlog__new(2, 0);
	struct slowlog_entry e[4];
	struct slowlog_stats st;

	add(sl, "/a", 10 * MS, 1 * S);
	add(sl, "/b", 20 * MS, 2 * S);
	add(sl, "/c", 30 * MS, 3 * S);
	add(sl, "/d", 25 * MS, 12 * S);
	add(sl, "/e", 5 * MS, 62 * S);
	CHECK_EQ_INT(slowlog__snapshot(sl, 62 * S, e, 4), 2);
	CHECK_EQ_STR(e[0].route, "/c");
	CHECK_EQ_STR(e[1].route, "/d");
	/* at 63.5 s the minute starts after 3 s: /c (3 s) is out */
	CHECK_EQ_INT(slowlog__snapshot(sl, 63 * S + 500 * MS, e, 4), 2);
	CHECK_EQ_STR(e[0].route, "/d");
	CHECK_EQ_STR(e[1].route, "/e");
	/* at 200 s nothing is left */
	CHECK_EQ_INT(slowlog__snapshot(sl, 200 * S, e, 4), 0);
	/* 75 s reuses the slot of 1..10 s; then a request ending at 5 s is late */
	CHECK(add(sl, "/f", 1 * MS, 75 * S));
	CHECK(!add(sl, "/g", 999 * MS, 5 * S));
	slowlog__stats(sl, &st);
	CHECK_EQ_INT(st.late, 1);
	/* (15 s, 75 s]: /d at 12 s is out, /e and /f are in */
	CHECK_EQ_INT(slowlog__snapshot(sl, 75 * S, e, 4), 2);
	CHECK_EQ_STR(e[0].route, "/e");
	CHECK_EQ_STR(e[1].route, "/f");
	slowlog__free(sl);
}

static void test_json(void)
{
	struct slowlog *sl = slowlog__new(0, 0);
	struct slowlog_req r = {
		.service = "api", .method = "POST", .route = "/a\"b\\c/\xc3\xa9",
		.tenant = NULL, .request_id = "req-1", .traceparent =
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		.status = 503, .duration_ns = 1234567890, .end_ns = 10 * S,
	};
	struct buf b;
	char long_route[400];

	buf_init(&b, 0);
	CHECK_EQ_INT(slowlog__render_json(sl, 10 * S, &b), 0);
	CHECK_EQ_STR(buf_cstr(&b), "{\"window_seconds\":60,\"count\":0,\"requests\":[]}");
	CHECK(slowlog__add(sl, &r));
	buf_reset(&b);
	CHECK_EQ_INT(slowlog__render_json(sl, 13 * S + 250 * MS, &b), 0);
	CHECK_EQ_STR(buf_cstr(&b),
		     "{\"window_seconds\":60,\"count\":1,\"requests\":[{\"status\":503,"
		     "\"duration_seconds\":1.234567,\"age_seconds\":3.250,\"service\":\"api\","
		     "\"method\":\"POST\",\"route\":\"/a\\\"b\\\\c/\\u00c3\\u00a9\","
		     "\"tenant\":\"\",\"request_id\":\"req-1\",\"traceparent\":"
		     "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}]}");
	/* strings are cut to their fields */
	memset(long_route, 'r', sizeof(long_route) - 1);
	long_route[sizeof(long_route) - 1] = '\0';
	r.route = long_route;
	r.duration_ns = 2 * S;
	CHECK(slowlog__add(sl, &r));
	{
		struct slowlog_entry e[2];

		CHECK_EQ_INT(slowlog__snapshot(sl, 10 * S, e, 2), 2);
		CHECK_EQ_INT(strlen(e[0].route), SLOWLOG_ROUTE_MAX);
	}
	/* a capped buffer reports it */
	buf_free(&b);
	buf_init(&b, 64);
	CHECK_EQ_INT(slowlog__render_json(sl, 10 * S, &b), -ENOMEM);
	buf_free(&b);
	slowlog__free(sl);
}

struct stress {
	struct slowlog *sl;
	int stop;
	uint64_t renders, bad;
};

static void *reader(void *p)
{
	struct stress *st = p;
	struct slowlog_entry e[20];
	struct buf b;

	buf_init(&b, 0);
	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		int n = slowlog__snapshot(st->sl, 5 * S, e, 20);

		for (int i = 1; i < n; i++)
			st->bad += e[i].duration_ns > e[i - 1].duration_ns;
		buf_reset(&b);
		st->bad += slowlog__render_json(st->sl, 5 * S, &b) != 0;
		st->renders++;
	}
	buf_free(&b);
	return NULL;
}

/* The writer adds ever slower requests while a reader renders. */
static void test_writer_and_reader(void)
{
	static struct stress st;
	struct slowlog_entry e[20];
	struct slowlog_stats ss;
	pthread_t t;
	uint64_t i, n = 200000;

	memset(&st, 0, sizeof(st));
	st.sl = slowlog__new(20, 0);
	CHECK(pthread_create(&t, NULL, reader, &st) == 0);
	for (i = 1; i <= n; i++)
		add(st.sl, "/r", i * 1000, 1 * S + i);
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	slowlog__flush(st.sl);
	slowlog__stats(st.sl, &ss);
	printf("  %llu renders, %llu added, %llu lost to a busy lock\n",
	       (unsigned long long)st.renders, (unsigned long long)ss.added,
	       (unsigned long long)ss.busy_dropped);
	CHECK_EQ_INT(st.bad, 0);
	CHECK_EQ_INT(slowlog__snapshot(st.sl, 5 * S, e, 20), 20);
	/* the slowest ones came last; at most the queue's overflow is missing */
	CHECK(e[0].duration_ns == n * 1000 || ss.busy_dropped > 0);
	for (int k = 1; k < 20; k++)
		CHECK(e[k].duration_ns < e[k - 1].duration_ns);
	CHECK_EQ_INT(ss.added + ss.busy_dropped, n);
	slowlog__free(st.sl);
}

int main(void)
{
	RUN(test_n_slowest);
	RUN(test_merge_and_window);
	RUN(test_json);
	RUN(test_writer_and_reader);
	return check_summary();
}
