// SPDX-License-Identifier: Apache-2.0
/*
 * httpconn.c - per-connection HTTP/1.x session (see httpconn.h).
 *
 * Requests go into a FIFO as their heads complete; each final response head
 * pairs with the FIFO front, and the exchange is emitted when the response
 * ends. The tricky part is pairing when bytes were lost, because a response
 * must never be matched with the wrong request:
 *  - causality: a response whose first byte was moved before the front
 *    request's head was complete cannot answer it (its request was lost), so
 *    it is counted as unpaired instead;
 *  - after the response direction lost bytes, the first response regained
 *    pairs with the newest pending request; older ones are counted as
 *    unanswered (exact for clients that do not pipeline);
 *  - a response whose framing was not captured ends when the next request
 *    head arrives (the client only sends it once the response is complete).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "httpconn.h"

enum {
	RESP_NONE = 0,	/* no response message open */
	RESP_PAIRED,	/* the open response answers the FIFO front */
	RESP_IGNORE,	/* the open response is interim, unpaired or already emitted */
};

/*
 * A request waiting for its response. Its head is kept packed: the numbers
 * as they are, then the bytes each string uses, back to back (a few dozen
 * bytes rather than the whole struct http1_head, so a push touches a line
 * or two of a queue that is usually cold in the cache), and unpacked on the
 * stack when its exchange is emitted.
 */
#define HEAD_NUMS offsetof(struct http1_head, path)	/* every number comes first */
#define HEAD_STRS (HTTP1_PATH_MAX + HTTP1_TENANT_MAX + HTTP1_REQUEST_ID_MAX + \
		   HTTP1_TRACEPARENT_MAX + HTTP1_HOST_MAX)

struct pending {
	uint64_t bytes;		/* request bytes seen: head, then head + body at its end */
	uint64_t seq;
	uint64_t ts_head_enter;	/* the head's, for pairing */
	uint8_t method;
	uint8_t len[5];		/* bytes of path, tenant (kept), request id, traceparent, host */
	uint8_t nums[HEAD_NUMS];
	char str[HEAD_STRS];
};

/* What every syscall touches first (the session is usually cold in the
 * cache when its connection's next syscall arrives), the config after it,
 * the counters of a session without shared ones last. */
struct httpconn {
	struct httpconn_stats *st;
	struct http1 *p[2];	/* by direction: [SBA_DIR_IN - 1], [SBA_DIR_OUT - 1] */
	struct pending *q;	/* ring of pending requests */
	uint32_t q_cap;
	uint32_t q_head;
	uint32_t q_len;
	uint64_t next_seq;
	uint64_t open_req_seq;	/* request whose body is being read, 0 = none */
	uint8_t role;		/* enum sba_role */
	uint8_t req_dir;	/* enum sba_dir carrying requests */
	uint8_t resp_mode;	/* RESP_* */
	bool resp_streaming;	/* the open paired response is text/event-stream */
	bool upgraded;
	bool closed;
	struct httpconn_config cfg;
	struct httpconn_stats own;
};

void httpconn_config_init(struct httpconn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	http1_config_init(&cfg->http1);
	cfg->max_pending = HTTPCONN_MAX_PENDING_DEFAULT;
}

static struct http1 *req_parser(struct httpconn *c)
{
	return c->p[c->req_dir - 1];
}

static struct http1 *resp_parser(struct httpconn *c)
{
	return c->p[c->req_dir == SBA_DIR_IN ? SBA_DIR_OUT - 1 : SBA_DIR_IN - 1];
}

static void set_role(struct httpconn *c, enum sba_role role, bool synced)
{
	c->role = (uint8_t)role;
	c->req_dir = role == SBA_ROLE_CLIENT ? SBA_DIR_OUT : SBA_DIR_IN;
	http1__reset(req_parser(c), HTTP1_REQUEST, synced);
	http1__reset(resp_parser(c), HTTP1_RESPONSE, synced);
}

struct httpconn *httpconn__new(const struct httpconn_config *cfg, enum sba_role role)
{
	struct httpconn *c;

