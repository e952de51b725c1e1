// SPDX-License-Identifier: Apache-2.0
/*
 * slowlog.c - the N slowest requests of the last minute (see slowlog.h).
 *
 * Tricky: the writer reads its slots without the lock (to refuse a fast
 * request for the price of a compare). That is safe because only the writer
 * ever changes a slot, and it does so holding the lock; readers only read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "slowlog.h"
#include "window.h"

struct sl_slot {
	uint64_t epoch;		/* slot number + 1; 0 = empty */
	uint32_t len;
	struct slowlog_entry *heap;	/* min-heap on duration, n entries */
};

struct slowlog {
	pthread_mutex_t lock;
	uint32_t n;
	uint64_t slot_ns, window_ns;
	struct sl_slot slot[WINDOW_RING];
	/* the writer's own */
	struct slowlog_entry pending[SLOWLOG_PENDING];
	uint32_t npending;
	/* stats: writer stores, anyone loads */
	struct slowlog_stats st;
};

static void stat_inc(uint64_t *p)
{
	__atomic_store_n(p, *p + 1, __ATOMIC_RELAXED);
}

struct slowlog *slowlog__new(uint32_t n, uint64_t window_ns)
{
	struct slowlog *sl;

	if (n > SLOWLOG_N_MAX) {
		errno = EINVAL;
		return NULL;
	}
	sl = calloc(1, sizeof(*sl));
	if (!sl)
		return NULL;
	sl->n = n ? n : SLOWLOG_N_DEFAULT;
	sl->slot_ns = window_slot_ns(window_ns);
	sl->window_ns = sl->slot_ns * WINDOW_SLOTS;
	for (int i = 0; i < WINDOW_RING; i++) {
		sl->slot[i].heap = calloc(sl->n, sizeof(struct slowlog_entry));
		if (!sl->slot[i].heap) {
			slowlog__free(sl);
			errno = ENOMEM;
			return NULL;
		}
	}
	pthread_mutex_init(&sl->lock, NULL);
	return sl;
}

