/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procstat.h - CPU time, resident memory and cgroup memory limit of one
 * process, from /proc and the cgroup filesystems (v2, or v1's memory
 * controller), for the sba_process_* families.
 */
#ifndef SBA_PROCSTAT_H
#define SBA_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

struct procstat {
	uint64_t cpu_ns;	/* user + system time so far */
	uint64_t rss_bytes;
	uint64_t mem_limit;	/* tightest memory limit of its cgroup and ancestors; 0: none */
};

/*
 * Reads pid under proc_root ("/proc"), looking for cgroup files under
 * cgroup_root ("/sys/fs/cgroup"). Returns 0, or -errno when the process is
 * gone or unreadable.
 */
int procstat_read(const char *proc_root, const char *cgroup_root, pid_t pid, struct procstat *out);

#endif /* SBA_PROCSTAT_H */
