// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of pktconv.c: packet-layer records in, connection records out.
 * Ownership and announcement, role and joined, OUT deduplication and gaps,
 * IN reordering and READ-driven emission, sequence wraparound, capture cuts,
 * close, expiry, process exit, the memory bounds, and random input.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "pktconv.h"

#define REC_MAX 512
#define REC_DATA 64

/* What the sink saw, in order. */
struct rec {
	uint8_t kind, flags, dir, sys, role, family;
	uint16_t size, lport, rport;
	uint32_t tgid, cap;
	uint64_t ts, conn_id, bytes, gap;
	char data[REC_DATA + 1];
};

static struct rec recs[REC_MAX];
static int n_recs;

/* The next slot, its header fields copied from h; NULL when full. */
static struct rec *new_rec(const struct sba_ev_hdr *h)
{
	struct rec *r;

	if (n_recs >= REC_MAX)
		return NULL;
	r = &recs[n_recs++];
	memset(r, 0, sizeof(*r));
	r->kind = h->kind;
	r->flags = h->flags;
	r->size = h->size;
	r->tgid = h->tgid;
	r->ts = h->ts_ns;
	return r;
}

static void on_conn(void *ctx, const struct sba_conn_ev *ev)
{
	struct rec *r = new_rec(&ev->hdr);

	if (!r)
		return;
	r->conn_id = ev->conn_id;
	r->role = ev->role;
	r->family = ev->family;
	r->lport = ev->lport;
	r->rport = ev->rport;
}

static void on_data(void *ctx, const struct sba_data_ev *ev, const uint8_t *data)
{
	struct rec *r = new_rec(&ev->hdr);

	if (!r)
		return;
	r->conn_id = ev->conn_id;
	r->bytes = ev->bytes;
	r->gap = ev->gap_bytes;
	r->cap = ev->cap_len;
	r->dir = ev->dir;
	r->sys = ev->sys;
	memcpy(r->data, data, ev->cap_len < REC_DATA ? ev->cap_len : REC_DATA);
}

/* 0: the default; on_owned may be NULL. */
static struct pktconv *new_pc_owned(uint32_t max_socks, uint32_t max_buffered,
				    bool (*on_owned)(void *ctx, uint64_t cookie, uint32_t tgid))
{
	struct pktconv_config cfg;

	pktconv_config_init(&cfg);
	if (max_socks)
		cfg.max_socks = max_socks;
	if (max_buffered)
		cfg.max_buffered = max_buffered;
	cfg.out = (struct event_sink){ .on_conn = on_conn, .on_data = on_data };
	cfg.on_owned = on_owned;
	n_recs = 0;
	return pktconv__new(&cfg);
}

static struct pktconv *new_pc(uint32_t max_socks, uint32_t max_buffered)
{
	return new_pc_owned(max_socks, max_buffered, NULL);
}

/* A packet of len bytes whose first strlen(cap) are captured. */
static void pkt_n(struct pktconv *pc, uint64_t cookie, uint32_t tgid, uint8_t dir, uint32_t seq,
		  uint8_t flags, uint64_t ts, const char *cap, uint32_t len)
{
	struct sba_pkt_ev ev = { .hdr = { .kind = SBA_EV_PKT, .flags = flags, .tgid = tgid,
					  .ts_ns = ts },
				 .cookie = cookie, .seq = seq, .len = len,
				 .cap_len = (uint32_t)strlen(cap), .dir = dir };

	if (ev.cap_len < len)
		ev.hdr.flags |= SBA_PKT_CUT;
	pktconv__pkt(pc, &ev, (const uint8_t *)cap);
}

static void pkt(struct pktconv *pc, uint64_t cookie, uint32_t tgid, uint8_t dir, uint32_t seq,
		uint8_t flags, uint64_t ts, const char *s)
{
	pkt_n(pc, cookie, tgid, dir, seq, flags, ts, s, (uint32_t)strlen(s));
}

static void rd(struct pktconv *pc, uint64_t cookie, uint32_t tgid, uint32_t copied, uint64_t ts)
{
	struct sba_read_ev ev = { .hdr = { .kind = SBA_EV_READ, .tgid = tgid, .ts_ns = ts },
				  .cookie = cookie, .copied_seq = copied };

	pktconv__read(pc, &ev);
	pktconv__flush(pc);	/* as after a drain: each read on its own */
}

/* A READ without the drain's flush: the next chunk of the same recvmsg. */
static void rd_held(struct pktconv *pc, uint64_t cookie, uint32_t tgid, uint32_t copied,
		    uint64_t ts)
{
	struct sba_read_ev ev = { .hdr = { .kind = SBA_EV_READ, .tgid = tgid, .ts_ns = ts },
				  .cookie = cookie, .copied_seq = copied };

	pktconv__read(pc, &ev);
}

static void sock(struct pktconv *pc, uint64_t cookie, uint32_t tgid, uint8_t role, uint8_t flags,
		 uint64_t ts)
{
	struct sba_sock_ev ev = { .hdr = { .kind = SBA_EV_SOCK, .flags = flags, .tgid = tgid,
					   .ts_ns = ts },
				  .cookie = cookie, .role = role, .family = 2,
				  .lport = 40000, .rport = 6379,
				  .laddr = { 10, 0, 0, 1 }, .raddr = { 10, 0, 0, 2 } };

	pktconv__sock(pc, &ev);
}

