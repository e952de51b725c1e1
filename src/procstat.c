// SPDX-License-Identifier: Apache-2.0
/*
 * procstat.c - per-process resource figures (see procstat.h).
 *
 * The memory limit that matters is the tightest one on the way from the
 * process's cgroup to the root: Kubernetes sets it on the container's or the
 * pod's cgroup, not always on the leaf. cgroup v2 keeps it in memory.max
 * ("max" = none), either at the cgroup root or, on hybrid hosts, under
 * unified/; v1 in memory/<path>/memory.limit_in_bytes (huge = none).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

/* Reads a small file into buf (NUL-terminated). Returns bytes or -errno. */
static ssize_t read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return (ssize_t)n;
}

/* A limit file's value: 0 for "max", for v1's "unlimited" (>= 2^62), or
 * when it cannot be read. */
static uint64_t limit_of(const char *path)
{
	char buf[64];
	unsigned long long v;

	if (read_file(path, buf, sizeof(buf)) <= 0 || !strncmp(buf, "max", 3))
		return 0;
	v = strtoull(buf, NULL, 10);
	return v >= (1ULL << 62) ? 0 : v;
}

/* The tightest limit named `file` in dir/<path> and its ancestors. */
static uint64_t tightest(const char *dir, const char *path, const char *file)
{
	char p[2 * PATH_MAX + 64], cg[PATH_MAX];
	uint64_t best = 0, v;
	char *slash;

	snprintf(cg, sizeof(cg), "%s", path);
	for (int depth = 0; depth < 32; depth++) {
		if ((size_t)snprintf(p, sizeof(p), "%s%s/%s", dir, strcmp(cg, "/") ? cg : "",
				     file) >= sizeof(p))
			break;
		v = limit_of(p);
		if (v && (!best || v < best))
			best = v;
		slash = strrchr(cg, '/');
		if (!slash || slash == cg)
			break;
		*slash = 0;
	}
	return best;
}

static uint64_t mem_limit(const char *proc_root, const char *cgroup_root, pid_t pid)
{
	char path[PATH_MAX], buf[4096], dir[PATH_MAX];
	uint64_t v2 = 0, v1 = 0;
	char *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *ctrl = strchr(line, ':'), *cg;

		if (!ctrl || !(cg = strchr(ctrl + 1, ':')))
			continue;
		cg++;
		if (!strncmp(line, "0::", 3)) {
			snprintf(dir, sizeof(dir), "%s", cgroup_root);
			v2 = tightest(dir, cg, "memory.max");
			if (!v2) {
				snprintf(dir, sizeof(dir), "%s/unified", cgroup_root);
				v2 = tightest(dir, cg, "memory.max");
			}
		} else if (strstr(ctrl, ":memory:") == ctrl || strstr(ctrl, ",memory:") ||
			   strstr(ctrl, ":memory,")) {
			snprintf(dir, sizeof(dir), "%s/memory", cgroup_root);
			v1 = tightest(dir, cg, "memory.limit_in_bytes");
		}
	}
	if (v1 && v2)
		return v1 < v2 ? v1 : v2;
	return v1 ? v1 : v2;
}

int procstat_read(const char *proc_root, const char *cgroup_root, pid_t pid, struct procstat *out)
{
	char path[256], buf[1024];
	unsigned long long utime, stime, rss_pages;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	const char *p;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	/* comm may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
			 &stime) != 2)
		return -EINVAL;
	out->cpu_ns = (utime + stime) * (1000000000ULL / (unsigned long long)(tick > 0 ? tick : 100));
	snprintf(path, sizeof(path), "%s/%d/statm", proc_root, pid);
	if (read_file(path, buf, sizeof(buf)) > 0 && sscanf(buf, "%*u %llu", &rss_pages) == 1)
		out->rss_bytes = rss_pages * (unsigned long long)(page > 0 ? page : 4096);
	out->mem_limit = mem_limit(proc_root, cgroup_root, pid);
	return 0;
}
