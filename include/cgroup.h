/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup.h - a cgroup v2 directory as the kernel and /proc name it.
 */
#ifndef SBA_CGROUP_H
#define SBA_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup_ref {
	uint64_t id;		/* the directory's inode number: the kernel's cgroup id */
	int level;		/* depth below the cgroup2 root (the root is 0) */
	char rel[PATH_MAX];	/* path below the root, as /proc/PID/cgroup shows it */
};

/* Resolves path, which must be a directory on a cgroup2 mount (hybrid hosts
 * mount it at /sys/fs/cgroup/unified). Returns 0 or -errno. */
int cgroup_resolve(const char *path, struct cgroup_ref *out);

/* Is process pid in ref's subtree? False when it cannot be told. */
bool cgroup_has_pid(const struct cgroup_ref *ref, pid_t pid);

#endif /* SBA_CGROUP_H */