	if (role != SBA_ROLE_UNKNOWN && role != SBA_ROLE_SERVER && role != SBA_ROLE_CLIENT) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (cfg)
		c->cfg = *cfg;
	else
		httpconn_config_init(&c->cfg);
	if (c->cfg.max_pending == 0)
		c->cfg.max_pending = HTTPCONN_MAX_PENDING_DEFAULT;
	if (c->cfg.max_pending > HTTPCONN_MAX_PENDING_LIMIT)
		c->cfg.max_pending = HTTPCONN_MAX_PENDING_LIMIT;
	c->st = c->cfg.stats ? c->cfg.stats : &c->own;
	c->p[0] = http1__new(&c->cfg.http1, HTTP1_REQUEST, false);
	c->p[1] = http1__new(&c->cfg.http1, HTTP1_REQUEST, false);
	if (!c->p[0] || !c->p[1]) {
		httpconn__free(c);
		errno = ENOMEM;
		return NULL;
	}
	if (role == SBA_ROLE_UNKNOWN) {
		c->role = SBA_ROLE_UNKNOWN;
		c->req_dir = SBA_DIR_IN;
	} else {
		set_role(c, role, true);
	}
	return c;
}

void httpconn__free(struct httpconn *c)
{
	if (!c)
		return;
	http1__free(c->p[0]);
	http1__free(c->p[1]);
	free(c->q);
	free(c);
}

enum sba_role httpconn__role(const struct httpconn *c)
{
	return (enum sba_role)c->role;
}

uint32_t httpconn__pending(const struct httpconn *c)
{
	return c->q_len;
}

bool httpconn__upgraded(const struct httpconn *c)
{
	return c->upgraded;
}

const struct httpconn_stats *httpconn__stats(const struct httpconn *c)
{
	return c->st;
}

/* ---- pending FIFO ---- */

static void pack_head(struct pending *e, const struct http1_head *h)
{
	const char *src[5] = { h->path, h->tenant, h->request_id, h->traceparent, h->host };
	uint8_t n[5] = { h->path_len, (uint8_t)strnlen(h->tenant, HTTP1_TENANT_MAX),
			 h->request_id_len, h->traceparent_len, h->host_len };
	size_t o = 0;

	memcpy(e->nums, h, HEAD_NUMS);
	for (int i = 0; i < 5; i++) {
		memcpy(e->str + o, src[i], n[i]);
		e->len[i] = n[i];
		o += n[i];
	}
	e->ts_head_enter = h->ts_head_enter;
	e->method = h->method;
}

static void unpack_head(const struct pending *e, struct http1_head *h)
{
	char *dst[5] = { h->path, h->tenant, h->request_id, h->traceparent, h->host };
	size_t o = 0;

	memcpy(h, e->nums, HEAD_NUMS);
	for (int i = 0; i < 5; i++) {
		memcpy(dst[i], e->str + o, e->len[i]);
		dst[i][e->len[i]] = 0;
		o += e->len[i];
	}
}

static struct pending *q_front(struct httpconn *c)
{
	return c->q_len ? &c->q[c->q_head] : NULL;
}

static void q_pop(struct httpconn *c)
{
	if (!c->q_len)
		return;
	c->q_head = (c->q_head + 1) % c->q_cap;
	c->q_len--;
}

static void q_drop_all(struct httpconn *c)
{
	c->st->unanswered_requests += c->q_len;
	c->q_len = 0;
	c->q_head = 0;
	c->open_req_seq = 0;
}

/* Grows the ring (in order, front at 0) up to max_pending. */
static int q_grow(struct httpconn *c)
{
	uint32_t cap = c->q_cap ? c->q_cap * 2 : 2;
	struct pending *q;

	if (cap > c->cfg.max_pending)
		cap = c->cfg.max_pending;
	if (cap <= c->q_cap)
		return -ENOSPC;
	q = malloc(sizeof(*q) * cap);
	if (!q)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->q_len; i++)
		q[i] = c->q[(c->q_head + i) % c->q_cap];
	free(c->q);
	c->q = q;
	c->q_cap = cap;
	c->q_head = 0;
	return 0;
}

/* Too many pending requests: responses are not being seen, so the pairing
 * cannot be trusted any more. Drop it all and resynchronise both ways. */
static void overflow(struct httpconn *c)
{
	c->st->pipeline_overflows++;
	q_drop_all(c);
	http1__reset(req_parser(c), HTTP1_REQUEST, false);
	http1__reset(resp_parser(c), HTTP1_RESPONSE, false);
	c->resp_mode = RESP_NONE;
}

static void q_push(struct httpconn *c, const struct http1_head *h)
{
	struct pending *e;

	if (c->q_len == c->q_cap && q_grow(c) != 0) {
		overflow(c);
		c->st->unanswered_requests++;	/* this one is dropped too */
		return;
	}
	e = &c->q[(c->q_head + c->q_len) % c->q_cap];
	pack_head(e, h);
	e->bytes = h->head_len;
	e->seq = ++c->next_seq;
	c->q_len++;
	c->open_req_seq = e->seq;
}

/* ---- exchanges ---- */

