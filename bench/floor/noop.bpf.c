// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * noop.bpf.c - the floor of any capture built on syscall exit tracepoints:
 * the same 15 tp/syscalls/sys_exit_* hooks as sba-observer's `tp` flavour,
 * each an empty program, or (--hooks raw) one empty raw_tp/sys_exit program
 * as its `raw` flavour's dispatcher. What the app pays with these attached
 * is paid by every design on these hooks before it does any work
 * (bench/floor/README.md).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define NOOP(name)                                         \
	SEC("tp/syscalls/sys_exit_" #name)                 \
	int noop_##name(void *ctx)                         \
	{                                                  \
		return 0;                                  \
	}

NOOP(read) NOOP(readv) NOOP(recvfrom) NOOP(recvmsg)
NOOP(write) NOOP(writev) NOOP(sendto) NOOP(sendmsg) NOOP(sendfile64)
NOOP(accept) NOOP(accept4) NOOP(connect) NOOP(close) NOOP(dup2) NOOP(dup3)

SEC("raw_tp/sys_exit")
int noop_raw(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
