/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skb.bpf.h - the packet-layer capture (--hooks skb): no syscall is hooked.
 *
 *  - cgroup_skb ingress/egress on the cgroup v2 root: every IP packet of the
 *    host passes; TCP packets with a payload on a target (or pending) socket
 *    give one SBA_EV_PKT record, the payload read from the skb (kernel
 *    memory: no user copy);
 *  - raw_tp/tcp_rcv_space_adjust, which tcp_recvmsg calls after each chunk
 *    it copies, in the reader's context: one SBA_EV_READ when the reader is
 *    a target, and "not ours" for a pending socket another process reads;
 *  - raw_tp/inet_sock_set_state: SBA_EV_SOCK closed at TCP_CLOSE.
 *
 * Whose socket is it? Packets are not in their owner's context (ingress
 * runs in softirq, in whatever task it interrupted), so the verdict comes
 * from the two places that are: the connect() that sends a SYN (egress),
 * and the owner's reads. A socket first seen with a payload is "pending":
 * its packets are captured, tgid 0, until `skb_socks` says whose it is.
 * A target's read costs no lookup: its READ names the reader, userspace
 * owns the socket from it and writes the verdict into `skb_socks` (a
 * pending socket's packets come with tgid 0 until then). Another
 * process's read of a pending socket says "not ours" at once. The verdict
 * is then cached in socket-local storage, so a target packet costs one
 * storage lookup and no hash lookup.
 * The programs always return 1: observe, never drop.
 */
#ifndef SBA_SKB_BPF_H
#define SBA_SKB_BPF_H

#define SKB_IPPROTO_TCP	6
#define SKB_TCP_SYN	0x02
#define SKB_TCP_ACK	0x10
#define SKB_TCP_CLOSE	7	/* enum tcp_state's TCP_CLOSE */

/* Per socket, in its local storage: the verdict and the cookie. */
struct skb_mark {
	__u64 cookie;
	__u32 tgid;
	__u8 state;	/* 0: not decided, else SBA_SK_* */
	__u8 tail;	/* the peer is a Redis port: whole packets are copied */
	__u8 seen[2];	/* [dir]: a payload went that way since we came */
};

/* Packets to a Redis port are copied whole, in records of SBA_CAP_MAX, up
 * to this many: a pipelined addBulk or an EVAL with its keys after a long
 * script is one write, and on loopback one packet of up to 64 KiB and more.
 * Past that, the last SBA_CAP_MAX bytes (where an EVAL's keys are). */
#define SKB_TAIL_CHUNKS	4

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct skb_mark);
} skb_marks SEC(".maps");

/* cookie -> struct sba_skb_sock: pending and target sockets, until TCP_CLOSE.
 * A plain HASH, sized by --max-conns (the loader): a full map fails the
 * insert, counted (CONN_MAP_FULL), and the socket is not captured. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct sba_skb_sock);
} skb_socks SEC(".maps");

/*
 * The egress fast path: a direct-mapped cache of decided sockets (target,
 * or OTHER: not ours), indexed by the low bits of the socket cookie and
 * checked against the whole cookie.
 * A packet a target writes is in the app's own context, and the socket-local
 * storage lookup behind skb_marks chases three pointers (the socket's
 * storage field, the storage's cache, the element) that the app has evicted
 * by the time it answers: 40-58 % of the program's samples in a perf
 * profile of Express. Here the cookie is read from the socket (a line the
 * send path has just used) and the slot is one line of an array, whose
 * lookup the verifier turns into an address.
 * Filled by the storage path for a target socket once its first payload
 * went out, and for a socket with a cookie found OTHER on its way out (a
 * pending one whose reader was another process: without the slot, each of
 * its packets out would pay a slot miss and the storage). A cookie is never
 * reused, so a slot never needs clearing, and two sockets on one slot only
 * send each other to the storage path. A slot is written cookie-last and
 * read cookie-twice (a seqlock in small), so a reader never takes another
 * socket's owner or verdict.
 */
#define SKB_ONCE(x)	(*(volatile typeof(x) *)&(x))

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SBA_SKB_FAST_SLOTS);
	__type(key, __u32);
	__type(value, struct sba_skb_fast);
} skb_fast SEC(".maps");

/* The socket's cookie if it has one (0 if not), without making one. */
static __always_inline __u64 skb_cookie_of(struct bpf_sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	return tp ? tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter : 0;
}

/* The verdict of the socket whose cookie this is, from its slot: 0 (not
 * there: ask the storage), SBA_SK_OTHER, or SBA_SK_TARGET with out filled. */
