// SPDX-License-Identifier: Apache-2.0
/*
 * skbscope.c - the cgroup v2 directories the packet layer's cgroup_skb
 * programs are attached to: the target processes' own, or the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cgroup.h"
#include "log.h"
#include "skbscope.h"

static void full_path(const struct skbscope *s, const char *rel, char *out, size_t len)
{
	snprintf(out, len, "%s%s", s->root, strcmp(rel, "/") ? rel : "");
}

static void release(struct skbscope *s, int i)
{
	for (int k = 0; k < 2; k++)
		bpf_link__destroy(s->dirs[i].links[k]);
	free(s->dirs[i].rel);
	s->dirs[i] = s->dirs[--s->n];
}

/* Attaches both programs at rel, then lets go of the directories below it. */
static int attach(struct skbscope *s, const char *rel)
{
	struct skbscope_dir d = { 0 };
	char path[PATH_MAX + 16];
	int fd, err = 0;

	full_path(s, rel, path, sizeof(path));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (int k = 0; k < 2 && !err; k++) {
		d.links[k] = bpf_program__attach_cgroup(s->progs[k], fd);
		if (!d.links[k])
			err = -errno;
	}
	close(fd);
	d.rel = err ? NULL : strdup(rel);
	if (!err && !d.rel)
		err = -ENOMEM;
	if (err) {
		for (int k = 0; k < 2; k++)
			bpf_link__destroy(d.links[k]);
		free(d.rel);
		return err;
	}
	/* Attached here first, then detached below: in between a packet may
	 * run the programs twice, never none. pktconv drops the repeat as a
	 * retransmission. */
	for (int i = 0; i < s->n;)
		if (cgroup_is_under(s->dirs[i].rel, rel))
			release(s, i);
		else
			i++;
	s->dirs[s->n++] = d;
	return 0;
}

int skbscope__init(struct skbscope *s, const char *root, struct bpf_program *ingress,
		   struct bpf_program *egress, bool per_target)
{
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->root, sizeof(s->root), "%s", root);
	s->progs[0] = ingress;
	s->progs[1] = egress;
	s->per_target = per_target;
	if (per_target) {
		pr_info("packet capture goes on each target's cgroup below %s\n", root);
		return 0;
	}
	err = attach(s, "/");
	if (err)
		pr_err("--hooks skb: cannot attach the packet programs to cgroup %s: %s\n", root,
		       strerror(-err));
	else
		pr_info("packet capture attached to cgroup %s\n", root);
	return err;
}

int skbscope__cover(struct skbscope *s, pid_t pid)
{
	char rel[PATH_MAX];
	int err;

	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->dirs[i].rel, "/"))
			return 0;
	err = cgroup_of_pid(pid, rel, sizeof(rel));
	if (err == -ENOENT && kill(pid, 0) && errno == ESRCH)
		return err;	/* gone already */
	/* "/.." starts a directory outside our cgroup namespace's root: the
	 * programs cannot be put there (loader.c says so at start) */
	if (err || !strncmp(rel, "/..", 3)) {
		if (!s->uncovered++)
			pr_warn("--hooks skb: process %d's cgroup is outside what we can see (%s): "
				"its packets are not captured; run in the host's PID namespace\n",
				(int)pid, err ? strerror(-err) : rel);
		return -ENOENT;
	}
	for (int i = 0; i < s->n; i++)
		if (cgroup_is_under(rel, s->dirs[i].rel))
			return 0;
	if (s->n == SKBSCOPE_MAX) {
		pr_warn("--hooks skb: targets in more than %d cgroups: the packet programs go "
			"on the root, %s, from now on\n", SKBSCOPE_MAX, s->root);
		snprintf(rel, sizeof(rel), "/");
	}
	err = attach(s, rel);
	if (err == -ENOENT)	/* the process moved, or its cgroup is gone */
		return err;
	if (err) {
		s->uncovered++;
		pr_warn("--hooks skb: cannot attach the packet programs to cgroup %s%s (process "
			"%d): %s\n", s->root, rel, (int)pid, strerror(-err));
		return err;
	}
	pr_info("packet capture attached to cgroup %s%s (process %d)\n", s->root,
		strcmp(rel, "/") ? rel : "", (int)pid);
	return 0;
}

void skbscope__tick(struct skbscope *s)
{
	char path[PATH_MAX + 16];
	struct stat st;

	for (int i = 0; i < s->n;) {
		full_path(s, s->dirs[i].rel, path, sizeof(path));
		if (stat(path, &st) && errno == ENOENT)
			release(s, i);
		else
			i++;
	}
}

int skbscope__count(const struct skbscope *s)
{
	return s->n;
}

void skbscope__free(struct skbscope *s)
{
	while (s->n)
		release(s, s->n - 1);
}