/* Checks recs[i] is a DATA record with these values. */
#define CHECK_DATA(i, dir_, bytes_, gap_, ts_, str)                                      \
	do {                                                                             \
		const struct rec *r_ = &recs[i];                                         \
		CHECK_EQ_INT(r_->kind, SBA_EV_DATA);                                     \
		CHECK_EQ_INT(r_->dir, dir_);                                             \
		CHECK_EQ_INT(r_->bytes, bytes_);                                         \
		CHECK_EQ_INT(r_->gap, gap_);                                             \
		CHECK_EQ_INT(r_->ts, ts_);                                               \
		CHECK_EQ_STR(r_->data, str);                                             \
		CHECK_EQ_INT(r_->cap, strlen(str));                                      \
		CHECK_EQ_INT(r_->size, sizeof(struct sba_data_ev) + strlen(str));        \
		CHECK_EQ_INT(r_->flags, r_->cap < r_->bytes ? SBA_DATA_CUT_CAP : 0);    \
		CHECK_EQ_INT(r_->sys, dir_ == SBA_DIR_IN ? SBA_SYS_READ : SBA_SYS_WRITE); \
	} while (0)

static void test_server_exchange(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 7, 0, SBA_DIR_IN, 1000, SBA_PKT_START, 10, "GET / HTTP/1.1\r\n\r\n");
	CHECK_EQ_INT(n_recs, 0);
	rd(pc, 7, 100, 1018, 20);
	pkt(pc, 7, 100, SBA_DIR_OUT, 5000, SBA_PKT_START, 30, "HTTP/1.1 200 OK\r\n\r\n");
	CHECK_EQ_INT(n_recs, 3);
	CHECK_EQ_INT(recs[0].kind, SBA_EV_CONN_OPEN);
	CHECK_EQ_INT(recs[0].role, SBA_ROLE_SERVER);
	CHECK_EQ_INT(recs[0].flags, 0);
	CHECK_EQ_INT(recs[0].ts, 20);
	CHECK_EQ_INT(recs[0].tgid, 100);
	CHECK_EQ_INT(recs[0].conn_id, 1);
	CHECK_EQ_INT(recs[0].family, 0);	/* no SOCK seen */
	CHECK_EQ_INT(recs[0].size, sizeof(struct sba_conn_ev));
	CHECK_DATA(1, SBA_DIR_IN, 18, 0, 20, "GET / HTTP/1.1\r\n\r\n");
	CHECK_DATA(2, SBA_DIR_OUT, 19, 0, 30, "HTTP/1.1 200 OK\r\n\r\n");
	CHECK_EQ_INT(recs[1].conn_id, 1);
	CHECK_EQ_INT(recs[2].tgid, 100);
	CHECK_EQ_INT(pktconv__stats(pc)->opened, 1);
	CHECK_EQ_INT(pktconv__stats(pc)->data_events, 2);
	pktconv__free(pc);
}

static void test_client(void)
{
	struct pktconv *pc = new_pc(0, 0);

	sock(pc, 9, 100, SBA_ROLE_CLIENT, 0, 5);
	CHECK_EQ_INT(n_recs, 0);	/* nothing to emit yet */
	pkt(pc, 9, 100, SBA_DIR_OUT, 1, SBA_PKT_START, 10, "PING\r\n");
	pkt(pc, 9, 100, SBA_DIR_IN, 77, SBA_PKT_START, 20, "+PONG\r\n");
	rd(pc, 9, 100, 84, 25);
	CHECK_EQ_INT(n_recs, 3);
	CHECK_EQ_INT(recs[0].kind, SBA_EV_CONN_OPEN);
	CHECK_EQ_INT(recs[0].role, SBA_ROLE_CLIENT);
	CHECK_EQ_INT(recs[0].flags, 0);
	CHECK_EQ_INT(recs[0].ts, 10);
	CHECK_EQ_INT(recs[0].family, 2);
	CHECK_EQ_INT(recs[0].lport, 40000);
	CHECK_EQ_INT(recs[0].rport, 6379);
	CHECK_DATA(1, SBA_DIR_OUT, 6, 0, 10, "PING\r\n");
	CHECK_DATA(2, SBA_DIR_IN, 7, 0, 25, "+PONG\r\n");
	pktconv__free(pc);
}

static void test_joined_unknown_role(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 3, 0, SBA_DIR_IN, 500, 0, 10, "abc");
	rd(pc, 3, 42, 503, 11);
	CHECK_EQ_INT(n_recs, 2);
	CHECK_EQ_INT(recs[0].role, SBA_ROLE_UNKNOWN);
	CHECK_EQ_INT(recs[0].flags, SBA_CONN_JOINED);
	CHECK_DATA(1, SBA_DIR_IN, 3, 0, 11, "abc");
	/* A READ first, no packet ever seen: starts the stream, emits nothing. */
	rd(pc, 4, 42, 9000, 12);
	pkt(pc, 4, 0, SBA_DIR_IN, 9000, 0, 13, "xy");
	rd(pc, 4, 42, 9002, 14);
	CHECK_EQ_INT(n_recs, 4);
	CHECK_EQ_INT(recs[2].flags, SBA_CONN_JOINED);
	CHECK_EQ_INT(recs[2].conn_id, 2);
	CHECK_DATA(3, SBA_DIR_IN, 2, 0, 14, "xy");
	pktconv__free(pc);
}

static void test_pending_out_flushed_before_in(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 0, SBA_DIR_IN, 7, SBA_PKT_START, 1, "req");
	pkt(pc, 1, 0, SBA_DIR_OUT, 100, SBA_PKT_START, 2, "hello");
	pkt(pc, 1, 0, SBA_DIR_OUT, 105, 0, 3, "world");
	CHECK_EQ_INT(n_recs, 0);
	rd(pc, 1, 55, 10, 4);
	CHECK_EQ_INT(n_recs, 4);
	CHECK_EQ_INT(recs[0].kind, SBA_EV_CONN_OPEN);
	CHECK_EQ_INT(recs[0].ts, 2);
	CHECK_EQ_INT(recs[0].tgid, 55);
	CHECK_EQ_INT(recs[0].role, SBA_ROLE_SERVER);
	CHECK_DATA(1, SBA_DIR_OUT, 5, 0, 2, "hello");
	CHECK_DATA(2, SBA_DIR_OUT, 5, 0, 3, "world");
	CHECK_DATA(3, SBA_DIR_IN, 3, 0, 4, "req");
	/* A packet naming the owner claims too. */
	pkt(pc, 2, 0, SBA_DIR_OUT, 1, SBA_PKT_START, 5, "a");
	pkt(pc, 2, 66, SBA_DIR_OUT, 2, 0, 6, "b");
	CHECK_EQ_INT(n_recs, 7);
	CHECK_EQ_INT(recs[4].role, SBA_ROLE_CLIENT);
	CHECK_DATA(5, SBA_DIR_OUT, 1, 0, 5, "a");
	CHECK_DATA(6, SBA_DIR_OUT, 1, 0, 6, "b");
	pktconv__free(pc);
}