static __always_inline __u8 skb_fast_get(__u64 cookie, struct skb_mark *out)
{
	__u32 idx = cookie & (SBA_SKB_FAST_SLOTS - 1);
	struct sba_skb_fast *f;

	if (!cookie)
		return 0;
	f = bpf_map_lookup_elem(&skb_fast, &idx);
	if (!f || SKB_ONCE(f->cookie) != cookie)
		return 0;
	out->state = SKB_ONCE(f->state);
	out->tgid = SKB_ONCE(f->tgid);
	out->tail = SKB_ONCE(f->tail);
	barrier();
	if (SKB_ONCE(f->cookie) != cookie)	/* rewritten meanwhile */
		return 0;
	out->cookie = cookie;
	out->seen[0] = out->seen[1] = 1;
	return out->state == SBA_SK_TARGET || out->state == SBA_SK_OTHER ? out->state : 0;
}

/* Gives cookie's slot to its socket: the verdict state, and the owner and
 * tail flag from its mark m. */
static __always_inline void skb_fast_put(__u64 cookie, const struct skb_mark *m, __u8 state)
{
	__u32 idx = cookie & (SBA_SKB_FAST_SLOTS - 1);
	struct sba_skb_fast *f = bpf_map_lookup_elem(&skb_fast, &idx);

	if (!f || !cookie || SKB_ONCE(f->cookie) == cookie)
		return;
	SKB_ONCE(f->cookie) = 0;
	barrier();
	SKB_ONCE(f->tgid) = m->tgid;
	SKB_ONCE(f->tail) = m->tail;
	SKB_ONCE(f->state) = state;
	barrier();
	SKB_ONCE(f->cookie) = cookie;
}

/* Where the payload starts, from the IP and TCP headers in the linear part. */
struct skb_tcp {
	__u32 off;	/* payload offset in the skb */
	__u32 seq;
	__u8 flags;
};

static __always_inline bool skb_parse(struct __sk_buff *skb, struct skb_tcp *t)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct tcphdr *th;
	__u8 *p = data;
	__u32 off;

	if ((void *)(p + 40) > end)
		return false;
	if ((p[0] >> 4) == 4) {
		if (p[9] != SKB_IPPROTO_TCP)
			return false;
		off = (p[0] & 0xf) * 4;
	} else {
		if (p[6] != SKB_IPPROTO_TCP)	/* extension headers: not parsed */
			return false;
		off = 40;
	}
	if (off > 60)
		return false;
	th = data + off;
	if ((void *)(th + 1) > end)
		return false;
	t->off = off + th->doff * 4;
	t->seq = bpf_ntohl(th->seq);
	t->flags = ((__u8 *)th)[13];
	return true;
}

/* A SOCK record with its head filled and the rest zero, or NULL (counted). */
static __always_inline struct sba_sock_ev *skb_sock_rec(__u64 cookie, __u32 tgid, __u8 flags)
{
	struct sba_sock_ev *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		count_drop(SBA_DROP_RINGBUF_FULL);
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.kind = SBA_EV_SOCK;
	ev->hdr.flags = flags;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->cookie = cookie;
	return ev;
}

