// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of hist.c: the `le` rule at every default bound (exactly on,
 * one ns above), the branch-free search against a linear one for every
 * layout size, cumulative export, quantile interpolation, bad layouts, and a
 * micro-benchmark that prints ns per observation.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "hist.h"

#define MS 1000000ull

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

struct bucket_case {
	uint64_t v;
	uint32_t idx;
};

static const struct bucket_case bucket_cases[] = {
	{ 0, 0 },
	{ 1, 0 },
	{ 1 * MS, 0 },		/* le="0.001" includes 1 ms itself */
	{ 1 * MS + 1, 1 },
	{ 2500000, 1 },
	{ 2500001, 2 },
	{ 99999999, 7 },
	{ 100 * MS, 7 },
	{ 100 * MS + 1, 8 },
	{ 299999999, 11 },
	{ 300 * MS, 11 },	/* the SLO bound */
	{ 300 * MS + 1, 12 },
	{ 1000 * MS, 15 },
	{ 10000 * MS, 18 },
	{ 10000 * MS + 1, 19 },	/* +Inf */
	{ UINT64_MAX - 1, 19 },
	{ UINT64_MAX, 19 },
};

static void test_default_bounds(void)
{
	const struct hist_bounds *b = hist_bounds_default();
	static const double want[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075,
				       0.1,   0.15,   0.2,   0.25, 0.3,   0.4,  0.5,
				       0.75,  1,      2.5,   5,    10 };

	CHECK_EQ_INT(b->n, 19);
	for (uint32_t i = 0; i < 19; i++) {
		CHECK_MSG(b->le_s[i] == want[i], "le_s[%u] = %g", i, b->le_s[i]);
		CHECK_EQ_INT(b->le_ns[i], (uint64_t)(want[i] * 1e9 + 0.5));
	}
	for (uint32_t i = 19; i < HIST_SEARCH; i++)
		CHECK(b->le_ns[i] == UINT64_MAX);
	for (size_t i = 0; i < sizeof(bucket_cases) / sizeof(bucket_cases[0]); i++)
		CHECK_MSG(hist_bucket(b, bucket_cases[i].v) == bucket_cases[i].idx,
			  "v=%llu: %u, want %u", (unsigned long long)bucket_cases[i].v,
			  hist_bucket(b, bucket_cases[i].v), bucket_cases[i].idx);
}

static uint32_t linear_bucket(const struct hist_bounds *b, uint64_t v)
{
	uint32_t i = 0;

	while (i < b->n && b->le_ns[i] < v)
		i++;
	return i;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Every layout size 1..HIST_MAX_BOUNDS: bounds, bounds +-1, random values. */
static void test_search_matches_linear(void)
{
	double le[HIST_MAX_BOUNDS];
	struct hist_bounds b;
	int bad = 0;

	for (uint32_t n = 1; n <= HIST_MAX_BOUNDS; n++) {
		for (uint32_t i = 0; i < n; i++)
			le[i] = 0.0001 * (double)(1u << i);
		CHECK_EQ_INT(hist_bounds_init(&b, le, n), 0);
		for (uint32_t i = 0; i < n; i++) {
			for (int d = -1; d <= 1; d++) {
				uint64_t v = b.le_ns[i] + (uint64_t)(int64_t)d;

				bad += hist_bucket(&b, v) != linear_bucket(&b, v);
			}
		}
		for (int k = 0; k < 20000; k++) {
			uint64_t v = rnd() >> (rnd() % 64);

			bad += hist_bucket(&b, v) != linear_bucket(&b, v);
		}
		CHECK_EQ_INT(hist_bucket(&b, UINT64_MAX), n);
		CHECK_EQ_INT(hist_bucket(&b, 0), 0);
	}
	CHECK_EQ_INT(bad, 0);
}

static void test_bad_bounds(void)
{
	struct hist_bounds b;
	double ok[] = { 0.1, 0.2 };
	double dup[] = { 0.1, 0.1 };
	double down[] = { 0.2, 0.1 };
	double zero[] = { 0, 0.1 };
	double neg[] = { -1, 0.1 };
	double tiny[] = { 1e-10, 0.1 };		/* rounds to 0 ns */
	double same_ns[] = { 1e-9, 1.2e-9 };	/* both round to 1 ns */
	double inf[] = { 0.1, INFINITY };
	double many[HIST_MAX_BOUNDS + 1];

	for (int i = 0; i <= HIST_MAX_BOUNDS; i++)
		many[i] = i + 1;
	CHECK_EQ_INT(hist_bounds_init(&b, ok, 2), 0);
	CHECK_EQ_INT(b.n, 2);
	CHECK_EQ_INT(b.le_ns[1], 200 * MS);
	CHECK(b.le_ns[2] == UINT64_MAX);
	CHECK_EQ_INT(hist_bounds_init(&b, ok, 0), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, dup, 2), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, down, 2), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, zero, 2), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, neg, 2), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, tiny, 2), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, same_ns, 2), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, inf, 2), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, many, HIST_MAX_BOUNDS + 1), -EINVAL);
	CHECK_EQ_INT(hist_bounds_init(&b, many, HIST_MAX_BOUNDS), 0);
	CHECK_EQ_INT(b.n, HIST_MAX_BOUNDS);
	CHECK(b.le_ns[HIST_MAX_BOUNDS - 1] == 23000 * MS);
	CHECK_EQ_INT(hist_bounds_init(&b, down, 2), -EINVAL);
	CHECK_EQ_INT(b.n, HIST_MAX_BOUNDS);	/* a failure leaves *b alone */
}

