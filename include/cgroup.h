/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup.h - a cgroup v2 directory as the kernel and /proc name it.
 */
#ifndef SBA_CGROUP_H
#define SBA_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup_ref {
	uint64_t id;		/* the directory's inode number: the kernel's cgroup id */
	int level;		/* depth below the cgroup2 root (the root is 0) */
	char rel[PATH_MAX];	/* path below the root, as /proc/PID/cgroup shows it */
};

/* Is this /proc/PID/mountinfo line a cgroup2 mount? Then root (the
 * directory of the hierarchy it shows, "/" for the whole of it, as our
 * cgroup namespace names it) and mnt (where) are filled. */
bool cgroup2_mount_line(const char *line, char root[PATH_MAX], char mnt[PATH_MAX]);

/* Resolves path, which must be a directory on a cgroup2 mount (hybrid hosts
 * mount it at /sys/fs/cgroup/unified). Returns 0 or -errno. */
int cgroup_resolve(const char *path, struct cgroup_ref *out);

/* The directory on the cgroup v2 line ("0::PATH") of a /proc/PID/cgroup
 * text, into out. 0, or -ENOENT when there is none (or it does not fit). */
int cgroup_parse_proc(const char *text, char *out, size_t len);

/* Process pid's cgroup v2 directory, as /proc/PID/cgroup names it (below
 * our cgroup namespace's root; "/.." leaves it). 0 or -errno. */
int cgroup_of_pid(pid_t pid, char *rel, size_t len);

/* Is rel the directory anc or below it? (Both as /proc names them.) */
bool cgroup_is_under(const char *rel, const char *anc);

/* Is process pid in ref's subtree? False when it cannot be told. */
bool cgroup_has_pid(const struct cgroup_ref *ref, pid_t pid);

#endif /* SBA_CGROUP_H */
