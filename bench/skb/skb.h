/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/* skb.h - the ring-buffer record shared by skb.bpf.c and skb.c. */
#ifndef SKB_H
#define SKB_H

#define SKB_CAP 256		/* payload bytes copied per packet, at most */

enum { SKB_INGRESS = 0, SKB_EGRESS = 1 };
enum { SKB_REC_DATA = 0, SKB_REC_SOCK = 1 };

struct skb_rec {
	__u64 cookie;		/* socket cookie: the connection's id */
	__u64 ts_ns;		/* bpf_ktime_get_ns() when the program ran */
	__u32 seq;		/* TCP sequence number of the first payload byte */
	__u32 len;		/* payload bytes in this skb (GSO/GRO: many segments) */
	__u32 tgid;		/* SOCK: tgid of the task current at first sight */
	__u32 cpu;		/* CPU the program ran on: whose time it took */
	__u16 cap;		/* bytes of data[] that are valid */
	__u8 dir;		/* SKB_INGRESS / SKB_EGRESS */
	__u8 kind;		/* SKB_REC_DATA / SKB_REC_SOCK (data[] = comm) */
	char data[SKB_CAP];
};

#endif
