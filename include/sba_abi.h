/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sba_abi.h - the kernel <-> userspace contract of sba-observer.
 *
 * Everything that crosses the ring buffer or lives in a map that both sides
 * read is defined here and only here, with fixed-width types and explicit
 * padding, so the BPF object and the loader can never disagree on a layout.
 * Enum values are stable: new ones are appended, never renumbered.
 *
 * Data flows one way: the probes write events into the `events` ring buffer
 * and bump `counters`; userspace reads both and never writes back, except the
 * `targets` and `conns` maps it seeds at start-up and cleans after exits.
 */
#ifndef SBA_ABI_H
#define SBA_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Hard ceiling on the bytes copied from one syscall; the configurable caps
 * (capture head/body) must stay at or below it. A power of two: the BPF side
 * masks offsets with SBA_CAP_MAX - 1 to keep the verifier convinced. */
#define SBA_CAP_MAX		16384
#define SBA_CAP_HEAD_DEFAULT	4096
/* Writes to a tail port (Redis) longer than their capture also send their
 * last bytes as a second event: the keys of an EVAL follow a 13-32 KB script. */
#define SBA_CAP_TAIL_DEFAULT	16384
#define SBA_TAIL_PORTS_MAX	8
/* ... and the bytes between head and tail in up to this many SBA_CAP_MAX
 * records (a pipelined addBulk): 16 KiB head budget aside, 64 KiB a write. */
#define SBA_MID_CHUNKS		3
#define SBA_CAP_BODY_DEFAULT	1024
/* iovecs walked for one readv/writev/recvmsg/sendmsg (IOV_MAX is 1024). */
#define SBA_IOV_MAX		1024
#define SBA_COMM_LEN		16
/* Executable names, executable inodes: how many the target filter holds. */
#define SBA_MAX_EXE_NAMES	4
#define SBA_EXE_NAME_LEN	16
#define SBA_MAX_EXE_INODES	4

enum sba_ev_kind {
	SBA_EV_CONN_OPEN = 1,	/* struct sba_conn_ev */
	SBA_EV_DATA = 2,	/* struct sba_data_ev + captured bytes */
	SBA_EV_CONN_CLOSE = 3,	/* struct sba_conn_ev, addresses zero */
	SBA_EV_PROC_EXEC = 4,	/* struct sba_proc_ev: a target appeared by exec */
	SBA_EV_PROC_FORK = 5,	/* struct sba_proc_ev: a target forked a target */
	SBA_EV_PROC_EXIT = 6,	/* struct sba_proc_ev: a target left (exit or exec) */
	/* --hooks skb (packet layer): pktconv.c turns these three into the
	 * CONN_OPEN / DATA / CONN_CLOSE records above before any sink sees them. */
	SBA_EV_PKT = 7,		/* struct sba_pkt_ev + captured bytes: one TCP packet */
	SBA_EV_READ = 8,	/* struct sba_read_ev: a target read from a socket */
	SBA_EV_SOCK = 9,	/* struct sba_sock_ev: a socket first seen, or closed */
};

/* Who opened the connection, seen from the target process. */
enum sba_role {
	SBA_ROLE_UNKNOWN = 0,	/* joined mid-stream: neither accept nor connect seen */
	SBA_ROLE_SERVER = 1,	/* returned by accept/accept4 */
	SBA_ROLE_CLIENT = 2,	/* passed to connect */
};

enum sba_dir {
	SBA_DIR_IN = 1,		/* bytes the target read from the socket */
	SBA_DIR_OUT = 2,	/* bytes the target wrote to the socket */
};

enum sba_sys {
	SBA_SYS_READ = 1,
	SBA_SYS_READV = 2,
	SBA_SYS_RECVFROM = 3,
	SBA_SYS_RECVMSG = 4,
	SBA_SYS_WRITE = 5,
	SBA_SYS_WRITEV = 6,
	SBA_SYS_SENDTO = 7,
	SBA_SYS_SENDMSG = 8,
	SBA_SYS_SENDFILE = 9,
	SBA_SYS_ACCEPT = 10,
	SBA_SYS_ACCEPT4 = 11,
	SBA_SYS_CONNECT = 12,
	SBA_SYS_CLOSE = 13,
	SBA_SYS_DUP2 = 14,
	SBA_SYS_DUP3 = 15,
	SBA_SYS__MAX,
};

