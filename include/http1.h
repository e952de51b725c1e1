/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http1.h - incremental HTTP/1.x parser for one direction of a captured TCP
 * stream (requests, or responses), built for a passive observer.
 *
 * Input comes one syscall at a time, as the kernel delivered it: `bytes`
 * moved, of which only the first `cap_len` were captured, possibly after a
 * hole of `gap` lost bytes. The parser walks heads byte by byte and keeps only
 * the fields the observer needs (method, path, status, framing, tenant,
 * x-request-id, traceparent, Host) in fixed arrays: it never copies a header it does
 * not know, so Authorization, Cookie and Set-Cookie values, and bodies, are
 * never stored. Bodies are skipped by byte count, captured or not.
 *
 * Tricky: bytes can be unseen (gap, or beyond cap_len). Inside a
 * Content-Length body or chunk data that costs nothing; anywhere else the
 * framing is lost and the parser waits for the next syscall whose first bytes
 * are a valid start line (the resync point). See docs/HTTP_PARSING.md.
 *
 * API: http1__new() -> per input: http1_input_init(), then call http1__next()
 * until it returns HTTP1_EV_NONE -> http1__close() at end of stream ->
 * http1__free(). No allocation after http1__new().
 */
#ifndef SBA_HTTP1_H
#define SBA_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEAD_DEFAULT	  16384	/* bytes of start line + headers */
#define HTTP1_MAX_HEAD_LIMIT	  (1u << 20)
#define HTTP1_MAX_HEADERS_DEFAULT 100	/* header lines per head */
#define HTTP1_PATH_MAX		  255	/* path bytes kept (query string never kept) */
#define HTTP1_TENANT_MAX	  64	/* tenant value bytes kept; longer is invalid anyway */
#define HTTP1_REQUEST_ID_MAX	  64
#define HTTP1_TRACEPARENT_MAX	  64	/* version 00 is 55 bytes */
#define HTTP1_HOST_MAX		  64	/* requests: Host value bytes kept (the client-side peer) */
#define HTTP1_HEADER_NAME_MAX	  64	/* configurable tenant header name */
#define HTTP1_TENANT_HEADER_DEFAULT "x-tenant-id"

/* Result of http1_parse_head() when it is not a head length. */
#define HTTP1_PARTIAL	-1	/* the head is not complete in the buffer */
#define HTTP1_MALFORMED	-2	/* not a valid head: *err says why */

enum http1_kind {
	HTTP1_REQUEST = 1,
	HTTP1_RESPONSE = 2,
};

/* Stable values: they index counters. */
enum http1_method {
	HTTP1_METHOD_OTHER = 0,	/* a valid token we do not name ("_OTHER" label) */
	HTTP1_METHOD_GET,
	HTTP1_METHOD_HEAD,
	HTTP1_METHOD_POST,
	HTTP1_METHOD_PUT,
	HTTP1_METHOD_DELETE,
	HTTP1_METHOD_PATCH,
	HTTP1_METHOD_OPTIONS,
	HTTP1_METHOD_CONNECT,
	HTTP1_METHOD_TRACE,
	HTTP1_METHOD__MAX,
};

/* Parse error kinds. Stable values: they index httpconn_stats.parse_errors. */
enum http1_err {
	HTTP1_ERR_NONE = 0,
	HTTP1_ERR_START_LINE,		/* bad request line or status line */
	HTTP1_ERR_VERSION,		/* not HTTP/1.0 or HTTP/1.1 (e.g. the HTTP/2 preface) */
	HTTP1_ERR_HEADER,		/* bad header line: name, colon, obs-fold, line end */
	HTTP1_ERR_TOO_MANY_HEADERS,	/* more than max_headers lines */
	HTTP1_ERR_HEAD_TOO_LARGE,	/* more than max_head bytes */
	HTTP1_ERR_LENGTH,		/* Content-Length invalid, overflowing or conflicting */
	HTTP1_ERR_TRANSFER_ENCODING,	/* request Transfer-Encoding not ending in chunked */
	HTTP1_ERR_CHUNK,		/* bad chunk-size line or chunk terminator */
	HTTP1_ERR__MAX,
};

