/* SPDX-License-Identifier: Apache-2.0 */
/*
 * window.h - sliding-window quantiles and rates (default window 60 s).
 *
 * Time is cut into slots of window/WINDOW_SLOTS (10 s by default). A ring of
 * WINDOW_SLOTS + 1 slots holds the slot being filled and the WINDOW_SLOTS
 * before it; a read merges them. So a read covers between one window and one
 * window plus a slot (60 to 70 s by default): window_span_s() gives the
 * exact span, and rates divide by it. Slots are tagged with their epoch, so
 * a quiet stretch needs no ticking: stale slots are skipped by the reader and
 * reset by the next write that lands on them.
 *
 * Quantiles (struct wquant) use log-linear buckets: below 2^17 ns (131 us)
 * one bucket, then 8 buckets per power of two up to 2^35 ns (34.4 s), then
 * one bucket for anything longer. A quantile is interpolated linearly inside
 * the bucket holding its rank, like PromQL's histogram_quantile().
 *
 * Error bound: the estimate and the exact nearest-rank quantile lie in the
 * same bucket, whose width is at most 1/8 of its lower edge, so between
 * 131 us and 34.4 s the estimate is within 12.5% of the exact value; below
 * 131 us within 131 us; above 34.4 s the result is 34.4 s (a lower bound).
 * This is over the data in the window; the window itself spans 60-70 s.
 *
 * Concurrency: the *_observe/_add functions are for ONE writer and use
 * release stores; a reader under a sequence count (seqcount.h) copies a
 * window with wquant_read()/wrate_read() and computes on its copy.
 * All times are CLOCK_MONOTONIC ns; `now` must not be 0.
 */
#ifndef SBA_WINDOW_H
#define SBA_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#define WINDOW_SLOTS		6
#define WINDOW_RING		(WINDOW_SLOTS + 1)
#define WINDOW_NS_DEFAULT	(60ull * 1000000000ull)
#define WINDOW_NS_MIN		(WINDOW_SLOTS * 1000000ull)	/* 1 ms slots */

#define WQ_SUB_BITS	3
#define WQ_SUB		(1u << WQ_SUB_BITS)	/* buckets per power of two */
#define WQ_MIN_EXP	17			/* 2^17 ns = 131 us */
#define WQ_MAX_EXP	35			/* 2^35 ns = 34.4 s */
#define WQ_BUCKETS	(2 + (WQ_MAX_EXP - WQ_MIN_EXP) * WQ_SUB)	/* 146 */

struct wq_slot {
	uint64_t epoch;			/* slot number + 1; 0 = never used */
	uint64_t count;
	uint32_t n[WQ_BUCKETS];		/* a 32-bit count per slot is plenty */
};

struct wquant {
	struct wq_slot s[WINDOW_RING];
};

#define WRATE_MAX 6			/* counters per struct wrate */

struct wrate_slot {
	uint64_t epoch;
	uint64_t n[WRATE_MAX];
};

struct wrate {
	struct wrate_slot s[WINDOW_RING];
};

/* Slot length for a window: window_ns / WINDOW_SLOTS (0 = the default). */
uint64_t window_slot_ns(uint64_t window_ns);

/* Seconds covered by a read at now: WINDOW_SLOTS slots + the current one's
 * elapsed part. */
double window_span_s(uint64_t slot_ns, uint64_t now_ns);

/* Bucket of v ns, and its edges [lower, upper) in ns (upper of the last
 * bucket is UINT64_MAX). */
uint32_t wquant_bucket(uint64_t v_ns);
uint64_t wquant_lower(uint32_t idx);
uint64_t wquant_upper(uint32_t idx);

/*
 * Counts one value of v ns at time now. Returns false (nothing counted) if
 * now is so old that its slot was already reused for a later time (more than
 * a window late).
 */
bool wquant_observe(struct wquant *w, uint64_t slot_ns, uint64_t now_ns, uint64_t v_ns);

/* Copy with acquire loads (reader side). */
void wquant_read(struct wquant *dst, const struct wquant *src);

/* Values in the window at now. */
uint64_t wquant_count(const struct wquant *w, uint64_t slot_ns, uint64_t now_ns);

/*
 * out[i] = the q[i]-quantile in seconds over the window at now, for n
 * quantiles (one merge for all). NaN for an empty window or a q outside
 * [0, 1]. Returns the number of values in the window.
 */
uint64_t wquant_quantiles(const struct wquant *w, uint64_t slot_ns, uint64_t now_ns,
			  const double *q, double *out, uint32_t n);

/* Adds k to counter idx (< WRATE_MAX) at now. false as for wquant_observe()
 * or for a bad idx. */
bool wrate_add(struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t idx, uint64_t k);

void wrate_read(struct wrate *dst, const struct wrate *src);

/* Counter idx summed over the window at now. */
uint64_t wrate_sum(const struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t idx);

/* wrate_sum() / window_span_s(): events per second. */
double wrate_per_s(const struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t idx);

/* sum(num) / sum(den) over the window; 0 when den is 0 (no traffic, no errors). */
double wrate_ratio(const struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t num,
		   uint32_t den);

#endif /* SBA_WINDOW_H */
