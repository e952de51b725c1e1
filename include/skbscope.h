/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skbscope.h - where the packet layer's cgroup_skb programs are attached
 * (--hooks skb): on the cgroup v2 directory of each target process, so that
 * the packets of other processes (a Redis server, a proxy, wrk) never run
 * them; or, with --skb-scope root, on the hierarchy's root.
 *
 * A cgroup_skb program attached to a directory runs for every socket below
 * it, so a directory whose ancestor is attached is never attached again
 * (its packets would run the programs twice), and attaching an ancestor
 * detaches its descendants. Past SKBSCOPE_MAX directories the programs go
 * on the root instead, once, and stay there.
 */
#ifndef SBA_SKBSCOPE_H
#define SBA_SKBSCOPE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SKBSCOPE_MAX 512

struct bpf_program;
struct bpf_link;

struct skbscope_dir {
	char *rel;			/* below the root: "/kubepods/pod1/ctr", "/" */
	struct bpf_link *links[2];
};

struct skbscope {
	char root[PATH_MAX];		/* where the hierarchy's root is mounted */
	struct bpf_program *progs[2];	/* cgroup_skb ingress, egress */
	struct skbscope_dir dirs[SKBSCOPE_MAX];
	int n;
	bool per_target;		/* false: --skb-scope root */
	uint64_t uncovered;		/* targets whose packets we could not cover: their
					 * directory is out of sight, or the attach failed */
};

/* Sets s up; attaches nothing yet unless per_target is false, then at the
 * root. Logs and returns -errno on failure. */
int skbscope__init(struct skbscope *s, const char *root, struct bpf_program *ingress,
		   struct bpf_program *egress, bool per_target);

/* Makes sure the packets of process pid's sockets run the programs. Returns
 * 0 when they do (already, or now), -errno otherwise: the process is gone,
 * or (counted in uncovered) its directory is outside what we can see or
 * refused the attach. */
int skbscope__cover(struct skbscope *s, pid_t pid);

/* Detaches from the directories that no longer exist (their pods ended). */
void skbscope__tick(struct skbscope *s);

/* Number of directories attached now. */
int skbscope__count(const struct skbscope *s);

void skbscope__free(struct skbscope *s);

#endif /* SBA_SKBSCOPE_H */