/* The end of a reported socket: closed, or (SBA_SOCK_OTHER) not ours. */
static __noinline void skb_sock_end(__u64 cookie, __u8 flags)
{
	struct sba_sock_ev *ev = skb_sock_rec(cookie, 0, SBA_SOCK_CLOSED | flags);

	if (ev)
		bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

static __always_inline void skb_emit_sock(struct bpf_sock *sk, __u64 cookie, __u32 tgid,
					  __u8 role)
{
	struct sba_sock_ev *ev = skb_sock_rec(cookie, tgid, 0);

	if (!ev)
		return;
	ev->role = role;
	ev->family = sk->family;
	ev->lport = sk->src_port;
	ev->rport = bpf_ntohs(sk->dst_port);
	if (sk->family == 2 /* AF_INET */) {
		*(__u32 *)ev->laddr = sk->src_ip4;
		*(__u32 *)ev->raddr = sk->dst_ip4;
	} else {
		/* constant offsets: the verifier allows no arithmetic on sk */
		((__u32 *)ev->laddr)[0] = sk->src_ip6[0];
		((__u32 *)ev->laddr)[1] = sk->src_ip6[1];
		((__u32 *)ev->laddr)[2] = sk->src_ip6[2];
		((__u32 *)ev->laddr)[3] = sk->src_ip6[3];
		((__u32 *)ev->raddr)[0] = sk->dst_ip6[0];
		((__u32 *)ev->raddr)[1] = sk->dst_ip6[1];
		((__u32 *)ev->raddr)[2] = sk->dst_ip6[2];
		((__u32 *)ev->raddr)[3] = sk->dst_ip6[3];
	}
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

/* First packet of a socket with no verdict yet: a connect()'s SYN, or a
 * payload. Returns the state to use. */
static __always_inline __u8 skb_first_sight(struct __sk_buff *skb, struct bpf_sock *sk,
					    struct skb_mark *m, const struct skb_tcp *t,
					    bool egress)
{
	struct sba_skb_sock v = {}, *old;
	__u8 role = SBA_ROLE_UNKNOWN;

	if (egress && (t->flags & (SKB_TCP_SYN | SKB_TCP_ACK)) == SKB_TCP_SYN) {
		/* connect() sends the SYN: current is the owner. */
		v.tgid = bpf_get_current_pid_tgid() >> 32;
		if (!target_tag(v.tgid)) {
			m->state = SBA_SK_OTHER;
			return m->state;
		}
		v.state = SBA_SK_TARGET;
		role = SBA_ROLE_CLIENT;
	} else {
		v.state = SBA_SK_PENDING;	/* a payload: skb_capture's filter */
	}
	/* Only now: a socket without a cookie is one the read hook skips at
	 * once (another process's client sockets never get one). */
	if (!m->cookie)
		m->cookie = bpf_get_socket_cookie(skb);
	if (bpf_map_update_elem(&skb_socks, &m->cookie, &v, BPF_NOEXIST)) {
		/* Its first packets each way met on two CPUs, the other one
		 * inserted it; or the map is full. */
		old = bpf_map_lookup_elem(&skb_socks, &m->cookie);
		if (!old) {
			count_drop(SBA_DROP_CONN_MAP_FULL);
			m->state = SBA_SK_OTHER;
			return m->state;
		}
		v = *old;
	}
	m->state = v.state;
	m->tgid = v.tgid;
	for (int i = 0; i < SBA_TAIL_PORTS_MAX; i++)
		if (tail_bytes && tail_ports[i] && tail_ports[i] == bpf_ntohs(sk->dst_port))
			m->tail = 1;
	if (v.state != SBA_SK_OTHER)
		skb_emit_sock(sk, m->cookie, v.tgid, role);
	return m->state;
}

/* A pending socket: has the read hook decided it? */
static __always_inline __u8 skb_pending(struct skb_mark *m)
{
	struct sba_skb_sock *v = bpf_map_lookup_elem(&skb_socks, &m->cookie);

	if (!v) {		/* closed meanwhile */
		m->state = SBA_SK_OTHER;
		return m->state;
	}
	if (v->state == SBA_SK_OTHER) {
		m->state = SBA_SK_OTHER;
		bpf_map_delete_elem(&skb_socks, &m->cookie);
	} else if (v->state == SBA_SK_TARGET) {
		m->state = SBA_SK_TARGET;
		m->tgid = v->tgid;
	}
	return m->state;
}

/* A PKT record's wakeup flag. The decision to force a wakeup (ring past
 * wakeup_bytes) is taken for one record in 64, picked by its timestamp's
 * low bits, which vary from record to record: that keeps every other
 * record off the per-CPU counters' line and the consumer's position, both
 * cold in the app's context (a cache miss each, about 0.15 us, in a perf
 * profile of Express). */
static __always_inline __u64 pkt_wake(__u64 ts)
{
	if (((ts ^ (ts >> 7)) & 63) == 63)
		return rb_flags();
	return BPF_RB_NO_WAKEUP;
}

/* Fills in a PKT record whose cap bytes are copied and submits it. The
 * observer counts PKT records as it reads them (data events, bytes seen,
 * bytes captured, ring room): nothing is counted here, on the app's CPU. */
static __always_inline void skb_pkt_submit(struct sba_pkt_ev *ev, const struct skb_mark *m,
					   __u8 flags, __u32 seq, __u32 len, __u32 cap, __u8 dir)
{
	__u64 ts = bpf_ktime_get_ns();

	ev->hdr.kind = SBA_EV_PKT;
	ev->hdr.flags = flags | (cap < len ? SBA_PKT_CUT : 0);
	ev->hdr.size = sizeof(*ev) + cap;
	ev->hdr.tgid = m->tgid;
	ev->hdr.ts_ns = ts;
	ev->cookie = m->cookie;
	ev->seq = seq;
	ev->len = len;
	ev->cap_len = cap;
	ev->dir = dir;
	ev->__pad[0] = ev->__pad[1] = ev->__pad[2] = 0;
	bpf_ringbuf_submit(ev, pkt_wake(ts));
}

/* One PKT record at a constant size class; the payload from the skb. */
#define SKB_CLASS(ROOM)									\
	do {										\
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + (ROOM), 0);		\
		if (!ev)								\
			goto full;							\
		if (n < 1 || n > (ROOM))						\
			n = 0;								\
		else if (bpf_skb_load_bytes(skb, t.off, ev + 1, n))			\
			n = 0;								\
		goto fill;								\
	} while (0)

/* One record of len bytes at packet offset off (stream seq), the first cap
 * of them copied; cap <= SBA_CAP_MAX. False when the ring is full. */
static __always_inline bool skb_chunk(struct __sk_buff *skb, const struct skb_mark *m, __u32 off,
				      __u32 seq, __u32 len, __u32 cap, __u8 flags, __u8 dir)
{
	struct sba_pkt_ev *ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + SBA_CAP_MAX, 0);

	if (!ev)
		return false;
	if (cap < 1 || cap > SBA_CAP_MAX || bpf_skb_load_bytes(skb, off, ev + 1, cap))
		cap = 0;
	skb_pkt_submit(ev, m, flags, seq, len, cap, dir);
	return true;
}