/* on_owned: what the kernel was told, and whether the news is taken. */
static uint64_t told_cookie[8];
static uint32_t told_tgid[8];
static int n_told;
static bool take_news = true;

static bool on_owned(void *ctx, uint64_t cookie, uint32_t tgid)
{
	(void)ctx;
	if (!take_news || n_told == 8)
		return false;
	told_cookie[n_told] = cookie;
	told_tgid[n_told++] = tgid;
	return true;
}

/* A READ names a pending socket's owner: the kernel is told once, again if
 * it still says pending a second later, and again when the news was not
 * taken. Sockets whose packets name the owner need no news. */
static void test_owner_told(void)
{
	struct pktconv *pc = new_pc_owned(0, 0, on_owned);

	n_told = 0;
	take_news = true;
	pkt(pc, 1, 0, SBA_DIR_IN, 7, SBA_PKT_START, 1000, "req");
	CHECK_EQ_INT(n_told, 0);
	rd(pc, 1, 55, 10, 2000);
	CHECK_EQ_INT(n_told, 1);
	CHECK_EQ_INT(told_cookie[0], 1);
	CHECK_EQ_INT(told_tgid[0], 55);
	pkt(pc, 1, 0, SBA_DIR_OUT, 100, SBA_PKT_START, 3000, "resp");
	rd(pc, 1, 55, 10, 4000);
	CHECK_EQ_INT(n_told, 1);
	pkt(pc, 1, 0, SBA_DIR_OUT, 104, 0, 3000 + PKTCONV_RETELL_NS, "more");
	CHECK_EQ_INT(n_told, 2);
	pkt(pc, 1, 55, SBA_DIR_OUT, 108, 0, 9000 + 2 * PKTCONV_RETELL_NS, "done");
	CHECK_EQ_INT(n_told, 2);
	/* the kernel knew from the start: nothing to tell */
	sock(pc, 2, 66, SBA_ROLE_CLIENT, 0, 1);
	pkt(pc, 2, 66, SBA_DIR_OUT, 1, SBA_PKT_START, 2, "a");
	rd(pc, 2, 66, 50, 3);
	CHECK_EQ_INT(n_told, 2);
	/* news not taken: offered again with the next packet still saying 0 */
	take_news = false;
	pkt(pc, 3, 0, SBA_DIR_IN, 1, SBA_PKT_START, 1, "x");
	rd(pc, 3, 77, 2, 2);
	take_news = true;
	CHECK_EQ_INT(n_told, 2);
	pkt(pc, 3, 0, SBA_DIR_OUT, 9, SBA_PKT_START, 3, "y");
	CHECK_EQ_INT(n_told, 3);
	CHECK_EQ_INT(told_cookie[2], 3);
	CHECK_EQ_INT(told_tgid[2], 77);
	CHECK_EQ_INT(pktconv__stats(pc)->bad_records, 0);
	/* a socket closed since needs no verdict */
	CHECK(pktconv__tracks(pc, 3));
	sock(pc, 3, 0, 0, SBA_SOCK_CLOSED, 4);
	CHECK(!pktconv__tracks(pc, 3));
	pktconv__free(pc);
}

static void test_read_splits_packet(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_IN, 0, SBA_PKT_START, 1, "0123456789");
	rd(pc, 1, 9, 4, 2);
	rd(pc, 1, 9, 10, 3);
	CHECK_EQ_INT(n_recs, 3);
	CHECK_DATA(1, SBA_DIR_IN, 4, 0, 2, "0123");
	CHECK_DATA(2, SBA_DIR_IN, 6, 0, 3, "456789");
	/* An older copied_seq (MSG_PEEK) is ignored. */
	rd(pc, 1, 9, 6, 4);
	CHECK_EQ_INT(n_recs, 3);
	pktconv__free(pc);
}

static void test_read_of_two_packets(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_IN, 0, SBA_PKT_START, 1, "abc");
	pkt(pc, 1, 9, SBA_DIR_IN, 3, 0, 2, "def");
	rd(pc, 1, 9, 6, 3);
	CHECK_EQ_INT(n_recs, 3);
	CHECK_DATA(1, SBA_DIR_IN, 3, 0, 3, "abc");
	CHECK_DATA(2, SBA_DIR_IN, 3, 0, 3, "def");
	pktconv__free(pc);
}

/* The chunks of one recvmsg are READs in a row: one read, stamped by the
 * last; the socket's next record (here a packet sent) releases it first. */
