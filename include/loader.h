/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loader.h - from a config to attached BPF programs and an open ring buffer,
 * and back to nothing.
 */
#ifndef SBA_LOADER_H
#define SBA_LOADER_H

#include <bpf/libbpf.h>
#include <limits.h>
#include <stdint.h>

#include "config.h"
#include "ringbuf.h"
#include "sba_abi.h"

struct observer_bpf;
struct skbscope;

struct loader {
	struct observer_bpf *skel;
	struct ringbuf ring;
	ring_buffer_sample_fn fn;
	void *fn_ctx;
	int wake_fd;		/* epoll: edge-triggered on the ring (forced wakeups only),
				 * level on watched fds */
	int n_attached;		/* programs attached */
	struct skbscope *scope;	/* --hooks skb: where the cgroup_skb programs are */
};

/*
 * Checks the host (BTF, capabilities, tracefs/bpffs), opens the BPF object,
 * applies cfg, loads, attaches, and opens the ring buffer with fn(ctx, ...)
 * as callback. On failure logs one message that says what to do, frees
 * everything and returns -errno.
 */
int loader__start(struct loader *l, const struct sba_config *cfg, ring_buffer_sample_fn fn,
		  void *ctx);

/* Waits up to timeout_ms, or until the kernel forces a wakeup because the
 * ring is filling up, or a watched fd is readable. 0 or -errno. */
int loader__wait(struct loader *l, int timeout_ms);

/* Hands every record waiting in the ring to the callback (ringbuf.h), now.
 * Returns the number of records or -errno. */
int loader__drain(struct loader *l);

/* Also wake loader__wait() while fd is readable (level-triggered): a scrape's
 * drain request (drainreq.h). The caller clears the fd. 0 or -errno. */
int loader__watch(struct loader *l, int fd);

/* Detaches and frees everything; safe on a zeroed or half-started loader. */
void loader__stop(struct loader *l);

/* Sums the per-CPU counters into out. Returns 0 or -errno. */
int loader__counters(struct loader *l, struct sba_counters *out);

/* Makes tgid a target with generation gen (start-up scan), and with
 * --hooks skb puts the packet programs over its cgroup (also when the
 * kernel made it a target first: -EEXIST). Returns 0 or -errno. */
int loader__add_target(struct loader *l, uint32_t tgid, uint64_t gen);

/*
 * Removes the conns entries of process generation gen of tgid (after its
 * exit), calling closed(ctx, conn_id, fd) for each TCP connection that was
 * still open. Returns the number of entries removed.
 */
int loader__forget_process(struct loader *l, uint32_t tgid, uint64_t gen,
			   void (*closed)(void *ctx, uint32_t tgid, uint64_t conn_id, int fd),
			   void *ctx);

/* --hooks skb: a pending socket is tgid's, as a READ said: the skb programs
 * stop asking. Nothing if it is gone meanwhile. l is a struct loader; the
 * shape of events__take_owned()'s callback. */
void loader__own_socket(void *l, uint64_t cookie, uint32_t tgid);

/* --hooks skb: the packets of process tgid's sockets run the cgroup_skb
 * programs from now on (skbscope.h); nothing in other modes. l is a
 * struct loader: the shape of events__take_born()'s callbacks. */
void loader__cover_process(void *l, uint32_t tgid);

/* The same for every process in the targets map. */
void loader__cover_targets(void *l);

/* --hooks skb with the per-target attach: the directories the packet
 * programs are on and the targets left uncovered (skbscope.h); false in
 * other modes. */
bool loader__skb_scope(const struct loader *l, uint32_t *cgroups, uint64_t *uncovered);

/* Periodic upkeep: lets go of the cgroups that are gone. */
void loader__tick(struct loader *l);

/* Names of enum sba_drop / enum sba_stat values, for stats and metrics. */
const char *sba_drop_name(int reason);
const char *sba_stat_name(int stat);
const char *sba_sys_name(int sys);

#endif /* SBA_LOADER_H */