/* A packet to a Redis port longer than one record: split in records of
 * SBA_CAP_MAX copied whole, then one for the rest that copies its end. */
static __always_inline int skb_capture_whole(struct __sk_buff *skb, const struct skb_mark *m,
					     const struct skb_tcp *t, __u32 len, __u8 flags,
					     __u8 dir)
{
	__u32 done = 0, rest, cap;

	for (int i = 0; i < SKB_TAIL_CHUNKS; i++) {
		rest = len - done;
		if (rest <= SBA_CAP_MAX)
			break;
		if (!skb_chunk(skb, m, t->off + done, t->seq + done, SBA_CAP_MAX, SBA_CAP_MAX,
			       i ? 0 : flags, dir))
			goto full;
		done += SBA_CAP_MAX;
	}
	rest = len - done;
	if (rest > SBA_CAP_MAX) {
		/* the middle: counted, not copied */
		if (!skb_chunk(skb, m, 0, t->seq + done, rest - SBA_CAP_MAX, 0, 0, dir))
			goto full;
		done += rest - SBA_CAP_MAX;
		rest = SBA_CAP_MAX;
	}
	cap = rest < tail_bytes ? rest : tail_bytes;
	if (cap < rest) {	/* --capture-tail below SBA_CAP_MAX */
		if (!skb_chunk(skb, m, 0, t->seq + done, rest - cap, 0, 0, dir))
			goto full;
		done += rest - cap;
	}
	if (skb_chunk(skb, m, t->off + done, t->seq + done, cap, cap, 0, dir))
		return 1;
full:
	count_drop(SBA_DROP_RINGBUF_FULL);
	count_stat(SBA_STAT_DATA_LOST_BYTES, len - done);
	return 1;
}

static __always_inline int skb_capture(struct __sk_buff *skb, bool egress)
{
	struct bpf_sock *sk = skb->sk;
	struct sba_counters *cnt;
	struct sba_pkt_ev *ev;
	struct bpf_tcp_sock *tp;
	struct skb_mark *m, fast;
	struct skb_tcp t;
	__u64 cookie = 0;
	__u32 len, n;
	__u8 state, flags = 0;

	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != SKB_IPPROTO_TCP)
		return 1;
	if (!skb_parse(skb, &t))
		return 1;
	len = skb->len > t.off ? skb->len - t.off : 0;
	/* A packet with no payload matters only as a connect()'s SYN: the
	 * rest (ACKs, FINs) return before the storage lookup. */
	if (!len && !(egress && (t.flags & (SKB_TCP_SYN | SKB_TCP_ACK)) == SKB_TCP_SYN))
		return 1;
	if (egress && len) {
		cookie = skb_cookie_of(sk);
		state = skb_fast_get(cookie, &fast);
		if (state == SBA_SK_OTHER)
			return 1;
		if (state == SBA_SK_TARGET) {
			m = &fast;
			goto capture;
		}
	}
	m = bpf_sk_storage_get(&skb_marks, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!m)
		return 1;
	state = m->state;
	if (!state)
		state = skb_first_sight(skb, sk, m, &t, egress);
	else if (state == SBA_SK_PENDING)
		state = skb_pending(m);
	if (state == SBA_SK_OTHER && egress && len)	/* its next packets: the slot */
		skb_fast_put(cookie, m, SBA_SK_OTHER);
	if (!len || (state != SBA_SK_TARGET && state != SBA_SK_PENDING))
		return 1;

	/* Does this payload start its direction's stream? Ingress runs before
	 * TCP takes the packet: nothing received yet, and it is the next byte
	 * expected. Egress runs after TCP counted it as sent: its segments are
	 * the only data segments ever sent, and nothing before it is unacked.
	 * Asked of the first payload we see each way only: a later one cannot
	 * start it. (seen[] races ingress with egress only on its own byte.) */
	if (!m->seen[egress]) {
		m->seen[egress] = 1;
		tp = bpf_tcp_sock(sk);
		if (tp && (egress ? tp->data_segs_out == (skb->gso_segs ? skb->gso_segs : 1) &&
					    tp->snd_una == t.seq
				  : tp->bytes_received == 0 && tp->rcv_nxt == t.seq))
			flags |= SBA_PKT_START;
	}
	/* its next packets out skip the storage: START is decided */
	if (egress && state == SBA_SK_TARGET)
		skb_fast_put(m->cookie, m, SBA_SK_TARGET);