static void test_reads_in_a_row_are_one(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_IN, 0, SBA_PKT_START, 1, "abc");
	pkt(pc, 1, 9, SBA_DIR_IN, 3, 0, 2, "def");
	rd_held(pc, 1, 9, 3, 3);
	rd_held(pc, 1, 9, 6, 4);
	CHECK_EQ_INT(n_recs, 0);	/* held: nothing yet, not even the open */
	pkt(pc, 1, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 5, "ok");
	CHECK_EQ_INT(n_recs, 4);
	CHECK_DATA(1, SBA_DIR_IN, 3, 0, 4, "abc");
	CHECK_DATA(2, SBA_DIR_IN, 3, 0, 4, "def");
	CHECK_DATA(3, SBA_DIR_OUT, 2, 0, 5, "ok");
	/* held at a close: emitted before it */
	pkt(pc, 1, 9, SBA_DIR_IN, 6, 0, 6, "gh");
	rd_held(pc, 1, 9, 8, 7);
	sock(pc, 1, 0, 0, SBA_SOCK_CLOSED, 8);
	CHECK_EQ_INT(n_recs, 6);
	CHECK_DATA(4, SBA_DIR_IN, 2, 0, 7, "gh");
	CHECK_EQ_INT(recs[5].kind, SBA_EV_CONN_CLOSE);
	CHECK_EQ_INT(pktconv__stats(pc)->unread_bytes, 0);
	pktconv__free(pc);
}

/* READs in a row further apart are two reads (data queued before both:
 * an upload's head, then its body, read by two syscalls). */
static void test_reads_apart_are_two(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_IN, 0, SBA_PKT_START, 1, "head");
	pkt(pc, 1, 9, SBA_DIR_IN, 4, 0, 2, "body");
	rd_held(pc, 1, 9, 4, 10000);
	rd_held(pc, 1, 9, 8, 10000 + PKTCONV_READ_MERGE_NS + 1);
	pktconv__flush(pc);
	CHECK_EQ_INT(n_recs, 3);
	CHECK_DATA(1, SBA_DIR_IN, 4, 0, 10000, "head");
	CHECK_DATA(2, SBA_DIR_IN, 4, 0, 10000 + PKTCONV_READ_MERGE_NS + 1, "body");
	pktconv__free(pc);
}

/* flush emits the READs held on each socket, whichever way the others
 * went meanwhile: closed with one held, or emitted by their next record. */
static void test_flush_held_sockets(void)
{
	struct pktconv *pc = new_pc(0, 0);

	for (uint64_t c = 1; c <= 4; c++) {
		pkt(pc, c, 9, SBA_DIR_IN, 0, SBA_PKT_START, c, "req");
		rd_held(pc, c, 9, 3, 10 + c);
	}
	CHECK_EQ_INT(n_recs, 0);
	sock(pc, 2, 0, 0, SBA_SOCK_CLOSED, 20);	/* open, data, close */
	pkt(pc, 3, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 21, "ok");	/* open, data, data */
	CHECK_EQ_INT(n_recs, 6);
	n_recs = 0;
	pktconv__flush(pc);
	CHECK_EQ_INT(n_recs, 4);	/* 1 and 4: each an open and its read */
	for (int i = 0; i < n_recs; i += 2) {
		CHECK_EQ_INT(recs[i].kind, SBA_EV_CONN_OPEN);
		CHECK_EQ_INT(recs[i + 1].kind, SBA_EV_DATA);
		CHECK(recs[i + 1].ts == 11 || recs[i + 1].ts == 14);
	}
	n_recs = 0;
	pktconv__flush(pc);	/* nothing held any more */
	CHECK_EQ_INT(n_recs, 0);
	rd_held(pc, 4, 9, 3, 30);	/* an old copied_seq: not held */
	pktconv__flush(pc);
	CHECK_EQ_INT(n_recs, 0);
	pktconv__free(pc);
}

static void test_out_retransmit_and_overlap(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "abcd");
	pkt(pc, 1, 9, SBA_DIR_OUT, 0, 0, 2, "abcd");
	CHECK_EQ_INT(n_recs, 2);
	CHECK_EQ_INT(pktconv__stats(pc)->dup_bytes, 4);
	/* Half old: the new half goes, its captured bytes shifted. */
	pkt(pc, 1, 9, SBA_DIR_OUT, 2, 0, 3, "cdef");
	CHECK_EQ_INT(n_recs, 3);
	CHECK_DATA(2, SBA_DIR_OUT, 2, 0, 3, "ef");
	/* Overlap beyond the captured part: nothing captured remains. */
	pkt_n(pc, 1, 9, SBA_DIR_OUT, 4, 0, 4, "x", 10);
	CHECK_EQ_INT(n_recs, 4);
	CHECK_DATA(3, SBA_DIR_OUT, 8, 0, 4, "");
	CHECK_EQ_INT(pktconv__stats(pc)->dup_bytes, 8);
	CHECK_EQ_INT(pktconv__stats(pc)->gap_bytes, 0);
	pktconv__free(pc);
}

static void test_in_overlap_and_reorder(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_IN, 0, SBA_PKT_START, 1, "aa");
	pkt(pc, 1, 9, SBA_DIR_IN, 4, 0, 2, "cc");
	pkt(pc, 1, 9, SBA_DIR_IN, 2, 0, 3, "bb");
	pkt(pc, 1, 9, SBA_DIR_IN, 1, 0, 3, "XXXXX");	/* covers 1..5: only dups */
	pkt(pc, 1, 9, SBA_DIR_IN, 5, 0, 3, "XYZ");	/* 5 is old, 6..7 new */
	rd(pc, 1, 9, 8, 9);
	CHECK_EQ_INT(n_recs, 5);
	CHECK_DATA(1, SBA_DIR_IN, 2, 0, 9, "aa");
	CHECK_DATA(2, SBA_DIR_IN, 2, 0, 9, "bb");
	CHECK_DATA(3, SBA_DIR_IN, 2, 0, 9, "cc");
	CHECK_DATA(4, SBA_DIR_IN, 2, 0, 9, "YZ");
	CHECK_EQ_INT(pktconv__stats(pc)->dup_bytes, 6);
	/* A packet spanning two queued ones keeps only the bytes between. */
	pkt(pc, 1, 9, SBA_DIR_IN, 8, 0, 10, "ab");
	pkt(pc, 1, 9, SBA_DIR_IN, 12, 0, 10, "ef");
	pkt(pc, 1, 9, SBA_DIR_IN, 9, 0, 11, "bcde");
	rd(pc, 1, 9, 14, 12);
	CHECK_EQ_INT(n_recs, 8);
	CHECK_DATA(5, SBA_DIR_IN, 2, 0, 12, "ab");
	CHECK_DATA(6, SBA_DIR_IN, 2, 0, 12, "cd");
	CHECK_DATA(7, SBA_DIR_IN, 2, 0, 12, "ef");
	pktconv__free(pc);
}

