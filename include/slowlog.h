/* SPDX-License-Identifier: Apache-2.0 */
/*
 * slowlog.h - the N slowest requests of the last minute, for /debug/slow.
 *
 * Each slot of window/WINDOW_SLOTS (10 s by default) keeps its N slowest
 * requests in a min-heap; a read merges the slots that overlap the window,
 * keeps the requests that ended within it, and sorts them. That is exact:
 * one of the N slowest requests of the window is always among the N slowest
 * of its own slot. Memory is fixed at creation: (WINDOW_SLOTS + 1) * N
 * entries, strings cut to the field sizes below.
 *
 * Concurrency: one writer (the event loop) calls slowlog__add() and
 * slowlog__flush(); any thread may read. The writer never blocks: it only
 * try-locks, and when a reader holds the lock the request waits in a small
 * private queue (SLOWLOG_PENDING) until the next add or flush; past that it
 * is counted in `busy_dropped`. A request that is not among the N slowest of
 * its slot is refused before any lock, so the common case costs a compare.
 */
#ifndef SBA_SLOWLOG_H
#define SBA_SLOWLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define SLOWLOG_N_DEFAULT	20
#define SLOWLOG_N_MAX		1000
#define SLOWLOG_PENDING		16

#define SLOWLOG_SERVICE_MAX	127
#define SLOWLOG_METHOD_MAX	23
#define SLOWLOG_ROUTE_MAX	255
#define SLOWLOG_TENANT_MAX	64
#define SLOWLOG_ID_MAX		64	/* request id, traceparent */

struct slowlog_entry {
	uint64_t end_ns;		/* CLOCK_MONOTONIC when the response ended */
	uint64_t duration_ns;
	uint16_t status;
	char service[SLOWLOG_SERVICE_MAX + 1];
	char method[SLOWLOG_METHOD_MAX + 1];
	char route[SLOWLOG_ROUTE_MAX + 1];
	char tenant[SLOWLOG_TENANT_MAX + 1];
	char request_id[SLOWLOG_ID_MAX + 1];
	char traceparent[SLOWLOG_ID_MAX + 1];
};

/* One request for slowlog__add(); NULL strings are empty. Copied. */
struct slowlog_req {
	const char *service;
	const char *method;
	const char *route;
	const char *tenant;
	const char *request_id;
	const char *traceparent;
	uint16_t status;
	uint64_t duration_ns;
	uint64_t end_ns;
};

struct slowlog_stats {
	uint64_t added;			/* requests kept (for now) in a slot */
	uint64_t busy_dropped;		/* lost: a reader held the lock too long */
	uint64_t late;			/* ended more than a window before the latest slot */
};

struct slowlog;

/* n 0 = SLOWLOG_N_DEFAULT, window_ns 0 = 60 s. NULL with errno (EINVAL for
 * n > SLOWLOG_N_MAX, ENOMEM). */
struct slowlog *slowlog__new(uint32_t n, uint64_t window_ns);
/* No reader may be running. NULL is fine. */
void slowlog__free(struct slowlog *sl);

/* Writer: offers one request. Returns true if it was kept or queued. */
bool slowlog__add(struct slowlog *sl, const struct slowlog_req *r);
/* Writer: moves queued requests in, if the lock is free. Call it now and
 * then (e.g. once a second) so a queued request never waits for the next
 * slow one. */
void slowlog__flush(struct slowlog *sl);

/*
 * Reader: the up to N slowest requests that ended in (now - window, now],
 * or later, slowest first (ties: the most recent first), into out[0..max).
 * Returns how many, or -ENOMEM.
 */
int slowlog__snapshot(struct slowlog *sl, uint64_t now_ns, struct slowlog_entry *out,
		      uint32_t max);

/*
 * Reader: the snapshot as JSON, appended to out:
 * {"window_seconds":60,"count":1,"requests":[{"status":200,
 *  "duration_seconds":1.234567,"age_seconds":3.500,"service":"api","method":"GET",
 *  "route":"/users/:id","tenant":"acme","request_id":"...","traceparent":"..."}]}
 * (durations to the microsecond, ages to the millisecond).
 * Strings are escaped byte by byte (json.h). Returns 0, -ENOMEM (snapshot,
 * or out->oom set).
 */
int slowlog__render_json(struct slowlog *sl, uint64_t now_ns, struct buf *out);

/* Any thread. */
void slowlog__stats(struct slowlog *sl, struct slowlog_stats *out);

#endif /* SBA_SLOWLOG_H */
