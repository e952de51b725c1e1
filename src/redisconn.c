// SPDX-License-Identifier: Apache-2.0
/*
 * redisconn.c - per-connection Redis session: FIFO pairing of commands and
 * replies, transactions, pub/sub, and resynchronisation after lost bytes
 * (see redisconn.h for the contract).
 *
 * The FIFO holds commands and "barriers". A barrier stands for commands that
 * were lost (bytes missing on either side): an unknown number of replies
 * belong to it. It absorbs every reply that cannot belong to the command
 * after it because the read began before that command was written (node
 * does its socket I/O on one thread, so a reply is always read after its
 * command was written); the first reply that could be that command's ends
 * the barrier. Everything paired from a loss on is "unsure" until a quiet
 * point proves the count right:
 *
 *   OUT  C1 C2 [gap] C5 C6            FIFO: C1 C2 | BARRIER | C5 C6
 *   IN   R1 R2 R3 R4 R5 R6            R3 R4 read before C5 was written: absorbed
 *
 * Quiet point: an IN chunk left nothing pending and the parser between
 * frames, then the client writes again. A reply arriving with nothing
 * pending, or one that does not fit its BullMQ script, refutes the epoch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redisconn.h"

enum { PK_CMD = 1, PK_BARRIER = 2 };

enum {
	SP_NONE = 0,
	SP_MULTI,
	SP_EXEC,
	SP_DISCARD,
	SP_HELLO,
	SP_SETNAME,
	SP_SUB,		/* SUBSCRIBE family: one confirmation per channel */
	SP_UNSUB,	/* UNSUBSCRIBE family */
};

struct pending {
	uint8_t kind;		/* PK_* */
	uint8_t special;	/* SP_* */
	uint8_t queued;		/* sent between MULTI and EXEC/DISCARD */
	uint8_t unsub_all;	/* UNSUBSCRIBE without channels: until count 0 */
	uint8_t hello_proto;
	uint8_t __pad[3];
	uint32_t flags;		/* REDISCONN_R_* known at send time */
	int32_t confirms_left;
	uint64_t ts_first;	/* entry of the write with the first byte */
	uint64_t ts_last_enter;	/* entry of the write with the last byte */
	char name[REDISCONN_NAME_MAX];
	char sub_kind[16];	/* "subscribe", "punsubscribe", ... (lowercase) */
	char arg[64];		/* CLIENT SETNAME name */
	struct bullmq_call call;
};

struct redisconn {
	redisconn_cb cb;
	void *ctx;
	bool out_synced, in_synced;
	bool tx_open;		/* MULTI sent, EXEC/DISCARD not yet */
	bool resp3;
	bool subscribed;
	bool quiet;		/* the last IN chunk left nothing pending */
	uint64_t out_frame_ts;
	struct pending *q;	/* ring */
	uint32_t qcap, qhead, qlen;
	struct pending *tx;	/* queued by MULTI, awaiting EXEC */
	uint32_t ntx;
	uint32_t tx_overflow;
	uint64_t epoch;
	uint32_t unsure_records;
	char client_name[64];
	char status[24];
	struct redisconn_stats st;
	struct resp_parser out;
	struct resp_parser in;
};

static uint64_t epoch_seq;

static uint64_t epoch_new(void)
{
	return __atomic_add_fetch(&epoch_seq, 1, __ATOMIC_RELAXED);
}

struct redisconn *redisconn__new(redisconn_cb cb, void *ctx, bool joined)
{
	struct redisconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cb = cb;
	c->ctx = ctx;
	c->qcap = 16;
	c->q = calloc(c->qcap, sizeof(*c->q));
	c->tx = calloc(REDISCONN_MAX_TX, sizeof(*c->tx));
	if (!c->q || !c->tx) {
		redisconn__free(c);
		errno = ENOMEM;
		return NULL;
	}
	/* Commands keep short prefixes (keys, markers); replies a bit more (job hashes). */
	resp_parser__init(&c->out, RESP_MODE_COMMANDS, 128);
	resp_parser__init(&c->in, RESP_MODE_REPLIES, 192);
	c->out_synced = c->in_synced = !joined;
	if (joined) {
		c->epoch = epoch_new();
		c->q[0].kind = PK_BARRIER;
		c->qlen = 1;
	}
	return c;
}

