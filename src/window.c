// SPDX-License-Identifier: Apache-2.0
/*
 * window.c - sliding-window quantiles and rates (see window.h).
 *
 * Tricky: the reader has its own clock. A slot counts for a read at `now`
 * if its epoch is within WINDOW_SLOTS of now's epoch, or later (the writer's
 * event time may be a little ahead of the reader's now). The ring holds
 * WINDOW_RING distinct epochs, so no slot is ever counted twice.
 */
#include <math.h>
#include <string.h>

#include "seqcount.h"
#include "window.h"

uint64_t window_slot_ns(uint64_t window_ns)
{
	if (window_ns == 0)
		window_ns = WINDOW_NS_DEFAULT;
	if (window_ns < WINDOW_NS_MIN)
		window_ns = WINDOW_NS_MIN;
	return window_ns / WINDOW_SLOTS;
}

static uint64_t epoch_of(uint64_t slot_ns, uint64_t now_ns)
{
	return now_ns / slot_ns + 1;
}

static bool in_window(uint64_t slot_epoch, uint64_t now_epoch)
{
	return slot_epoch != 0 && slot_epoch + WINDOW_SLOTS >= now_epoch;
}

double window_span_s(uint64_t slot_ns, uint64_t now_ns)
{
	return (double)(WINDOW_SLOTS * slot_ns + now_ns % slot_ns) / 1e9;
}

uint32_t wquant_bucket(uint64_t v)
{
	uint32_t e;

	if (v < (1ull << WQ_MIN_EXP))
		return 0;
	e = 63 - (uint32_t)__builtin_clzll(v);
	if (e >= WQ_MAX_EXP)
		return WQ_BUCKETS - 1;
	return 1 + (e - WQ_MIN_EXP) * WQ_SUB + (uint32_t)((v >> (e - WQ_SUB_BITS)) & (WQ_SUB - 1));
}

uint64_t wquant_lower(uint32_t idx)
{
	uint32_t e;

	if (idx == 0)
		return 0;
	if (idx >= WQ_BUCKETS - 1)
		return 1ull << WQ_MAX_EXP;
	e = WQ_MIN_EXP + (idx - 1) / WQ_SUB;
	return (1ull << e) + (uint64_t)((idx - 1) % WQ_SUB) * (1ull << (e - WQ_SUB_BITS));
}

uint64_t wquant_upper(uint32_t idx)
{
	if (idx >= WQ_BUCKETS - 1)
		return UINT64_MAX;
	return wquant_lower(idx + 1);
}

bool wquant_observe(struct wquant *w, uint64_t slot_ns, uint64_t now_ns, uint64_t v_ns)
{
	uint64_t ep = epoch_of(slot_ns, now_ns);
	struct wq_slot *s = &w->s[ep % WINDOW_RING];
	uint32_t i = wquant_bucket(v_ns);

	if (s->epoch > ep)
		return false;
	if (s->epoch != ep) {
		for (uint32_t j = 0; j < WQ_BUCKETS; j++)
			if (s->n[j])
				st32(&s->n[j], 0);
		st64(&s->count, 0);
		st64(&s->epoch, ep);
	}
	if (s->n[i] != UINT32_MAX)
		st32(&s->n[i], s->n[i] + 1);
	st64(&s->count, s->count + 1);
	return true;
}

void wquant_read(struct wquant *dst, const struct wquant *src)
{
	for (uint32_t k = 0; k < WINDOW_RING; k++) {
		dst->s[k].epoch = ld64(&src->s[k].epoch);
		dst->s[k].count = ld64(&src->s[k].count);
		for (uint32_t j = 0; j < WQ_BUCKETS; j++)
			dst->s[k].n[j] = ld32(&src->s[k].n[j]);
	}
}

uint64_t wquant_count(const struct wquant *w, uint64_t slot_ns, uint64_t now_ns)
{
	uint64_t ep = epoch_of(slot_ns, now_ns), c = 0;

	for (uint32_t k = 0; k < WINDOW_RING; k++)
		if (in_window(w->s[k].epoch, ep))
			c += w->s[k].count;
	return c;
}

uint64_t wquant_quantiles(const struct wquant *w, uint64_t slot_ns, uint64_t now_ns,
			  const double *q, double *out, uint32_t n)
{
	uint64_t ep = epoch_of(slot_ns, now_ns), m[WQ_BUCKETS] = { 0 }, total = 0;

	for (uint32_t k = 0; k < WINDOW_RING; k++) {
		if (!in_window(w->s[k].epoch, ep))
			continue;
		for (uint32_t j = 0; j < WQ_BUCKETS; j++)
			m[j] += w->s[k].n[j];
	}
	for (uint32_t j = 0; j < WQ_BUCKETS; j++)
		total += m[j];
	for (uint32_t i = 0; i < n; i++) {
		double rank = q[i] * (double)total, cum = 0;

		out[i] = NAN;
		if (total == 0 || !(q[i] >= 0 && q[i] <= 1))
			continue;
		for (uint32_t j = 0; j < WQ_BUCKETS; j++) {
			double lo, f;

			if (!m[j] || cum + (double)m[j] < rank) {
				cum += (double)m[j];
				continue;
			}
			lo = (double)wquant_lower(j);
			if (j == WQ_BUCKETS - 1) {
				out[i] = lo / 1e9;	/* open-ended: a lower bound */
				break;
			}
			f = (rank - cum) / (double)m[j];
			out[i] = (lo + ((double)wquant_upper(j) - lo) * (f < 0 ? 0 : f)) / 1e9;
			break;
		}
	}
	return total;
}

bool wrate_add(struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t idx, uint64_t k)
{
	uint64_t ep = epoch_of(slot_ns, now_ns);
	struct wrate_slot *s = &w->s[ep % WINDOW_RING];

	if (idx >= WRATE_MAX || s->epoch > ep)
		return false;
	if (s->epoch != ep) {
		for (uint32_t j = 0; j < WRATE_MAX; j++)
			st64(&s->n[j], 0);
		st64(&s->epoch, ep);
	}
	st64(&s->n[idx], s->n[idx] + k);
	return true;
}

void wrate_read(struct wrate *dst, const struct wrate *src)
{
	ld64_copy((uint64_t *)dst, (const uint64_t *)src, sizeof(*src) / sizeof(uint64_t));
}

uint64_t wrate_sum(const struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t idx)
{
	uint64_t ep = epoch_of(slot_ns, now_ns), c = 0;

	if (idx >= WRATE_MAX)
		return 0;
	for (uint32_t k = 0; k < WINDOW_RING; k++)
		if (in_window(w->s[k].epoch, ep))
			c += w->s[k].n[idx];
	return c;
}

double wrate_per_s(const struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t idx)
{
	return (double)wrate_sum(w, slot_ns, now_ns, idx) / window_span_s(slot_ns, now_ns);
}

double wrate_ratio(const struct wrate *w, uint64_t slot_ns, uint64_t now_ns, uint32_t num,
		   uint32_t den)
{
	uint64_t d = wrate_sum(w, slot_ns, now_ns, den);

	return d ? (double)wrate_sum(w, slot_ns, now_ns, num) / (double)d : 0;
}
