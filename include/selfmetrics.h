/* SPDX-License-Identifier: Apache-2.0 */
/*
 * selfmetrics.h - what the observer says about itself on /metrics: build,
 * events and bytes, drops by reason, connections, ring-buffer fill, BPF run
 * time per program, its own CPU, memory and fds (docs/METRICS.md).
 *
 * Two threads are involved. The event loop owns `struct events` and copies
 * the few counters the exporter needs into `struct selfmetrics_shared` with
 * relaxed atomic stores after each drain (selfmetrics_publish); the httpd
 * thread renders from those copies, from the BPF counters map (a syscall,
 * safe from any thread), from the ring's producer/consumer pages (mapped
 * read-only) and from /proc/self. Nothing the render does can block the loop.
 */
#ifndef SBA_SELFMETRICS_H
#define SBA_SELFMETRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "events.h"
#include "expo.h"

struct loader;

/* Written by the event loop, read by the httpd thread (relaxed atomics). */
struct selfmetrics_shared {
	uint64_t records;		/* struct events copies */
	uint64_t bad_records;
	uint64_t exits_overflow;
	uint64_t stats[SBA_STAT__MAX];	/* struct events' own stats, added to the map's */
	uint64_t loop_ns;		/* CLOCK_MONOTONIC of the last drain; 0: not yet */
	uint32_t attached;		/* programs attached */
	/* --hooks skb: what the packet decoder (pktconv.h) lost or dropped */
	bool packets;
	uint64_t pkt_lost[8];		/* indexed like selfmetrics.c's pkt_losses[] */
	uint32_t pkt_socks;		/* sockets the decoder holds */
	/* --hooks skb, per-target attach (skbscope.h) */
	bool skb_scoped;
	uint32_t skb_cgroups;		/* directories the packet programs are on */
	uint64_t skb_uncovered;		/* targets they could not be put over */
};

/* Event loop side: copies ev's counters and stamps the loop time. */
void selfmetrics_publish(struct selfmetrics_shared *s, const struct events *ev, uint64_t now_ns);

/* True when programs are attached and the loop ran in the last stale_ms. */
bool selfmetrics_is_ready(const struct selfmetrics_shared *s, uint64_t now_ns, uint32_t stale_ms);

struct selfmetrics;

/*
 * Prepares rendering for loader l (kept, not owned; must outlive the
 * returned object) and shared state s. Maps the ring's position pages
 * read-only; when that fails the fill is simply not exported. Returns NULL
 * with errno set on failure.
 */
struct selfmetrics *selfmetrics__new(struct loader *l, const struct selfmetrics_shared *s);
void selfmetrics__free(struct selfmetrics *sm);

/* Renders every sba_observer_* family it knows; ctx is a struct selfmetrics.
 * Called from the httpd thread (httpd_render_fn). */
void selfmetrics__render(void *ctx, struct expo *e);

/* CLOCK_MONOTONIC in ns. */
uint64_t selfmetrics_now_ns(void);

#endif /* SBA_SELFMETRICS_H */
