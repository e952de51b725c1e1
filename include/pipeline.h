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

#include "conntab.h"
#include "events.h"
#include "expo.h"
#include "service.h"

struct pipeline_config {
	const char *proc_root;		/* "/proc" */
	const char *routes_file;	/* Express-style patterns, or NULL */
	const char *tenant_header;	/* NULL: x-tenant-id */
	uint32_t max_tenants;		/* 0: 50 */
	uint32_t max_routes;		/* per service; 0: route.h's default */
	uint16_t redis_ports[CONNTAB_MAX_REDIS_PORTS];
	int n_redis_ports;		/* 0: 6379 */
	struct service_rules services;
};

void pipeline_config_init(struct pipeline_config *cfg);

struct pipeline;

/* Returns NULL and logs nothing; errno says why (EINVAL: a bad routes file
 * or tenant header; *bad_line is then the routes file line, if any). */
struct pipeline *pipeline__new(const struct pipeline_config *cfg, int *bad_line);
void pipeline__free(struct pipeline *p);

/* The sink to register with events__add_sink(). */
struct event_sink pipeline__sink(struct pipeline *p);

/* Periodic upkeep from the event loop: series TTL, tenant decay. */
void pipeline__tick(struct pipeline *p, uint64_t now_ns);

/* httpd renderer (any thread): the HTTP and Redis families. */
void pipeline__render(void *ctx, struct expo *e);

#endif /* SBA_PIPELINE_H */
