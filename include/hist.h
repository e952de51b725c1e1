/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hist.h - fixed-bucket latency histogram: observe in nanoseconds, export
 * Prometheus-style cumulative buckets in seconds.
 *
 * The bucket layout (struct hist_bounds) is shared by every histogram that
 * uses it; a histogram is only counters, so it can live inside a bigger
 * record and be copied word by word. Nothing is allocated, ever.
 *
 * Bucket rule: an observation v lands in the first bucket whose bound b has
 * v <= b (Prometheus `le`), else in the +Inf bucket. Bounds are held in
 * integer nanoseconds, so "exactly 300 ms" is counted under le="0.3".
 *
 * Cost: hist_bucket() is a branch-free binary search over 32 padded bounds
 * (5 compares and conditional moves); hist_observe() adds three stores.
 * tests/unit/test_hist.c measures it (a few ns).
 *
 * Concurrency: hist_observe() is for ONE writer; its stores are release
 * stores so that a reader protected by a sequence count (seqcount.h) can copy
 * the histogram with hist_read() while it is being updated.
 */
#ifndef SBA_HIST_H
#define SBA_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_MAX_BOUNDS 23	/* finite bounds; +Inf is implicit */
#define HIST_SEARCH	32	/* search array size: bounds padded with UINT64_MAX */
#define HIST_WORDS	(2 + HIST_MAX_BOUNDS + 1)	/* struct hist in uint64_t */

struct hist_bounds {
	uint32_t n;			/* finite bounds, 1..HIST_MAX_BOUNDS */
	uint32_t pad;
	uint64_t le_ns[HIST_SEARCH];	/* strictly increasing, then UINT64_MAX */
	double le_s[HIST_MAX_BOUNDS];	/* the same in seconds, for `le` labels */
};

struct hist {
	uint64_t count;				/* observations */
	uint64_t sum_ns;			/* their sum (wraps after 584 years) */
	uint64_t bucket[HIST_MAX_BOUNDS + 1];	/* NOT cumulative; [bounds->n] is +Inf */
};

/* What an exporter prints. cum[i] for i < n is the `le=le_s[i]` bucket,
 * cum[n] the +Inf bucket, which equals count. */
struct hist_export {
	uint32_t n;
	uint64_t cum[HIST_MAX_BOUNDS + 1];
	uint64_t count;
	double sum_s;
};

/*
 * The default layout, in seconds:
 * 0.001 0.0025 0.005 0.01 0.025 0.05 0.075 0.1 0.15 0.2 0.25 0.3 0.4 0.5
 * 0.75 1 2.5 5 10 (19 bounds). Static, never NULL. Why: see hist.c.
 */
const struct hist_bounds *hist_bounds_default(void);

/*
 * Fills *b from n bounds in seconds. Returns 0, or -EINVAL if n is 0 or more
 * than HIST_MAX_BOUNDS, a bound is not finite and > 0, or the bounds are not
 * strictly increasing once rounded to nanoseconds.
 */
int hist_bounds_init(struct hist_bounds *b, const double *le_s, uint32_t n);

/* Bucket index of v: 0..b->n (b->n = +Inf). */
static inline uint32_t hist_bucket(const struct hist_bounds *b, uint64_t v)
{
	const uint64_t *le = b->le_ns;
	uint32_t i = 0;

	/* lower_bound over 32 sorted entries; le[31] is UINT64_MAX, never < v */
	i += le[i + 15] < v ? 16 : 0;
	i += le[i + 7] < v ? 8 : 0;
	i += le[i + 3] < v ? 4 : 0;
	i += le[i + 1] < v ? 2 : 0;
	i += le[i] < v ? 1 : 0;
	return i;
}

/* One observation of v ns. One writer only (see above). */
static inline void hist_observe(struct hist *h, const struct hist_bounds *b, uint64_t v)
{
	uint32_t i = hist_bucket(b, v);

	__atomic_store_n(&h->bucket[i], h->bucket[i] + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&h->count, h->count + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&h->sum_ns, h->sum_ns + v, __ATOMIC_RELEASE);
}

/* Copies src into dst with acquire loads (a reader under a seqcount). */
void hist_read(struct hist *dst, const struct hist *src);

/* dst += src, bucket by bucket (same layout). Not for shared histograms. */
void hist_merge(struct hist *dst, const struct hist *src);

/*
 * Cumulative buckets in layout b. cum[n] and count are the sum of all
 * buckets, so `_count` always equals the +Inf bucket even if h->count was
 * copied from a different moment.
 */
void hist_export(const struct hist *h, const struct hist_bounds *b, struct hist_export *out);

/*
 * The q-quantile (0 <= q <= 1) in seconds, estimated like PromQL's
 * histogram_quantile(): linear interpolation inside the bucket holding rank
 * q*count, 0 as the lower edge of the first bucket, the highest finite bound
 * when the rank falls in +Inf. NaN when empty or q is out of range.
 * The error is at most the width of that bucket.
 */
double hist_quantile(const struct hist *h, const struct hist_bounds *b, double q);

#endif /* SBA_HIST_H */
