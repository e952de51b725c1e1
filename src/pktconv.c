// SPDX-License-Identifier: Apache-2.0
/*
 * pktconv.c - packet-layer records (PKT, READ, SOCK by cookie) into the
 * connection records (CONN_OPEN, DATA, CONN_CLOSE by conn_id).
 *
 * Sockets live in an open-addressing table of pointers (linear probing,
 * backward-shift deletion, no tombstones), as in conntab.c, plus a packed
 * array of the same pointers so tick and exit walk the sockets there are,
 * and a packed array of those holding a READ, which flush walks (after
 * every drain: a node's idle keep-alive sockets are not visited).
 *
 * Per socket, two sequence-space streams:
 *  - OUT: deduplicated against out_next (the byte after the last one kept)
 *    as packets come; kept packets are emitted at once when the owner is
 *    known, else held in arrival order (which is sequence order: egress is
 *    in order but for retransmits, and those were dropped) until it is.
 *  - IN: packets are held sorted by seq with overlaps removed (the first
 *    copy seen wins) until a READ says which bytes the target copied out.
 * Captured bytes of both queues live in one per-socket arena, bump
 * allocated, reset when empty and compacted through a shared scratch when
 * full, so the steady state allocates nothing per packet. All sequence
 * arithmetic is modulo 2^32: a before b iff (int32_t)(a - b) < 0.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pktconv.h"

/* A longer packet is malformed (GSO/GRO reach 64 KiB, BIG TCP 512 KiB); the
 * cap keeps every length far from 2^31, where modular comparisons break. */
#define SEG_LEN_MAX	(1u << 30)
#define ARENA_MIN	4096
#define SEGS_MIN	8

/* Part of one packet: [seq, seq + len), the first cap bytes captured at
 * arena + off. gap and ts are used by pending OUT segments only. */
struct seg {
	uint64_t ts;
	uint64_t gap;
	uint32_t seq, len, cap, off;
};

struct segq {
	struct seg *v;
	uint32_t n, alloc;
};

struct sock {
	uint64_t cookie;
	uint64_t conn_id;	/* 0 until announced */
	uint64_t last_ts;	/* of the newest record: expiry */
	uint32_t tgid;		/* owner; 0: pending */
	uint32_t live_idx;	/* position in pktconv.live */
	uint8_t role;
	uint8_t family;
	bool announced;
	bool joined;
	bool decided;		/* role/joined fixed by the first payload packet */
	bool in_set, out_set;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	uint32_t in_next;	/* next IN byte not emitted */
	uint32_t out_next;	/* byte after the last OUT byte kept */
	uint64_t in_gap, out_gap;	/* lost bytes owed to the next DATA */
	struct segq inq;	/* received, not yet read: sorted, disjoint */
	struct segq outq;	/* sent while pending: in order */
	uint8_t *arena;
	uint32_t arena_cap, arena_end;
	uint32_t live;		/* captured bytes the queues hold */
	/* The newest READ, held until another record of the socket or the end
	 * of the drain: the chunks of one recvmsg come as READs in a row, and
	 * are emitted as one read stamped by the last, as at syscall exit. */
	bool rd_held;
	uint32_t held_idx;	/* position in pktconv.held while rd_held */
	uint32_t rd_seq;
	uint64_t rd_ts;
	uint64_t told_ts;	/* on_owned took the owner at this record
				 * time; 0: never */
};

struct pktconv {
	struct pktconv_config cfg;
	struct sock **slot;
	size_t cap;		/* power of two, twice max_socks */
	uint32_t count;
	struct sock **live;
	struct sock **held;	/* the sockets with rd_held set */
	uint32_t n_held;
	uint64_t next_conn_id;
	uint8_t *compact;	/* max_buffered bytes: arena compaction */
	uint8_t *scratch;	/* one DATA record: header + SBA_CAP_MAX */
	struct pktconv_stats st;
};

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

void pktconv_config_init(struct pktconv_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_socks = PKTCONV_MAX_SOCKS_DEFAULT;
	cfg->max_buffered = PKTCONV_MAX_BUFFERED_DEFAULT;
}

struct pktconv *pktconv__new(const struct pktconv_config *cfg)
{
	struct pktconv *pc = calloc(1, sizeof(*pc));