void redisconn__free(struct redisconn *c)
{
	if (!c)
		return;
	free(c->q);
	free(c->tx);
	free(c);
}

const struct redisconn_stats *redisconn__stats(const struct redisconn *c)
{
	return &c->st;
}

bool redisconn__resp3(const struct redisconn *c)
{
	return c->resp3;
}

const char *redisconn__client_name(const struct redisconn *c)
{
	return c->client_name;
}

size_t redisconn__pending(const struct redisconn *c)
{
	size_t n = 0;

	for (uint32_t i = 0; i < c->qlen; i++)
		n += c->q[(c->qhead + i) & (c->qcap - 1)].kind == PK_CMD;
	return n;
}

/* ---- FIFO ---- */

static struct pending *q_at(struct redisconn *c, uint32_t i)
{
	return i < c->qlen ? &c->q[(c->qhead + i) & (c->qcap - 1)] : NULL;
}

static void q_pop(struct redisconn *c)
{
	c->qhead = (c->qhead + 1) & (c->qcap - 1);
	c->qlen--;
}

static void q_clear(struct redisconn *c)
{
	for (uint32_t i = 0; i < c->qlen; i++)
		c->st.lost_commands += q_at(c, i)->kind == PK_CMD;
	c->st.lost_commands += c->ntx;
	c->qhead = c->qlen = 0;
	c->ntx = 0;
	c->tx_overflow = 0;
}

static bool q_grow(struct redisconn *c)
{
	uint32_t ncap = c->qcap * 2;
	struct pending *n;

	if (ncap > REDISCONN_MAX_PENDING)
		return false;
	n = calloc(ncap, sizeof(*n));
	if (!n)
		return false;
	for (uint32_t i = 0; i < c->qlen; i++)
		n[i] = *q_at(c, i);
	free(c->q);
	c->q = n;
	c->qcap = ncap;
	c->qhead = 0;
	return true;
}

static void go_unsure(struct redisconn *c)
{
	if (!c->epoch) {
		c->epoch = epoch_new();
		c->unsure_records = 0;
	}
}

static void emit_ev(struct redisconn *c, enum redisconn_ev_kind kind, uint64_t epoch,
		    const struct redisconn_rec *rec)
{
	struct redisconn_ev ev = { .kind = kind, .epoch = epoch, .rec = rec };

	if (c->cb)
		c->cb(c->ctx, &ev);
}

static void refute(struct redisconn *c)
{
	if (c->epoch) {
		emit_ev(c, REDISCONN_EV_REFUTE, c->epoch, NULL);
		c->st.refuted++;
	}
	c->epoch = epoch_new();
	c->unsure_records = 0;
}

static void confirm(struct redisconn *c)
{
	emit_ev(c, REDISCONN_EV_CONFIRM, c->epoch, NULL);
	c->st.confirmed++;
	c->epoch = 0;
}

static struct pending *q_push(struct redisconn *c)
{
	struct pending *p;

	if (c->qlen == c->qcap && !q_grow(c)) {
		/* Far more in flight than any client does: treat as a loss. */
		q_clear(c);
		go_unsure(c);
		c->q[0].kind = PK_BARRIER;
		c->qlen = 1;
	}
	p = &c->q[(c->qhead + c->qlen) & (c->qcap - 1)];
	c->qlen++;
	memset(p, 0, sizeof(*p));
	return p;
}

static void push_barrier(struct redisconn *c)
{
	struct pending *last = c->qlen ? q_at(c, c->qlen - 1) : NULL;

	if (!last || last->kind != PK_BARRIER)
		q_push(c)->kind = PK_BARRIER;
}

/* ---- records ---- */

static const char *status_of(struct redisconn *c, const struct resp_view *v)
{
	const struct resp_item *t = v ? resp_view_item(v) : NULL;
	const uint8_t *d;
	size_t n, i;

	if (!t)
		return "unknown";
	if (t->type != '-' && t->type != '!')
		return "ok";
	d = resp_item_data(v->f, t, &n);
	for (i = 0; i < n && i < 16; i++) {
		if (d[i] == ' ')
			break;
		if (!((d[i] >= 'A' && d[i] <= 'Z') || (d[i] >= '0' && d[i] <= '9') || d[i] == '_'))
			return "ERR";
	}
	if (i == 0 || (i < n && d[i] != ' ') || (i == n && t->len > (int64_t)n))
		return "ERR";
	memcpy(c->status, d, i);
	c->status[i] = '\0';
	return c->status;
}

