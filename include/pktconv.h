/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pktconv.h - turns the packet-layer records of --hooks skb (SBA_EV_PKT,
 * SBA_EV_READ, SBA_EV_SOCK, keyed by socket cookie) into the CONN_OPEN /
 * DATA / CONN_CLOSE records the rest of the pipeline reads.
 *
 * Sent bytes become one DATA per packet, in sequence order, retransmits
 * dropped, holes carried as gap_bytes. Received bytes wait, sorted by
 * sequence, until a READ says the target copied them out; they are then
 * emitted stamped with the READ's time. A socket whose owner is not known
 * yet ("pending") keeps what it sent until its first READ or a record that
 * names the owner. Memory is bounded per socket and in socket count.
 * Single-threaded: call it from the event loop only.
 */
#ifndef SBA_PKTCONV_H
#define SBA_PKTCONV_H

#include <stdbool.h>
#include <stdint.h>

#include "events.h"
#include "sba_abi.h"

#define PKTCONV_MAX_SOCKS_DEFAULT	65536
#define PKTCONV_MAX_BUFFERED_DEFAULT	(64 * 1024)
/* Queued packets per socket (received, or sent while pending). */
#define PKTCONV_MAX_SEGS		256
/* Two READs of a socket in a row this close are one recvmsg's chunks. */
#define PKTCONV_READ_MERGE_NS		3000ull
/* An owner told (on_owned) is told again if the kernel still says pending
 * this long after. */
#define PKTCONV_RETELL_NS		1000000000ull
/* A pending socket is forgotten after this long without a record ... */
#define PKTCONV_PENDING_TTL_NS		(30ull * 1000000000ull)
/* ... an owned one after this long (a close lost to a full ring). */
#define PKTCONV_IDLE_TTL_NS		(3600ull * 1000000000ull)

struct pktconv_config {
	uint32_t max_socks;		/* 0: PKTCONV_MAX_SOCKS_DEFAULT */
	uint32_t max_buffered;		/* captured bytes held per socket; 0: default */
	struct event_sink out;		/* on_conn and on_data are called */
	/* Optional: a socket the kernel still reports as pending (tgid 0) is
	 * owned by tgid, learnt from a READ. Returns false when the news could
	 * not be taken; it is offered again on the socket's next such record
	 * (and PKTCONV_RETELL_NS after one taken, if the kernel still says 0).
	 * (--hooks skb: the caller writes the verdict into `skb_socks`.) */
	bool (*on_owned)(void *ctx, uint64_t cookie, uint32_t tgid);
	void *owned_ctx;
};

struct pktconv_stats {
	uint64_t socks_seen;		/* sockets added to the table */
	uint64_t packets;		/* SBA_EV_PKT records */
	uint64_t reads;			/* SBA_EV_READ records */
	uint64_t socks;			/* SBA_EV_SOCK records */
	uint64_t bad_records;		/* malformed (bad dir, absurd len, READ
					 * of an unowned socket without tgid) */
	uint64_t table_full;		/* records ignored: over max_socks */
	uint64_t opened;		/* CONN_OPEN emitted */
	uint64_t closed;		/* CONN_CLOSE emitted */
	uint64_t data_events;		/* DATA emitted */
	uint64_t dup_bytes;		/* payload bytes seen twice (retransmits) */
	uint64_t gap_bytes;		/* bytes never seen: holes in sequence space */
	uint64_t buffer_cut_bytes;	/* captured bytes dropped: over max_buffered */
	uint64_t queue_full;		/* packets (or parts) dropped whole: over
					 * PKTCONV_MAX_SEGS; they become gaps */
	uint64_t unread_bytes;		/* received bytes not read before close */
	uint64_t pending_dropped;	/* sockets closed before an owner was known */
	uint64_t not_targets;		/* pending sockets found to be another
					 * process's (SBA_SOCK_OTHER): dropped, no loss */
	uint64_t pending_expired;	/* pending sockets forgotten by tick */
	uint64_t idle_expired;		/* owned sockets closed by tick */
};

/* Fills cfg with the defaults; the sink is left empty. */
void pktconv_config_init(struct pktconv_config *cfg);

struct pktconv;

/* Returns NULL and sets errno on failure. cfg is copied. */
struct pktconv *pktconv__new(const struct pktconv_config *cfg);
void pktconv__free(struct pktconv *pc);

/* data holds ev->cap_len captured bytes (more than ev->len or SBA_CAP_MAX
 * are not read). The owner is the first nonzero tgid seen on a socket;
 * a READ by another process still consumes, attributed to the owner. */
void pktconv__pkt(struct pktconv *pc, const struct sba_pkt_ev *ev, const uint8_t *data);
void pktconv__read(struct pktconv *pc, const struct sba_read_ev *ev);
/* READs are held until the socket's next record, so the chunks of one
 * recvmsg make one read (READs in a row, each less than
 * PKTCONV_READ_MERGE_NS after the one before): call this after each drain
 * of the ring to emit the last ones. */
void pktconv__flush(struct pktconv *pc);
void pktconv__sock(struct pktconv *pc, const struct sba_sock_ev *ev);
/* A target process exited: every socket it owns is closed, CONN_CLOSE with
 * SBA_CONN_BY_EXIT stamped with the socket's last record time. */
void pktconv__exit(struct pktconv *pc, uint32_t tgid);
/* Expires pending and idle sockets, trims idle buffers. Call every second
 * or so with the records' clock (CLOCK_MONOTONIC). */
void pktconv__tick(struct pktconv *pc, uint64_t now_ns);

/* Whether the table still holds the socket (it was not closed). */
bool pktconv__tracks(const struct pktconv *pc, uint64_t cookie);

/* Sockets in the table. */
uint32_t pktconv__count(const struct pktconv *pc);
const struct pktconv_stats *pktconv__stats(const struct pktconv *pc);

#endif /* SBA_PKTCONV_H */