static void test_lost_in(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_IN, 0, SBA_PKT_START, 1, "aa");
	pkt(pc, 1, 9, SBA_DIR_IN, 5, 0, 2, "cc");
	rd(pc, 1, 9, 7, 3);
	CHECK_EQ_INT(n_recs, 3);
	CHECK_DATA(1, SBA_DIR_IN, 2, 0, 3, "aa");
	CHECK_DATA(2, SBA_DIR_IN, 2, 3, 3, "cc");
	/* Lost at the end of a read: owed to the next record. */
	rd(pc, 1, 9, 10, 4);
	CHECK_EQ_INT(n_recs, 3);
	pkt(pc, 1, 9, SBA_DIR_IN, 10, 0, 5, "dd");
	rd(pc, 1, 9, 12, 6);
	CHECK_EQ_INT(n_recs, 4);
	CHECK_DATA(3, SBA_DIR_IN, 2, 3, 6, "dd");
	CHECK_EQ_INT(pktconv__stats(pc)->gap_bytes, 6);
	pktconv__free(pc);
}

static void test_lost_out(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "aa");
	pkt(pc, 1, 9, SBA_DIR_OUT, 10, 0, 2, "bb");
	pkt(pc, 1, 9, SBA_DIR_OUT, 12, 0, 3, "cc");
	CHECK_EQ_INT(n_recs, 4);
	CHECK_DATA(1, SBA_DIR_OUT, 2, 0, 1, "aa");
	CHECK_DATA(2, SBA_DIR_OUT, 2, 8, 2, "bb");
	CHECK_DATA(3, SBA_DIR_OUT, 2, 0, 3, "cc");
	CHECK_EQ_INT(pktconv__stats(pc)->gap_bytes, 8);
	pktconv__free(pc);
}

static void test_wraparound(void)
{
	struct pktconv *pc = new_pc(0, 0);

	/* IN across 2^32, out of order, read in two. */
	pkt(pc, 1, 9, SBA_DIR_IN, 0xfffffffe, SBA_PKT_START, 1, "ab");
	pkt(pc, 1, 9, SBA_DIR_IN, 2, 0, 2, "ef");
	pkt(pc, 1, 9, SBA_DIR_IN, 0, 0, 3, "cd");
	rd(pc, 1, 9, 1, 4);
	rd(pc, 1, 9, 4, 5);
	CHECK_EQ_INT(n_recs, 5);
	CHECK_DATA(1, SBA_DIR_IN, 2, 0, 4, "ab");
	CHECK_DATA(2, SBA_DIR_IN, 1, 0, 4, "c");
	CHECK_DATA(3, SBA_DIR_IN, 1, 0, 5, "d");
	CHECK_DATA(4, SBA_DIR_IN, 2, 0, 5, "ef");
	/* OUT: a packet spanning the wrap, a retransmit, a gap across it. */
	pkt(pc, 1, 9, SBA_DIR_OUT, 0xfffffff0, SBA_PKT_START, 6, "1234");
	pkt(pc, 1, 9, SBA_DIR_OUT, 0xfffffffc, 0, 7, "5678");
	pkt(pc, 1, 9, SBA_DIR_OUT, 0xfffffffe, 0, 8, "7890");
	pkt(pc, 1, 9, SBA_DIR_OUT, 0xfffffffa, 0, 9, "zz");
	CHECK_EQ_INT(n_recs, 8);
	CHECK_DATA(5, SBA_DIR_OUT, 4, 0, 6, "1234");
	CHECK_DATA(6, SBA_DIR_OUT, 4, 8, 7, "5678");
	CHECK_DATA(7, SBA_DIR_OUT, 2, 0, 8, "90");
	CHECK_EQ_INT(pktconv__stats(pc)->dup_bytes, 4);
	pktconv__free(pc);
}

static void test_cut_packets(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt_n(pc, 1, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "head", 100);
	CHECK_EQ_INT(n_recs, 2);
	CHECK_DATA(1, SBA_DIR_OUT, 100, 0, 1, "head");
	CHECK_EQ_INT(recs[1].flags, SBA_DATA_CUT_CAP);
	/* IN of 10 with 6 captured, read 4 then 6: the second gets "45". */
	pkt_n(pc, 1, 9, SBA_DIR_IN, 50, SBA_PKT_START, 2, "012345", 10);
	rd(pc, 1, 9, 54, 3);
	rd(pc, 1, 9, 60, 4);
	CHECK_EQ_INT(n_recs, 4);
	CHECK_DATA(2, SBA_DIR_IN, 4, 0, 3, "0123");
	CHECK_DATA(3, SBA_DIR_IN, 6, 0, 4, "45");
	/* Captured bytes never exceed SBA_CAP_MAX, whatever cap_len says. */
	{
		static char big[SBA_CAP_MAX + 101];
		struct sba_pkt_ev ev = { .hdr = { .kind = SBA_EV_PKT, .tgid = 9, .ts_ns = 5 },
					 .cookie = 1, .seq = 100, .len = SBA_CAP_MAX + 100,
					 .cap_len = SBA_CAP_MAX + 100, .dir = SBA_DIR_OUT };

		memset(big, 'x', sizeof(big) - 1);
		pktconv__pkt(pc, &ev, (const uint8_t *)big);
		CHECK_EQ_INT(n_recs, 5);
		CHECK_EQ_INT(recs[4].cap, SBA_CAP_MAX);
		CHECK_EQ_INT(recs[4].bytes, SBA_CAP_MAX + 100);
	}
	pktconv__free(pc);
}