	if (!pc) {
		errno = ENOMEM;
		return NULL;
	}
	if (cfg)
		pc->cfg = *cfg;
	else
		pktconv_config_init(&pc->cfg);
	if (!pc->cfg.max_socks)
		pc->cfg.max_socks = PKTCONV_MAX_SOCKS_DEFAULT;
	if (!pc->cfg.max_buffered)
		pc->cfg.max_buffered = PKTCONV_MAX_BUFFERED_DEFAULT;
	pc->cap = 16;
	while (pc->cap < 2 * (size_t)pc->cfg.max_socks)
		pc->cap *= 2;
	pc->next_conn_id = 1;
	pc->slot = calloc(pc->cap, sizeof(*pc->slot));
	pc->live = calloc(pc->cfg.max_socks, sizeof(*pc->live));
	pc->held = calloc(pc->cfg.max_socks, sizeof(*pc->held));
	pc->compact = malloc(pc->cfg.max_buffered);
	pc->scratch = malloc(sizeof(struct sba_data_ev) + SBA_CAP_MAX);
	if (!pc->slot || !pc->live || !pc->held || !pc->compact || !pc->scratch) {
		pktconv__free(pc);
		errno = ENOMEM;
		return NULL;
	}
	return pc;
}

static void sock_free(struct sock *s)
{
	free(s->inq.v);
	free(s->outq.v);
	free(s->arena);
	free(s);
}

void pktconv__free(struct pktconv *pc)
{
	if (!pc)
		return;
	for (uint32_t i = 0; i < pc->count; i++)
		sock_free(pc->live[i]);
	free(pc->slot);
	free(pc->live);
	free(pc->held);
	free(pc->compact);
	free(pc->scratch);
	free(pc);
}

/* ---- the table ---- */

static size_t find(const struct pktconv *pc, uint64_t cookie)
{
	size_t i = fmix64(cookie) & (pc->cap - 1);

	while (pc->slot[i] && pc->slot[i]->cookie != cookie)
		i = (i + 1) & (pc->cap - 1);
	return i;
}

/* The socket of cookie; added if new and create is set; NULL if absent or
 * the table is full (counted). */
static struct sock *get(struct pktconv *pc, uint64_t cookie, bool create)
{
	size_t i = find(pc, cookie);
	struct sock *s;

	if (pc->slot[i] || !create)
		return pc->slot[i];
	if (pc->count >= pc->cfg.max_socks || !(s = calloc(1, sizeof(*s)))) {
		pc->st.table_full++;
		return NULL;
	}
	s->cookie = cookie;
	s->live_idx = pc->count;
	pc->live[pc->count++] = s;
	pc->slot[i] = s;
	pc->st.socks_seen++;
	return s;
}

/* Takes s out of the sockets holding a READ. */
static void unhold(struct pktconv *pc, struct sock *s)
{
	s->rd_held = false;
	pc->held[s->held_idx] = pc->held[--pc->n_held];
	pc->held[s->held_idx]->held_idx = s->held_idx;
}

/* Frees s and shifts back the probe run that follows its slot. */
static void remove_sock(struct pktconv *pc, struct sock *s)
{
	size_t i = find(pc, s->cookie), j = i;

	/* A freed socket must not stay listed. The paths here today never
	 * leave one: close_sock releases the READ first, and a socket removed
	 * without it has no owner, so it never held one. */
	if (s->rd_held)
		unhold(pc, s);

	pc->live[s->live_idx] = pc->live[pc->count - 1];
	pc->live[s->live_idx]->live_idx = s->live_idx;
	pc->count--;
	sock_free(s);
	pc->slot[i] = NULL;
	for (;;) {
		size_t home;

		j = (j + 1) & (pc->cap - 1);
		if (!pc->slot[j])
			break;
		home = fmix64(pc->slot[j]->cookie) & (pc->cap - 1);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			pc->slot[i] = pc->slot[j];
			pc->slot[j] = NULL;
			i = j;
		}
	}
}

/* ---- captured bytes ---- */

