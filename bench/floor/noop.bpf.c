// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * noop.bpf.c - the floor of any capture built on syscall exit tracepoints:
 * the same 15 tp/syscalls/sys_exit_* hooks as sba-observer's `tp` flavour,
 * each an empty program, or (--hooks raw) one empty raw_tp/sys_exit program
 * as its `raw` flavour's dispatcher, or (--hooks skb) the packet layer's
 * four: cgroup_skb ingress and egress on the cgroup v2 root, and the
 * tcp_rcv_space_adjust and inet_sock_set_state raw tracepoints. What the app
 * pays with these attached is paid by every design on these hooks before it
 * does any work (bench/floor/README.md).
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

SEC("cgroup_skb/ingress")
int noop_skb_ingress(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/egress")
int noop_skb_egress(struct __sk_buff *skb)
{
	return 1;
}

SEC("raw_tp/tcp_rcv_space_adjust")
int noop_skb_read(void *ctx)
{
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int noop_skb_state(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
