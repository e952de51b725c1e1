// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * skb.bpf.c - prototype: capture TCP payload at the packet layer instead of
 * at syscall tracepoints (bench/skb/README.md).
 *
 * cgroup_skb ingress/egress programs, attached to the cgroup v2 root, run for
 * every IP packet of every socket in the hierarchy. Per packet: one
 * socket-local-storage lookup says whether the socket is a target (the
 * verdict, "no" included, is cached there at first sight, so no hash map);
 * for a target with payload, one ring-buffer record with up to SKB_CAP bytes
 * read from the skb (kernel memory: no user copy, no syscall hook at all).
 *
 * The target rule is a prototype's: local port == target_port (the server's
 * port). With port_only the verdict is that comparison on every packet and
 * sk storage is not used at all (what a per-pod cgroup attach, where every
 * TCP socket is a target, would need). Always returns 1: observe, never drop.
 *
 * One ring per direction: on loopback egress runs on the app's CPU and
 * ingress on the client's, and a shared ring's lock and producer position
 * would bounce between them (a real design: one ring per CPU).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "skb.h"

#define IPPROTO_TCP_ 6

const volatile __u16 target_port = 18080;	/* 0: no socket is a target */
const volatile __u8 empty;	/* 1: programs return at once (the hook's floor) */
const volatile __u8 port_only;	/* 1: no sk storage, compare the port each time */
const volatile __u8 no_ts;	/* 1: no bpf_ktime_get_ns() (ts_ns = 0) */

/* Counters read by the loader (.bss). */
__u64 drops_ringbuf_full;
__u64 skipped_nonlinear;	/* headers not in the linear part: not parsed */

struct sock_mark {
	__u64 cookie;
	__u8 seen;
	__u8 target;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_mark);
} marks SEC(".maps");

struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
};
struct ring rb_in SEC(".maps"), rb_out SEC(".maps");

/* Once per socket: the verdict, the cookie, and for a target a SOCK record
 * saying which task was current (the owner? see README: often not). */
static __noinline void first_sight(struct __sk_buff *skb, struct bpf_sock *sk,
				   struct sock_mark *m, __u8 dir)
{
	struct skb_rec *r;

	m->seen = 1;
	m->target = sk->src_port == target_port;
	m->cookie = bpf_get_socket_cookie(skb);
	if (!m->target)
		return;
	r = bpf_ringbuf_reserve(dir ? (void *)&rb_out : (void *)&rb_in, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&drops_ringbuf_full, 1);
		return;
	}
	r->cookie = m->cookie;
	r->ts_ns = bpf_ktime_get_ns();
	r->seq = 0;
	r->len = 0;
	r->tgid = bpf_get_current_pid_tgid() >> 32;
	r->cpu = bpf_get_smp_processor_id();
	r->cap = 16;
	r->dir = dir;
	r->kind = SKB_REC_SOCK;
	bpf_get_current_comm(r->data, 16);
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

static __always_inline int capture(struct __sk_buff *skb, __u8 dir)
{
	struct bpf_sock *sk = skb->sk;
	struct sock_mark *m;
	struct skb_rec *r;
	struct tcphdr *th;
	void *data, *end;
	__u32 off, len, n;
	__u64 cookie;
	__u8 *p;

	if (empty || !sk)
		return 1;
	if (port_only) {
		if (sk->src_port != target_port)
			return 1;
		cookie = bpf_get_socket_cookie(skb);
	} else {
		sk = bpf_sk_fullsock(sk);
		if (!sk || sk->protocol != IPPROTO_TCP_)
			return 1;
		m = bpf_sk_storage_get(&marks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!m)
			return 1;
		if (!m->seen)
			first_sight(skb, sk, m, dir);
		if (!m->target)
			return 1;
		cookie = m->cookie;
	}

	/* IP and TCP headers straight from the linear part of the skb. */
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	p = data;
	if ((void *)(p + 40) > end)
		goto nonlinear;
	if ((p[0] >> 4) == 4) {
		if (p[9] != IPPROTO_TCP_)
			return 1;
		off = (p[0] & 0xf) * 4;
	} else {
		if (p[6] != IPPROTO_TCP_)	/* no extension headers here */
			return 1;
		off = 40;
	}
	th = data + off;
	if ((void *)(th + 1) > end)
		goto nonlinear;
	off += th->doff * 4;
	if (skb->len <= off)
		return 1;			/* a bare ACK, SYN, FIN */
	len = skb->len - off;

	r = bpf_ringbuf_reserve(dir ? (void *)&rb_out : (void *)&rb_in, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&drops_ringbuf_full, 1);
		return 1;
	}
	n = len < SKB_CAP ? len : SKB_CAP;
	/* payload may sit in page frags (egress): the helper walks them */
	if (n < 1 || n > SKB_CAP || bpf_skb_load_bytes(skb, off, r->data, n))
		n = 0;
	r->cookie = cookie;
	r->ts_ns = no_ts ? 0 : bpf_ktime_get_ns();
	r->seq = bpf_ntohl(th->seq);
	r->len = len;
	r->tgid = 0;
	r->cpu = bpf_get_smp_processor_id();	/* inlined by the JIT: ~1 ns */
	r->cap = n;
	r->dir = dir;
	r->kind = SKB_REC_DATA;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 1;
nonlinear:
	__sync_fetch_and_add(&skipped_nonlinear, 1);
	return 1;
}

SEC("cgroup_skb/ingress")
int handle_ingress(struct __sk_buff *skb)
{
	return capture(skb, SKB_INGRESS);
}

SEC("cgroup_skb/egress")
int handle_egress(struct __sk_buff *skb)
{
	return capture(skb, SKB_EGRESS);
}

char LICENSE[] SEC("license") = "GPL";