/* Moves the live bytes of both queues to the front of the arena. */
static void arena_compact(struct pktconv *pc, struct sock *s)
{
	struct segq *qs[2] = { &s->inq, &s->outq };
	uint32_t end = 0;

	for (int q = 0; q < 2; q++) {
		for (uint32_t k = 0; k < qs[q]->n; k++) {
			struct seg *g = &qs[q]->v[k];

			memcpy(pc->compact + end, s->arena + g->off, g->cap);
			g->off = end;
			end += g->cap;
		}
	}
	memcpy(s->arena, pc->compact, end);
	s->arena_end = end;
}

/* Room for *cap bytes in the arena: returns their offset; *cap shrinks to
 * what max_buffered allows (the rest is counted as cut). */
static uint32_t arena_take(struct pktconv *pc, struct sock *s, uint32_t *cap)
{
	uint32_t allow = pc->cfg.max_buffered - s->live, off;

	if (*cap > allow) {
		pc->st.buffer_cut_bytes += *cap - allow;
		*cap = allow;
	}
	if (!*cap)
		return 0;
	if (s->arena_end + *cap > s->arena_cap) {
		if (s->live + *cap > s->arena_cap) {
			uint32_t n = s->arena_cap ? s->arena_cap : ARENA_MIN;
			uint8_t *a;

			while (n < s->live + *cap)
				n *= 2;
			n = min_u32(n, pc->cfg.max_buffered);
			a = realloc(s->arena, n);
			if (!a) {
				pc->st.buffer_cut_bytes += *cap;
				*cap = 0;
				return 0;
			}
			s->arena = a;
			s->arena_cap = n;
		}
		if (s->arena_end + *cap > s->arena_cap)
			arena_compact(pc, s);
	}
	off = s->arena_end;
	s->arena_end += *cap;
	s->live += *cap;
	return off;
}

/* Drops the first n bytes of g (n <= g->len), captured ones included. */
static void seg_trim(struct sock *s, struct seg *g, uint32_t n)
{
	uint32_t c = min_u32(n, g->cap);

	g->seq += n;
	g->len -= n;
	g->off += c;
	g->cap -= c;
	s->live -= c;
	if (!s->live)
		s->arena_end = 0;
}

/* g's captured bytes; NULL when there are none (the arena may not exist). */
static const uint8_t *seg_bytes(const struct sock *s, const struct seg *g)
{
	return g->cap ? s->arena + g->off : NULL;
}

/* Removes entry k of q; its captured bytes must already be released. */
static void segq_del(struct segq *q, uint32_t k)
{
	memmove(&q->v[k], &q->v[k + 1], (q->n - k - 1) * sizeof(q->v[0]));
	q->n--;
}

/* Makes room for one more entry; false if the queue is at its bound. */
static bool segq_room(struct segq *q)
{
	struct seg *v;
	uint32_t n;

	if (q->n < q->alloc)
		return true;
	if (q->alloc >= PKTCONV_MAX_SEGS)
		return false;
	n = q->alloc ? q->alloc * 2 : SEGS_MIN;
	v = realloc(q->v, n * sizeof(*v));
	if (!v)
		return false;
	q->v = v;
	q->alloc = n;
	return true;
}

enum put { PUT_INSERTED, PUT_MERGED, PUT_DROPPED };

/* Inserts [seq, seq + len) with its first cap bytes at entry k of q, or, if
 * q is full, appends it uncaptured to entry k - 1 when contiguous (no slot
 * needed: a slow reader's backlog degrades to counted, uncaptured bytes),
 * else drops it whole (counted; the caller makes it a gap). */
static enum put seg_put(struct pktconv *pc, struct sock *s, struct segq *q, uint32_t k,
		    const struct seg *in, const uint8_t *data)
{
	struct seg g = *in;

	if (!segq_room(q)) {
		struct seg *p = k ? &q->v[k - 1] : NULL;

		if (!p || p->seq + p->len != g.seq || p->len + g.len > SEG_LEN_MAX || g.gap) {
			pc->st.queue_full++;
			return PUT_DROPPED;
		}
		p->len += g.len;
		pc->st.buffer_cut_bytes += g.cap;
		return PUT_MERGED;
	}
	g.off = arena_take(pc, s, &g.cap);
	if (g.cap)
		memcpy(s->arena + g.off, data, g.cap);
	memmove(&q->v[k + 1], &q->v[k], (q->n - k) * sizeof(q->v[0]));
	q->v[k] = g;
	q->n++;
	return PUT_INSERTED;
}

/* ---- records out ---- */