/* sba_conn_ev.flags */
#define SBA_CONN_JOINED		0x1	/* first seen at a read/write, not at accept/connect */
#define SBA_CONN_BY_EXIT	0x2	/* close: the process exited holding the socket */

/* sba_data_ev.flags */
#define SBA_DATA_CUT_CAP	0x1	/* fewer bytes captured than moved: the cap (by design) */
#define SBA_DATA_CUT_FAULT	0x2	/* a user-memory read failed: counted as a drop */
#define SBA_DATA_CUT_IOV	0x4	/* more than SBA_IOV_MAX iovecs: counted as a drop */
#define SBA_DATA_NO_PAYLOAD	0x8	/* sendfile: bytes came from a file, none copied */
#define SBA_DATA_TAIL		0x10	/* more bytes of the same syscall as the event
					 * before it (long writes to Redis: sba_conn.tail) */

/* Why something was lost. Index into sba_counters.drops. */
enum sba_drop {
	SBA_DROP_RINGBUF_FULL = 0,	/* event not written: ring buffer full */
	SBA_DROP_CONN_MAP_FULL = 1,	/* a TCP connection could not be tracked */
	SBA_DROP_TARGET_MAP_FULL = 2,	/* a target process could not be tracked */
	SBA_DROP_COPY_FAULT = 3,	/* payload bytes unreadable (page not resident) */
	SBA_DROP_IOV_LIMIT = 4,		/* payload beyond SBA_IOV_MAX iovecs not copied */
	SBA_DROP__MAX,
};

/* What was seen. Index into sba_counters.stats. */
enum sba_stat {
	SBA_STAT_DATA_EVENTS = 0,	/* data events written to the ring (the
					 * first four: PKT records are counted by
					 * the observer as it reads them) */
	SBA_STAT_BYTES_SEEN = 1,	/* bytes moved by observed syscalls */
	SBA_STAT_BYTES_CAPTURED = 2,	/* payload bytes written to the ring */
	SBA_STAT_RING_BYTES = 3,	/* ring room taken by data records, headers and
					 * size-class padding included */
	SBA_STAT_CONNS_OPENED = 4,	/* accept/connect seen */
	SBA_STAT_CONNS_JOINED = 5,	/* sockets first seen mid-stream */
	SBA_STAT_CONNS_CLOSED = 6,
	SBA_STAT_FDS_IGNORED = 7,	/* fds found not to be TCP (files, pipes, unix...) */
	SBA_STAT_DATA_LOST_BYTES = 8,	/* bytes of data events lost to a full ring */
	SBA_STAT_WAKEUPS = 9,		/* forced wakeups (ring more than half full) */
	SBA_STAT__MAX,
};

/* The single element of the per-CPU `counters` array; userspace sums CPUs. */
struct sba_counters {
	__u64 drops[SBA_DROP__MAX];
	__u64 stats[SBA_STAT__MAX];
};

/*
 * Common head of every ring-buffer record. `size` is what the record holds;
 * the ring record can be longer: a data record is reserved in the ring at a
 * size class of its capture (a BPF reservation has a constant size), and
 * readers skip the padding after `size` by the ring's own record length.
 */