static void test_close(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 0, SBA_DIR_IN, 0, SBA_PKT_START, 1, "ping");
	rd(pc, 1, 9, 4, 2);
	pkt(pc, 1, 9, SBA_DIR_IN, 4, 0, 3, "unread");
	sock(pc, 1, 0, 0, SBA_SOCK_CLOSED, 4);
	CHECK_EQ_INT(n_recs, 3);
	CHECK_EQ_INT(recs[2].kind, SBA_EV_CONN_CLOSE);
	CHECK_EQ_INT(recs[2].conn_id, 1);
	CHECK_EQ_INT(recs[2].ts, 4);
	CHECK_EQ_INT(recs[2].tgid, 9);
	CHECK_EQ_INT(recs[2].family, 0);
	CHECK_EQ_INT(pktconv__stats(pc)->unread_bytes, 6);
	CHECK_EQ_INT(pktconv__stats(pc)->closed, 1);
	CHECK_EQ_INT(pktconv__count(pc), 0);
	/* After the close the cookie is new: a fresh conn_id. */
	pkt(pc, 1, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 5, "x");
	CHECK_EQ_INT(n_recs, 5);
	CHECK_EQ_INT(recs[3].conn_id, 2);
	/* A close of an unknown cookie is nothing. */
	sock(pc, 77, 0, 0, SBA_SOCK_CLOSED, 6);
	CHECK_EQ_INT(n_recs, 5);
	CHECK_EQ_INT(pktconv__count(pc), 1);
	pktconv__free(pc);
}

static void test_pending_closed(void)
{
	struct pktconv *pc = new_pc(0, 0);

	sock(pc, 1, 0, SBA_ROLE_UNKNOWN, 0, 1);
	pkt(pc, 1, 0, SBA_DIR_OUT, 0, SBA_PKT_START, 2, "lost");
	pkt(pc, 1, 0, SBA_DIR_IN, 0, SBA_PKT_START, 3, "also");
	sock(pc, 1, 0, 0, SBA_SOCK_CLOSED, 4);
	CHECK_EQ_INT(n_recs, 0);
	CHECK_EQ_INT(pktconv__stats(pc)->pending_dropped, 1);
	CHECK_EQ_INT(pktconv__stats(pc)->unread_bytes, 4);
	CHECK_EQ_INT(pktconv__count(pc), 0);
	pktconv__free(pc);
}

/* A pending socket read by another process: dropped, not a loss; one a
 * target owns already ignores the word. */
static void test_pending_not_ours(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 0, SBA_DIR_IN, 0, SBA_PKT_START, 2, "theirs");
	sock(pc, 1, 0, 0, SBA_SOCK_CLOSED | SBA_SOCK_OTHER, 3);
	CHECK_EQ_INT(n_recs, 0);
	CHECK_EQ_INT(pktconv__stats(pc)->not_targets, 1);
	CHECK_EQ_INT(pktconv__stats(pc)->pending_dropped, 0);
	CHECK_EQ_INT(pktconv__stats(pc)->unread_bytes, 0);
	CHECK_EQ_INT(pktconv__count(pc), 0);
	pkt(pc, 2, 0, SBA_DIR_IN, 0, SBA_PKT_START, 4, "ours");
	rd(pc, 2, 42, 4, 5);
	sock(pc, 2, 0, 0, SBA_SOCK_CLOSED | SBA_SOCK_OTHER, 6);
	CHECK_EQ_INT(pktconv__count(pc), 1);
	CHECK_EQ_INT(pktconv__stats(pc)->not_targets, 1);
	pktconv__free(pc);
}

static void test_table_full(void)
{
	struct pktconv *pc = new_pc(2, 0);

	pkt(pc, 1, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "a");
	pkt(pc, 2, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "b");
	pkt(pc, 3, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "c");
	rd(pc, 3, 9, 10, 2);
	CHECK_EQ_INT(pktconv__count(pc), 2);
	CHECK_EQ_INT(pktconv__stats(pc)->table_full, 2);
	CHECK_EQ_INT(pktconv__stats(pc)->opened, 2);
	/* Room again after a close. */
	sock(pc, 1, 0, 0, SBA_SOCK_CLOSED, 3);
	pkt(pc, 3, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 4, "c");
	CHECK_EQ_INT(pktconv__stats(pc)->opened, 3);
	pktconv__free(pc);
}

static void test_buffer_cap(void)
{
	struct pktconv *pc = new_pc(0, 8);

	pkt(pc, 1, 0, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "abcdef");
	pkt(pc, 1, 0, SBA_DIR_OUT, 6, 0, 2, "ghijkl");
	pkt(pc, 1, 0, SBA_DIR_OUT, 12, 0, 3, "mn");
	CHECK_EQ_INT(pktconv__stats(pc)->buffer_cut_bytes, 6);
	rd(pc, 1, 9, 0, 4);
	CHECK_EQ_INT(n_recs, 4);
	CHECK_DATA(1, SBA_DIR_OUT, 6, 0, 1, "abcdef");
	CHECK_DATA(2, SBA_DIR_OUT, 6, 0, 2, "gh");
	CHECK_DATA(3, SBA_DIR_OUT, 2, 0, 3, "");
	/* The budget is free again once emitted: IN gets all 8. */
	pkt(pc, 1, 9, SBA_DIR_IN, 0, 0, 5, "01234567");
	pkt(pc, 1, 9, SBA_DIR_IN, 8, 0, 5, "89");
	rd(pc, 1, 9, 3, 6);
	pkt(pc, 1, 9, SBA_DIR_IN, 10, 0, 5, "abcd");
	rd(pc, 1, 9, 14, 7);
	CHECK_EQ_INT(n_recs, 8);
	CHECK_DATA(4, SBA_DIR_IN, 3, 0, 6, "012");
	CHECK_DATA(5, SBA_DIR_IN, 5, 0, 7, "34567");
	CHECK_DATA(6, SBA_DIR_IN, 2, 0, 7, "");
	CHECK_DATA(7, SBA_DIR_IN, 4, 0, 7, "abc");
	CHECK_EQ_INT(pktconv__stats(pc)->buffer_cut_bytes, 9);
	pktconv__free(pc);
}