void slowlog__free(struct slowlog *sl)
{
	if (!sl)
		return;
	for (int i = 0; i < WINDOW_RING; i++)
		free(sl->slot[i].heap);
	pthread_mutex_destroy(&sl->lock);
	free(sl);
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* Heap order: a is "smaller" (evicted first) than b. */
static bool less(const struct slowlog_entry *a, const struct slowlog_entry *b)
{
	if (a->duration_ns != b->duration_ns)
		return a->duration_ns < b->duration_ns;
	return a->end_ns < b->end_ns;
}

static void sift_down(struct slowlog_entry *h, uint32_t len, uint32_t i)
{
	for (;;) {
		uint32_t m = i, l = 2 * i + 1, r = 2 * i + 2;
		struct slowlog_entry t;

		if (l < len && less(&h[l], &h[m]))
			m = l;
		if (r < len && less(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void sift_up(struct slowlog_entry *h, uint32_t i)
{
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		struct slowlog_entry t;

		if (!less(&h[i], &h[p]))
			return;
		t = h[i];
		h[i] = h[p];
		h[p] = t;
		i = p;
	}
}

/* Is end's slot already reused for a later time? Writer only, no lock. */
static bool is_late(const struct slowlog *sl, uint64_t end_ns)
{
	uint64_t ep = end_ns / sl->slot_ns + 1;

	return sl->slot[ep % WINDOW_RING].epoch > ep;
}

/* Would e enter its slot? Writer only; no lock needed (see top). */
static bool is_candidate(const struct slowlog *sl, const struct slowlog_entry *e)
{
	uint64_t ep = e->end_ns / sl->slot_ns + 1;
	const struct sl_slot *s = &sl->slot[ep % WINDOW_RING];

	return s->epoch != ep || s->len < sl->n || less(&s->heap[0], e);
}

/* Under the lock. */
static void insert_locked(struct slowlog *sl, const struct slowlog_entry *e)
{
	uint64_t ep = e->end_ns / sl->slot_ns + 1;
	struct sl_slot *s = &sl->slot[ep % WINDOW_RING];

	if (s->epoch > ep) {
		stat_inc(&sl->st.late);
		return;
	}
	if (s->epoch != ep) {
		s->epoch = ep;
		s->len = 0;
	}
	if (s->len < sl->n) {
		s->heap[s->len] = *e;
		sift_up(s->heap, s->len++);
	} else if (less(&s->heap[0], e)) {
		s->heap[0] = *e;
		sift_down(s->heap, s->len, 0);
	} else {
		return;
	}
	stat_inc(&sl->st.added);
}

static void flush_locked(struct slowlog *sl)
{
	for (uint32_t i = 0; i < sl->npending; i++)
		insert_locked(sl, &sl->pending[i]);
	sl->npending = 0;
}

bool slowlog__add(struct slowlog *sl, const struct slowlog_req *r)
{
	struct slowlog_entry e;

	if (!sl || !r)
		return false;
	e.end_ns = r->end_ns;
	e.duration_ns = r->duration_ns;
	if (is_late(sl, e.end_ns)) {
		stat_inc(&sl->st.late);
		return false;
	}
	if (!is_candidate(sl, &e))
		return false;
	e.status = r->status;
	copy_str(e.service, sizeof(e.service), r->service);
	copy_str(e.method, sizeof(e.method), r->method);
	copy_str(e.route, sizeof(e.route), r->route);
	copy_str(e.tenant, sizeof(e.tenant), r->tenant);
	copy_str(e.request_id, sizeof(e.request_id), r->request_id);
	copy_str(e.traceparent, sizeof(e.traceparent), r->traceparent);
	if (pthread_mutex_trylock(&sl->lock) == 0) {
		flush_locked(sl);
		insert_locked(sl, &e);
		pthread_mutex_unlock(&sl->lock);
		return true;
	}
	if (sl->npending < SLOWLOG_PENDING) {
		sl->pending[sl->npending++] = e;
		return true;
	}
	stat_inc(&sl->st.busy_dropped);
	return false;
}

void slowlog__flush(struct slowlog *sl)
{
	if (!sl || !sl->npending || pthread_mutex_trylock(&sl->lock) != 0)
		return;
	flush_locked(sl);
	pthread_mutex_unlock(&sl->lock);
}

/* Slowest first; ties: most recent first, then by route for a stable order. */
static int cmp_desc(const void *pa, const void *pb)
{
	const struct slowlog_entry *a = pa, *b = pb;

	if (a->duration_ns != b->duration_ns)
		return a->duration_ns < b->duration_ns ? 1 : -1;
	if (a->end_ns != b->end_ns)
		return a->end_ns < b->end_ns ? 1 : -1;
	return strcmp(a->route, b->route);
}

int slowlog__snapshot(struct slowlog *sl, uint64_t now_ns, struct slowlog_entry *out,
		      uint32_t max)
{
	uint64_t ep = now_ns / sl->slot_ns + 1;
	uint64_t from = now_ns > sl->window_ns ? now_ns - sl->window_ns : 0;
	struct slowlog_entry *all;
	uint32_t k = 0;

	all = malloc((size_t)WINDOW_RING * sl->n * sizeof(*all));
	if (!all)
		return -ENOMEM;
	pthread_mutex_lock(&sl->lock);
	for (int i = 0; i < WINDOW_RING; i++) {
		const struct sl_slot *s = &sl->slot[i];

		if (!s->epoch || s->epoch + WINDOW_SLOTS < ep)
			continue;
		memcpy(all + k, s->heap, s->len * sizeof(*all));
		k += s->len;
	}
	pthread_mutex_unlock(&sl->lock);
	/* keep what ended in the window, then the slowest */
	for (uint32_t i = 0, w = 0;; i++) {
		if (i == k) {
			k = w;
			break;
		}
		if (all[i].end_ns > from)
			all[w++] = all[i];
	}
	qsort(all, k, sizeof(*all), cmp_desc);
	if (k > sl->n)
		k = sl->n;
	if (k > max)
		k = max;
	memcpy(out, all, k * sizeof(*all));
	free(all);
	return (int)k;
}

static void put_str(struct buf *b, const char *key, const char *s)
{
	char esc[6 * (SLOWLOG_ROUTE_MAX + 1)];
	size_t n = strlen(s);

	if (n > SLOWLOG_ROUTE_MAX)
		n = SLOWLOG_ROUTE_MAX;
	buf_printf(b, ",\"%s\":\"", key);
	buf_append(b, esc, json_escape_bytes(esc, (const uint8_t *)s, n));
	buf_puts(b, "\"");
}

int slowlog__render_json(struct slowlog *sl, uint64_t now_ns, struct buf *out)
{
	struct slowlog_entry *e;
	int n;

	e = malloc((size_t)sl->n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	n = slowlog__snapshot(sl, now_ns, e, sl->n);
	if (n < 0) {
		free(e);
		return n;
	}
	buf_printf(out, "{\"window_seconds\":%llu,\"count\":%d,\"requests\":[",
		   (unsigned long long)(sl->window_ns / 1000000000ull), n);
	for (int i = 0; i < n; i++) {
		uint64_t age = now_ns > e[i].end_ns ? now_ns - e[i].end_ns : 0;

		buf_puts(out, i ? ",{" : "{");
		buf_printf(out, "\"status\":%u,\"duration_seconds\":%llu.%06llu,"
				"\"age_seconds\":%llu.%03llu",
			   e[i].status, (unsigned long long)(e[i].duration_ns / 1000000000ull),
			   (unsigned long long)(e[i].duration_ns % 1000000000ull / 1000),
			   (unsigned long long)(age / 1000000000ull),
			   (unsigned long long)(age % 1000000000ull / 1000000));
		put_str(out, "service", e[i].service);
		put_str(out, "method", e[i].method);
		put_str(out, "route", e[i].route);
		put_str(out, "tenant", e[i].tenant);
		put_str(out, "request_id", e[i].request_id);
		put_str(out, "traceparent", e[i].traceparent);
		buf_puts(out, "}");
	}
	buf_puts(out, "]}");
	free(e);
	return out->oom ? -ENOMEM : 0;
}

void slowlog__stats(struct slowlog *sl, struct slowlog_stats *out)
{
	out->added = __atomic_load_n(&sl->st.added, __ATOMIC_RELAXED);
	out->busy_dropped = __atomic_load_n(&sl->st.busy_dropped, __ATOMIC_RELAXED);
	out->late = __atomic_load_n(&sl->st.late, __ATOMIC_RELAXED);
}