struct sba_ev_hdr {
	__u8 kind;		/* enum sba_ev_kind */
	__u8 flags;		/* SBA_CONN_* or SBA_DATA_* */
	__u16 size;		/* bytes it holds, header and payload (the ring
				 * record may be longer: size-class padding) */
	__u32 tgid;
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

/*
 * SBA_EV_CONN_OPEN / SBA_EV_CONN_CLOSE
 *  0        8       16       24       32   36   40 41 42  44  46  48       64       80
 *  | hdr    | hdr   | conn_id| proc_gen| tid| fd |ro|fa|lp |rp |pad| laddr  | raddr  |
 * Addresses are in network byte order, IPv4 in the first 4 bytes; ports host order.
 */
struct sba_conn_ev {
	struct sba_ev_hdr hdr;
	__u64 conn_id;		/* unique per observer run; never reused */
	__u64 proc_gen;		/* generation of the owning process (see targets) */
	__u32 tid;
	__s32 fd;
	__u8 role;		/* enum sba_role */
	__u8 family;		/* AF_INET or AF_INET6 */
	__u16 lport;
	__u16 rport;
	__u16 __pad;
	__u8 laddr[16];
	__u8 raddr[16];
};

/*
 * SBA_EV_DATA: one syscall that moved bytes on a tracked TCP socket.
 * `bytes` is what the syscall returned: always exact. `cap_len` bytes of it
 * follow the struct (the first ones, in stream order). `gap_bytes` is the sum
 * of `bytes` of the data events lost in the same direction of this
 * connection since its previous event in that direction, so a parser knows
 * that stream has a hole and exactly how long it is; the other direction's
 * stream is unaffected.
 */
struct sba_data_ev {
	struct sba_ev_hdr hdr;	/* ts_ns = syscall exit: data read is there, data
				 * written is queued (syscall entry is not hooked) */
	__u64 conn_id;
	__u64 bytes;
	__u64 gap_bytes;
	__u32 tid;
	__s32 fd;
	__u32 cap_len;
	__u8 dir;		/* enum sba_dir */
	__u8 sys;		/* enum sba_sys */
	__u16 __pad;
	/* followed by cap_len captured bytes */
};

/* SBA_EV_PROC_*: lifecycle of target processes. */
struct sba_proc_ev {
	struct sba_ev_hdr hdr;
	__u64 gen;		/* process generation; conns carry it */
	__u32 ppid;		/* parent tgid (fork) */
	__u32 __pad;
	char comm[SBA_COMM_LEN];
};

/* `targets` map: tgid -> this. A fresh gen per exec/fork makes pid reuse safe. */
struct sba_target {
	__u64 gen;
};

/*
 * `target_tags` (.bss): one byte per possible tgid, what every syscall reads
 * instead of `targets`. SBA_TAG_TARGET is set while the tgid is a target;
 * the low bits count how many times it became one (exec, pid reuse), so a
 * connection remembered under an earlier image has another tag.
 */
#define SBA_TGID_MAX	(1 << 22)	/* PID_MAX_LIMIT on 64-bit */
#define SBA_TAG_TARGET	0x80
#define SBA_TAG_SEQ	0x7f

/* The tag of the next time a tgid whose tag is `old` becomes a target. */
static inline __u8 sba_tag_next(__u8 old)
{
	return SBA_TAG_TARGET | ((old + 1) & SBA_TAG_SEQ);
}

/* `conns` map key: one open fd of one target process. */
struct sba_conn_key {
	__u32 tgid;
	__s32 fd;
};

/* sba_conn.kind */
#define SBA_FD_TCP	1	/* a TCP socket we capture */
#define SBA_FD_OTHER	2	/* anything else: remembered so it is not walked again */

/* `conns` map value. Written by BPF only; userspace deletes stale entries. */
struct sba_conn {
	__u64 conn_id;
	__u64 proc_gen;		/* must equal targets[tgid].gen, else stale */
	__u64 run_bytes;	/* bytes captured since the direction last changed */
	__u64 lost[2];		/* bytes of lost data events, per direction (dir - 1),
				 * reported as the gap of that direction's next event */
	__u8 kind;		/* SBA_FD_* */
	__u8 role;		/* enum sba_role */
	__u8 last_dir;		/* enum sba_dir of the last data event */
	__u8 announced;		/* CONN_OPEN written; retried on every syscall until it is */
	__u8 joined;
	__u8 tail;		/* the peer's port is a tail port: long writes send their tail */
	__u8 tag;		/* target_tags[tgid] when opened; another value: stale */
	__u8 __pad;
};

/*
 * ---- --hooks skb: capture at the packet layer -------------------------------
 *
 * cgroup_skb ingress/egress programs on the cgroup v2 root see every TCP
 * packet with its payload; a raw tracepoint in tcp_recvmsg (tcp_rcv_space_
 * adjust) sees every read, in the reader's context. No syscall is hooked.
 * A socket is identified by its cookie. Which process owns it is learnt from
 * the connect() that sent its SYN, or else from the first read of it; until
 * then it is "pending" and its packets are captured with tgid 0.
 *
 * Times: data written is stamped when its packet leaves the socket (in the
 * writer's sendmsg, unless TCP held it back); data read is stamped by the
 * READ record that consumed it, so "first byte read" keeps its meaning.
 */

/* sba_pkt_ev.hdr.flags */
#define SBA_PKT_START	0x1	/* no payload byte went this way on the socket
				 * before this packet: the stream starts at seq */
#define SBA_PKT_CUT	0x2	/* fewer bytes captured than the packet holds */

/* SBA_EV_PKT: payload of one TCP packet of a target or pending socket. GSO
 * and GRO packets hold many segments: `len` is up to 64 KiB and more. A
 * packet may be seen twice (a retransmission) or, on ingress, out of order. */
struct sba_pkt_ev {
	struct sba_ev_hdr hdr;	/* tgid: the owner; 0 while pending. ts: when the
				 * program ran (egress: the packet left) */
	__u64 cookie;
	__u32 seq;		/* TCP sequence number of the first payload byte */
	__u32 len;		/* payload bytes in the packet */
	__u32 cap_len;		/* the first cap_len of them follow the struct */
	__u8 dir;		/* SBA_DIR_IN: arrived for the socket, OUT: sent by it */
	__u8 __pad[3];
	/* followed by cap_len captured bytes */
};

/* SBA_EV_READ: a target copied bytes out of a socket: every byte before
 * `copied_seq` has been read, at hdr.ts. One per chunk of a recvmsg. */
struct sba_read_ev {
	struct sba_ev_hdr hdr;	/* tgid: the reader */
	__u64 cookie;
	__u32 copied_seq;	/* tcp_sock.copied_seq after the copy */
	__u32 __pad;
};

/* sba_sock_ev.hdr.flags */
#define SBA_SOCK_CLOSED	0x1	/* the socket reached TCP_CLOSE; addresses zero */
#define SBA_SOCK_OTHER	0x2	/* with CLOSED: a pending socket turned out to be
				 * another process's (its first read): forget it */

/* SBA_EV_SOCK: a target or pending socket's addresses, at the first packet
 * the programs saw of it; with SBA_SOCK_CLOSED, its end. */
struct sba_sock_ev {
	struct sba_ev_hdr hdr;	/* tgid: the owner if known, else 0 */
	__u64 cookie;
	__u8 role;		/* SBA_ROLE_CLIENT: seen at its SYN (connect);
				 * else SBA_ROLE_UNKNOWN */
	__u8 family;		/* AF_INET or AF_INET6 */
	__u16 lport;		/* host order */
	__u16 rport;
	__u16 __pad;
	__u8 laddr[16];		/* network order, IPv4 in the first 4 bytes */
	__u8 raddr[16];
};

/* `skb_socks` map value (key: cookie). The skb programs cache the verdict in
 * socket-local storage; this map is how the read hook, which cannot reach
 * that storage, hands a pending socket's verdict over, and how the close
 * hook knows a socket was reported. */
#define SBA_SK_PENDING	1
#define SBA_SK_TARGET	2
#define SBA_SK_OTHER	3

struct sba_skb_sock {
	__u32 tgid;
	__u8 state;		/* SBA_SK_* */
	__u8 __pad[3];
};

/* `skb_fast` map value (ARRAY, index: cookie % SBA_SKB_FAST_SLOTS): the
 * egress program's cache of decided sockets (skb.bpf.h). Only the programs
 * write it; userspace reads it in tests. */
#define SBA_SKB_FAST_SLOTS	65536

struct sba_skb_fast {
	__u64 cookie;		/* 0: empty; the slot is another socket's unless equal */
	__u32 tgid;
	__u8 tail;		/* the peer is a Redis port: packets copied whole */
	__u8 state;		/* SBA_SK_TARGET, or SBA_SK_OTHER: not captured */
	__u8 __pad[2];
};

#endif /* SBA_ABI_H */