static void test_queue_bound(void)
{
	struct pktconv *pc = new_pc(0, 0);
	uint64_t in = 0, gap = 0;
	uint32_t seq = 0;

	/* Contiguous packets past the bound merge, uncaptured, into the last. */
	for (int i = 0; i < PKTCONV_MAX_SEGS + 50; i++, seq += 10)
		pkt(pc, 1, 9, SBA_DIR_IN, seq, i ? 0 : SBA_PKT_START, 1, "0123456789");
	/* Packets with holes past the bound are dropped: they become gaps. */
	for (int i = 0; i < 50; i++, seq += 20)
		pkt(pc, 1, 9, SBA_DIR_IN, seq + 10, 0, 1, "0123456789");
	CHECK_EQ_INT(pktconv__stats(pc)->queue_full, 50);
	CHECK_EQ_INT(pktconv__stats(pc)->buffer_cut_bytes, 500);
	rd(pc, 1, 9, seq, 2);
	/* The hole at the end of that read goes with the next record. */
	pkt(pc, 1, 9, SBA_DIR_IN, seq, 0, 3, "0123456789");
	seq += 10;
	rd(pc, 1, 9, seq, 4);
	for (int i = 0; i < n_recs; i++) {
		if (recs[i].kind == SBA_EV_DATA) {
			in += recs[i].bytes;
			gap += recs[i].gap;
		}
	}
	CHECK_EQ_INT(in + gap + pktconv__stats(pc)->dup_bytes, seq);
	CHECK_EQ_INT(gap, 1000);
	CHECK_EQ_INT(recs[n_recs - 1].gap, 1000);
	CHECK_EQ_INT(recs[PKTCONV_MAX_SEGS].bytes, 510);
	pktconv__free(pc);
}

static void test_tick(void)
{
	struct pktconv *pc = new_pc(0, 0);
	const uint64_t s = 1000000000ull;

	pkt(pc, 1, 0, SBA_DIR_OUT, 0, SBA_PKT_START, 1 * s, "pending");
	pkt(pc, 2, 9, SBA_DIR_OUT, 0, SBA_PKT_START, 1 * s, "owned");
	pkt(pc, 3, 0, SBA_DIR_OUT, 0, SBA_PKT_START, 20 * s, "recent");
	pktconv__tick(pc, 30 * s);
	CHECK_EQ_INT(pktconv__count(pc), 3);
	pktconv__tick(pc, 32 * s);
	CHECK_EQ_INT(pktconv__count(pc), 2);
	CHECK_EQ_INT(pktconv__stats(pc)->pending_expired, 1);
	CHECK_EQ_INT(pktconv__stats(pc)->pending_dropped, 0);
	/* The owned one idles an hour before it is closed. */
	pktconv__tick(pc, 3600 * s);
	CHECK_EQ_INT(pktconv__stats(pc)->idle_expired, 0);
	pktconv__tick(pc, 3602 * s);
	CHECK_EQ_INT(pktconv__stats(pc)->idle_expired, 1);
	CHECK_EQ_INT(pktconv__stats(pc)->pending_expired, 2);
	CHECK_EQ_INT(pktconv__count(pc), 0);
	CHECK_EQ_INT(n_recs, 3);
	CHECK_EQ_INT(recs[2].kind, SBA_EV_CONN_CLOSE);
	CHECK_EQ_INT(recs[2].conn_id, 1);
	CHECK_EQ_INT(recs[2].ts, 3602 * s);
	pktconv__free(pc);
}

static void test_exit(void)
{
	struct pktconv *pc = new_pc(0, 0);

	pkt(pc, 1, 100, SBA_DIR_OUT, 0, SBA_PKT_START, 1, "a");
	pkt(pc, 2, 200, SBA_DIR_OUT, 0, SBA_PKT_START, 2, "b");
	pkt(pc, 3, 100, SBA_DIR_OUT, 0, SBA_PKT_START, 3, "c");
	sock(pc, 4, 100, SBA_ROLE_CLIENT, 0, 4);	/* owned, never announced */
	pkt(pc, 5, 0, SBA_DIR_OUT, 0, SBA_PKT_START, 5, "d");	/* pending */
	n_recs = 0;
	pktconv__exit(pc, 100);
	CHECK_EQ_INT(n_recs, 2);
	for (int i = 0; i < n_recs; i++) {
		CHECK_EQ_INT(recs[i].kind, SBA_EV_CONN_CLOSE);
		CHECK_EQ_INT(recs[i].flags, SBA_CONN_BY_EXIT);
		CHECK(recs[i].conn_id == 1 || recs[i].conn_id == 3);
	}
	CHECK_EQ_INT(pktconv__count(pc), 2);
	pktconv__exit(pc, 0);
	CHECK_EQ_INT(pktconv__count(pc), 2);
	pktconv__free(pc);
}

/* ---- random input ---- */

#define FUZZ_CONNS 16384

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)(rnd_state >> 16);
}

static uint8_t fuzz_state[FUZZ_CONNS];	/* by conn_id: 0 unseen, 1 open, 2 closed */
static int fuzz_bad;