static void announce(struct pktconv *pc, struct sock *s, uint64_t ts)
{
	struct sba_conn_ev ev = {
		.hdr = { .kind = SBA_EV_CONN_OPEN, .size = sizeof(ev), .tgid = s->tgid,
			 .ts_ns = ts, .flags = s->joined ? SBA_CONN_JOINED : 0 },
		.tid = s->tgid, .fd = -1, .role = s->role, .family = s->family,
		.lport = s->lport, .rport = s->rport,
	};

	s->announced = true;
	s->conn_id = pc->next_conn_id++;
	ev.conn_id = s->conn_id;
	memcpy(ev.laddr, s->laddr, sizeof(ev.laddr));
	memcpy(ev.raddr, s->raddr, sizeof(ev.raddr));
	pc->st.opened++;
	if (pc->cfg.out.on_conn)
		pc->cfg.out.on_conn(pc->cfg.out.ctx, &ev);
}

static void emit_data(struct pktconv *pc, struct sock *s, uint8_t dir, uint64_t ts,
		      uint32_t bytes, uint64_t gap, const uint8_t *data, uint32_t cap)
{
	struct sba_data_ev *ev = (struct sba_data_ev *)pc->scratch;

	if (!s->announced)
		announce(pc, s, ts);
	cap = min_u32(cap, SBA_CAP_MAX);
	memset(ev, 0, sizeof(*ev));
	ev->hdr.kind = SBA_EV_DATA;
	ev->hdr.flags = cap < bytes ? SBA_DATA_CUT_CAP : 0;
	ev->hdr.size = (uint16_t)(sizeof(*ev) + cap);
	ev->hdr.tgid = s->tgid;
	ev->hdr.ts_ns = ts;
	ev->conn_id = s->conn_id;
	ev->bytes = bytes;
	ev->gap_bytes = gap;
	ev->tid = s->tgid;
	ev->fd = -1;
	ev->cap_len = cap;
	ev->dir = dir;
	ev->sys = dir == SBA_DIR_IN ? SBA_SYS_READ : SBA_SYS_WRITE;
	if (cap)
		memcpy(pc->scratch + sizeof(*ev), data, cap);
	pc->st.data_events++;
	if (pc->cfg.out.on_data)
		pc->cfg.out.on_data(pc->cfg.out.ctx, ev, pc->scratch + sizeof(*ev));
}

/* The kernel still calls an owned socket pending: tell it whose it is.
 * Again if it still does a while later: the news can miss (the socket was
 * not in the kernel's table yet when a READ named its owner). */
static void tell_owner(struct pktconv *pc, struct sock *s, uint64_t ts)
{
	if (!s->tgid || !pc->cfg.on_owned)
		return;
	if (s->told_ts && ts - s->told_ts < PKTCONV_RETELL_NS)
		return;
	if (pc->cfg.on_owned(pc->cfg.owned_ctx, s->cookie, s->tgid))
		s->told_ts = ts;
}

/* The owner is known: what was sent while pending goes out first. */
static void claim(struct pktconv *pc, struct sock *s, uint32_t tgid)
{
	struct segq *q = &s->outq;

	if (s->tgid || !tgid)
		return;
	s->tgid = tgid;
	for (uint32_t k = 0; k < q->n; k++) {
		struct seg *g = &q->v[k];

		emit_data(pc, s, SBA_DIR_OUT, g->ts, g->len, g->gap, seg_bytes(s, g), g->cap);
		seg_trim(s, g, g->len);
	}
	q->n = 0;
}

/* The socket is gone: CONN_CLOSE if it was announced, the entry freed.
 * What was received and never read is counted; it cannot be emitted (no
 * READ will ever stamp it). */
static void read_upto(struct pktconv *pc, struct sock *s, uint32_t copied, uint64_t ts);

static void release_read(struct pktconv *pc, struct sock *s)
{
	if (!s->rd_held)
		return;
	unhold(pc, s);
	read_upto(pc, s, s->rd_seq, s->rd_ts);
}

static void hold_read(struct pktconv *pc, struct sock *s, uint32_t seq, uint64_t ts)
{
	if (!s->rd_held) {
		s->rd_held = true;
		s->held_idx = pc->n_held;
		pc->held[pc->n_held++] = s;
	}
	s->rd_seq = seq;
	s->rd_ts = ts;
}