static void emit_rec(struct redisconn *c, const struct pending *p, const struct resp_view *reply,
		     const char *status, uint32_t flags, uint64_t ts_end)
{
	struct redisconn_rec rec = {
		.cmd = p->name,
		.script = p->call.script != BULLMQ_S_NONE && p->call.script != BULLMQ_S_META ?
				  p->call.name :
				  NULL,
		.status = status,
		.flags = p->flags | flags,
		.epoch = c->epoch,
		.ts_start_ns = p->ts_first,
		.ts_end_ns = ts_end,
		.call = &p->call,
		.reply = reply,
	};

	c->st.records++;
	emit_ev(c, REDISCONN_EV_CMD, c->epoch, &rec);
	if (c->epoch && ++c->unsure_records > REDISCONN_UNSURE_MAX)
		refute(c);
}

/* ---- commands ---- */

static bool is_blocking_name(const char *n)
{
	static const char *const names[] = {
		"BLPOP",  "BRPOP",    "BRPOPLPUSH", "BLMOVE", "BLMPOP",
		"BZPOPMIN", "BZPOPMAX", "BZMPOP",     "WAIT",   "WAITAOF",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(n, names[i]) == 0)
			return true;
	return false;
}

static void set_name(char *dst, const struct resp_frame *f, const struct resp_item *it)
{
	size_t n, i;
	const uint8_t *d;

	strcpy(dst, "UNKNOWN");
	if (!it || it->type != '$' || it->len <= 0 || it->len >= REDISCONN_NAME_MAX)
		return;
	d = resp_item_data(f, it, &n);
	if ((int64_t)n != it->len)
		return;
	for (i = 0; i < n; i++) {
		uint8_t ch = d[i];

		if (ch >= 'a' && ch <= 'z')
			ch -= 32;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		      ch == '-' || ch == '.' || ch == '|' || ch == ':')) {
			strcpy(dst, "UNKNOWN");
			return;
		}
		dst[i] = (char)ch;
	}
	dst[i] = '\0';
}

static void on_command(struct redisconn *c, uint64_t ts_first, uint64_t ts_last, bool cut)
{
	const struct resp_frame *f = &c->out.frame;
	struct resp_view v;
	const struct resp_item *a1, *a2;
	struct pending *p;
	int64_t nargs;

	c->st.commands++;
	if (!resp_view_top(f, &v) || f->nitems < 2)
		return;
	nargs = f->items[0].len - 1;
	p = q_push(c);
	p->kind = PK_CMD;
	p->ts_first = ts_first;
	p->ts_last_enter = ts_last;
	set_name(p->name, f, &f->items[1]);
	a1 = f->nitems > 2 ? &f->items[2] : NULL;
	a2 = f->nitems > 3 ? &f->items[3] : NULL;
	if (cut)
		p->flags |= REDISCONN_R_CMD_CUT;
	if (is_blocking_name(p->name)) {
		p->flags |= REDISCONN_R_BLOCKING;
	} else if (!strcmp(p->name, "XREAD") || !strcmp(p->name, "XREADGROUP")) {
		for (uint32_t i = 2; i < f->nitems; i++) {
			if (resp_item_eq_nocase(f, &f->items[i], "STREAMS"))
				break;
			if (resp_item_eq_nocase(f, &f->items[i], "BLOCK"))
				p->flags |= REDISCONN_R_BLOCKING;
		}
	}
	if (!strcmp(p->name, "MULTI")) {
		p->special = SP_MULTI;
		c->tx_open = true;
	} else if (!strcmp(p->name, "EXEC")) {
		p->special = SP_EXEC;
		c->tx_open = false;
	} else if (!strcmp(p->name, "DISCARD")) {
		p->special = SP_DISCARD;
		c->tx_open = false;
	} else {
		int64_t proto;

		if (c->tx_open)
			p->queued = 1;
		if (!strcmp(p->name, "HELLO")) {
			p->special = SP_HELLO;
			if (a1 && resp_item_int(f, a1, &proto) && (proto == 2 || proto == 3))
				p->hello_proto = (uint8_t)proto;
		} else if (!strcmp(p->name, "CLIENT") && a1 && resp_item_eq_nocase(f, a1, "SETNAME") &&
			   a2) {
			p->special = SP_SETNAME;
			resp_item_copy(f, a2, p->arg, sizeof(p->arg));
		} else if (!strcmp(p->name, "SUBSCRIBE") || !strcmp(p->name, "PSUBSCRIBE") ||
			   !strcmp(p->name, "SSUBSCRIBE") || !strcmp(p->name, "UNSUBSCRIBE") ||
			   !strcmp(p->name, "PUNSUBSCRIBE") || !strcmp(p->name, "SUNSUBSCRIBE")) {
			size_t k;

			p->special = strstr(p->name, "UNSUB") ? SP_UNSUB : SP_SUB;
			for (k = 0; p->name[k] && k < sizeof(p->sub_kind) - 1; k++)
				p->sub_kind[k] = (char)(p->name[k] | 0x20);
			p->sub_kind[k] = '\0';
			p->confirms_left = nargs > 0 ? (int32_t)(nargs > 1000000 ? 1000000 : nargs) : 1;
			p->unsub_all = p->special == SP_UNSUB && nargs == 0;
		}
	}
	bullmq_classify(&v, &p->call);
}