/* http1_head.flags */
#define HTTP1_F_LENGTH		0x0001	/* Content-Length present: content_length */
#define HTTP1_F_CHUNKED		0x0002	/* Transfer-Encoding ends in chunked */
#define HTTP1_F_CLOSE		0x0004	/* Connection: close, or HTTP/1.0 without keep-alive */
#define HTTP1_F_UPGRADE		0x0008	/* Connection: upgrade with an Upgrade header */
#define HTTP1_F_EXPECT_CONTINUE	0x0010	/* Expect: 100-continue */
#define HTTP1_F_EVENT_STREAM	0x0020	/* Content-Type: text/event-stream */
#define HTTP1_F_TRUNCATED	0x0040	/* head longer than captured: later headers unknown */
#define HTTP1_F_PATH_TRUNCATED	0x0080	/* path longer than HTTP1_PATH_MAX */
#define HTTP1_F_TENANT		0x0100	/* the tenant header was present */
#define HTTP1_F_AFTER_LOSS	0x0200	/* first head after bytes were lost or malformed */
#define HTTP1_F_TE_OTHER	0x0400	/* Transfer-Encoding present, not ending in chunked */

/*
 * What the parser keeps of one head. Strings are NUL-terminated and hold at
 * most *_MAX bytes; `tenant_len` is the real length of the value (saturating
 * at 65535) so an over-long value can be told apart from a cut one.
 */
struct http1_head {
	uint64_t content_length;	/* with HTTP1_F_LENGTH */
	uint64_t ts_first_enter;	/* syscall holding the first byte: entry, exit */
	uint64_t ts_first_exit;
	uint64_t ts_head_enter;		/* syscall holding the head's last byte */
	uint64_t ts_head_exit;
	uint32_t flags;			/* HTTP1_F_* */
	uint32_t head_len;		/* bytes of start line and headers */
	uint16_t status;		/* responses: 100..999 */
	uint16_t tenant_len;
	uint8_t kind;			/* enum http1_kind */
	uint8_t method;			/* requests: enum http1_method */
	uint8_t version;		/* minor version: 0 or 1 */
	uint8_t path_len;
	uint8_t request_id_len;
	uint8_t traceparent_len;
	uint8_t host_len;
	char path[HTTP1_PATH_MAX + 1];	/* requests: target without query or fragment */
	char tenant[HTTP1_TENANT_MAX + 1];
	char request_id[HTTP1_REQUEST_ID_MAX + 1];
	char traceparent[HTTP1_TRACEPARENT_MAX + 1];
	char host[HTTP1_HOST_MAX + 1];
};

struct http1_config {
	uint32_t max_head;		/* 0 = HTTP1_MAX_HEAD_DEFAULT */
	uint32_t max_headers;		/* 0 = HTTP1_MAX_HEADERS_DEFAULT */
	uint32_t tenant_header_len;
	char tenant_header[HTTP1_HEADER_NAME_MAX + 1];	/* lower case */
	/* Tests: never parse a whole head in one go, always byte by byte (the
	 * two must agree on every input; see http1.c). */
	bool bytewise;
};

/* Fills *cfg with the defaults (tenant header x-tenant-id). */
void http1_config_init(struct http1_config *cfg);

/*
 * Sets the tenant header name (case-insensitive, stored lower case).
 * Returns 0, or -EINVAL when it is not a token of 1..HTTP1_HEADER_NAME_MAX
 * bytes or names a credential (authorization, proxy-authorization, cookie,
 * set-cookie), or one of the headers the parser already reads.
 */
int http1_config_set_tenant_header(struct http1_config *cfg, const char *name);

/*
 * One syscall's worth of input, plus a cursor that http1__next() advances.
 * Order in the stream: `gap` unseen bytes, then data[0..cap_len), then
 * bytes - cap_len unseen bytes. `data` must stay valid while it is fed.
 * gap HTTP1_GAP_UNKNOWN: some bytes, possibly none, were lost here (the
 * kernel counts lost bytes per connection, not per direction): nothing can be
 * skipped exactly, every open framing is lost.
 */
#define HTTP1_GAP_UNKNOWN UINT64_MAX

struct http1_input {
	const uint8_t *data;
	uint64_t cap_len;	/* clamped to bytes */
	uint64_t bytes;
	uint64_t gap;
	uint64_t ts_enter;
	uint64_t ts_exit;
	/* cursor: private to http1.c */
	uint64_t gap_left;
	uint64_t pos;
	bool started;
};

void http1_input_init(struct http1_input *in, const uint8_t *data, size_t cap_len,
		      uint64_t bytes, uint64_t gap, uint64_t ts_enter, uint64_t ts_exit);