static void close_sock(struct pktconv *pc, struct sock *s, uint64_t ts, uint8_t flags)
{
	release_read(pc, s);
	for (uint32_t k = 0; k < s->inq.n; k++)
		pc->st.unread_bytes += s->inq.v[k].len;
	if (s->announced) {
		struct sba_conn_ev ev = {
			.hdr = { .kind = SBA_EV_CONN_CLOSE, .size = sizeof(ev), .flags = flags,
				 .tgid = s->tgid, .ts_ns = ts },
			.conn_id = s->conn_id, .tid = s->tgid, .fd = -1, .role = s->role,
		};

		pc->st.closed++;
		if (pc->cfg.out.on_conn)
			pc->cfg.out.on_conn(pc->cfg.out.ctx, &ev);
	}
	remove_sock(pc, s);
}

/* ---- packets ---- */

/* Role and joined come from the first payload packet, unless SOCK saw the
 * SYN (then the role is CLIENT already). */
static void decide(struct sock *s, const struct sba_pkt_ev *ev)
{
	bool start = ev->hdr.flags & SBA_PKT_START;

	if (s->decided)
		return;
	s->decided = true;
	s->joined = !start;
	if (s->role == SBA_ROLE_UNKNOWN && start)
		s->role = ev->dir == SBA_DIR_IN ? SBA_ROLE_SERVER : SBA_ROLE_CLIENT;
}

/* Drops the part of g before next (a retransmit); false if nothing is left. */
static bool dedup_front(struct pktconv *pc, struct seg *g, const uint8_t **data, uint32_t next)
{
	uint32_t over, c;

	if (seq_diff(g->seq, next) >= 0)
		return true;
	over = next - g->seq;
	if (over >= g->len) {
		pc->st.dup_bytes += g->len;
		return false;
	}
	c = min_u32(over, g->cap);
	pc->st.dup_bytes += over;
	g->seq += over;
	g->len -= over;
	g->cap -= c;
	*data += c;
	return true;
}

static void pkt_out(struct pktconv *pc, struct sock *s, struct seg *g, const uint8_t *data)
{
	int32_t d;

	if (!s->out_set) {
		s->out_set = true;
		s->out_next = g->seq;
	}
	if (!dedup_front(pc, g, &data, s->out_next))
		return;
	d = seq_diff(g->seq, s->out_next);
	if (d > 0) {
		s->out_gap += (uint32_t)d;
		pc->st.gap_bytes += (uint32_t)d;
	}
	s->out_next = g->seq + g->len;
	if (s->tgid) {
		emit_data(pc, s, SBA_DIR_OUT, g->ts, g->len, s->out_gap, data, g->cap);
		s->out_gap = 0;
		return;
	}
	g->gap = s->out_gap;
	if (seg_put(pc, s, &s->outq, s->outq.n, g, data) != PUT_DROPPED)
		s->out_gap = 0;
	else
		s->out_gap += g->len;	/* dropped whole: a hole for the next one */
}

/* Queues g among the received packets, only the parts no packet queued
 * before holds (the first copy wins). */
static void pkt_in(struct pktconv *pc, struct sock *s, struct seg *g, const uint8_t *data)
{
	struct segq *q = &s->inq;
	uint32_t k = 0;

	if (!s->in_set) {
		s->in_set = true;
		s->in_next = g->seq;
	}
	if (!dedup_front(pc, g, &data, s->in_next))
		return;
	/* Nothing real lies further ahead than the largest receive window
	 * (2^30); keeping the queue inside it keeps its order modular-safe. */
	if (seq_diff(g->seq + g->len, s->in_next) > (int32_t)SEG_LEN_MAX) {
		pc->st.bad_records++;
		return;
	}
	/* Fast path: in order, after everything queued. */
	if (q->n && seq_diff(g->seq, q->v[q->n - 1].seq + q->v[q->n - 1].len) >= 0)
		k = q->n;
	while (g->len) {
		struct seg piece = *g;
		uint32_t end;

		/* Skip entries that end at or before the piece's start. */
		while (k < q->n && seq_diff(q->v[k].seq + q->v[k].len, g->seq) <= 0)
			k++;
		if (k < q->n && seq_diff(q->v[k].seq, g->seq) <= 0) {
			/* Entry k covers the front: drop that part as a duplicate. */
			if (!dedup_front(pc, g, &data, q->v[k].seq + q->v[k].len))
				return;
			continue;
		}
		/* The front is free up to entry k's start (or to the end). */
		end = g->seq + g->len;
		if (k < q->n && seq_diff(q->v[k].seq, end) < 0)
			end = q->v[k].seq;
		piece.len = min_u32(end - g->seq, g->len);
		if (!piece.len)
			piece.len = g->len;	/* never expected: progress anyway */
		piece.cap = min_u32(g->cap, piece.len);
		if (seg_put(pc, s, q, k, &piece, data) == PUT_INSERTED)
			k++;
		g->seq += piece.len;
		g->len -= piece.len;
		data += piece.cap;
		g->cap -= piece.cap;
	}
}

