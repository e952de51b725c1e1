/* SPDX-License-Identifier: Apache-2.0 */
/*
 * capture.bpf.h - what happens when a syscall of a target process returns,
 * whichever tracepoint flavour fired.
 *
 * Everything is done at sys_exit: the arguments are still in the task's saved
 * user registers, the result is known, and the data is in the buffer. One
 * program run per syscall instead of two, and no enter->exit stash, because
 * on this class of host each helper call costs tens of nanoseconds.
 *
 * The tricky part is the copy budget. Per connection, each time the direction
 * changes (request read -> response written -> next request read ...) the next
 * cap_head bytes are copied: enough for a request head with a 2 KiB cookie
 * before the tenant header. After that only the first cap_body bytes of each
 * further syscall in the same direction are copied (body prefixes, chunk-size
 * lines, pipelined frames that start a write). `bytes` is always the exact
 * count, so userspace can skip what it did not receive.
 */
#ifndef SBA_CAPTURE_BPF_H
#define SBA_CAPTURE_BPF_H

#define SBA_EINPROGRESS 115

const volatile __u32 cap_head = SBA_CAP_HEAD_DEFAULT;
const volatile __u32 cap_body = SBA_CAP_BODY_DEFAULT;
/* Long writes to these server ports also send their last tail_bytes. */
const volatile __u32 tail_bytes = SBA_CAP_TAIL_DEFAULT;
const volatile __u16 tail_ports[SBA_TAIL_PORTS_MAX] = { 6379 };
/* Force a reader wakeup once this much is waiting in the ring. */
const volatile __u64 wakeup_bytes = 2 << 20;

/* A syscall as seen at its exit. */
struct sys_call {
	__u64 a0, a1, a2;	/* first three arguments */
	long ret;
	__u8 sys;		/* enum sba_sys */
};

static __always_inline bool sys_is_in(__u8 sys)
{
	return sys == SBA_SYS_READ || sys == SBA_SYS_READV || sys == SBA_SYS_RECVFROM ||
	       sys == SBA_SYS_RECVMSG;
}

static __always_inline __u64 rb_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	count_stat(SBA_STAT_WAKEUPS, 1);
	return BPF_RB_FORCE_WAKEUP;
}

/* Writes a CONN_OPEN (with sk's addresses) or CONN_CLOSE (sk NULL) record
 * for c. Returns false, counted, when the ring is full. */
static __always_inline bool emit_conn(__u8 kind, const struct sba_conn *c, struct sock *sk,
				      __u32 tgid, __u32 tid, int fd, __u16 *rport)
{
	struct sba_conn_ev *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		count_drop(SBA_DROP_RINGBUF_FULL);
		return false;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.kind = kind;
	ev->hdr.flags = kind == SBA_EV_CONN_OPEN && c->joined ? SBA_CONN_JOINED : 0;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->conn_id = c->conn_id;
	ev->proc_gen = c->proc_gen;
	ev->tid = tid;
	ev->fd = fd;
	ev->role = c->role;
	if (sk)
		read_sock_addrs(sk, ev);
	if (rport)
		*rport = ev->rport;
	bpf_ringbuf_submit(ev, rb_flags());
	return true;
}

/* CONN_OPEN for c; on a full ring c->announced stays 0 and the next
 * syscall on the connection tries again. */
static __always_inline void conn_announce(struct sba_conn *c, struct sock *sk, __u32 tgid,
					  __u32 tid, int fd)
{
	__u16 rport = 0;

	if (!emit_conn(SBA_EV_CONN_OPEN, c, sk, tgid, tid, fd, &rport))
		return;
	c->announced = 1;
	for (int i = 0; i < SBA_TAIL_PORTS_MAX; i++)
		if (rport && tail_ports[i] == rport)
			c->tail = 1;
}

