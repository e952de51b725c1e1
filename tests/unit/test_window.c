// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of window.c: log-linear bucket edges, quantiles against the
 * exact nearest-rank quantiles of known inputs (the 12.5% bound), which
 * slots a read at a given time covers, slot reuse, late values, and the
 * windowed rates and ratios.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "window.h"

#define MS 1000000ull
#define S  1000000000ull
#define SLOT (10 * S)

static void test_slot_ns(void)
{
	CHECK_EQ_INT(window_slot_ns(0), 10 * S);
	CHECK_EQ_INT(window_slot_ns(60 * S), 10 * S);
	CHECK_EQ_INT(window_slot_ns(300 * S), 50 * S);
	CHECK_EQ_INT(window_slot_ns(1), 1 * MS);	/* clamped to WINDOW_NS_MIN */
	CHECK(fabs(window_span_s(SLOT, 60 * S) - 60.0) < 1e-9);
	CHECK(fabs(window_span_s(SLOT, 65 * S) - 65.0) < 1e-9);
	CHECK(fabs(window_span_s(SLOT, 69 * S + 500 * MS) - 69.5) < 1e-9);
	CHECK(fabs(window_span_s(SLOT, 70 * S) - 60.0) < 1e-9);
}

static void test_buckets(void)
{
	int bad = 0;

	CHECK_EQ_INT(WQ_BUCKETS, 146);
	CHECK_EQ_INT(wquant_bucket(0), 0);
	CHECK_EQ_INT(wquant_bucket((1ull << 17) - 1), 0);
	CHECK_EQ_INT(wquant_bucket(1ull << 17), 1);
	CHECK_EQ_INT(wquant_lower(1), 1ull << 17);
	CHECK_EQ_INT(wquant_upper(1), (1ull << 17) + (1ull << 14));
	/* 300 ms = 2^28 * 1.118: first of the 8 buckets of [2^28, 2^29) */
	CHECK_EQ_INT(wquant_bucket(300 * MS), 1 + (28 - 17) * 8);
	CHECK_EQ_INT(wquant_lower(89), 268435456);	/* 2^28 */
	CHECK_EQ_INT(wquant_upper(89), 301989888);	/* 2^28 + 2^25 */
	CHECK_EQ_INT(wquant_bucket((1ull << 35) - 1), 144);
	CHECK_EQ_INT(wquant_bucket(1ull << 35), 145);
	CHECK_EQ_INT(wquant_bucket(UINT64_MAX), 145);
	CHECK(wquant_upper(145) == UINT64_MAX);
	for (uint32_t i = 0; i < WQ_BUCKETS; i++) {
		uint64_t lo = wquant_lower(i), up = wquant_upper(i);

		bad += wquant_bucket(lo) != i;
		bad += wquant_bucket(up - 1) != i;
		if (i + 1 < WQ_BUCKETS)
			bad += wquant_lower(i + 1) != up;
		/* width <= lower / 8 for every bucket but the first and last */
		if (i > 0 && i < WQ_BUCKETS - 1)
			bad += (up - lo) * 8 > lo;
	}
	CHECK_EQ_INT(bad, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const double qs[] = { 0.5, 0.9, 0.95, 0.99, 0.999 };
#define NQ (sizeof(qs) / sizeof(qs[0]))

/* Feeds v[0..n) within one slot, then compares to exact nearest-rank quantiles. */
static double check_against_exact(uint64_t *v, size_t n, const char *what)
{
	static struct wquant w;
	double out[NQ], worst = 0;

	memset(&w, 0, sizeof(w));
	for (size_t i = 0; i < n; i++)
		CHECK(wquant_observe(&w, SLOT, 100 * S + i, v[i]));
	CHECK_EQ_INT(wquant_quantiles(&w, SLOT, 100 * S + n, qs, out, NQ), n);
	qsort(v, n, sizeof(v[0]), cmp_u64);
	for (size_t k = 0; k < NQ; k++) {
		size_t r = (size_t)(qs[k] * (double)n);	/* nearest rank: ceil(q n) */
		double exact, err;

		if ((double)r < qs[k] * (double)n)
			r++;
		exact = (double)v[(r ? r : 1) - 1] / 1e9;
		err = fabs(out[k] - exact) / exact;

		CHECK_MSG(err <= 0.125, "%s q=%g: estimate %.6f s, exact %.6f s (%.1f%%)", what,
			  qs[k], out[k], exact, err * 100);
		if (err > worst)
			worst = err;
	}
	return worst;
}

static void test_quantile_error_bound(void)
{
	static uint64_t v[20000];
	double worst = 0, e;

	/* 1..10000 ms, each once */
	for (int i = 0; i < 10000; i++)
		v[i] = (uint64_t)(i + 1) * MS;
	e = check_against_exact(v, 10000, "uniform");
	worst = e > worst ? e : worst;
	/* many scales: 0.2 ms .. 30 s, heavy tail */
	for (int i = 0; i < 20000; i++)
		v[i] = (200000ull << (rnd() % 17)) + rnd() % (1ull << (17 + rnd() % 17));
	for (int i = 0; i < 20000; i++)
		if (v[i] > 30 * S)
			v[i] = 30 * S;
	e = check_against_exact(v, 20000, "multi-scale");
	worst = e > worst ? e : worst;
	/* a bimodal API: 95% fast (5-20 ms), 5% slow (250-900 ms) */
	for (int i = 0; i < 20000; i++)
		v[i] = i % 20 ? 5 * MS + rnd() % (15 * MS) : 250 * MS + rnd() % (650 * MS);
	e = check_against_exact(v, 20000, "bimodal");
	worst = e > worst ? e : worst;
	/* all equal: every quantile is in one bucket */
	for (int i = 0; i < 1000; i++)
		v[i] = 300 * MS;
	e = check_against_exact(v, 1000, "constant");
	worst = e > worst ? e : worst;
	printf("  worst relative error over the inputs: %.2f%% (bound 12.5%%)\n", worst * 100);
}

static void test_quantile_edges(void)
{
	static struct wquant w;
	double q[] = { 0, 0.5, 1, -0.1, 1.1 }, out[5];

	memset(&w, 0, sizeof(w));
	CHECK_EQ_INT(wquant_quantiles(&w, SLOT, 5 * S, q, out, 5), 0);
	for (int i = 0; i < 5; i++)
		CHECK(isnan(out[i]));
	/* below 131 us: interpolated in [0, 131 us) */
	wquant_observe(&w, SLOT, 5 * S, 1000);
	wquant_observe(&w, SLOT, 5 * S, 2000);
	CHECK_EQ_INT(wquant_quantiles(&w, SLOT, 5 * S, q, out, 5), 2);
	CHECK(out[0] == 0);
	CHECK(fabs(out[1] - 65536e-9) < 1e-15);	/* rank 1 of 2: half of 2^17 ns */
	CHECK(fabs(out[2] - 131072e-9) < 1e-15);
	CHECK(isnan(out[3]) && isnan(out[4]));
	/* above 34.4 s: the lower bound 2^35 ns */
	for (int i = 0; i < 10; i++)
		wquant_observe(&w, SLOT, 5 * S, 100 * S);
	wquant_quantiles(&w, SLOT, 5 * S, q, out, 3);
	CHECK(fabs(out[2] - 34.359738368) < 1e-9);
}

/* With 10 s slots, a value at 5 s is read until 70 s (epochs 1..7). */
static void test_sliding(void)
{
	static struct wquant w, copy;

	memset(&w, 0, sizeof(w));
	CHECK(wquant_observe(&w, SLOT, 5 * S, 10 * MS));
	CHECK(wquant_observe(&w, SLOT, 15 * S, 20 * MS));
	CHECK(wquant_observe(&w, SLOT, 15 * S + 1, 20 * MS));
	CHECK_EQ_INT(wquant_count(&w, SLOT, 5 * S), 3);	/* later slots count too (see below) */
	CHECK_EQ_INT(wquant_count(&w, SLOT, 16 * S), 3);
	CHECK_EQ_INT(wquant_count(&w, SLOT, 70 * S - 1), 3);
	CHECK_EQ_INT(wquant_count(&w, SLOT, 70 * S), 2);	/* the 5 s value left */
	CHECK_EQ_INT(wquant_count(&w, SLOT, 80 * S - 1), 2);
	CHECK_EQ_INT(wquant_count(&w, SLOT, 80 * S), 0);
	CHECK_EQ_INT(wquant_count(&w, SLOT, 1000 * S), 0);
	/* a reader slightly behind the writer still sees the writer's slot */
	CHECK_EQ_INT(wquant_count(&w, SLOT, 1), 3);

	/* 75 s reuses the 5 s slot (epoch 8 = 1 + 7): reset, then counted */
	CHECK(wquant_observe(&w, SLOT, 75 * S, 30 * MS));
	CHECK_EQ_INT(wquant_count(&w, SLOT, 75 * S), 3);
	/* a value a window late lands on a reused slot: refused */
	CHECK(!wquant_observe(&w, SLOT, 6 * S, 30 * MS));
	CHECK_EQ_INT(wquant_count(&w, SLOT, 75 * S), 3);
	/* but late within its slot's life is fine */
	CHECK(wquant_observe(&w, SLOT, 16 * S, 30 * MS));
	CHECK_EQ_INT(wquant_count(&w, SLOT, 75 * S), 4);

	wquant_read(&copy, &w);
	CHECK(memcmp(&copy, &w, sizeof(w)) == 0);
}

enum { DONE, FAILED, TIMEOUT };

static void test_rates(void)
{
	static struct wrate w, copy;

	memset(&w, 0, sizeof(w));
	/* one completion per second at t = 1..60 s, a failure every 4th second */
	for (uint64_t t = 1; t <= 60; t++) {
		CHECK(wrate_add(&w, SLOT, t * S, DONE, 1));
		if (t % 4 == 0)
			CHECK(wrate_add(&w, SLOT, t * S, FAILED, 1));
	}
	CHECK(wrate_add(&w, SLOT, 59 * S, TIMEOUT, 3));
	CHECK(!wrate_add(&w, SLOT, 59 * S, WRATE_MAX, 1));
	CHECK_EQ_INT(wrate_sum(&w, SLOT, 60 * S, DONE), 60);
	CHECK_EQ_INT(wrate_sum(&w, SLOT, 60 * S, FAILED), 15);
	CHECK_EQ_INT(wrate_sum(&w, SLOT, 60 * S, TIMEOUT), 3);
	CHECK_EQ_INT(wrate_sum(&w, SLOT, 60 * S, WRATE_MAX), 0);
	CHECK(fabs(wrate_per_s(&w, SLOT, 60 * S, DONE) - 1.0) < 1e-12);	/* 60 in 60 s */
	CHECK(fabs(wrate_ratio(&w, SLOT, 60 * S, FAILED, DONE) - 0.25) < 1e-12);
	/* at 75 s: epochs 2..8, so t = 10..60 s: 51 completions over 65 s */
	CHECK_EQ_INT(wrate_sum(&w, SLOT, 75 * S, DONE), 51);
	CHECK(fabs(wrate_per_s(&w, SLOT, 75 * S, DONE) - 51.0 / 65.0) < 1e-12);
	/* long after: nothing, ratio 0 */
	CHECK_EQ_INT(wrate_sum(&w, SLOT, 500 * S, DONE), 0);
	CHECK(wrate_ratio(&w, SLOT, 500 * S, FAILED, DONE) == 0);
	CHECK(wrate_add(&w, SLOT, 500 * S, DONE, 1));	/* epoch 51, slot 2 */
	CHECK(!wrate_add(&w, SLOT, 15 * S, DONE, 1));	/* epoch 2: its slot now holds 51 */
	CHECK_EQ_INT(wrate_sum(&w, SLOT, 500 * S, DONE), 1);
	wrate_read(&copy, &w);
	CHECK(memcmp(&copy, &w, sizeof(w)) == 0);
}

int main(void)
{
	RUN(test_slot_ns);
	RUN(test_buckets);
	RUN(test_quantile_error_bound);
	RUN(test_quantile_edges);
	RUN(test_sliding);
	RUN(test_rates);
	return check_summary();
}