void pktconv__pkt(struct pktconv *pc, const struct sba_pkt_ev *ev, const uint8_t *data)
{
	struct sock *s;
	struct seg g = { .ts = ev->hdr.ts_ns, .seq = ev->seq, .len = ev->len };

	pc->st.packets++;
	if ((ev->dir != SBA_DIR_IN && ev->dir != SBA_DIR_OUT) || ev->len > SEG_LEN_MAX) {
		pc->st.bad_records++;
		return;
	}
	s = get(pc, ev->cookie, true);
	if (!s)
		return;
	release_read(pc, s);	/* what was read comes before what comes next */
	s->last_ts = ev->hdr.ts_ns;
	claim(pc, s, ev->hdr.tgid);
	if (!ev->hdr.tgid)
		tell_owner(pc, s, ev->hdr.ts_ns);
	if (!ev->len)
		return;
	decide(s, ev);
	/* Never trust cap_len beyond the payload or the record ceiling. */
	g.cap = min_u32(min_u32(ev->cap_len, ev->len), SBA_CAP_MAX);
	if (!data) {
		static const uint8_t none[1];

		data = none;	/* keeps pointer arithmetic off NULL */
		g.cap = 0;
	}
	if (ev->dir == SBA_DIR_OUT)
		pkt_out(pc, s, &g, data);
	else
		pkt_in(pc, s, &g, data);
}

/* ---- reads ---- */

/* Emits the received bytes in [in_next, copied): a DATA per queued packet
 * part, holes carried as the next one's gap. */
static void read_upto(struct pktconv *pc, struct sock *s, uint32_t copied, uint64_t ts)
{
	struct segq *q = &s->inq;

	while (q->n && seq_diff(copied, s->in_next) > 0) {
		struct seg *g = &q->v[0];
		int32_t d = seq_diff(g->seq, s->in_next);
		uint32_t n;

		if (d < 0) {
			/* Never expected: the queue holds nothing before in_next. */
			n = min_u32((uint32_t)-d, g->len);
			seg_trim(s, g, n);
			if (!g->len)
				segq_del(q, 0);
			continue;
		}
		if (d > 0) {
			n = min_u32((uint32_t)d, copied - s->in_next);
			s->in_gap += n;
			pc->st.gap_bytes += n;
			s->in_next += n;
			continue;
		}
		n = min_u32(g->len, copied - s->in_next);
		emit_data(pc, s, SBA_DIR_IN, ts, n, s->in_gap, seg_bytes(s, g), min_u32(g->cap, n));
		s->in_gap = 0;
		s->in_next += n;
		seg_trim(s, g, n);
		if (!g->len)
			segq_del(q, 0);
	}
	if (seq_diff(copied, s->in_next) > 0) {
		s->in_gap += copied - s->in_next;
		pc->st.gap_bytes += copied - s->in_next;
		s->in_next = copied;
	}
}

