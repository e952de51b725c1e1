/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agg.h - the series store between the parsers and the exporter: metric
 * families keyed by label tuples, with hard caps, folding into `other`,
 * idle-series expiry, and a stable, sorted visit for rendering.
 *
 * Families and their labels (agg_family_info() has the names):
 *   AGG_HTTP_SERVER    service, method, route, status_code, tenant
 *                      -> requests; duration and ttfb histograms
 *   AGG_HTTP_CLIENT    service, method, peer, route, status_code, tenant
 *                      -> requests; duration histogram
 *   AGG_HTTP_ACTIVE    service -> gauge: requests in flight
 *   AGG_HTTP_QUANTILE  service, route -> 60 s window of durations (window.h)
 *   AGG_REDIS          service, command, status -> commands
 *   AGG_REDIS_DURATION service, command -> duration histogram (blocking
 *                      commands excluded)
 *   AGG_WORKER         queue_name -> job counters, active/depth gauges, job
 *                      duration and wait histograms, windowed rates
 *
 * Bounded memory: each family has a fixed arena of max_series + 1 slots
 * allocated (zeroed, so only touched pages become resident) by agg__new();
 * nothing is allocated by an update. Label values are copied, at most
 * AGG_LABEL_MAX bytes each and AGG_KEY_MAX bytes together.
 *
 * Caps and folding: a new label set is admitted while its family holds fewer
 * than max_series series and its service fewer than max_per_service. When it
 * is not, the update folds: the family's fold labels are replaced by
 * AGG_OTHER one at a time, in order (e.g. tenant, then route, then method,
 * then status_code), and the update goes to the first of those label sets
 * that exists or is admitted; a service may always hold one series beyond
 * its cap, the one with every fold label `other`. Past all of that, the
 * update goes to the family's overflow series, every label `other`, which
 * has a reserved slot. Existing series are never folded, so their counters
 * never go backwards. Each folded update is counted by reason
 * (agg_drop_reason_name()) for sba_observer_series_dropped_total{family,reason}.
 * Labels that are too long, or not valid UTF-8, or hold control bytes,
 * become `other` too (counted), so two values can never render alike.
 *
 * Expiry: agg__expire() removes series not updated for ttl (10 min by
 * default), counted in `expired`. A series removed and seen again restarts
 * from zero, which Prometheus reads as a counter reset after a gap.
 *
 * CONCURRENCY CONTRACT
 * - One writer thread (the event loop) calls agg__update() and the helpers
 *   built on it, agg__expire() and agg__free(). Nothing else writes.
 * - Any number of reader threads call agg__visit(), agg__stats(),
 *   agg__bounds(), agg__slot_ns() and agg_family_info(), at any time, without
 *   locks: they never block the writer, not even for a microsecond.
 * - How: every series has a sequence count (seqcount.h). The writer makes it
 *   odd, updates, makes it even; the reader copies the series and retries if
 *   the count moved. The sorted order of a family (an array of slot numbers)
 *   has its own sequence count, bumped only when a series is added or
 *   removed; the reader copies that array first, then each series it names,
 *   skipping slots whose generation changed meanwhile (removed or reused).
 *   The arena never moves, so a reader can never touch freed memory.
 * - What a reader sees: every series that existed when it copied the order,
 *   and still exists when it reaches it, each one self-consistent (its
 *   histogram's buckets add up to its count); different series are copied at
 *   slightly different moments. A series added during a visit shows up in
 *   the next one.
 * - The writer pays two extra stores per update; stores to shared words are
 *   release stores, plain moves on x86-64.
 */
#ifndef SBA_AGG_H
#define SBA_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "window.h"

#define AGG_MAX_LABELS		6
#define AGG_LABEL_MAX		255	/* bytes of one label value */
#define AGG_KEY_MAX		512	/* bytes of all label values, one NUL after each */
#define AGG_MAX_COUNTERS	6
#define AGG_MAX_GAUGES		2
#define AGG_MAX_HISTS		2
#define AGG_MAX_SERVICES_DEFAULT 256
#define AGG_TTL_NS_DEFAULT	(600ull * 1000000000ull)	/* 10 min */
#define AGG_OTHER		"other"
#define AGG_NO_VALUE		UINT64_MAX	/* "nothing to observe" in struct agg_update */
#define AGG_FOLDED		1		/* agg__update(): counted in another series */

enum agg_family {
	AGG_HTTP_SERVER = 0,
	AGG_HTTP_CLIENT,
	AGG_HTTP_ACTIVE,
	AGG_HTTP_QUANTILE,
	AGG_REDIS,
	AGG_REDIS_DURATION,
	AGG_WORKER,
	AGG_FAMILY__MAX,
};

/* Why an update was counted elsewhere. Stable values. */
enum agg_drop_reason {
	AGG_DROP_SERIES_LIMIT = 0,	/* "series_limit": the family holds max_series */
	AGG_DROP_SERVICE_LIMIT,		/* "service_limit": the service holds max_per_service */
	AGG_DROP_SERVICES_LIMIT,	/* "services_limit": max_services services are known */
	AGG_DROP_LABEL_TOO_LONG,	/* "label_too_long": a value over AGG_LABEL_MAX, or the key
					 * over AGG_KEY_MAX */
	AGG_DROP_LABEL_INVALID,		/* "label_invalid": not UTF-8, or control bytes */
	AGG_DROP__MAX,
};

/* Counter, gauge and histogram indices in struct agg_series / agg_update. */
enum { AGG_HTTP_REQUESTS = 0 };				/* HTTP_SERVER, HTTP_CLIENT */
enum { AGG_HTTP_DURATION = 0, AGG_HTTP_TTFB = 1 };	/* hists */
enum { AGG_HTTP_ACTIVE_REQUESTS = 0 };			/* HTTP_ACTIVE gauge */
enum { AGG_REDIS_COMMANDS = 0 };			/* REDIS counter */
enum { AGG_REDIS_LATENCY = 0 };				/* REDIS_DURATION hist */
enum agg_worker_counter {
	AGG_W_ADDED = 0,
	AGG_W_STARTED,
	AGG_W_COMPLETED,
	AGG_W_FAILED,
	AGG_W_RETRIED,
	AGG_W_STALLED,
	AGG_W__COUNTERS,
};
enum { AGG_W_ACTIVE = 0, AGG_W_DEPTH = 1 };			/* WORKER gauges */
enum { AGG_W_JOB_DURATION = 0, AGG_W_JOB_WAIT = 1 };		/* WORKER hists */
/* WORKER window counters (struct wrate): attempts = completed + failed
 * attempts (FAILED and RETRIED); the failure classes count failed attempts. */
enum agg_worker_rate {
	AGG_WR_COMPLETED = 0,
	AGG_WR_FAILED,
	AGG_WR_4XX,
	AGG_WR_5XX,
	AGG_WR_TIMEOUT,
	AGG_WR_ATTEMPTS,
};

struct agg_family_info {
	const char *name;		/* "http_server": the `family` label of self-metrics */
	uint32_t n_labels;
	const char *label[AGG_MAX_LABELS];	/* Prometheus label names, in key order */
	int32_t service_label;		/* index of "service", -1 if none */
	uint32_t n_fold;
	uint8_t fold[AGG_MAX_LABELS];	/* label indices, in folding order */
	uint32_t n_counters, n_gauges, n_hists;
	bool wquant, wrate;
	bool exemplar;			/* keeps an exemplar for its first histogram */
	uint32_t max_series;		/* defaults */
	uint32_t max_per_service;
};

/* Static description of a family; NULL if f is out of range. */
const struct agg_family_info *agg_family_info(enum agg_family f);
/* "series_limit", ...; "unknown" out of range. */
const char *agg_drop_reason_name(enum agg_drop_reason r);

struct agg_config {
	uint32_t max_series[AGG_FAMILY__MAX];		/* 0 = family default */
	uint32_t max_per_service[AGG_FAMILY__MAX];	/* 0 = family default */
	uint32_t max_services;		/* distinct services tracked, 0 = 256 */
	uint64_t ttl_ns;		/* idle series expiry, 0 = 10 min */
	uint64_t window_ns;		/* quantile and rate window, 0 = 60 s */
	uint64_t seed;			/* hash seed (pass random bytes); 0 = a fixed one */
	const struct hist_bounds *bounds;	/* NULL = hist_bounds_default(); copied */
};

/* All zero: every default. */
void agg_config_init(struct agg_config *cfg);

struct agg;

/*
 * Creates the store (cfg NULL = defaults) with every arena allocated.
 * Returns NULL with errno set: EINVAL (max_series above 1,000,000), ENOMEM.
 */
struct agg *agg__new(const struct agg_config *cfg);
/* Writer only, with no reader running. NULL is fine. */
void agg__free(struct agg *a);

/*
 * Exemplar of a series' first histogram (HTTP durations): one request that
 * fell into it, with its id, so an SRE can jump from a bucket to a trace or
 * a log line. One per series, bounded memory: a new observation replaces
 * the kept one when it is at least as slow, or when the kept one is older
 * than AGG_EXEMPLAR_HOLD_NS, so the exemplar leans to the slow requests of
 * the last seconds while still following the traffic.
 */
#define AGG_EXEMPLAR_ID_MAX	63
#define AGG_EXEMPLAR_HOLD_NS	(10ull * 1000000000ull)

enum agg_exemplar_kind {
	AGG_EX_NONE = 0,
	AGG_EX_TRACE_ID,		/* label trace_id: from a W3C traceparent */
	AGG_EX_REQUEST_ID,		/* label request_id: the x-request-id header */
};

struct agg_exemplar {
	uint64_t value_ns;
	uint64_t ts_ns;			/* the update's now_ns (CLOCK_MONOTONIC) */
	uint64_t kind;			/* enum agg_exemplar_kind */
	char id[AGG_EXEMPLAR_ID_MAX + 1];
};

/* One update of one series. Fields left as agg_update_init() sets them do
 * nothing. */
struct agg_update {
	uint64_t add[AGG_MAX_COUNTERS];		/* added to the counters */
	uint64_t obs_ns[AGG_MAX_HISTS];		/* observed; AGG_NO_VALUE: nothing */
	int64_t gauge[AGG_MAX_GAUGES];
	uint32_t gauge_set;			/* bit g: gauge g = gauge[g] */
	uint32_t gauge_add;			/* bit g: gauge g += gauge[g] */
	uint64_t wq_ns;				/* into the window quantiles; AGG_NO_VALUE */
	uint64_t wr_add[WRATE_MAX];		/* added to the window counters */
	/* With obs_ns[0], in families that keep exemplars: the request's trace
	 * id or request id, kept per the policy of struct agg_exemplar. */
	uint32_t ex_kind;			/* enum agg_exemplar_kind; 0: none */
	const char *ex_id;			/* NUL-terminated, cut to AGG_EXEMPLAR_ID_MAX */
};

void agg_update_init(struct agg_update *u);

/*
 * Writer: applies u to the series label[0..n_labels) of family f at time
 * now_ns (CLOCK_MONOTONIC, also the series' last-update time). Labels are
 * NUL-terminated and need to live only during the call. Returns 0, AGG_FOLDED
 * when the update went to a folded series (counted), or -EINVAL (bad family,
 * a NULL label or u).
 */
int agg__update(struct agg *a, enum agg_family f, const char *const label[],
		const struct agg_update *u, uint64_t now_ns);

/* One HTTP exchange, for the helpers below. */
struct agg_http {
	const char *service;
	const char *method;
	const char *peer;		/* client side: host:port called */
	const char *route;
	const char *tenant;
	uint16_t status;
	uint64_t duration_ns;
	uint64_t ttfb_ns;		/* AGG_NO_VALUE: unknown */
	uint32_t ex_kind;		/* exemplar of the duration: enum agg_exemplar_kind */
	const char *ex_id;
};

/* Writer: HTTP_SERVER (and the HTTP_QUANTILE window of service, route).
 * Returns as agg__update() for HTTP_SERVER. */
int agg__http_server(struct agg *a, const struct agg_http *h, uint64_t now_ns);
/*
 * Writer: n HTTP_SERVER updates (n <= AGG_BATCH_MAX), h[i] at now_ns[i]:
 * exactly agg__http_server() on each, in order, but the memory they touch
 * (index entries, then series) is fetched for all of them first, so the
 * cache misses of different exchanges overlap instead of adding up.
 */
#define AGG_BATCH_MAX 64
void agg__http_server_batch(struct agg *a, const struct agg_http *h, const uint64_t *now_ns,
			    size_t n);
/* Writer: HTTP_CLIENT. */
int agg__http_client(struct agg *a, const struct agg_http *h, uint64_t now_ns);
/* Writer: HTTP_ACTIVE of service: gauge += delta. */
int agg__http_active(struct agg *a, const char *service, int64_t delta, uint64_t now_ns);
/* Writer: REDIS count, and REDIS_DURATION unless blocking or
 * duration_ns is AGG_NO_VALUE. */
int agg__redis(struct agg *a, const char *service, const char *command, const char *status,
	       uint64_t duration_ns, bool blocking, uint64_t now_ns);

/* One BullMQ operation for agg__worker(). */
#define AGG_WF_4XX	0x1	/* failure reason mentions an HTTP 4xx status */
#define AGG_WF_5XX	0x2	/* ... a 5xx status */
#define AGG_WF_TIMEOUT	0x4	/* ... a timeout */
struct agg_worker_ev {
	const char *queue;
	int counter;			/* enum agg_worker_counter, or -1 (gauges only) */
	uint64_t duration_ns;		/* AGG_NO_VALUE: unknown */
	uint64_t wait_ns;		/* AGG_NO_VALUE: unknown */
	uint32_t fail;			/* AGG_WF_*, for FAILED and RETRIED */
	int64_t active;			/* gauges after the op; < 0: unchanged */
	int64_t depth;
};

/* Writer: WORKER. Completed, failed and retried also feed the window. */
int agg__worker(struct agg *a, const struct agg_worker_ev *ev, uint64_t now_ns);

/* Writer: removes series last updated at or before now_ns - ttl. Returns
 * how many. Cost: a pass over the live series; call it every few seconds. */
uint32_t agg__expire(struct agg *a, uint64_t now_ns);

/* What a visitor gets: copies, valid during the callback only. */
struct agg_series {
	const char *label[AGG_MAX_LABELS];	/* values, in agg_family_info() order */
	uint32_t n_labels;
	uint64_t created_ns;
	uint64_t last_ns;			/* last update */
	const uint64_t *counter;		/* n_counters */
	const int64_t *gauge;			/* n_gauges */
	const struct hist *hist;		/* n_hists, layout agg__bounds() */
	const struct wquant *wq;		/* NULL unless the family has one */
	const struct wrate *wr;			/* NULL unless the family has one */
	const struct agg_exemplar *ex;		/* NULL unless one is kept */
};

/* Return 0 to go on, anything else to stop the visit. */
typedef int (*agg_visit_fn)(void *ctx, const struct agg_series *s);

/*
 * Reader: calls fn for every series of family f, sorted by label values
 * (bytewise, label by label, in agg_family_info() order). Returns the number
 * of series passed to fn, -EINVAL, or -ENOMEM (scratch for the order).
 */
int agg__visit(const struct agg *a, enum agg_family f, agg_visit_fn fn, void *ctx);

struct agg_family_stats {
	uint64_t series;		/* live now, overflow included */
	uint64_t max_series;		/* the cap; the overflow series may add one */
	uint64_t created;		/* series ever added */
	uint64_t expired;		/* series removed by the TTL */
	uint64_t dropped[AGG_DROP__MAX];	/* updates folded, by reason */
	uint64_t late;			/* window values more than a window late (not counted) */
	uint64_t read_retries;		/* copies a reader had to redo (writer was updating) */
};

/* Reader: a snapshot of the family's counters (each read atomically). */
void agg__stats(const struct agg *a, enum agg_family f, struct agg_family_stats *out);
/* Reader: services currently tracked. */
uint32_t agg__services(const struct agg *a);
/* Reader: the histogram layout and the window slot length in use. */
const struct hist_bounds *agg__bounds(const struct agg *a);
uint64_t agg__slot_ns(const struct agg *a);

#endif /* SBA_AGG_H */