capture:
	if (m->tail && egress && len > SBA_CAP_MAX)
		return skb_capture_whole(skb, m, &t, len, flags, SBA_DIR_OUT);
	n = len < cap_head ? len : cap_head;
	if (m->tail)
		n = len;	/* commands and replies whole: up to SBA_CAP_MAX */
	if (n > SBA_CAP_MAX)
		n = SBA_CAP_MAX;
	if (n <= 256)
		SKB_CLASS(256);
	if (n <= 1024)
		SKB_CLASS(1024);
	if (n <= 2048)
		SKB_CLASS(2048);
	if (n <= 4096)
		SKB_CLASS(4096);
	if (n <= 8192)
		SKB_CLASS(8192);
	SKB_CLASS(SBA_CAP_MAX);
fill:
	skb_pkt_submit(ev, m, flags, t.seq, len, n, egress ? SBA_DIR_OUT : SBA_DIR_IN);
	return 1;
full:
	cnt = counters_get();
	if (cnt) {
		cnt->drops[SBA_DROP_RINGBUF_FULL]++;
		cnt->stats[SBA_STAT_DATA_LOST_BYTES] += len;
	}
	return 1;
}

SEC("cgroup_skb/ingress")
int handle_skb_ingress(struct __sk_buff *skb)
{
	return skb_capture(skb, false);
}

SEC("cgroup_skb/egress")
int handle_skb_egress(struct __sk_buff *skb)
{
	return skb_capture(skb, true);
}

/* tcp_recvmsg copied a chunk to the reader: current is the socket's user.
 * A target's read is stamped, nothing looked up: whether we capture the
 * socket is the packets' business, and userspace owns a pending one from
 * this READ. Another process's read costs a lookup only on sockets the
 * skb programs gave a cookie (pending or target ones): a pending one is
 * not ours. */
SEC("raw_tp/tcp_rcv_space_adjust")
int handle_skb_read(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sba_skb_sock *v;
	struct sba_read_ev *ev;
	__u64 cookie;

	cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!cookie)
		return 0;	/* never passed the skb programs with a payload */
	if (!target_tag(tgid)) {
		v = bpf_map_lookup_elem(&skb_socks, &cookie);
		if (v && v->state == SBA_SK_PENDING) {
			/* what was captured of it is not ours: say so once */
			v->state = SBA_SK_OTHER;
			skb_sock_end(cookie, SBA_SOCK_OTHER);
		}
		return 0;
	}
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_drop(SBA_DROP_RINGBUF_FULL);
		return 0;
	}
	ev->hdr.kind = SBA_EV_READ;
	ev->hdr.flags = 0;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->cookie = cookie;
	ev->copied_seq = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq);
	ev->__pad = 0;
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
	return 0;
}

/* A socket reported to userspace reached TCP_CLOSE: say so, forget it. */
SEC("raw_tp/inet_sock_set_state")
int handle_skb_state(struct bpf_raw_tracepoint_args *ctx)
{
	struct sock *sk = (struct sock *)ctx->args[0];
	struct sba_skb_sock *v;
	__u64 cookie;
	__u8 state;

	if ((int)ctx->args[2] != SKB_TCP_CLOSE)
		return 0;
	cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!cookie)
		return 0;
	v = bpf_map_lookup_elem(&skb_socks, &cookie);
	if (!v)
		return 0;
	state = v->state;
	bpf_map_delete_elem(&skb_socks, &cookie);
	if (state != SBA_SK_OTHER)
		skb_sock_end(cookie, 0);
	return 0;
}

#endif /* SBA_SKB_BPF_H */
