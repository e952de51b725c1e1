/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config.h - everything the user can set, parsed once at start-up.
 */
#ifndef SBA_CONFIG_H
#define SBA_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "httpd.h"
#include "pipeline.h"
#include "sba_abi.h"

enum sba_hooks {
	SBA_HOOKS_RAW = 0,	/* raw_tp/sys_enter + sys_exit dispatchers */
	SBA_HOOKS_TP = 1,	/* one tp/syscalls program per syscall */
	SBA_HOOKS_SKB = 2,	/* packet layer: cgroup_skb + tcp raw tracepoints */
};

/* "raw", "tp" or "skb". */
const char *sba_hooks_name(enum sba_hooks h);

#define SBA_MAX_PIDS 64

/* --trace kinds (the ready and stats lines come with any of them) */
#define SBA_TRACE_PROC	0x01	/* exec, fork, exit */
#define SBA_TRACE_CONN	0x02	/* open, close */
#define SBA_TRACE_DATA	0x04	/* captured chunks */
#define SBA_TRACE_HTTP	0x08	/* paired HTTP exchanges, as labelled */
#define SBA_TRACE_JOB	0x10	/* BullMQ job operations */
#define SBA_TRACE_ALL	0x1f

/* --poll-ms defaults: a drain costs a wakeup and a cold cache, and scrapes
 * drain on demand (drainreq.h); trace lines come at the trace default. */
#define SBA_POLL_MS_DEFAULT	1000
#define SBA_POLL_MS_TRACE	100

struct sba_config {
	uint32_t trace;		/* --trace[=KINDS]: SBA_TRACE_* kinds of JSON lines on stdout */
	bool stats;		/* --stats: counters as JSON on stdout at exit */
	enum sba_hooks hooks;
	bool skb_scope_root;	/* --skb-scope root: packet programs on the root, not per target */
	int n_pids;
	pid_t pids[SBA_MAX_PIDS];
	int n_exe_paths;
	const char *exe_paths[SBA_MAX_EXE_INODES];
	int n_exe_names;
	const char *exe_names[SBA_MAX_EXE_NAMES];
	const char *cgroup_path;
	uint32_t cap_head;
	uint32_t cap_body;
	uint32_t cap_tail;	/* last bytes of long writes to Redis ports; 0: off */
	uint64_t ringbuf_bytes;
	uint32_t poll_ms;	/* drain interval; scrapes also drain on demand */
	uint32_t max_conns;
	uint32_t max_targets;
	const char *btf_path;
	const char *pin_dir;
	struct httpd_config http;	/* the metrics endpoint (--listen, --token-file, ...) */
	struct pipeline_config pipe;	/* routes, tenants, Redis ports, service names */
};

/*
 * Fills cfg from argv and the environment (SBA_ADMIN_TOKEN, RATE_LIMIT_WINDOW,
 * RATE_LIMIT_MAX; options win over the environment). Returns 0 to run, 1 when the program should exit 0
 * (--help, --version), -EINVAL after printing what is wrong.
 */
int config_parse(struct sba_config *cfg, int argc, char **argv);

#endif /* SBA_CONFIG_H */