static void emit(struct httpconn *c, const struct pending *rq, const struct http1_head *resp,
		 uint64_t end, uint64_t resp_bytes, uint32_t flags)
{
	struct httpconn_exchange x;
	struct http1_head req;
	uint64_t start, first;

	unpack_head(rq, &req);
	memset(&x, 0, sizeof(x));
	if (c->role == SBA_ROLE_SERVER) {
		start = req.ts_first_exit;
		first = resp->ts_first_enter;
	} else {
		start = req.ts_first_enter;
		first = resp->ts_first_exit;
	}
	if ((req.flags | resp->flags) & HTTP1_F_TRUNCATED)
		flags |= HTTPCONN_X_TRUNCATED;
	x.req = &req;
	x.resp = resp;
	x.role = c->role;
	x.start_ns = start;
	x.end_ns = end > start ? end : start;
	x.duration_ns = x.end_ns - start;
	x.ttfb_ns = first > start ? first - start : 0;
	if (x.ttfb_ns > x.duration_ns)
		x.ttfb_ns = x.duration_ns;
	/* a request still being read (early response) counts what moved so far */
	x.req_bytes = rq->seq == c->open_req_seq ? http1__msg_bytes(req_parser(c)) : rq->bytes;
	if (x.req_bytes < req.head_len)
		x.req_bytes = req.head_len;
	x.resp_bytes = resp_bytes;
	x.flags = flags;
	c->st->exchanges++;
	if (flags & HTTPCONN_X_APPROX_END)
		c->st->approx_ends++;
	if (c->cfg.on_exchange)
		c->cfg.on_exchange(&x, c->cfg.ctx);
}

static uint32_t end_flags(uint32_t f)
{
	uint32_t x = 0;

	if (f & HTTP1_END_APPROX)
		x |= HTTPCONN_X_APPROX_END;
	if (f & HTTP1_END_IN_GAP)
		x |= HTTPCONN_X_END_LOST;
	if (f & HTTP1_END_AT_CLOSE)
		x |= HTTPCONN_X_AT_CLOSE;
	if (f & HTTP1_END_INCOMPLETE)
		x |= HTTPCONN_X_INCOMPLETE;
	return x;
}

/* Could this response answer that request? Not if its first byte moved
 * before the request's head was complete. */
static bool is_causal(const struct pending *rq, const struct http1_head *resp)
{
	return resp->ts_first_exit >= rq->ts_head_enter;
}

static void upgrade(struct httpconn *c, const struct http1_head *h, bool paired)
{
	c->st->upgrades++;
	if (paired) {
		emit(c, q_front(c), h, h->ts_head_exit, h->head_len, HTTPCONN_X_UPGRADE);
		q_pop(c);
	}
	q_drop_all(c);
	http1__stop(c->p[0]);
	http1__stop(c->p[1]);
	c->upgraded = true;
	c->resp_mode = RESP_NONE;
}

static void response_head(struct httpconn *c, const struct http1_head *h)
{
	struct pending *rq;
	bool paired;

	if (h->flags & HTTP1_F_TRUNCATED)
		c->st->truncated_heads++;
	if (h->status < 200 && h->status != 101) {
		c->st->interim++;
		c->resp_mode = RESP_IGNORE;
		return;
	}
	c->st->responses++;
	if (h->flags & HTTP1_F_AFTER_LOSS) {
		while (c->q_len > 1) {
			q_pop(c);
			c->st->unanswered_requests++;
		}
	}
	rq = q_front(c);
	paired = rq && is_causal(rq, h);
	if (h->status == 101 ||
	    (paired && rq->method == HTTP1_METHOD_CONNECT && h->status < 300)) {
		if (!paired)
			c->st->unpaired_responses++;
		upgrade(c, h, paired);
		return;
	}
	if (!paired) {
		c->st->unpaired_responses++;
		c->resp_mode = RESP_IGNORE;
		return;
	}
	if (rq->method == HTTP1_METHOD_HEAD)
		http1__set_no_body(resp_parser(c));
	/* A stream (SSE) is one exchange like any other: it ends with its
	 * framing (or at close), so its duration is the whole stream. */
	c->resp_streaming = (h->flags & HTTP1_F_EVENT_STREAM) != 0;
	if (c->resp_streaming)
		c->st->streaming++;
	c->resp_mode = RESP_PAIRED;
}

/* Malformed input or lost sync, in either direction: counted, nothing more. */
static void count_trouble(struct httpconn *c, const struct http1_event *ev)
{
	if (ev->type == HTTP1_EV_ERROR)
		c->st->parse_errors[ev->err < HTTP1_ERR__MAX ? ev->err : 0]++;
	else
		c->st->sync_losses++;
}

