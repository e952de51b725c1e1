/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events.h - the one place ring-buffer records are decoded: size and kind
 * are checked, then each record goes to every registered sink, in order.
 */
#ifndef SBA_EVENTS_H
#define SBA_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sba_abi.h"

struct pktconv;

struct event_sink {
	void (*on_proc)(void *ctx, const struct sba_proc_ev *ev);
	void (*on_conn)(void *ctx, const struct sba_conn_ev *ev);	/* open and close */
	void (*on_data)(void *ctx, const struct sba_data_ev *ev, const uint8_t *data);
	void *ctx;
};

#define EVENTS_MAX_SINKS 4
#define EVENTS_MAX_EXITS 4096

struct exited_proc {
	uint32_t tgid;
	uint64_t gen;
};

#define EVENTS_MAX_OWNED 4096
#define EVENTS_MAX_BORN 256

/* A pending socket (--hooks skb) whose owner a READ named. */
struct owned_sock {
	uint64_t cookie;
	uint32_t tgid;
};

struct events {
	struct event_sink sinks[EVENTS_MAX_SINKS];
	int n_sinks;
	uint64_t records;		/* records decoded */
	uint64_t bad_records;		/* malformed records (a bug, never expected) */
	/* Stats of the records the kernel does not count itself (PKT records:
	 * skb.bpf.h), indexed by enum sba_stat; add them to the counters map's
	 * sums (events__add_stats). */
	uint64_t stats[SBA_STAT__MAX];
	/* Processes that exited since the last events__take_exits(). */
	struct exited_proc exits[EVENTS_MAX_EXITS];
	int n_exits;
	uint64_t exits_overflow;	/* exits not queued: their map entries linger */
	/* --hooks skb: turns packet records into CONN/DATA records for the
	 * sinks (pktconv.h); NULL otherwise, and such records are malformed. */
	struct pktconv *pc;
	/* Sockets pktconv owned since the last call of the loop: the loader
	 * writes their verdict where the skb programs read it. */
	struct owned_sock owned[EVENTS_MAX_OWNED];
	int n_owned;
	/* --hooks skb: targets that appeared (exec, fork) since the last call
	 * of the loop, whose cgroups the packet programs must cover; past
	 * EVENTS_MAX_BORN of them, born_overflow says: look at them all. */
	uint32_t born[EVENTS_MAX_BORN];
	int n_born;
	bool born_overflow;
};

/* --hooks skb: make e decode packet-layer records, of up to max_socks
 * sockets at once (0: pktconv's default). 0 or -errno. */
int events__use_packets(struct events *e, uint32_t max_socks);

/* After each drain of the ring: what the packet layer still holds. */
void events__flush(struct events *e);

/* Periodic upkeep (the packet layer's idle sockets). */
void events__tick(struct events *e, uint64_t now_ns);

/* Hands own(ctx, cookie, tgid) each socket owned since the last call that
 * is still open: one closed within the drain needs no verdict (a socket a
 * request, no map update for it). */
void events__take_owned(struct events *e, void (*own)(void *ctx, uint64_t cookie, uint32_t tgid),
			void *ctx);

/* Hands born(ctx, tgid) each target that appeared since the last call;
 * all(ctx) instead when more came than were queued. */
void events__take_born(struct events *e, void (*born)(void *ctx, uint32_t tgid),
		       void (*all)(void *ctx), void *ctx);

void events__free(struct events *e);

/* Adds a sink; returns 0 or -ENOSPC. */
int events__add_sink(struct events *e, const struct event_sink *sink);

/* Adds e->stats to c, the counters map's sums. */
void events__add_stats(const struct events *e, struct sba_counters *c);

/* ring_buffer_sample_fn: ctx is a struct events. Always returns 0. */
int events__handle(void *ctx, void *data, size_t size);

#endif /* SBA_EVENTS_H */
