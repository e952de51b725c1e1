// SPDX-License-Identifier: Apache-2.0
/*
 * hist.c - fixed-bucket latency histogram (see hist.h).
 *
 * Why these default bounds (seconds):
 *   0.001 0.0025 0.005 0.01 0.025 0.05 0.075 | 0.1 0.15 0.2 0.25 0.3 | 0.4 0.5 0.75 1 | 2.5 5 10
 * - The target is p95 < 300 ms, so 0.3 is a bound: the share of requests
 *   within target is read exactly from le="0.3" / _count, no interpolation.
 * - Between 100 and 300 ms, where the target is decided, buckets are 50 ms
 *   wide, so histogram_quantile() is off by at most 50 ms there.
 * - Below 100 ms, a 1-2.5-5 progression: cache hits (~1 ms), database
 *   lookups (5-25 ms) and typical handlers (25-100 ms) stay apart.
 * - Above 300 ms: 0.4 and 0.5 show how far a breach goes, 0.75/1 the slow
 *   tail, 2.5/5/10 timeouts (typical client and proxy timeouts are 5-10 s).
 * 19 bounds + 1 make 22 series per label set with _sum and _count, the price
 * of the resolution; agg.c caps the label sets.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "hist.h"

#define MS 1000000ull

static const struct hist_bounds default_bounds = {
	.n = 19,
	.le_ns = {
		1 * MS, 2500000ull, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 75 * MS, 100 * MS,
		150 * MS, 200 * MS, 250 * MS, 300 * MS, 400 * MS, 500 * MS, 750 * MS, 1000 * MS,
		2500 * MS, 5000 * MS, 10000 * MS,
		UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
		UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
	},
	.le_s = {
		0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
		0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10,
	},
};

const struct hist_bounds *hist_bounds_default(void)
{
	return &default_bounds;
}

int hist_bounds_init(struct hist_bounds *b, const double *le_s, uint32_t n)
{
	struct hist_bounds t;

	if (!b || !le_s || n == 0 || n > HIST_MAX_BOUNDS)
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	t.n = n;
	for (uint32_t i = 0; i < n; i++) {
		double s = le_s[i];

		/* 1e9 s is 31 years: anything above is a configuration error */
		if (!isfinite(s) || s <= 0 || s > 1e9)
			return -EINVAL;
		t.le_ns[i] = (uint64_t)(s * 1e9 + 0.5);	/* no libm */
		t.le_s[i] = s;
		if (t.le_ns[i] == 0 || (i > 0 && t.le_ns[i] <= t.le_ns[i - 1]))
			return -EINVAL;
	}
	for (uint32_t i = n; i < HIST_SEARCH; i++)
		t.le_ns[i] = UINT64_MAX;
	*b = t;
	return 0;
}

void hist_read(struct hist *dst, const struct hist *src)
{
	dst->count = __atomic_load_n(&src->count, __ATOMIC_ACQUIRE);
	dst->sum_ns = __atomic_load_n(&src->sum_ns, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i <= HIST_MAX_BOUNDS; i++)
		dst->bucket[i] = __atomic_load_n(&src->bucket[i], __ATOMIC_ACQUIRE);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	for (uint32_t i = 0; i <= HIST_MAX_BOUNDS; i++)
		dst->bucket[i] += src->bucket[i];
}

void hist_export(const struct hist *h, const struct hist_bounds *b, struct hist_export *out)
{
	uint64_t c = 0;

	memset(out, 0, sizeof(*out));
	out->n = b->n;
	for (uint32_t i = 0; i <= b->n; i++) {
		c += h->bucket[i];
		out->cum[i] = c;
	}
	out->count = c;
	out->sum_s = (double)h->sum_ns / 1e9;
}

double hist_quantile(const struct hist *h, const struct hist_bounds *b, double q)
{
	uint64_t total = 0, cum = 0;
	double rank;

	for (uint32_t i = 0; i <= b->n; i++)
		total += h->bucket[i];
	if (total == 0 || !(q >= 0 && q <= 1))
		return NAN;
	rank = q * (double)total;
	for (uint32_t i = 0; i < b->n; i++) {
		uint64_t in = h->bucket[i];
		double lo = i ? b->le_s[i - 1] : 0;

		if (in && (double)(cum + in) >= rank) {
			double f = (rank - (double)cum) / (double)in;

			return lo + (b->le_s[i] - lo) * (f < 0 ? 0 : f);
		}
		cum += in;
	}
	return b->le_s[b->n - 1];
}