static void test_observe_export(void)
{
	const struct hist_bounds *b = hist_bounds_default();
	struct hist h = { 0 }, copy, m = { 0 };
	struct hist_export e;
	/* 3 in le=0.001, 1 at 0.3 exactly, 1 at 0.3+1ns, 2 above 10 s */
	static const uint64_t v[] = { 0, 500000, 1 * MS, 300 * MS, 300 * MS + 1,
				      11000 * MS, 60000 * MS };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		hist_observe(&h, b, v[i]);
	CHECK_EQ_INT(h.count, 7);
	CHECK_EQ_INT(h.sum_ns, 500000 + 1 * MS + 300 * MS + 300 * MS + 1 + 11000 * MS + 60000 * MS);
	CHECK_EQ_INT(h.bucket[0], 3);
	CHECK_EQ_INT(h.bucket[11], 1);
	CHECK_EQ_INT(h.bucket[12], 1);
	CHECK_EQ_INT(h.bucket[19], 2);

	hist_read(&copy, &h);
	CHECK(memcmp(&copy, &h, sizeof(h)) == 0);
	hist_export(&copy, b, &e);
	CHECK_EQ_INT(e.n, 19);
	static const uint64_t cum[20] = { 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5, 5, 5, 5, 5, 5, 5, 7 };
	for (int i = 0; i < 20; i++)
		CHECK_MSG(e.cum[i] == cum[i], "cum[%d] = %llu", i, (unsigned long long)e.cum[i]);
	CHECK_EQ_INT(e.count, 7);
	CHECK(fabs(e.sum_s - 71.601500001) < 1e-9);

	hist_merge(&m, &h);
	hist_merge(&m, &h);
	CHECK_EQ_INT(m.count, 14);
	CHECK_EQ_INT(m.bucket[19], 4);
	CHECK_EQ_INT(m.sum_ns, 2 * h.sum_ns);

	/* _count follows the buckets even if the counter says otherwise */
	copy.count = 99;
	hist_export(&copy, b, &e);
	CHECK_EQ_INT(e.count, 7);
}

static void test_quantile(void)
{
	const struct hist_bounds *b = hist_bounds_default();
	struct hist h = { 0 };

	CHECK(isnan(hist_quantile(&h, b, 0.5)));
	/* 100 observations spread evenly in (0.1, 0.15], 100 in (0.2, 0.25] */
	for (int i = 1; i <= 100; i++) {
		hist_observe(&h, b, 100 * MS + (uint64_t)i * 500000);
		hist_observe(&h, b, 200 * MS + (uint64_t)i * 500000);
	}
	/* rank 100 is the end of bucket (0.1, 0.15] */
	CHECK(fabs(hist_quantile(&h, b, 0.5) - 0.15) < 1e-12);
	/* rank 50: half-way through (0.1, 0.15] */
	CHECK(fabs(hist_quantile(&h, b, 0.25) - 0.125) < 1e-12);
	/* rank 190: 90% through (0.2, 0.25] */
	CHECK(fabs(hist_quantile(&h, b, 0.95) - 0.245) < 1e-12);
	CHECK(fabs(hist_quantile(&h, b, 1.0) - 0.25) < 1e-12);
	CHECK(fabs(hist_quantile(&h, b, 0.0) - 0.1) < 1e-12);
	CHECK(isnan(hist_quantile(&h, b, 1.5)));
	CHECK(isnan(hist_quantile(&h, b, -0.1)));
	CHECK(isnan(hist_quantile(&h, b, NAN)));
	/* ranks in +Inf give the highest finite bound */
	for (int i = 0; i < 1000; i++)
		hist_observe(&h, b, 20000 * MS);
	CHECK(fabs(hist_quantile(&h, b, 0.99) - 10.0) < 1e-12);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Prints ns per observation over latencies spread 0.1 ms .. 30 s. */
static void test_observe_cost(void)
{
	const struct hist_bounds *b = hist_bounds_default();
	static uint64_t v[4096];
	struct hist h = { 0 };
	const int rounds = 500;
	double t0, t1, ns;

	for (int i = 0; i < 4096; i++)
		v[i] = 100000 + rnd() % (30000 * MS) / (1 + rnd() % 1000);
	t0 = now_s();
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < 4096; i++)
			hist_observe(&h, b, v[i]);
	t1 = now_s();
	ns = (t1 - t0) * 1e9 / (rounds * 4096.0);
	printf("  hist_observe: %.2f ns/observe (%d observations%s)\n", ns, rounds * 4096,
	       SANITIZED ? "; ASan+UBSan build" : "");
	CHECK_EQ_INT(h.count, rounds * 4096);
	CHECK(ns < 500);	/* a sanity bound, not the claim */
}

int main(void)
{
	RUN(test_default_bounds);
	RUN(test_search_matches_linear);
	RUN(test_bad_bounds);
	RUN(test_observe_export);
	RUN(test_quantile);
	RUN(test_observe_cost);
	return check_summary();
}
