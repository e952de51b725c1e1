// SPDX-License-Identifier: Apache-2.0
/*
 * cgroup.c - resolves --cgroup PATH once, for the BPF filter (id and level)
 * and for the start-up scan (path below the cgroup2 root).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cgroup.h"

#define CGROUP2_SUPER_MAGIC 0x63677270

/* The longest cgroup2 mount point that is a prefix of real, into mnt. */
static int cgroup2_root_of(const char *real, char *mnt, size_t len)
{
	char line[4096], dir[PATH_MAX], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t best = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint opts... - fstype source superopts */
		const char *dash = strstr(line, " - ");
		size_t n;

		if (!dash || sscanf(dash + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", dir) != 1)
			continue;
		n = strlen(dir);
		if (n > best && !strncmp(real, dir, n) && (real[n] == '/' || !real[n])) {
			best = n;
			snprintf(mnt, len, "%s", dir);
		}
	}
	fclose(f);
	return best ? 0 : -ENOENT;
}

int cgroup_resolve(const char *path, struct cgroup_ref *out)
{
	char real[PATH_MAX], mnt[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	const char *p;
	int err;

	if (!realpath(path, real) || stat(real, &st) || statfs(real, &sfs))
		return -errno;
	if (sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EINVAL;
	err = cgroup2_root_of(real, mnt, sizeof(mnt));
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->id = st.st_ino;
	p = real + strlen(mnt);
	snprintf(out->rel, sizeof(out->rel), "%s", *p ? p : "/");
	for (; *p; p++)
		if (*p == '/' && p[1])
			out->level++;
	return 0;
}

bool cgroup_has_pid(const struct cgroup_ref *ref, pid_t pid)
{
	char path[64], line[PATH_MAX + 8];
	size_t len = strlen(ref->rel);
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 3;

		if (strncmp(line, "0::", 3))
			continue;
		p[strcspn(p, "\n")] = 0;
		in = !strcmp(ref->rel, "/") ||
		     (!strncmp(p, ref->rel, len) && (p[len] == 0 || p[len] == '/'));
		break;
	}
	fclose(f);
	return in;
}