/* ---- replies ---- */

static void unpaired(struct redisconn *c)
{
	c->st.unpaired_replies++;
	refute(c);
}

static void finish_tx(struct redisconn *c, const struct resp_view *exec_reply, uint64_t ts_end)
{
	const struct resp_item *t = resp_view_item(exec_reply);
	bool arr = t && t->type == '*' && !(t->flags & RESP_IF_NULL);

	if (arr && (t->len != (int64_t)c->ntx || c->tx_overflow)) {
		/* Queued replies and EXEC disagree: we missed something. */
		c->st.lost_commands += c->ntx;
		c->ntx = 0;
		c->tx_overflow = 0;
		refute(c);
		return;
	}
	for (uint32_t i = 0; i < c->ntx; i++) {
		struct resp_view e;

		if (!t || t->type == '-' || t->type == '!') {
			emit_rec(c, &c->tx[i], NULL, t ? status_of(c, exec_reply) : "unknown",
				 REDISCONN_R_TX | REDISCONN_R_NO_REPLY, ts_end);
		} else if (!arr) {
			emit_rec(c, &c->tx[i], NULL, "ABORTED", REDISCONN_R_TX | REDISCONN_R_NO_REPLY,
				 ts_end);
		} else if (resp_view_child(exec_reply, i, &e)) {
			emit_rec(c, &c->tx[i], &e, status_of(c, &e), REDISCONN_R_TX, ts_end);
		} else {
			emit_rec(c, &c->tx[i], NULL, "unknown",
				 REDISCONN_R_TX | REDISCONN_R_REPLY_CUT, ts_end);
		}
	}
	c->ntx = 0;
	c->tx_overflow = 0;
}

/* A subscribe-family confirmation ("subscribe", ch, count)? Handles it. */
static bool on_sub_confirm(struct redisconn *c, const struct resp_view *v, uint64_t ts_end)
{
	static const char *const kinds[] = { "subscribe",   "psubscribe",   "ssubscribe",
					     "unsubscribe", "punsubscribe", "sunsubscribe" };
	const struct resp_item *t = resp_view_item(v);
	struct resp_view k0, k2;
	const struct resp_item *ki;
	struct pending *head;
	int64_t count = -1;
	size_t which;

	if (!t || (t->type != '*' && t->type != '>') || t->len != 3 || !resp_view_child(v, 0, &k0))
		return false;
	ki = resp_view_item(&k0);
	for (which = 0; which < 6; which++)
		if (resp_item_eq_nocase(v->f, ki, kinds[which]))
			break;
	if (which == 6)
		return false;
	if (resp_view_child(v, 2, &k2))
		resp_item_int(v->f, resp_view_item(&k2), &count);
	if (count >= 0)
		c->subscribed = count > 0;
	head = q_at(c, 0);
	if (head && head->kind == PK_CMD &&
	    (head->special == SP_SUB || head->special == SP_UNSUB) &&
	    strcmp(head->sub_kind, kinds[which]) == 0) {
		head->confirms_left--;
		if (head->unsub_all ? count <= 0 : head->confirms_left <= 0) {
			struct pending p = *head;

			q_pop(c);
			emit_rec(c, &p, v, "ok", 0, ts_end);
		}
		return true;
	}
	/* Not for the head: a server-side (un)subscribe notice. */
	if (t->type == '>' || c->subscribed || count >= 0) {
		c->st.pushes++;
		return true;
	}
	return false;
}