void pktconv__read(struct pktconv *pc, const struct sba_read_ev *ev)
{
	struct sock *s;

	pc->st.reads++;
	s = get(pc, ev->cookie, true);
	if (!s)
		return;
	s->last_ts = ev->hdr.ts_ns;
	if (!s->tgid && ev->hdr.tgid) {
		/* a pending socket's owner: its next packets still say 0 */
		claim(pc, s, ev->hdr.tgid);
		tell_owner(pc, s, ev->hdr.ts_ns);
	}
	if (!s->tgid) {
		pc->st.bad_records++;
		return;
	}
	if (!s->in_set) {
		/* Nothing received seen: the stream is joined here. */
		s->in_set = true;
		s->in_next = ev->copied_seq;
		if (!s->decided) {
			s->decided = true;
			s->joined = true;
		}
		return;
	}
	/* A MSG_PEEK or a late record repeats an older copied_seq. */
	if (seq_diff(ev->copied_seq, s->rd_held ? s->rd_seq : s->in_next) <= 0)
		return;
	/* Further apart, it is another recvmsg: Node runs its read callback
	 * between two, which takes longer than copying a few small packets. */
	if (s->rd_held && ev->hdr.ts_ns - s->rd_ts > PKTCONV_READ_MERGE_NS)
		release_read(pc, s);
	hold_read(pc, s, ev->copied_seq, ev->hdr.ts_ns);
}

void pktconv__flush(struct pktconv *pc)
{
	while (pc->n_held)
		release_read(pc, pc->held[pc->n_held - 1]);
}

/* ---- sockets ---- */

void pktconv__sock(struct pktconv *pc, const struct sba_sock_ev *ev)
{
	bool closed = ev->hdr.flags & SBA_SOCK_CLOSED;
	struct sock *s;

	pc->st.socks++;
	s = get(pc, ev->cookie, !closed);
	if (!s)
		return;
	s->last_ts = ev->hdr.ts_ns;
	if (closed) {
		if (ev->hdr.flags & SBA_SOCK_OTHER) {
			if (s->tgid)
				return;		/* owned already: its owner decides */
			/* another process's: what it holds was never ours */
			pc->st.not_targets++;
			remove_sock(pc, s);
			return;
		}
		if (!s->tgid)
			pc->st.pending_dropped++;
		close_sock(pc, s, ev->hdr.ts_ns, 0);
		return;
	}
	if (!s->announced) {
		if (ev->role == SBA_ROLE_CLIENT)
			s->role = SBA_ROLE_CLIENT;
		s->family = ev->family;
		s->lport = ev->lport;
		s->rport = ev->rport;
		memcpy(s->laddr, ev->laddr, sizeof(s->laddr));
		memcpy(s->raddr, ev->raddr, sizeof(s->raddr));
	}
	claim(pc, s, ev->hdr.tgid);
}

void pktconv__exit(struct pktconv *pc, uint32_t tgid)
{
	if (!tgid)
		return;
	/* Removing moves the last live entry into i: look at i again then. */
	for (uint32_t i = 0; i < pc->count;) {
		struct sock *s = pc->live[i];

		if (s->tgid == tgid)
			close_sock(pc, s, s->last_ts, SBA_CONN_BY_EXIT);
		else
			i++;
	}
}

/* Frees the buffers of a socket that holds nothing: idle sockets cost
 * their entry only. */
static void trim(struct sock *s)
{
	if (s->inq.n || s->outq.n)
		return;
	free(s->inq.v);
	free(s->outq.v);
	free(s->arena);
	s->inq = (struct segq){ 0 };
	s->outq = (struct segq){ 0 };
	s->arena = NULL;
	s->arena_cap = s->arena_end = 0;
}

void pktconv__tick(struct pktconv *pc, uint64_t now_ns)
{
	for (uint32_t i = 0; i < pc->count;) {
		struct sock *s = pc->live[i];
		int64_t idle = (int64_t)(now_ns - s->last_ts);

		if (!s->tgid && idle > (int64_t)PKTCONV_PENDING_TTL_NS) {
			pc->st.pending_expired++;
			close_sock(pc, s, now_ns, 0);
		} else if (s->tgid && idle > (int64_t)PKTCONV_IDLE_TTL_NS) {
			pc->st.idle_expired++;
			close_sock(pc, s, now_ns, 0);
		} else {
			if (idle > (int64_t)1000000000)
				trim(s);
			i++;
		}
	}
}

bool pktconv__tracks(const struct pktconv *pc, uint64_t cookie)
{
	return pc->slot[find(pc, cookie)] != NULL;
}

uint32_t pktconv__count(const struct pktconv *pc)
{
	return pc->count;
}

const struct pktconv_stats *pktconv__stats(const struct pktconv *pc)
{
	return &pc->st;
}
