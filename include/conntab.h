/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conntab.h - every TCP connection the probes reported, the protocol it
 * speaks, and its parser session.
 *
 * Fed with the decoded ring-buffer records (open, data, close, process exit),
 * it decides per connection whether the bytes are HTTP/1.x or Redis (RESP),
 * feeds the matching session (httpconn, redisconn), and hands each finished
 * HTTP exchange or Redis record to the sink together with the connection's
 * identity. Memory is bounded by max_conns; a connection that does not fit
 * is counted and not parsed.
 */
#ifndef SBA_CONNTAB_H
#define SBA_CONNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http1.h"
#include "httpconn.h"
#include "redisconn.h"
#include "sba_abi.h"

enum conn_proto {
	CONN_PROTO_UNKNOWN = 0,	/* no captured byte seen yet */
	CONN_PROTO_HTTP = 1,
	CONN_PROTO_REDIS = 2,
	CONN_PROTO_OTHER = 3,	/* neither: its bytes are counted, not parsed */
	CONN_PROTO__MAX,
};

/* Who is talking; valid during a sink call. */
struct conn_info {
	uint64_t conn_id;
	uint32_t tgid;
	uint8_t role;		/* enum sba_role */
	uint8_t family;		/* AF_INET, AF_INET6, or 0 when the open was not seen */
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	uint8_t proto;		/* enum conn_proto */
	bool joined;		/* seen mid-stream */
};

struct conntab_sink {
	void (*on_http)(void *ctx, const struct conn_info *ci, const struct httpconn_exchange *x);
	void (*on_redis)(void *ctx, const struct conn_info *ci, const struct redisconn_ev *ev);
	void *ctx;
};

#define CONNTAB_MAX_REDIS_PORTS 8

struct conntab_config {
	uint32_t max_conns;		/* 0: 65536 */
	uint16_t redis_ports[CONNTAB_MAX_REDIS_PORTS];	/* server ports that mean Redis */
	int n_redis_ports;		/* 0 with redis_ports unset: 6379 */
	struct http1_config http1;	/* head limits, tenant header */
	struct conntab_sink sink;
};

struct conntab_stats {
	uint64_t opened;		/* connections added */
	uint64_t closed;		/* connections removed (close or process exit) */
	uint64_t table_full;		/* records (open, data) of connections not
					 * tracked: over max_conns */
	uint64_t without_open;		/* data for a connection whose open was not seen */
	uint64_t proto[CONN_PROTO__MAX];	/* connections by the protocol decided */
	uint64_t other_bytes;		/* bytes of CONN_PROTO_OTHER connections */
	struct httpconn_stats http;	/* summed over every HTTP connection */
};

/* Fills cfg with the defaults (6379, x-tenant-id, 65536 connections). */
void conntab_config_init(struct conntab_config *cfg);

struct conntab;

/* Returns NULL and sets errno on failure. cfg is copied. */
struct conntab *conntab__new(const struct conntab_config *cfg);
void conntab__free(struct conntab *t);

void conntab__open(struct conntab *t, const struct sba_conn_ev *ev);
/* data holds ev->cap_len captured bytes. */
void conntab__data(struct conntab *t, const struct sba_data_ev *ev, const uint8_t *data);
/* The connection closed: pending exchanges end, the entry is freed. */
void conntab__close(struct conntab *t, uint64_t conn_id);
/* The process exited: every connection of tgid is closed. */
void conntab__forget_tgid(struct conntab *t, uint32_t tgid);

/* Calls fn for every HTTP connection with its role (given or inferred) and
 * its requests waiting for their response. */
void conntab__visit_http(const struct conntab *t,
			 void (*fn)(void *ctx, const struct conn_info *ci, enum sba_role role,
				    uint32_t pending),
			 void *ctx);

/* Connections held, and the most it holds (max_conns). */
size_t conntab__count(const struct conntab *t);
size_t conntab__max(const struct conntab *t);
const struct conntab_stats *conntab__stats(const struct conntab *t);

#endif /* SBA_CONNTAB_H */
