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

bool cgroup2_mount_line(const char *line, char root[PATH_MAX], char mnt[PATH_MAX])
{
	/* id parent maj:min root mountpoint opts... - fstype source superopts */
	const char *dash = strstr(line, " - ");
	char fstype[64];

	return dash && sscanf(dash + 3, "%63s", fstype) == 1 && !strcmp(fstype, "cgroup2") &&
	       sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) == 2;
}

/* The longest cgroup2 mount point that is a prefix of real, into mnt. */
static int cgroup2_root_of(const char *real, char *mnt, size_t len)
{
	char line[4096], root[PATH_MAX], dir[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t best = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t n;

		if (!cgroup2_mount_line(line, root, dir))
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

int cgroup_parse_proc(const char *text, char *out, size_t len)
{
	const char *p = text;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (n > 3 && !strncmp(p, "0::", 3)) {
			if (n - 3 >= len || p[3] != '/')
				return -ENOENT;
			memcpy(out, p + 3, n - 3);
			out[n - 3] = 0;
			return 0;
		}
		p = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

bool cgroup_is_under(const char *rel, const char *anc)
{
	size_t n = strlen(anc);

	if (n == 1 && anc[0] == '/')
		return true;
	return !strncmp(rel, anc, n) && (rel[n] == '/' || !rel[n]);
}

int cgroup_of_pid(pid_t pid, char *rel, size_t len)
{
	char path[64], line[PATH_MAX + 8];
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* line by line: on hybrid hosts the v2 line comes after every v1 one */
	while (err && fgets(line, sizeof(line), f))
		err = cgroup_parse_proc(line, rel, len);
	fclose(f);
	return err;
}

bool cgroup_has_pid(const struct cgroup_ref *ref, pid_t pid)
{
	char rel[PATH_MAX];

	return !cgroup_of_pid(pid, rel, sizeof(rel)) && cgroup_is_under(rel, ref->rel);
}
