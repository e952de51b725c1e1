// SPDX-License-Identifier: Apache-2.0
/*
 * conntab.c - connections by id, the protocol of each, and its session.
 *
 * The table is open addressing with linear probing over pointers to
 * separately allocated entries (sessions keep a pointer to their entry as
 * callback context, so entries must not move), deleted by backward shift so
 * no tombstones build up. Capacity is twice max_conns, a power of two.
 *
 * The protocol is decided on the first captured bytes: a Redis server port
 * means RESP; a request line or status line means HTTP/1.x; commands that
 * look like RESP arrays from a client mean Redis too. A connection joined
 * mid-stream may start inside a body, so it gets several chunks to show a
 * message start before it is written off as "other".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conntab.h"
#include "hash.h"
#include "resp.h"

/* Chunks a joined (or role-less) connection may show before it is "other". */
#define DETECT_TRIES_JOINED 16

struct conn {
	struct conn_info info;
	struct conntab *t;
	void *sess;		/* struct httpconn * or struct redisconn *, by info.proto */
	uint32_t tries;		/* chunks seen while the protocol is unknown */
	uint32_t live_idx;	/* position in conntab.live */
};

struct conntab {
	struct conntab_config cfg;
	struct conn **slot;
	size_t cap;		/* power of two */
	size_t count;
	/* the entries again, packed, so that a walk over them (every second)
	 * costs the connections there are, not the table's capacity */
	struct conn **live;
	struct conntab_stats st;
};

void conntab_config_init(struct conntab_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_conns = 65536;
	cfg->redis_ports[0] = 6379;
	cfg->n_redis_ports = 1;
	http1_config_init(&cfg->http1);
}