static void on_response(struct httpconn *c, const struct http1_event *ev)
{
	switch (ev->type) {
	case HTTP1_EV_HEAD:
		response_head(c, ev->head);
		break;
	case HTTP1_EV_END:
		if (c->resp_mode == RESP_PAIRED && c->q_len) {
			emit(c, q_front(c), ev->head, ev->ts_last, ev->msg_bytes,
			     end_flags(ev->end_flags) |
			     (c->resp_streaming ? HTTPCONN_X_STREAMING : 0));
			q_pop(c);
		}
		c->resp_mode = RESP_NONE;
		c->resp_streaming = false;
		break;
	case HTTP1_EV_ERROR:
	case HTTP1_EV_LOST:
		count_trouble(c, ev);
		break;
	case HTTP1_EV_NONE:
		break;
	}
}

static void on_request(struct httpconn *c, const struct http1_event *ev)
{
	struct http1_event e;
	struct pending *tail;

	switch (ev->type) {
	case HTTP1_EV_HEAD:
		c->st->requests++;
		if (ev->head->flags & HTTP1_F_TRUNCATED)
			c->st->truncated_heads++;
		/* a response whose end was not captured is complete by now */
		if (http1__force_end(resp_parser(c), &e))
			on_response(c, &e);
		q_push(c, ev->head);
		break;
	case HTTP1_EV_END:
		tail = c->q_len ? &c->q[(c->q_head + c->q_len - 1) % c->q_cap] : NULL;
		if (tail && c->open_req_seq && tail->seq == c->open_req_seq)
			tail->bytes = ev->msg_bytes;
		c->open_req_seq = 0;
		break;
	case HTTP1_EV_ERROR:
	case HTTP1_EV_LOST:
		count_trouble(c, ev);
		break;
	case HTTP1_EV_NONE:
		break;
	}
}

/* Runs one input through the parser of its direction, handling events. */
static void run(struct httpconn *c, enum sba_dir dir, struct http1_input *in)
{
	struct http1_event ev;
	struct http1 *p = c->p[dir - 1];
	bool is_req = dir == c->req_dir;

	/* at most a few events per captured byte, plus a few for the unseen parts */
	for (uint64_t guard = 4 * in->cap_len + 64; guard > 0; guard--) {
		if (http1__next(p, in, &ev) == HTTP1_EV_NONE)
			break;
		if (is_req)
			on_request(c, &ev);
		else
			on_response(c, &ev);
		if (c->upgraded)
			break;
	}
}

int httpconn__feed(struct httpconn *c, enum sba_dir dir, const uint8_t *data, size_t cap_len,
		   uint64_t bytes, uint64_t gap, uint64_t ts_enter, uint64_t ts_exit)
{
	struct http1_input in;

	if (!c || (dir != SBA_DIR_IN && dir != SBA_DIR_OUT) || (cap_len && !data))
		return -EINVAL;
	if (c->closed)
		return -EPIPE;
	if (cap_len > bytes)
		cap_len = bytes;
	c->st->gap_bytes += gap;
	if (c->upgraded) {
		c->st->ignored_bytes += bytes;
		return 0;
	}
	if (c->role == SBA_ROLE_UNKNOWN) {
		if (!cap_len || !http1_is_request_start(data, cap_len)) {
			c->st->ignored_bytes += bytes;
			return 0;
		}
		set_role(c, dir == SBA_DIR_IN ? SBA_ROLE_SERVER : SBA_ROLE_CLIENT, false);
		gap = 0;	/* nothing was in sync yet */
	}
	if (gap && !c->cfg.exact_gaps) {
		/* lost bytes of unknown direction: both directions lose framing */
		enum sba_dir other = dir == SBA_DIR_IN ? SBA_DIR_OUT : SBA_DIR_IN;

		http1_input_init(&in, NULL, 0, 0, HTTP1_GAP_UNKNOWN, ts_enter, ts_enter);
		run(c, other, &in);
		if (c->upgraded)
			return 0;
		gap = HTTP1_GAP_UNKNOWN;
	}
	http1_input_init(&in, data, cap_len, bytes, gap, ts_enter, ts_exit);
	run(c, dir, &in);
	return 0;
}

void httpconn__close(struct httpconn *c)
{
	struct http1_event ev;

	if (!c || c->closed)
		return;
	if (!c->upgraded && c->role != SBA_ROLE_UNKNOWN) {
		if (http1__close(resp_parser(c), &ev))
			on_response(c, &ev);
		http1__close(req_parser(c), &ev);
	}
	q_drop_all(c);
	c->closed = true;
}
