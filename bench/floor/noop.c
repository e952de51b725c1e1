// SPDX-License-Identifier: Apache-2.0
/*
 * noop.c - attaches noop.bpf.c's empty programs and waits for SIGINT. It
 * speaks just enough of sba-observer's command line for bench/run.sh: other
 * arguments are ignored, "ready" goes to stderr once attached, and a stats
 * line (empty counters) to stdout at exit.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "noop.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct noop_bpf *skel = noop_bpf__open_and_load();

	if (!skel || noop_bpf__attach(skel)) {
		fprintf(stderr, "noop: cannot load or attach (root? tracefs?)\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "noop: ready: 15 empty programs attached\n");
	while (!stop)
		pause();
	noop_bpf__destroy(skel);
	printf("{\"ev\":\"stats\",\"drops\":{},\"stats\":{}}\n");
	return 0;
}