/* Starts tracking fd as a TCP connection (or remembers it is not one). */
static __always_inline struct sba_conn *conn_start(__u8 tag, __u32 tgid, __u32 tid, int fd,
						   __u8 role)
{
	struct sba_conn_key key = { .tgid = tgid, .fd = fd };
	struct sba_target *t = bpf_map_lookup_elem(&targets, &tgid);
	struct sba_conn nc = { .tag = tag };
	struct sba_conn *c;
	struct sock *sk = NULL;
	enum sock_kind kind;

	if (!t)		/* gone since its tag was read */
		return NULL;
	nc.proc_gen = t->gen;
	kind = fd_to_tcp_sock(fd, &sk);
	if (kind == SOCK_KIND_NONE)
		return NULL;
	if (kind == SOCK_KIND_OTHER) {
		nc.kind = SBA_FD_OTHER;
		/* A full map here only costs a second walk later: nothing is lost. */
		bpf_map_update_elem(&conns, &key, &nc, BPF_ANY);
		count_stat(SBA_STAT_FDS_IGNORED, 1);
		return NULL;
	}
	nc.kind = SBA_FD_TCP;
	nc.role = role;
	nc.joined = role == SBA_ROLE_UNKNOWN;
	nc.conn_id = next_id();
	if (bpf_map_update_elem(&conns, &key, &nc, BPF_ANY)) {
		count_drop(SBA_DROP_CONN_MAP_FULL);
		return NULL;
	}
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return NULL;
	count_stat(nc.joined ? SBA_STAT_CONNS_JOINED : SBA_STAT_CONNS_OPENED, 1);
	conn_announce(c, sk, tgid, tid, fd);
	return c;
}

