/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpconn.h - one TCP connection's HTTP/1.x session: two http1 parsers (one
 * per direction), requests paired with responses in order, and the timings of
 * each pair from the kernel timestamps of the syscalls that carried them.
 *
 * Feed every data event of the connection, in ring-buffer order, with
 * httpconn__feed(); every completed request/response pair ("exchange") is
 * handed to the on_exchange callback, synchronously, from inside feed or
 * close. Interim 1xx responses are not exchanges. Upgrades (101, CONNECT 2xx)
 * and text/event-stream responses complete at the response head, flagged.
 *
 * Timing (docs/HTTP_PARSING.md):
 *   server: start = exit of the read holding the request's first byte,
 *           ttfb  = entry of the write holding the response's first byte - start,
 *           end   = exit of the write holding the response's last byte.
 *   client: start = entry of the write holding the request's first byte,
 *           ttfb  = exit of the read holding the response's first byte - start,
 *           end   = exit of the read holding the response's last byte.
 *
 * Memory per connection is bounded: two parsers and a FIFO of at most
 * max_pending pending requests, grown on demand. Nothing is allocated per byte.
 */
#ifndef SBA_HTTPCONN_H
#define SBA_HTTPCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http1.h"
#include "sba_abi.h"

#define HTTPCONN_MAX_PENDING_DEFAULT 32
#define HTTPCONN_MAX_PENDING_LIMIT 1024

/* httpconn_exchange.flags */
#define HTTPCONN_X_STREAMING	0x01	/* text/event-stream: ends with its framing or at close */
#define HTTPCONN_X_UPGRADE	0x02	/* 101 or CONNECT 2xx: ended at the response head */
#define HTTPCONN_X_APPROX_END	0x04	/* response framing not captured: end by a resync rule */
#define HTTPCONN_X_END_LOST	0x08	/* the response's end fell into lost bytes: end is an upper bound */
#define HTTPCONN_X_INCOMPLETE	0x10	/* closed before the response body was complete */
#define HTTPCONN_X_TRUNCATED	0x20	/* a head was longer than captured: later headers unknown */
#define HTTPCONN_X_AT_CLOSE	0x40	/* ended by the connection's close */

struct httpconn_exchange {
	const struct http1_head *req;	/* method, path, tenant, x-request-id, traceparent */
	const struct http1_head *resp;	/* status; the final response, never a 1xx interim */
	uint64_t start_ns;		/* CLOCK_MONOTONIC */
	uint64_t end_ns;
	uint64_t duration_ns;		/* end - start */
	uint64_t ttfb_ns;		/* first response byte - start */
	uint64_t req_bytes;		/* head + body as far as seen when the exchange ended */
	uint64_t resp_bytes;		/* head + body; head only for UPGRADE */
	uint32_t flags;			/* HTTPCONN_X_* */
	uint8_t role;			/* SBA_ROLE_SERVER or SBA_ROLE_CLIENT */
};

/*
 * Counters. Point several connections at one struct (httpconn_config.stats)
 * to get totals; all fields only ever grow.
 */
struct httpconn_stats {
	uint64_t parse_errors[HTTP1_ERR__MAX];	/* malformed input, per enum http1_err */
	uint64_t requests;		/* request heads parsed */
	uint64_t responses;		/* final response heads parsed */
	uint64_t exchanges;		/* exchanges handed to on_exchange */
	uint64_t interim;		/* 1xx responses other than 101, not exchanges */
	uint64_t upgrades;		/* 101 or CONNECT 2xx seen: parsing stopped */
	uint64_t streaming;		/* exchanges ended at a text/event-stream head */
	uint64_t approx_ends;		/* exchanges with HTTPCONN_X_APPROX_END */
	uint64_t unpaired_responses;	/* final responses with no request to pair with */
	uint64_t unanswered_requests;	/* requests dropped without a response; after close,
					 * requests == exchanges + unanswered_requests */
	uint64_t pipeline_overflows;	/* more than max_pending requests pending */
	uint64_t sync_losses;		/* a message boundary fell into unseen bytes */
	uint64_t truncated_heads;	/* heads cut by the capture length */
	uint64_t gap_bytes;		/* bytes reported lost by the kernel */
	uint64_t ignored_bytes;		/* bytes fed while the role is unknown or after upgrade */
};

struct httpconn_config {
	struct http1_config http1;	/* head limits, tenant header name */
	uint32_t max_pending;		/* 0 = HTTPCONN_MAX_PENDING_DEFAULT */
	/* false (sba_abi.h today): a gap counts lost bytes of the connection, in
	 * either direction, so it makes both directions lose their framing.
	 * true: a gap counts only bytes of the direction it is fed with, and a
	 * gap inside a known-length body is skipped exactly. */
	bool exact_gaps;
	/* Called once per exchange; x and everything it points to are valid only
	 * during the call. Must not call back into the same connection. */
	void (*on_exchange)(const struct httpconn_exchange *x, void *ctx);
	void *ctx;
	struct httpconn_stats *stats;	/* NULL: the connection keeps its own */
};

/* Defaults: http1_config_init(), max_pending 32, no callback, own stats. */
void httpconn_config_init(struct httpconn_config *cfg);

struct httpconn;

/*
 * Creates a session. role SBA_ROLE_SERVER (IN carries requests) or
 * SBA_ROLE_CLIENT (OUT carries requests) start in sync; SBA_ROLE_UNKNOWN
 * (joined mid-stream) waits for a syscall, in either direction, that starts
 * with a request line and takes the role from it. *cfg is copied. Returns
 * NULL with errno set (EINVAL, ENOMEM).
 */
struct httpconn *httpconn__new(const struct httpconn_config *cfg, enum sba_role role);

/*
 * One data event: `bytes` moved in direction `dir`, the first `cap_len` of
 * them in `data`, after `gap` lost bytes; syscall entry/exit times. Returns 0,
 * -EINVAL for a bad argument (nothing consumed), -EPIPE after close.
 * Malformed input is not an error here: it is counted in the stats.
 */
int httpconn__feed(struct httpconn *c, enum sba_dir dir, const uint8_t *data, size_t cap_len,
		   uint64_t bytes, uint64_t gap, uint64_t ts_enter, uint64_t ts_exit);

/* The connection closed: completes a response delimited by close (or with
 * lost framing), counts pending requests as unanswered. Idempotent. */
void httpconn__close(struct httpconn *c);

/* Frees without emitting anything; NULL is fine. */
void httpconn__free(struct httpconn *c);

/* SBA_ROLE_*: the role given, or the one inferred, or still UNKNOWN. */
enum sba_role httpconn__role(const struct httpconn *c);
/* Requests waiting for their response. */
uint32_t httpconn__pending(const struct httpconn *c);
/* True once a protocol switch stopped parsing. */
bool httpconn__upgraded(const struct httpconn *c);
/* The stats in use (own or shared); valid as long as c, or the shared struct. */
const struct httpconn_stats *httpconn__stats(const struct httpconn *c);

#endif /* SBA_HTTPCONN_H */