static void on_reply(struct redisconn *c, uint64_t ts_enter, uint64_t ts_exit, bool cut)
{
	const struct resp_frame *f = &c->in.frame;
	struct resp_view v;
	const struct resp_item *t;
	struct pending *head, p;

	if (!resp_view_top(f, &v))
		return;
	t = resp_view_item(&v);
	if (on_sub_confirm(c, &v, ts_exit))
		return;
	if (f->flags & RESP_FF_PUSH) {
		c->st.pushes++;
		return;
	}
	if (c->subscribed && t->type == '*' && t->len >= 3) {
		struct resp_view k0;

		if (resp_view_child(&v, 0, &k0) &&
		    (resp_item_eq(f, resp_view_item(&k0), "message") ||
		     resp_item_eq(f, resp_view_item(&k0), "pmessage") ||
		     resp_item_eq(f, resp_view_item(&k0), "smessage"))) {
			c->st.pushes++;
			return;
		}
	}
	for (;;) {
		head = q_at(c, 0);
		if (!head) {
			unpaired(c);
			return;
		}
		if (head->kind != PK_BARRIER)
			break;
		{
			struct pending *next = q_at(c, 1);

			if (!next || ts_enter < next->ts_last_enter) {
				c->st.absorbed_replies++;
				return;
			}
			q_pop(c);
		}
	}
	if (ts_enter < head->ts_last_enter) {
		/* Read before the command was written: not its reply. */
		unpaired(c);
		return;
	}
	p = *head;
	q_pop(c);
	if (p.queued && t->type == '+' && resp_item_eq(f, t, "QUEUED")) {
		if (c->ntx < REDISCONN_MAX_TX)
			c->tx[c->ntx++] = p;
		else
			c->tx_overflow++;
		return;
	}
	if (p.special == SP_EXEC) {
		finish_tx(c, &v, ts_exit);
	} else if (p.special == SP_DISCARD) {
		for (uint32_t i = 0; i < c->ntx; i++)
			emit_rec(c, &c->tx[i], NULL, "DISCARDED",
				 REDISCONN_R_TX | REDISCONN_R_NO_REPLY, ts_exit);
		c->ntx = 0;
		c->tx_overflow = 0;
	} else if (p.special == SP_HELLO && p.hello_proto && (t->type == '%' || t->type == '*')) {
		c->resp3 = p.hello_proto == 3;
	} else if (p.special == SP_SETNAME && t->type == '+') {
		memcpy(c->client_name, p.arg, sizeof(c->client_name));
	}
	emit_rec(c, &p, &v, status_of(c, &v), cut ? REDISCONN_R_REPLY_CUT : 0, ts_exit);
	if (c->epoch && !bullmq_reply_fits(&p.call, &v))
		refute(c);
}

/* ---- loss ---- */

static void loss_out(struct redisconn *c)
{
	/* The command in progress and an unknown number after it are gone. */
	resp_parser__reset(&c->out);
	c->out_synced = false;
	push_barrier(c);
	go_unsure(c);
}

static void loss_in(struct redisconn *c)
{
	/* Replies were lost: any pending command may have been answered. */
	resp_parser__reset(&c->in);
	c->in_synced = false;
	q_clear(c);
	push_barrier(c);
	go_unsure(c);
}

/* ---- feeding ---- */

