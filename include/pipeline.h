/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipeline.h - from decoded kernel events to labelled series.
 *
 *   events (ring buffer) -> conntab (protocol, sessions) -> exchanges and
 *   Redis records -> service, route template, tenant -> agg (series store)
 *
 * One thread (the event loop) feeds it; the exporter thread renders it
 * through pipeline__render(), which only reads the series store (agg.h's
 * lock-free readers) and a few counters.
 */
#ifndef SBA_PIPELINE_H
#define SBA_PIPELINE_H

#include <stdint.h>

#include "buf.h"
#include "bullmq.h"
#include "conntab.h"
#include "events.h"
#include "expo.h"
#include "service.h"

/* One HTTP exchange as the metrics count it: labels after templating and
 * caps. For --trace; strings are valid during the call only. */
struct pipeline_http_rec {
	uint8_t role;			/* SBA_ROLE_SERVER or SBA_ROLE_CLIENT */
	uint32_t tgid;
	uint64_t conn_id;
	const char *service, *method, *route, *tenant;
	const char *peer;		/* client side; else NULL */
	const char *request_id;		/* NULL when the request had none */
	uint16_t status;
	uint64_t duration_ns;
	uint64_t ttfb_ns;		/* AGG_NO_VALUE-like UINT64_MAX: unknown */
	uint64_t end_ns;		/* capture clock: the exchange's last syscall */
};

/* Side outputs of what the pipeline concluded (e.g. --trace); any may be NULL. */
struct pipeline_tap {
	void (*http)(void *ctx, const struct pipeline_http_rec *r);
	/* fail: AGG_WF_* classes of a failed or retried attempt */
	void (*job)(void *ctx, const struct bullmq_event *ev, uint32_t fail);
	void *ctx;
};

struct pipeline_config {
	const char *proc_root;		/* "/proc" */
	const char *routes_file;	/* Express-style patterns, or NULL */
	const char *tenant_header;	/* NULL: x-tenant-id */
	uint32_t max_tenants;		/* 0: 50 */
	uint32_t max_routes;		/* per service; 0: route.h's default */
	uint16_t redis_ports[CONNTAB_MAX_REDIS_PORTS];
	int n_redis_ports;		/* 0: 6379 */
	struct service_rules services;
	struct pipeline_tap tap;
	uint32_t slow_n;		/* slow-request log size; 0: slowlog.h's default */
	uint32_t max_conns;		/* connections parsed at once; 0: conntab's default */
};

void pipeline_config_init(struct pipeline_config *cfg);

struct pipeline;

/* Returns NULL and logs nothing; errno says why (EINVAL: a bad routes file
 * or tenant header; *bad_line is then the routes file line, if any). */
struct pipeline *pipeline__new(const struct pipeline_config *cfg, int *bad_line);
void pipeline__free(struct pipeline *p);

/* The sink to register with events__add_sink(). */
struct event_sink pipeline__sink(struct pipeline *p);

/* The event loop, after each drain of the ring: applies what the drain
 * brought. Server exchanges are counted in batches (their series are
 * fetched together), so they show in the series store at the latest here;
 * everything else at once. */
void pipeline__flush(struct pipeline *p);

/* Periodic upkeep from the event loop: series TTL, tenant decay. */
void pipeline__tick(struct pipeline *p, uint64_t now_ns);

/* httpd renderer (any thread): the HTTP and Redis families. */
void pipeline__render(void *ctx, struct expo *e);

/* httpd /debug/slow (any thread): the slow-request log as JSON into out.
 * Returns 0 or -ENOMEM. */
int pipeline__slow_json(void *ctx, struct buf *out);

#endif /* SBA_PIPELINE_H */