static void fuzz_conn(void *ctx, const struct sba_conn_ev *ev)
{
	if (ev->conn_id >= FUZZ_CONNS)
		return;
	if (ev->hdr.kind == SBA_EV_CONN_OPEN) {
		fuzz_bad += fuzz_state[ev->conn_id] != 0;
		fuzz_state[ev->conn_id] = 1;
	} else {
		fuzz_bad += fuzz_state[ev->conn_id] != 1;
		fuzz_state[ev->conn_id] = 2;
	}
}

static void fuzz_data(void *ctx, const struct sba_data_ev *ev, const uint8_t *data)
{
	volatile uint8_t sum = 0;

	fuzz_bad += ev->conn_id >= FUZZ_CONNS || fuzz_state[ev->conn_id] != 1;
	fuzz_bad += ev->cap_len > ev->bytes || ev->cap_len > SBA_CAP_MAX;
	fuzz_bad += ev->hdr.size != sizeof(*ev) + ev->cap_len;
	fuzz_bad += !ev->hdr.tgid;
	for (uint32_t i = 0; i < ev->cap_len; i++)
		sum += data[i];	/* ASan: every captured byte is readable */
	(void)sum;
}

static void fuzz_round(uint32_t seq_range, uint32_t max_buffered)
{
	struct pktconv_config cfg;
	const struct pktconv_stats *st;
	struct pktconv *pc;
	static uint8_t payload[SBA_CAP_MAX];
	uint64_t ts = 0;

	pktconv_config_init(&cfg);
	cfg.max_socks = 4;
	cfg.max_buffered = max_buffered;
	cfg.out = (struct event_sink){ .on_conn = fuzz_conn, .on_data = fuzz_data };
	pc = pktconv__new(&cfg);
	CHECK(pc != NULL);
	if (!pc)
		return;
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rnd();
	for (int i = 0; i < 20000; i++) {
		uint64_t cookie = rnd() % 6;
		uint32_t tgid = rnd() % 3 ? rnd() % 3 : 0;
		uint32_t seq = seq_range ? rnd() % seq_range : rnd();
		uint32_t kind = rnd() % 16;

		ts += rnd() % 1000000000u;
		if (kind < 9) {
			uint32_t len = rnd() % 20 ? rnd() % 2000 : rnd();
			struct sba_pkt_ev ev = {
				.hdr = { .kind = SBA_EV_PKT, .flags = rnd() % 4, .tgid = tgid,
					 .ts_ns = ts },
				.cookie = cookie, .seq = seq, .len = len,
				.cap_len = rnd() % 2 ? len : rnd() % (SBA_CAP_MAX + 1),
				.dir = rnd() % 20 ? 1 + rnd() % 2 : rnd() % 256 };

			if (ev.cap_len > SBA_CAP_MAX)
				ev.cap_len = SBA_CAP_MAX;
			pktconv__pkt(pc, &ev, payload);
		} else if (kind < 14) {
			if (rnd() % 2)
				rd(pc, cookie, tgid, seq, ts);
			else	/* held across other records, closes, exits, ticks */
				rd_held(pc, cookie, tgid, seq, ts);
		} else if (kind < 15) {
			sock(pc, cookie, tgid, rnd() % 3, rnd() % 4 == 0, ts);
		} else if (rnd() % 4 == 0) {
			pktconv__exit(pc, rnd() % 3);
		} else {
			pktconv__tick(pc, ts);
		}
		CHECK(pktconv__count(pc) <= 4);
	}
	/* Not vacuous: records went through every path. */
	st = pktconv__stats(pc);
	if (getenv("PKTCONV_FUZZ_STATS"))
		fprintf(stderr, "open %lu close %lu data %lu dup %lu gap %lu cut %lu qfull %lu bad %lu full %lu\n",
			(unsigned long)st->opened, (unsigned long)st->closed,
			(unsigned long)st->data_events, (unsigned long)st->dup_bytes,
			(unsigned long)st->gap_bytes, (unsigned long)st->buffer_cut_bytes,
			(unsigned long)st->queue_full, (unsigned long)st->bad_records,
			(unsigned long)st->table_full);
	CHECK(st->opened > 10 && st->closed > 10 && st->data_events > 100);
	CHECK(st->dup_bytes && st->gap_bytes && st->table_full);
	pktconv__free(pc);
}

static void test_random_input(void)
{
	memset(fuzz_state, 0, sizeof(fuzz_state));
	fuzz_bad = 0;
	fuzz_round(0, 0);		/* anywhere in sequence space */
	memset(fuzz_state, 0, sizeof(fuzz_state));
	fuzz_round(20000, 0);		/* close together: overlaps, reads */
	memset(fuzz_state, 0, sizeof(fuzz_state));
	fuzz_round(4000, 1000);		/* and a small buffer */
	CHECK_EQ_INT(fuzz_bad, 0);
}

int main(void)
{
	RUN(test_server_exchange);
	RUN(test_client);
	RUN(test_joined_unknown_role);
	RUN(test_pending_out_flushed_before_in);
	RUN(test_owner_told);
	RUN(test_read_splits_packet);
	RUN(test_read_of_two_packets);
	RUN(test_reads_in_a_row_are_one);
	RUN(test_reads_apart_are_two);
	RUN(test_flush_held_sockets);
	RUN(test_out_retransmit_and_overlap);
	RUN(test_in_overlap_and_reorder);
	RUN(test_lost_in);
	RUN(test_lost_out);
	RUN(test_wraparound);
	RUN(test_cut_packets);
	RUN(test_close);
	RUN(test_pending_closed);
	RUN(test_pending_not_ours);
	RUN(test_table_full);
	RUN(test_buffer_cap);
	RUN(test_queue_bound);
	RUN(test_tick);
	RUN(test_exit);
	RUN(test_random_input);
	return check_summary();
}