static void feed_out(struct redisconn *c, const uint8_t *d, size_t cap, uint64_t bytes,
		     uint64_t ts_enter)
{
	struct resp_parser *p = &c->out;
	uint64_t skip = bytes - cap;
	size_t off = 0;

	if (!c->out_synced) {
		if (!resp_looks_like_start(RESP_MODE_COMMANDS, d, cap)) {
			c->st.skipped_chunks++;
			return;
		}
		resp_parser__reset(p);
		c->out_synced = true;
	}
	/* Quiet point: confirm an epoch that paired at least one reply. */
	if (c->epoch && c->quiet && c->unsure_records && resp_parser__at_boundary(p))
		confirm(c);
	c->quiet = false;
	while (off < cap) {
		size_t used = 0;
		enum resp_status r;

		if (resp_parser__at_boundary(p))
			c->out_frame_ts = ts_enter;
		r = resp_parser__feed(p, d + off, cap - off, &used);
		off += used;
		if (r == RESP_FRAME) {
			on_command(c, c->out_frame_ts, ts_enter, false);
		} else if (r != RESP_NEED_MORE) {
			c->st.proto_errors++;
			loss_out(c);
			return;
		}
	}
	while (skip) {
		uint64_t used = 0;
		enum resp_status r;

		if (resp_parser__at_boundary(p))
			c->out_frame_ts = ts_enter;
		r = resp_parser__skip(p, skip, &used);
		skip -= used;
		if (r == RESP_FRAME) {
			on_command(c, c->out_frame_ts, ts_enter, false);
		} else if (r == RESP_NEED_MORE) {
			break;
		} else {
			/* Assume the write ended with this command; unsure until proven. */
			if (resp_parser__cut(p)) {
				c->st.cuts++;
				on_command(c, c->out_frame_ts, ts_enter, true);
			}
			resp_parser__reset(p);
			c->out_synced = false;
			go_unsure(c);
			break;
		}
	}
}

static void feed_in(struct redisconn *c, const uint8_t *d, size_t cap, uint64_t bytes,
		    uint64_t ts_enter, uint64_t ts_exit)
{
	struct resp_parser *p = &c->in;
	uint64_t skip = bytes - cap;
	size_t off = 0;

	c->quiet = false;
	if (!c->in_synced) {
		if (!resp_looks_like_start(RESP_MODE_REPLIES, d, cap)) {
			c->st.skipped_chunks++;
			return;
		}
		resp_parser__reset(p);
		c->in_synced = true;
	}
	while (off < cap) {
		size_t used = 0;
		enum resp_status r = resp_parser__feed(p, d + off, cap - off, &used);

		off += used;
		if (r == RESP_FRAME) {
			on_reply(c, ts_enter, ts_exit, false);
		} else if (r != RESP_NEED_MORE) {
			c->st.proto_errors++;
			loss_in(c);
			return;
		}
	}
	while (skip) {
		uint64_t used = 0;
		enum resp_status r = resp_parser__skip(p, skip, &used);

		skip -= used;
		if (r == RESP_FRAME) {
			on_reply(c, ts_enter, ts_exit, false);
		} else if (r == RESP_NEED_MORE) {
			break;
		} else {
			/* Assume the read ended with this reply; unsure until proven. */
			if (resp_parser__cut(p)) {
				c->st.cuts++;
				go_unsure(c);
				on_reply(c, ts_enter, ts_exit, true);
			}
			resp_parser__reset(p);
			c->in_synced = false;
			go_unsure(c);
			break;
		}
	}
	c->quiet = c->qlen == 0 && c->ntx == 0 && c->in_synced && resp_parser__at_boundary(p);
}

int redisconn__feed(struct redisconn *c, enum redis_dir dir, const uint8_t *data, size_t cap_len,
		    uint64_t bytes, uint64_t gap, uint64_t ts_enter, uint64_t ts_exit)
{
	if ((dir != REDIS_DIR_IN && dir != REDIS_DIR_OUT) || cap_len > bytes ||
	    (cap_len && !data))
		return -EINVAL;
	if (gap) {
		c->quiet = false;
		c->st.gaps++;
		if (dir == REDIS_DIR_OUT)
			loss_out(c);
		else
			loss_in(c);
	}
	if (dir == REDIS_DIR_OUT)
		feed_out(c, data, cap_len, bytes, ts_enter);
	else
		feed_in(c, data, cap_len, bytes, ts_enter, ts_exit);
	return 0;
}

void redisconn__close(struct redisconn *c)
{
	c->st.pending_at_close += redisconn__pending(c);
	if (c->epoch) {
		if (c->qlen == 0 && c->ntx == 0 && resp_parser__at_boundary(&c->in) && c->in_synced)
			confirm(c);
		else
			refute(c);
		c->epoch = 0;
	}
	c->qhead = c->qlen = 0;
	c->ntx = 0;
}