struct conntab *conntab__new(const struct conntab_config *cfg)
{
	struct conntab *t = calloc(1, sizeof(*t));

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	if (cfg)
		t->cfg = *cfg;
	else
		conntab_config_init(&t->cfg);
	if (!t->cfg.max_conns)
		t->cfg.max_conns = 65536;
	if (!t->cfg.n_redis_ports && !t->cfg.redis_ports[0]) {
		t->cfg.redis_ports[0] = 6379;
		t->cfg.n_redis_ports = 1;
	}
	t->cap = 16;
	while (t->cap < 2 * (size_t)t->cfg.max_conns)
		t->cap *= 2;
	t->slot = calloc(t->cap, sizeof(*t->slot));
	t->live = calloc(t->cfg.max_conns, sizeof(*t->live));
	if (!t->slot || !t->live) {
		free(t->slot);
		free(t->live);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

/* Index of conn_id's slot, or of the empty slot where it would go. */
static size_t find(const struct conntab *t, uint64_t conn_id)
{
	size_t i = fmix64(conn_id) & (t->cap - 1);

	while (t->slot[i] && t->slot[i]->info.conn_id != conn_id)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static void end_session(struct conn *c)
{
	if (!c->sess)
		return;
	if (c->info.proto == CONN_PROTO_HTTP) {
		httpconn__close(c->sess);
		httpconn__free(c->sess);
	} else if (c->info.proto == CONN_PROTO_REDIS) {
		redisconn__close(c->sess);
		redisconn__free(c->sess);
	}
	c->sess = NULL;
}

/* Removes the entry at slot i, then shifts back the run that follows it. */
static void remove_at(struct conntab *t, size_t i)
{
	struct conn *c = t->slot[i];
	size_t j = i;

	end_session(c);
	t->live[c->live_idx] = t->live[t->count - 1];
	t->live[c->live_idx]->live_idx = c->live_idx;
	free(c);
	t->slot[i] = NULL;
	t->count--;
	t->st.closed++;
	for (;;) {
		size_t home;

		j = (j + 1) & (t->cap - 1);
		if (!t->slot[j])
			break;
		home = fmix64(t->slot[j]->info.conn_id) & (t->cap - 1);
		/* Move j back to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->slot[i] = t->slot[j];
			t->slot[j] = NULL;
			i = j;
		}
	}
}

void conntab__free(struct conntab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slot[i]) {
			end_session(t->slot[i]);
			free(t->slot[i]);
		}
	}
	free(t->slot);
	free(t->live);
	free(t);
}

/* The entry for conn_id, added if new; NULL when the table is full. */
static struct conn *get(struct conntab *t, uint64_t conn_id, uint32_t tgid, bool *added)
{
	size_t i = find(t, conn_id);
	struct conn *c;

	*added = false;
	if (t->slot[i])
		return t->slot[i];
	if (t->count >= t->cfg.max_conns) {
		t->st.table_full++;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		t->st.table_full++;
		return NULL;
	}
	c->t = t;
	c->info.conn_id = conn_id;
	c->info.tgid = tgid;
	c->live_idx = (uint32_t)t->count;
	t->live[t->count] = c;
	t->slot[i] = c;
	t->count++;
	t->st.opened++;
	*added = true;
	return c;
}

void conntab__open(struct conntab *t, const struct sba_conn_ev *ev)
{
	bool added;
	struct conn *c = get(t, ev->conn_id, ev->hdr.tgid, &added);

	if (!c)
		return;
	c->info.role = ev->role;
	c->info.family = ev->family;
	c->info.lport = ev->lport;
	c->info.rport = ev->rport;
	memcpy(c->info.laddr, ev->laddr, sizeof(c->info.laddr));
	memcpy(c->info.raddr, ev->raddr, sizeof(c->info.raddr));
	c->info.joined = ev->hdr.flags & SBA_CONN_JOINED;
}

/* ---- sessions ---- */

static void on_exchange(const struct httpconn_exchange *x, void *ctx)
{
	struct conn *c = ctx;

	if (c->t->cfg.sink.on_http)
		c->t->cfg.sink.on_http(c->t->cfg.sink.ctx, &c->info, x);
}

static void on_redis(void *ctx, const struct redisconn_ev *ev)
{
	struct conn *c = ctx;

	if (c->t->cfg.sink.on_redis)
		c->t->cfg.sink.on_redis(c->t->cfg.sink.ctx, &c->info, ev);
}

static bool is_redis_port(const struct conntab *t, uint16_t port)
{
	for (int i = 0; i < t->cfg.n_redis_ports && i < CONNTAB_MAX_REDIS_PORTS; i++)
		if (port && t->cfg.redis_ports[i] == port)
			return true;
	return false;
}

/* The protocol these first captured bytes show, or UNKNOWN to wait. */
static enum conn_proto detect(struct conn *c, const struct sba_data_ev *ev, const uint8_t *data)
{
	const struct conn_info *ci = &c->info;
	bool joined = ci->joined || ci->role == SBA_ROLE_UNKNOWN;

	if ((ci->role != SBA_ROLE_SERVER && is_redis_port(c->t, ci->rport)) ||
	    (ci->role == SBA_ROLE_UNKNOWN && is_redis_port(c->t, ci->lport)))
		return CONN_PROTO_REDIS;
	if (ev->cap_len) {
		if (http1_is_request_start(data, ev->cap_len) ||
		    http1_is_response_start(data, ev->cap_len))
			return CONN_PROTO_HTTP;
		/* Node as a Redis client on a port we were not told about. */
		if (ci->role == SBA_ROLE_CLIENT && ev->dir == SBA_DIR_OUT &&
		    resp_looks_like_start(RESP_MODE_COMMANDS, data, ev->cap_len))
			return CONN_PROTO_REDIS;
	}
	if (++c->tries < (joined ? DETECT_TRIES_JOINED : 1) || !ev->cap_len)
		return CONN_PROTO_UNKNOWN;
	return CONN_PROTO_OTHER;
}

static void start_session(struct conn *c, enum conn_proto proto)
{
	struct conntab *t = c->t;

	c->info.proto = proto;
	t->st.proto[proto]++;
	if (proto == CONN_PROTO_HTTP) {
		struct httpconn_config hc;

		httpconn_config_init(&hc);
		hc.http1 = t->cfg.http1;
		hc.exact_gaps = true; /* sba_abi.h gaps are per direction */
		hc.on_exchange = on_exchange;
		hc.ctx = c;
		hc.stats = &t->st.http;
		c->sess = httpconn__new(&hc, (enum sba_role)c->info.role);
	} else if (proto == CONN_PROTO_REDIS) {
		c->sess = redisconn__new(on_redis, c, c->info.joined);
	}
	if ((proto == CONN_PROTO_HTTP || proto == CONN_PROTO_REDIS) && !c->sess)
		c->info.proto = CONN_PROTO_OTHER; /* no memory: counted as other */
}

void conntab__data(struct conntab *t, const struct sba_data_ev *ev, const uint8_t *data)
{
	bool added;
	struct conn *c = get(t, ev->conn_id, ev->hdr.tgid, &added);
	enum conn_proto proto;

	if (!c)
		return;
	if (added) {
		/* The open record was lost: addresses unknown, start unsure. */
		t->st.without_open++;
		c->info.joined = true;
	}
	if (c->info.proto == CONN_PROTO_UNKNOWN) {
		proto = detect(c, ev, data);
		if (proto == CONN_PROTO_UNKNOWN)
			return;
		start_session(c, proto);
		/* A session that starts after skipped chunks begins unsure. */
	}
	switch (c->info.proto) {
	case CONN_PROTO_HTTP:
		httpconn__feed(c->sess, (enum sba_dir)ev->dir, data, ev->cap_len, ev->bytes,
			       ev->gap_bytes, ev->hdr.ts_ns, ev->hdr.ts_ns);
		break;
	case CONN_PROTO_REDIS:
		/* Only a client's view is Redis-shaped: OUT = commands, IN = replies. */
		redisconn__feed(c->sess, ev->dir == SBA_DIR_OUT ? REDIS_DIR_OUT : REDIS_DIR_IN, data,
				ev->cap_len, ev->bytes, ev->gap_bytes, ev->hdr.ts_ns, ev->hdr.ts_ns);
		break;
	default:
		t->st.other_bytes += ev->bytes;
		break;
	}
}

void conntab__close(struct conntab *t, uint64_t conn_id)
{
	size_t i = find(t, conn_id);

	if (t->slot[i])
		remove_at(t, i);
}

void conntab__forget_tgid(struct conntab *t, uint32_t tgid)
{
	/* Removing moves the last live entry into i: look at i again then. */
	for (size_t i = 0; i < t->count;) {
		if (t->live[i]->info.tgid == tgid)
			remove_at(t, find(t, t->live[i]->info.conn_id));
		else
			i++;
	}
}

void conntab__visit_http(const struct conntab *t,
			 void (*fn)(void *ctx, const struct conn_info *ci, enum sba_role role,
				    uint32_t pending),
			 void *ctx)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct conn *c = t->live[i];

		if (c->sess && c->info.proto == CONN_PROTO_HTTP)
			fn(ctx, &c->info, httpconn__role(c->sess), httpconn__pending(c->sess));
	}
}

size_t conntab__count(const struct conntab *t)
{
	return t->count;
}

size_t conntab__max(const struct conntab *t)
{
	return t->cfg.max_conns;
}

const struct conntab_stats *conntab__stats(const struct conntab *t)
{
	return &t->st;
}
