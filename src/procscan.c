// SPDX-License-Identifier: Apache-2.0
/*
 * procscan.c - seeds `targets` with the matching processes already running.
 *
 * Runs after the programs are attached, so a process that execs during the
 * scan is caught by one side or the other (the map insert is NOEXIST, so the
 * kernel's entry, with its own generation, wins). Generations made here have
 * bit 52 set and never collide with the kernel's ((cpu + 1) << 40 | seq).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <signal.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "procscan.h"

#define USER_GEN_BASE (1ULL << 52)

static bool pid_listed(const struct sba_config *cfg, pid_t pid)
{
	for (int i = 0; i < cfg->n_pids; i++)
		if (cfg->pids[i] == pid)
			return true;
	return false;
}

static bool exe_matches(const struct sba_config *cfg, pid_t pid)
{
	char link[64], target[PATH_MAX];
	const char *base;
	struct stat st, want;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false; /* kernel thread, gone, or not ours to read (see
			       * the CAP_SYS_PTRACE warning at start) */
	target[n] = 0;
	/* An executable replaced on disk after exec reads "path (deleted)". */
	if (n > 10 && !strcmp(target + n - 10, " (deleted)"))
		target[n - 10] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	for (int i = 0; i < cfg->n_exe_names; i++)
		if (!strncmp(base, cfg->exe_names[i], SBA_EXE_NAME_LEN - 1) &&
		    strlen(base) == strlen(cfg->exe_names[i]))
			return true;
	if (cfg->n_exe_paths && stat(link, &st) == 0) {
		for (int i = 0; i < cfg->n_exe_paths; i++)
			if (stat(cfg->exe_paths[i], &want) == 0 && want.st_ino == st.st_ino &&
			    want.st_dev == st.st_dev)
				return true;
	}
	return false;
}

int procscan_seed(struct loader *l, const struct sba_config *cfg)
{
	uint64_t gen = USER_GEN_BASE;
	pid_t self = getpid();
	struct dirent *de;
	struct cgroup_ref cg;
	DIR *d;
	int added = 0, err;

	if (cfg->cgroup_path) {
		err = cgroup_resolve(cfg->cgroup_path, &cg);
		if (err) {
			pr_err("--cgroup %s: %s\n", cfg->cgroup_path, strerror(-err));
			return err;
		}
	}
	d = opendir("/proc");

	if (!d) {
		err = -errno;
		pr_err("cannot read /proc: %s\n", strerror(-err));
		return err;
	}
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		bool match;

		if (*end || pid <= 0 || pid == self)
			continue;
		if (cfg->n_pids)
			match = pid_listed(cfg, pid);
		else
			match = exe_matches(cfg, pid) &&
				(!cfg->cgroup_path || cgroup_has_pid(&cg, pid));
		if (!match)
			continue;
		err = loader__add_target(l, (uint32_t)pid, ++gen);
		if (!err) {
			added++;
			pr_debug("target at start: pid %ld\n", pid);
		} else if (err != -EEXIST) {
			pr_warn("cannot track process %ld: %s\n", pid, strerror(-err));
		}
	}
	closedir(d);
	for (int i = 0; i < cfg->n_pids; i++)
		if (kill(cfg->pids[i], 0) && errno == ESRCH)
			pr_warn("--pid %d: no such process\n", cfg->pids[i]);
	return added;
}
