// SPDX-License-Identifier: Apache-2.0
/* helpers.c - runs helpers.bpf.c once per operation; see run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <fcntl.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "helpers.skel.h"
int main(int argc, char **argv) {
	int op = atoi(argv[1]);
	struct helpers_bpf *s = helpers_bpf__open();
	s->rodata->target_pid = getpid(); s->rodata->op = op;
	if (helpers_bpf__load(s) || helpers_bpf__attach(s)) { fprintf(stderr, "load fail\n"); return 1; }
	int fd = open("/dev/zero", O_RDONLY); char buf[64];
	struct bpf_prog_info info = {}; __u32 len = sizeof(info);
	for (int i = 0; i < 200000; i++) read(fd, buf, 64);
	bpf_obj_get_info_by_fd(bpf_program__fd(s->progs.handle_bench), &info, &len);
	printf("%d %.1f\n", op, (double)info.run_time_ns / info.run_cnt);
	helpers_bpf__destroy(s); return 0;
}