enum http1_ev {
	HTTP1_EV_NONE = 0,	/* the input is used up */
	HTTP1_EV_HEAD = 1,	/* a head is complete: ev->head */
	HTTP1_EV_END = 2,	/* the current message ended: ev->head, ts_last, msg_bytes */
	HTTP1_EV_ERROR = 3,	/* malformed input: ev->err */
	HTTP1_EV_LOST = 4,	/* a message boundary fell into unseen bytes: sync lost */
};

/* http1_event.end_flags */
#define HTTP1_END_APPROX	0x1	/* framing not seen: ended by a resync rule */
#define HTTP1_END_IN_GAP	0x2	/* the last byte may be in lost bytes: ts_last is an upper bound */
#define HTTP1_END_AT_CLOSE	0x4	/* ended by the end of the stream */
#define HTTP1_END_INCOMPLETE	0x8	/* the stream ended before the framing said it would */

struct http1_event {
	enum http1_ev type;
	enum http1_err err;		/* EV_ERROR */
	bool in_gap;			/* EV_LOST: lost to a gap, else to uncaptured bytes */
	uint32_t end_flags;		/* EV_END: HTTP1_END_* */
	uint64_t ts_last;		/* EV_END: exit time of the syscall holding the last byte */
	uint64_t msg_bytes;		/* EV_END: head + body bytes */
	const struct http1_head *head;	/* EV_HEAD, EV_END: valid until the next call */
};

struct http1;

/*
 * Creates a parser for `kind`. `synced` false: nothing is known about the
 * stream position, so it waits for a resync point. Copies *cfg (NULL =
 * defaults). Returns NULL with errno set on failure.
 */
struct http1 *http1__new(const struct http1_config *cfg, enum http1_kind kind, bool synced);
void http1__free(struct http1 *p);

/* Drops all state; `synced` as for http1__new(). After a reset that is not
 * synced, the next head carries HTTP1_F_AFTER_LOSS. */
void http1__reset(struct http1 *p, enum http1_kind kind, bool synced);

/*
 * Advances through `in` up to the next event and returns its type (also in
 * ev->type). Call again with the same input until HTTP1_EV_NONE. Work is
 * bounded by the bytes of the input: every call consumes bytes or changes
 * state towards consuming them.
 */
enum http1_ev http1__next(struct http1 *p, struct http1_input *in, struct http1_event *ev);

/* Right after HTTP1_EV_HEAD of a response: the message has no body (the
 * request was HEAD). The next http1__next() returns its HTTP1_EV_END. */
void http1__set_no_body(struct http1 *p);

/*
 * Ends the open message whose framing was lost, now: its last byte is taken
 * to be in the last syscall fed. Returns true and fills ev (HTTP1_EV_END,
 * HTTP1_END_APPROX) if such a message was open; the parser then waits for a
 * resync point. Returns false and changes nothing otherwise.
 */
bool http1__force_end(struct http1 *p, struct http1_event *ev);

/*
 * End of stream. Returns true and fills ev (HTTP1_EV_END, HTTP1_END_AT_CLOSE)
 * if a message with a head was open; false otherwise. The parser then ignores
 * further input until reset.
 */
bool http1__close(struct http1 *p, struct http1_event *ev);

/* Bytes of the message being parsed so far (head counted once complete). */
uint64_t http1__msg_bytes(const struct http1 *p);

/* Ignores all further input (protocol switched: 101, CONNECT tunnel). */
void http1__stop(struct http1 *p);

/*
 * Parses one complete head in data[0..len) with no state kept. Returns its
 * length (> 0, up to and including the empty line), HTTP1_PARTIAL if the
 * empty line was not reached, or HTTP1_MALFORMED with *err set. cfg NULL =
 * defaults. Timestamps in *head are zero.
 */
int http1_parse_head(const uint8_t *data, size_t len, enum http1_kind kind,
		     const struct http1_config *cfg, struct http1_head *head, enum http1_err *err);

/* A resync point: data starts with a complete, valid request line using a
 * named method (HTTP1_METHOD_OTHER does not count). */
bool http1_is_request_start(const uint8_t *data, size_t len);
/* A resync point: data starts with a complete, valid status line. */
bool http1_is_response_start(const uint8_t *data, size_t len);

/* "GET" ... or "_OTHER"; never NULL. */
const char *http1_method_name(enum http1_method m);
/* "start_line" ... for labels; never NULL. */
const char *http1_err_name(enum http1_err e);

#endif /* SBA_HTTP1_H */
