// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * probe.bpf.c - one program per question "may a packet-layer capture use
 * this?"; `skb --probe` loads each alone and prints whether the verifier
 * accepts it on this kernel. Never attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 sink;

struct owner { __u32 tgid; };

/* BPF_F_CLONE: a listener's value is copied into each accepted child. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct owner);
} owners SEC(".maps");

SEC("cgroup_skb/egress")
int skb_pid_tgid(struct __sk_buff *skb)
{
	sink = bpf_get_current_pid_tgid();
	return 1;
}

SEC("cgroup_skb/egress")
int skb_task_btf(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_get_current_task_btf();

	sink = t->tgid;
	return 1;
}

SEC("cgroup_skb/egress")
int skb_task_read(struct __sk_buff *skb)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int tgid = 0;

	bpf_probe_read_kernel(&tgid, sizeof(tgid), &t->tgid);
	sink = tgid;
	return 1;
}

SEC("cgroup_skb/egress")
int skb_comm(struct __sk_buff *skb)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	sink = comm[0];
	return 1;
}

SEC("cgroup_skb/egress")
int skb_sk_cgroup_id(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;

	if (sk && (sk = bpf_sk_fullsock(sk)))
		sink = bpf_sk_cgroup_id(sk);
	return 1;
}

/* Attribution at socket creation: current is the creating task here. */
SEC("cgroup/sock_create")
int sock_create_owner(struct bpf_sock *sk)
{
	struct owner *o = bpf_sk_storage_get(&owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (o)
		o->tgid = bpf_get_current_pid_tgid() >> 32;
	return 1;
}

SEC("sockops")
int sockops_owner(struct bpf_sock_ops *ops)
{
	struct bpf_sock *sk = ops->sk;
	struct owner *o;

	if (ops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB || !sk)
		return 1;
	o = bpf_sk_storage_get(&owners, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o)
		o->tgid = bpf_get_current_pid_tgid() >> 32;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