static __always_inline void conn_close(__u8 tag, __u32 tgid, int fd)
{
	struct sba_conn_key key = { .tgid = tgid, .fd = fd };
	struct sba_conn *c = bpf_map_lookup_elem(&conns, &key);

	if (!c)
		return;
	if (c->kind == SBA_FD_TCP && c->tag == tag) {
		count_stat(SBA_STAT_CONNS_CLOSED, 1);
		emit_conn(SBA_EV_CONN_CLOSE, c, NULL, tgid, (__u32)bpf_get_current_pid_tgid(), fd,
			  NULL);
	}
	bpf_map_delete_elem(&conns, &key);
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* bpf_loop state for walking an iovec array into the scratch area. */
struct iov_walk {
	__u64 iov;	/* user address of struct iovec[] */
	__u64 iovcnt;
	__u32 want;	/* bytes to copy in all */
	__u32 off;	/* bytes copied so far */
	__u8 fault;
};

/* Copies one iovec's share into dst, which holds 2 * cap bytes (cap a power
 * of two, want <= cap); false when done or on a fault. */
static __always_inline bool iov_copy_one(struct iov_walk *w, __u8 *dst, const __u32 cap,
					 const struct iovec *v)
{
	__u64 off, n;

	if (w->off >= w->want)
		return false;
	n = w->want - w->off;
	if (v->iov_len < n)
		n = v->iov_len;
	off = w->off & (cap - 1);	/* off < want <= cap: no-op */
	/* n <= want - off already; the clamp and barrier are for the verifier,
	 * which must see the clamped register reach the helper call. */
	if (n > cap)
		n = cap;
	barrier_var(n);
	if (n && bpf_probe_read_user(&dst[off], n, v->iov_base)) {
		w->fault = 1;
		return false;
	}
	w->off += n;
	return true;
}

/* Iovecs read with one user copy; each user copy costs ~100 ns on a
 * mitigated host whatever its size, so batching them matters. */
#define IOV_BATCH 8

/* bpf_loop callback for iovecs past the first IOV_BATCH: one at a time. */
static long iov_step(__u32 i, void *ctx)
{
	struct iov_walk *w = ctx;
	struct scratch *s = scratch_get();
	struct iovec v;

	__u64 idx = (__u64)i + IOV_BATCH;

	if (!s || idx >= w->iovcnt)
		return 1;
	if (bpf_probe_read_user(&v, sizeof(v), (void *)(w->iov + idx * sizeof(v)))) {
		w->fault = 1;
		return 1;
	}
	return iov_copy_one(w, s->data, SBA_CAP_MAX, &v) ? 0 : 1;
}

/* Reads the first IOV_BATCH (at most) iovecs of an array in one user copy;
 * returns how many, 0 with SBA_DATA_CUT_FAULT in *flags when unreadable. */
static __always_inline __u32 iov_read_batch(struct iovec *v, __u64 iov, __u64 iovcnt, __u8 *flags)
{
	__u32 first = iovcnt < IOV_BATCH ? iovcnt : IOV_BATCH;

	if (first && bpf_probe_read_user(v, first * sizeof(v[0]), (void *)iov)) {
		*flags |= SBA_DATA_CUT_FAULT;
		return 0;
	}
	return first;
}

/* Copies up to want (<= cap) bytes spread over the first iovecs v[0..first)
 * into dst, which holds 2 * cap bytes. */
static __always_inline void iov_copy_batch(struct iov_walk *w, __u8 *dst, const __u32 cap,
					   const struct iovec *v, __u32 first)
{
	for (int i = 0; i < IOV_BATCH; i++)
		if (i >= first || !iov_copy_one(w, dst, cap, &v[i]))
			break;
}

/* Copies up to want (<= SBA_CAP_MAX) bytes spread over an iovec array into
 * the scratch slot, walking past the first IOV_BATCH iovecs with bpf_loop;
 * returns bytes copied. */
static __always_inline __u32 copy_iov(struct scratch *s, __u64 iov, __u64 iovcnt, __u32 want,
				      __u8 *flags)
{
	struct iov_walk w = { .iov = iov, .iovcnt = iovcnt, .want = want };
	struct iovec v[IOV_BATCH];
	__u32 first = iov_read_batch(v, iov, iovcnt, flags), loops;

	if (*flags & SBA_DATA_CUT_FAULT)
		return 0;
	iov_copy_batch(&w, s->data, SBA_CAP_MAX, v, first);
	if (!w.fault && w.off < want && iovcnt > IOV_BATCH) {
		loops = iovcnt < SBA_IOV_MAX ? iovcnt : SBA_IOV_MAX;
		bpf_loop(loops - IOV_BATCH, iov_step, &w, 0);
	}
	if (w.fault)
		*flags |= SBA_DATA_CUT_FAULT;
	else if (w.off < want && iovcnt > SBA_IOV_MAX)
		*flags |= SBA_DATA_CUT_IOV;
	return w.off;
}

/* Copies n (at most cap) user bytes at src into dst. Returns n, or 0 with
 * SBA_DATA_CUT_FAULT set in *flags when they are not readable. */
static __always_inline __u32 copy_user(__u8 *dst, const __u32 cap, __u64 src, __u64 n,
				       __u8 *flags)
{
	if (n > cap)
		n = cap;
	barrier_var(n);
	if (bpf_probe_read_user(dst, n, (void *)src)) {
		*flags |= SBA_DATA_CUT_FAULT;
		return 0;
	}
	return (__u32)n;
}

/* Bytes of a syscall whose records will not be written: they become the
 * direction's gap, and count as lost. */
static __always_inline void lose_bytes(struct sba_conn *c, __u8 dir, __u64 bytes)
{
	c->lost[(dir - 1) & 1] += bytes;
	count_stat(SBA_STAT_DATA_LOST_BYTES, bytes);
}

/* The header of a data record, written in place (ring record or scratch). */
static __always_inline void data_hdr(struct sba_data_ev *ev, const struct sba_conn *c, int fd,
				     __u64 pid_tgid, __u64 ts, __u64 bytes, __u32 got, __u8 flags,
				     __u8 dir, __u8 sys)
{
	ev->hdr.kind = SBA_EV_DATA;
	ev->hdr.flags = flags;
	/* got <= SBA_CAP_MAX already; the mask is for the verifier. */
	ev->hdr.size = sizeof(*ev) + (got & (2 * SBA_CAP_MAX - 1));
	ev->hdr.tgid = pid_tgid >> 32;
	ev->hdr.ts_ns = ts;
	ev->conn_id = c->conn_id;
	ev->bytes = bytes;
	ev->gap_bytes = c->lost[(dir - 1) & 1];
	ev->tid = (__u32)pid_tgid;
	ev->fd = fd;
	ev->cap_len = got;
	ev->dir = dir;
	ev->sys = sys;
	ev->__pad = 0;
}

/* The wakeup flag of a data record. Asking the ring how full it is costs as
 * much as a map lookup: do it on one data event in 64 per CPU; the reader
 * drains every poll_ms anyway. */
static __always_inline __u64 data_wake(const struct sba_counters *cnt)
{
	if (!cnt || (cnt->stats[SBA_STAT_DATA_EVENTS] & 63) == 63)
		return rb_flags();
	return BPF_RB_NO_WAKEUP;
}

/* A data record did not fit in the ring: its bytes become the direction's gap. */
static __always_inline void data_lost(struct sba_conn *c, struct sba_counters *cnt, __u8 dir,
				      __u64 bytes)
{
	c->lost[(dir - 1) & 1] += bytes;
	if (cnt) {
		cnt->drops[SBA_DROP_RINGBUF_FULL]++;
		cnt->stats[SBA_STAT_DATA_LOST_BYTES] += bytes;
	}
}

/* A data record was written; ring_size is the room it takes in the ring. */
static __always_inline void data_done(struct sba_conn *c, struct sba_counters *cnt, __u8 dir,
				      __u64 bytes, __u32 got, __u64 ring_size)
{
	c->lost[(dir - 1) & 1] = 0;
	c->run_bytes += got;
	if (cnt) {
		cnt->stats[SBA_STAT_DATA_EVENTS]++;
		cnt->stats[SBA_STAT_BYTES_SEEN] += bytes;
		cnt->stats[SBA_STAT_BYTES_CAPTURED] += got;
		cnt->stats[SBA_STAT_RING_BYTES] += ring_size;
	}
}

/* Writes the data record in s (payload s->data[0..got)) for `bytes` bytes
 * of the syscall. On a full ring the bytes become the direction's gap. */
static __always_inline bool emit_data(struct scratch *s, struct sba_conn *c, int fd,
				      __u64 pid_tgid, __u64 ts, __u64 bytes, __u32 got,
				      __u8 flags, __u8 dir, __u8 sys)
{
	struct sba_counters *cnt = counters_get();
	__u64 size;

	data_hdr(&s->ev, c, fd, pid_tgid, ts, bytes, got, flags, dir, sys);
	size = s->ev.hdr.size;
	if (bpf_ringbuf_output(&events, s, size, data_wake(cnt))) {
		data_lost(c, cnt, dir, bytes);
		return false;
	}
	data_done(c, cnt, dir, bytes, got, size);
	return true;
}

/*
 * The first record of a syscall, written in place: reserved in the ring
 * and the user bytes copied straight into it, instead of into the scratch
 * slot and then again by bpf_ringbuf_output (one buffer fewer to pull back
 * into the cache: the app runs enough JavaScript between two syscalls to
 * evict it). A reservation's size must be a constant, so the record has the
 * room of a size class: cap >= want bytes copied from src, or 2 * cap when
 * they come from the iovecs v[0..nv) (at most IOV_BATCH), whose copies land
 * at offsets the verifier only knows to be below cap. flags set on entry
 * (the iovec array was unreadable) give a record with no payload. hdr.size
 * still counts the bytes captured; the rest of the record is padding that
 * readers skip (sba_abi.h).
 * *ts is the kernel time of the record; false: the ring is full.
 */
static __always_inline bool emit_direct_class(struct sba_conn *c, __u64 src,
					      const struct iovec *v, __u32 nv, __u8 flags,
					      const __u32 cap, int fd, __u64 pid_tgid, __u64 bytes,
					      __u32 want, __u8 dir, __u8 sys, __u64 *ts)
{
	const __u64 room = sizeof(struct sba_data_ev) + (v ? 2 * cap : cap);
	struct sba_counters *cnt = counters_get();
	struct iov_walk w = { .iovcnt = nv, .want = want };
	struct sba_data_ev *ev;
	__u64 wake;
	__u32 got = 0;

	ev = bpf_ringbuf_reserve(&events, room, 0);
	if (!ev) {
		data_lost(c, cnt, dir, bytes);
		return false;
	}
	if (flags) {
		/* the iovec array was unreadable (emit_direct): no payload */
	} else if (v) {
		iov_copy_batch(&w, (__u8 *)(ev + 1), cap, v, nv);
		got = w.off;
		if (w.fault)
			flags |= SBA_DATA_CUT_FAULT;
	} else {
		got = copy_user((__u8 *)(ev + 1), cap, src, want, &flags);
	}
	if (got < bytes && !flags)
		flags |= SBA_DATA_CUT_CAP;
	if (cnt && (flags & SBA_DATA_CUT_FAULT))
		cnt->drops[SBA_DROP_COPY_FAULT]++;
	*ts = bpf_ktime_get_ns();
	data_hdr(ev, c, fd, pid_tgid, *ts, bytes, got, flags, dir, sys);
	wake = data_wake(cnt);
	data_done(c, cnt, dir, bytes, got, room);
	bpf_ringbuf_submit(ev, wake);
	return true;
}

/* Size classes of emit_direct_class(): a request head or a small response
 * in 128 or 256 bytes, the default body cap in 1024, the head cap in 4096;
 * 2048 and 8192 halve the room of Redis commands and replies between them
 * (BullMQ's scripts and job payloads: 1-2 KiB and ~5 KiB writes in the
 * fixtures). The BullMQ e2e's traffic takes 0.76 of the ring bytes with
 * them; the observer's programs verify in ~0.2 s more at startup. */
#define EMIT_CLASS(V, NV, ROOM)								\
	return emit_direct_class(c, src, V, NV, 0, ROOM, fd, pid_tgid, bytes, want, dir, sys, ts)
#define EMIT_CLASSES(V, NV)								\
	do {										\
		if (want <= 128)							\
			EMIT_CLASS(V, NV, 128);						\
		if (want <= 256)							\
			EMIT_CLASS(V, NV, 256);						\
		if (want <= 1024)							\
			EMIT_CLASS(V, NV, 1024);					\
		if (want <= 2048)							\
			EMIT_CLASS(V, NV, 2048);					\
		if (want <= 4096)							\
			EMIT_CLASS(V, NV, 4096);					\
		if (want <= 8192)							\
			EMIT_CLASS(V, NV, 8192);					\
		EMIT_CLASS(V, NV, SBA_CAP_MAX);						\
	} while (0)

/*
 * The first record of a syscall, straight into the ring at a size class.
 * An iovec array (vec: src is the array, at most IOV_BATCH of them) is read
 * first: when its first iovec holds all the bytes wanted (Node writes a
 * response as [head and body, ""]), the record is a plain copy of it and
 * takes the room of its class, not twice that.
 */
static __always_inline bool emit_direct(struct sba_conn *c, __u64 src, __u64 iovcnt,
					const bool vec, int fd, __u64 pid_tgid, __u64 bytes,
					__u32 want, __u8 dir, __u8 sys, __u64 *ts)
{
	struct iovec v[IOV_BATCH];
	__u8 fl = 0;
	__u32 nv;

	if (!vec)
		EMIT_CLASSES(NULL, 0);
	nv = iov_read_batch(v, src, iovcnt, &fl);
	if (fl)		/* the array is unreadable: a record with no payload */
		return emit_direct_class(c, src, NULL, 0, fl, 128, fd, pid_tgid, bytes, want, dir,
					 sys, ts);
	if (nv && v[0].iov_len >= want) {
		src = (__u64)v[0].iov_base;
		EMIT_CLASSES(NULL, 0);
	}
	EMIT_CLASSES(v, nv);
}

static __always_inline void on_data(const struct sys_call *a, __u8 tag, __u64 pid_tgid)
{
	struct sba_conn_key key = { .tgid = pid_tgid >> 32, .fd = (int)a->a0 };
	__u64 ret = a->ret, ts, src = a->a1, iovcnt = 0;
	struct sba_conn *c;
	struct scratch *s;
	struct user_msghdr msg;
	struct sock *sk;
	__u8 dir = sys_is_in(a->sys) ? SBA_DIR_IN : SBA_DIR_OUT;
	__u8 flags = 0;
	__u64 budget, tail = 0, rest = 0, off, n, bytes;
	__u32 want, got = 0;
	bool vec = false;

	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->tag != tag) {
		/* First syscall on this fd, or an entry left by a previous image
		 * of this tgid: classify the fd now, once. */
		c = conn_start(tag, key.tgid, (__u32)pid_tgid, key.fd, SBA_ROLE_UNKNOWN);
		if (!c)
			return;
	} else if (c->kind != SBA_FD_TCP) {
		return;
	}
	if (!c->announced && fd_to_tcp_sock(key.fd, &sk) == SOCK_KIND_TCP)
		conn_announce(c, sk, key.tgid, (__u32)pid_tgid, key.fd);
	if (c->last_dir != dir) {
		c->last_dir = dir;
		c->run_bytes = 0;
	}
	budget = c->run_bytes < cap_head ? cap_head - c->run_bytes : 0;
	if (budget < cap_body)
		budget = cap_body;
	/* Redis: commands and replies are small and every one counts (a reply
	 * cut over its header makes the pairing unsure): copy up to the most a
	 * record holds. */
	if (c->tail && tail_bytes)
		budget = SBA_CAP_MAX;
	if (budget > ret)
		budget = ret;
	want = budget > SBA_CAP_MAX ? SBA_CAP_MAX : budget;
	/* A long write to Redis (a script's first EVAL, an addBulk): the rest
	 * of it goes in more records, up to SBA_MID_CHUNKS of SBA_CAP_MAX, and
	 * its last tail_bytes always, so the keys and arguments after a long
	 * script body and every command of a pipelined batch are seen. */
	if (c->tail && tail_bytes && dir == SBA_DIR_OUT &&
	    (a->sys == SBA_SYS_WRITE || a->sys == SBA_SYS_SENDTO) && ret > want) {
		tail = ret - want;
		if (tail > tail_bytes)
			tail = tail_bytes;
		rest = ret - want - tail;
	}

	switch (a->sys) {
	case SBA_SYS_READ:
	case SBA_SYS_WRITE:
	case SBA_SYS_RECVFROM:
	case SBA_SYS_SENDTO:
		break;
	case SBA_SYS_READV:
	case SBA_SYS_WRITEV:
		vec = true;
		iovcnt = a->a2;
		break;
	case SBA_SYS_RECVMSG:
	case SBA_SYS_SENDMSG:
		if (bpf_probe_read_user(&msg, sizeof(msg), (void *)a->a1)) {
			flags |= SBA_DATA_CUT_FAULT;
			break;
		}
		vec = true;
		src = (__u64)msg.msg_iov;
		iovcnt = msg.msg_iovlen;
		break;
	default: /* sendfile */
		flags |= SBA_DATA_NO_PAYLOAD;
		break;
	}
	s = NULL;
	if (!flags && (!vec || iovcnt <= IOV_BATCH)) {
		/* The common case, straight into the ring. */
		if (!emit_direct(c, src, iovcnt, vec, key.fd, pid_tgid, ret - rest - tail, want,
				 dir, a->sys, &ts)) {
			lose_bytes(c, dir, rest + tail);	/* the records that will not follow */
			return;
		}
		if (!tail)
			return;
		s = scratch_get();
		if (!s) {
			lose_bytes(c, dir, rest + tail);
			return;
		}
	} else {
		/* More iovecs than one batch, a sendfile, an unreadable msghdr:
		 * through the scratch slot. */
		s = scratch_get();
		if (!s)
			return;
		if (vec && !flags)
			got = copy_iov(s, src, iovcnt, want, &flags);
		if (got < ret - rest - tail && !flags)
			flags |= SBA_DATA_CUT_CAP;
		if (flags & SBA_DATA_CUT_FAULT)
			count_drop(SBA_DROP_COPY_FAULT);
		if (flags & SBA_DATA_CUT_IOV)
			count_drop(SBA_DROP_IOV_LIMIT);
		ts = bpf_ktime_get_ns();
		if (!emit_data(s, c, key.fd, pid_tgid, ts, ret - rest - tail, got, flags, dir,
			       a->sys)) {
			lose_bytes(c, dir, rest + tail);	/* the records that will not follow */
			return;
		}
		if (!tail)
			return;
	}
	/* The middle, in SBA_CAP_MAX records; the last one also counts what
	 * is left uncopied before the tail. */
	off = want;
	for (int i = 0; i < SBA_MID_CHUNKS; i++) {
		if (!rest)
			break;
		n = rest < SBA_CAP_MAX ? rest : SBA_CAP_MAX;
		bytes = i == SBA_MID_CHUNKS - 1 ? rest : n;
		flags = SBA_DATA_TAIL | (bytes > n ? SBA_DATA_CUT_CAP : 0);
		got = copy_user(s->data, SBA_CAP_MAX, a->a1 + off, n, &flags);
		if (flags & SBA_DATA_CUT_FAULT)
			count_drop(SBA_DROP_COPY_FAULT);
		off += bytes;
		rest -= bytes;
		if (!emit_data(s, c, key.fd, pid_tgid, ts, bytes, got, flags, dir, a->sys)) {
			lose_bytes(c, dir, rest + tail);
			return;
		}
	}
	flags = SBA_DATA_TAIL;
	got = copy_user(s->data, SBA_CAP_MAX, a->a1 + ret - tail, tail, &flags);
	if (flags & SBA_DATA_CUT_FAULT)
		count_drop(SBA_DROP_COPY_FAULT);
	emit_data(s, c, key.fd, pid_tgid, ts, tail, got, flags, dir, a->sys);
}

/* The one entry point: a syscall of a target (its tag: target_tag()) returned. */
static __always_inline int on_exit(const struct sys_call *a, __u8 tag, __u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;

	switch (a->sys) {
	case SBA_SYS_ACCEPT:
	case SBA_SYS_ACCEPT4:
		if (a->ret >= 0)
			conn_start(tag, tgid, tid, (int)a->ret, SBA_ROLE_SERVER);
		break;
	case SBA_SYS_CONNECT:
		if (a->ret == 0 || a->ret == -SBA_EINPROGRESS)
			conn_start(tag, tgid, tid, (int)a->a0, SBA_ROLE_CLIENT);
		break;
	case SBA_SYS_CLOSE:
		if (a->ret == 0)
			conn_close(tag, tgid, (int)a->a0);
		break;
	case SBA_SYS_DUP2:
	case SBA_SYS_DUP3:
		/* newfd was closed and now is a copy of oldfd. */
		if (a->ret >= 0 && a->a0 != a->a1)
			conn_close(tag, tgid, (int)a->a1);
		break;
	default:
		if (a->ret > 0)
			on_data(a, tag, pid_tgid);
		break;
	}
	return 0;
}

#endif /* SBA_CAPTURE_BPF_H */
