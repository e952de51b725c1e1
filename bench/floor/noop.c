// SPDX-License-Identifier: Apache-2.0
/*
 * noop.c - attaches noop.bpf.c's empty programs and waits for SIGINT. It
 * speaks just enough of sba-observer's command line for bench/run.sh:
 * `--hooks raw` attaches the raw_tp program instead of the 15 tracepoint
 * ones, `--hooks skb` the packet layer's four (the cgroup_skb pair where
 * the observer puts it by default: on the cgroup v2 directory of the
 * process `--pid` names; on the root without --pid; SKB_CGROUP overrides
 * both; the hierarchy must be mounted at /sys/fs/cgroup/unified or
 * /sys/fs/cgroup), other arguments are ignored, "ready" goes to stderr once attached, and a stats line (empty
 * counters) to stdout at exit.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "noop.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

enum hooks { TP, RAW, SKB };

static bool wanted(struct noop_bpf *skel, struct bpf_program *prog, enum hooks h)
{
	bool skb = prog == skel->progs.noop_skb_ingress || prog == skel->progs.noop_skb_egress ||
		   prog == skel->progs.noop_skb_read || prog == skel->progs.noop_skb_state;

	if (h == SKB)
		return skb;
	return !skb && (prog == skel->progs.noop_raw) == (h == RAW);
}

/* The cgroup v2 directory of process pid ("0::/path" in /proc/PID/cgroup),
 * below root, into out; root itself when it cannot be told. */
static void cgroup_of(const char *root, const char *pid, char *out, size_t len)
{
	char path[64], line[4096];
	FILE *f;

	snprintf(out, len, "%s", root);
	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::/", 4)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s%s", root, line[4] ? line + 3 : "");
		}
	if (f)
		fclose(f);
}

/* The cgroup_skb pair on pid's cgroup (or the root); the raw tracepoints
 * by the skeleton. */
static int attach_skb(struct noop_bpf *skel, const char *pid)
{
	const char *root = access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0 ?
				   "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
	const char *dir = getenv("SKB_CGROUP");
	char buf[4200];
	int fd;

	if (!dir) {
		cgroup_of(root, pid ? pid : "self", buf, sizeof(buf));
		dir = pid ? buf : root;
	}
	fprintf(stderr, "noop: cgroup_skb pair on %s\n", dir);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		perror(dir);
		return -1;
	}
	if (!bpf_program__attach_cgroup(skel->progs.noop_skb_ingress, fd) ||
	    !bpf_program__attach_cgroup(skel->progs.noop_skb_egress, fd) ||
	    !bpf_program__attach(skel->progs.noop_skb_read) ||
	    !bpf_program__attach(skel->progs.noop_skb_state))
		return -1;	/* the links go with the process */
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const what[] = {
		[TP] = "15 empty tp/syscalls programs attached",
		[RAW] = "an empty raw_tp/sys_exit program attached",
		[SKB] = "empty cgroup_skb ingress/egress + tcp_rcv_space_adjust + inet_sock_set_state programs attached",
	};
	struct noop_bpf *skel = noop_bpf__open();
	struct bpf_program *prog;
	const char *pid = NULL;
	enum hooks h = TP;
	int err;

	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--hooks") == 0)
			h = strcmp(argv[i + 1], "raw") == 0 ? RAW :
			    strcmp(argv[i + 1], "skb") == 0 ? SKB : TP;
		if (strcmp(argv[i], "--pid") == 0)
			pid = argv[i + 1];
	}
	if (skel)
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog, wanted(skel, prog, h));
	err = !skel || noop_bpf__load(skel);
	if (!err)
		err = h == SKB ? attach_skb(skel, pid) : noop_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "noop: cannot load or attach (root? tracefs? cgroup v2?)\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "noop: ready: %s\n", what[h]);
	while (!stop)
		pause();
	noop_bpf__destroy(skel);
	printf("{\"ev\":\"stats\",\"drops\":{},\"stats\":{}}\n");
	return 0;
}
