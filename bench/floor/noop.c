// SPDX-License-Identifier: Apache-2.0
/*
 * noop.c - attaches noop.bpf.c's empty programs and waits for SIGINT. It
 * speaks just enough of sba-observer's command line for bench/run.sh:
 * `--hooks raw` attaches the raw_tp program instead of the 15 tracepoint
 * ones, other arguments are ignored, "ready" goes to stderr once attached,
 * and a stats line (empty counters) to stdout at exit.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "noop.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct noop_bpf *skel = noop_bpf__open();
	struct bpf_program *prog;
	bool raw = false;

	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--hooks") == 0)
			raw = strcmp(argv[i + 1], "raw") == 0;
	if (skel)
		bpf_object__for_each_program(prog, skel->obj)
			bpf_program__set_autoload(prog, (prog == skel->progs.noop_raw) == raw);
	if (!skel || noop_bpf__load(skel) || noop_bpf__attach(skel)) {
		fprintf(stderr, "noop: cannot load or attach (root? tracefs?)\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "noop: ready: %s\n", raw ? "an empty raw_tp/sys_exit program attached" :
						 "15 empty tp/syscalls programs attached");
	while (!stop)
		pause();
	noop_bpf__destroy(skel);
	printf("{\"ev\":\"stats\",\"drops\":{},\"stats\":{}}\n");
	return 0;
}
