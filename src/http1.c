// SPDX-License-Identifier: Apache-2.0
/*
 * http1.c - incremental HTTP/1.x parser (see http1.h for the contract).
 *
 * One byte-level state machine covers heads, Content-Length bodies, chunked
 * bodies and trailers, so a message may be split at any byte and no head is
 * ever reassembled: start-line and header-name bytes are looked at one by one,
 * values of unknown headers are skipped with memchr and never copied, and
 * only the values of the few known headers are copied, bounded.
 *
 *   GET /users/42?x=1 HTTP/1.1\r\n  x-tenant-id: acme\r\n  Cookie: ...\r\n  \r\n
 *   ^S_METHOD ^S_TARGET  ^S_REQ_VERSION  ^S_HDR_NAME ^S_HDR_VALUE  ^S_HDR_SKIP  ^S_HDR_START
 *
 * The usual head, whole in one syscall with CRLF line ends, takes a shortcut
 * (fast_head): line by line, with the same rules. It declines anything else,
 * and the byte walk then parses the message from its first byte, so the two
 * agree on every input (tests/unit/test_http1.c compares them).
 *
 * Tricky: unseen bytes (step_unseen). They are skipped exactly inside a body
 * or chunk data; anywhere else the framing is lost: an open message goes to
 * S_UNKNOWN (it ends at the next resync point, a forced end or close), no
 * open message goes to S_RESYNC. Resync points are only ever the first bytes
 * of a syscall (http1_is_*_start), never the middle of one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

enum {
	S_RESYNC = 0,	/* lost: waiting for a syscall that starts with a start line */
	S_START,	/* message boundary: skip CR/LF, then a start line begins */
	S_METHOD,	/* head states: S_METHOD .. S_HEAD_LF */
	S_TARGET,
	S_REQ_VERSION,
	S_RESP_VERSION,
	S_STATUS,
	S_REASON,
	S_LINE_LF,	/* start line: got \r, expecting \n */
	S_HDR_START,	/* start of a header line, or of the empty line */
	S_HDR_NAME,
	S_HDR_OWS,
	S_HDR_VALUE,	/* value of a known header: copied, bounded */
	S_HDR_SKIP,	/* value of any other header: skipped, never copied */
	S_HEAD_LF,	/* empty line: got \r, expecting \n */
	S_BODY_NONE,	/* head done, no body: END is next */
	S_BODY_LENGTH,
	S_CHUNK_SIZE,
	S_CHUNK_EXT,
	S_CHUNK_SIZE_LF,
	S_CHUNK_DATA,
	S_CHUNK_DATA_CR,
	S_CHUNK_DATA_LF,
	S_TRAILER_START,
	S_TRAILER_LINE,
	S_TRAILER_LF,
	S_UNTIL_CLOSE,	/* response without framing: ends at close */
	S_UNKNOWN,	/* open message whose framing was not seen */
	S_STOPPED,	/* protocol switched, or closed: ignore everything */
};

/* Which known header the current line is. */
enum {
	H_UNKNOWN = 0,
	H_CONTENT_LENGTH,
	H_TRANSFER_ENCODING,
	H_CONNECTION,
	H_UPGRADE,
	H_CONTENT_TYPE,
	H_EXPECT,
	H_REQUEST_ID,
	H_TRACEPARENT,
	H_HOST,
	H_TENANT,
};

#define TOK_MAX		HTTP1_HEADER_NAME_MAX	/* method, version, header name */
#define METHOD_MAX	24
#define VAL_MAX		128			/* known header values kept for parsing */
#define CHUNK_EXT_MAX	4096			/* chunk extension bytes on one size line */
#define CHUNK_SIZE_MAX	(UINT64_C(1) << 58)	/* keeps size * 16 + 15 below 2^62 */
#define LENGTH_MAX	(UINT64_C(1) << 62)
#define START_SCAN_MAX	HTTP1_MAX_HEAD_DEFAULT	/* resync: bytes looked at for a start line */

/* conn bits: what the Connection header said */
#define C_CLOSE		0x1
#define C_KEEP_ALIVE	0x2
#define C_UPGRADE	0x4

/* What every message touches comes first (a connection's parser is usually
 * cold in the cache when its next syscall arrives): the state, the limits,
 * the head's numbers; the token and value buffers of the byte walk last. */
struct http1 {
	uint64_t remain;	/* body or chunk-data bytes left; chunk size being read */
	uint64_t msg_bytes;	/* bytes of the current message so far */
	uint64_t cur_ts_exit;	/* exit time of the input being fed */
	uint64_t prev_ts_exit;	/* exit time of the input before it */
	uint32_t nheaders;
	uint32_t target_len;
	uint32_t aux;		/* chunk-extension or trailer bytes */
	uint32_t tok_len;	/* bytes in tok */
	uint32_t tok_total;	/* bytes of the token (may exceed TOK_MAX) */
	uint32_t val_len;	/* bytes in val */
	uint32_t val_total;	/* bytes of the value, saturating */
	uint32_t val_trail;	/* trailing OWS bytes at the end of the value so far */
	uint8_t kind;
	uint8_t state;
	uint8_t hdr;		/* H_* of the current header line */
	uint8_t conn;		/* C_* */
	bool lossy;		/* bytes lost or malformed since the last head */
	bool unknown_chunked;	/* S_UNKNOWN inside a chunked body */
	bool end_maybe_lost;	/* S_UNKNOWN reached through lost bytes */
	bool chunk_digits;	/* S_CHUNK_SIZE: a hex digit was seen */
	bool in_query;		/* S_TARGET: past '?' or '#' */
	bool cl_seen;
	bool te_seen;
	bool te_chunked;	/* last Transfer-Encoding token so far is chunked */
	bool upgrade_hdr;	/* an Upgrade header with a value */
	bool tenant_or_safe;	/* the tenant header name can be compared with name_is() */
	struct http1_config cfg;
	struct http1_head head;
	char tok[TOK_MAX];
	char val[VAL_MAX];
};

static const char *const method_names[HTTP1_METHOD__MAX] = {
	[HTTP1_METHOD_OTHER] = "_OTHER",   [HTTP1_METHOD_GET] = "GET",
	[HTTP1_METHOD_HEAD] = "HEAD",	   [HTTP1_METHOD_POST] = "POST",
	[HTTP1_METHOD_PUT] = "PUT",	   [HTTP1_METHOD_DELETE] = "DELETE",
	[HTTP1_METHOD_PATCH] = "PATCH",	   [HTTP1_METHOD_OPTIONS] = "OPTIONS",
	[HTTP1_METHOD_CONNECT] = "CONNECT", [HTTP1_METHOD_TRACE] = "TRACE",
};

static const char *const err_names[HTTP1_ERR__MAX] = {
	[HTTP1_ERR_NONE] = "none",
	[HTTP1_ERR_START_LINE] = "start_line",
	[HTTP1_ERR_VERSION] = "version",
	[HTTP1_ERR_HEADER] = "header",
	[HTTP1_ERR_TOO_MANY_HEADERS] = "too_many_headers",
	[HTTP1_ERR_HEAD_TOO_LARGE] = "head_too_large",
	[HTTP1_ERR_LENGTH] = "length",
	[HTTP1_ERR_TRANSFER_ENCODING] = "transfer_encoding",
	[HTTP1_ERR_CHUNK] = "chunk",
};

const char *http1_method_name(enum http1_method m)
{
	return (unsigned)m < HTTP1_METHOD__MAX ? method_names[m] : method_names[0];
}

const char *http1_err_name(enum http1_err e)
{
	return (unsigned)e < HTTP1_ERR__MAX ? err_names[e] : "unknown";
}

/* RFC 9110 tchar: ALPHA DIGIT and !#$%&'*+-.^_`|~ */
static const uint8_t tchar[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static bool is_tchar(uint8_t c)
{
	return tchar[c];
}

/* Ends the path part of a request target: not a target byte (controls,
 * space, DEL), or the start of the query or fragment. */
static const uint8_t path_end[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	[0x7f] = 1,
};

/* Whether all 8 bytes of w are ASCII letters, digits or '-': the bytes of
 * nearly every header name, so a name is checked 8 bytes at a time and
 * byte by byte (tchar[]) only where this says no. */
static inline bool alnum_dash8(uint64_t w)
{
	const uint64_t h = 0x8080808080808080ull, m = 0x7f7f7f7f7f7f7f7full;
	uint64_t x = w & m, l = x | 0x2020202020202020ull;
	/* byte in [lo, hi] on 7-bit bytes: no carry crosses a byte */
#define IN(v, lo, hi) (((v) + 0x0101010101010101ull * (0x80 - (lo))) & \
		       ~((v) + 0x0101010101010101ull * (0x7f - (hi))) & h)
	uint64_t ok = IN(l, 'a', 'z') | IN(x, '0', '9') | IN(x, '-', '-');
#undef IN
	return (ok & ~w & h) == h;
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Target bytes: visible ASCII and obs-text; no controls, no space. */
static bool is_target_char(uint8_t c)
{
	return c > 0x20 && c != 0x7f;
}

/* a[0..n) equals the lower-case literal, ignoring ASCII case */
static inline bool eq_lower(const void *a, size_t n, const char *lit, size_t litlen)
{
	const uint8_t *s = a;

	if (n != litlen)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != (uint8_t)lit[i])
			return false;
	return true;
}

#define EQ_LIT(a, n, lit) eq_lower((a), (n), lit, sizeof(lit) - 1)

static inline uint64_t load64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Header name a[0..n) (tchar bytes only) equals lit, a literal of n >= 8
 * lower-case letters and '-', in any case: OR-ing 0x20 lower-cases letters
 * and can turn no other tchar into a letter or '-'. 8 bytes at a time, the
 * last block overlapping.
 */
static inline bool name_is(const uint8_t *a, size_t n, const char *lit)
{
	const uint64_t low = 0x2020202020202020ULL;
	size_t i;

	for (i = 0; i + 8 < n; i += 8)
		if ((load64(a + i) | low) != load64(lit + i))
			return false;
	return (load64(a + n - 8) | low) == load64(lit + n - 8);
}

static inline uint32_t load32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* name_is() for 4 <= n < 8: two 4-byte blocks, overlapping. */
static inline bool name_is_short(const uint8_t *a, size_t n, const char *lit)
{
	const uint32_t low = 0x20202020u;

	return (load32(a) | low) == load32(lit) && (load32(a + n - 4) | low) == load32(lit + n - 4);
}

/* Whether name_is() may compare the tenant header name lit: OR-ing 0x20 is
 * exact against a lower-case tchar c when c has that bit and is not '~'
 * (which '^' would match); letters, digits, '-' and '.' all do. */
static bool or_safe(const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((uint8_t)lit[i] & 0x20) || lit[i] == '~')
			return false;
	return n >= 4;
}

static enum http1_method method_lookup(const char *s, size_t n)
{
	for (int m = HTTP1_METHOD_GET; m < HTTP1_METHOD__MAX; m++)
		if (strlen(method_names[m]) == n && memcmp(method_names[m], s, n) == 0)
			return (enum http1_method)m;
	return HTTP1_METHOD_OTHER;
}

void http1_config_init(struct http1_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_head = HTTP1_MAX_HEAD_DEFAULT;
	cfg->max_headers = HTTP1_MAX_HEADERS_DEFAULT;
	cfg->tenant_header_len = strlen(HTTP1_TENANT_HEADER_DEFAULT);
	memcpy(cfg->tenant_header, HTTP1_TENANT_HEADER_DEFAULT, cfg->tenant_header_len + 1);
}

int http1_config_set_tenant_header(struct http1_config *cfg, const char *name)
{
	static const char *const refused[] = {
		"authorization", "proxy-authorization", "cookie", "set-cookie",
		"content-length", "transfer-encoding", "connection", "upgrade",
		"content-type", "expect", "x-request-id", "traceparent",
	};
	char low[HTTP1_HEADER_NAME_MAX + 1];
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > HTTP1_HEADER_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!is_tchar((uint8_t)name[i]))
			return -EINVAL;
		low[i] = (char)lower((uint8_t)name[i]);
	}
	low[n] = 0;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strcmp(low, refused[i]) == 0)
			return -EINVAL;
	memcpy(cfg->tenant_header, low, n + 1);
	cfg->tenant_header_len = n;
	return 0;
}

static void config_fix(struct http1_config *dst, const struct http1_config *src)
{
	if (src)
		*dst = *src;
	else
		http1_config_init(dst);
	if (dst->max_head == 0)
		dst->max_head = HTTP1_MAX_HEAD_DEFAULT;
	if (dst->max_head > HTTP1_MAX_HEAD_LIMIT)
		dst->max_head = HTTP1_MAX_HEAD_LIMIT;
	if (dst->max_headers == 0)
		dst->max_headers = HTTP1_MAX_HEADERS_DEFAULT;
	if (dst->tenant_header_len == 0 || dst->tenant_header_len > HTTP1_HEADER_NAME_MAX) {
		dst->tenant_header_len = strlen(HTTP1_TENANT_HEADER_DEFAULT);
		memcpy(dst->tenant_header, HTTP1_TENANT_HEADER_DEFAULT,
		       dst->tenant_header_len + 1);
	}
	dst->tenant_header[dst->tenant_header_len] = 0;
}

void http1_input_init(struct http1_input *in, const uint8_t *data, size_t cap_len,
		      uint64_t bytes, uint64_t gap, uint64_t ts_enter, uint64_t ts_exit)
{
	memset(in, 0, sizeof(*in));
	in->data = data;
	in->cap_len = data ? (cap_len < bytes ? cap_len : bytes) : 0;
	in->bytes = bytes;
	in->gap = gap;
	in->gap_left = gap;
	in->ts_enter = ts_enter;
	in->ts_exit = ts_exit;
}

static void init_state(struct http1 *p, enum http1_kind kind, bool synced)
{
	memset(&p->head, 0, sizeof(p->head));
	p->kind = (uint8_t)kind;
	p->state = synced ? S_START : S_RESYNC;
	p->lossy = !synced;
	p->remain = 0;
	p->msg_bytes = 0;
	p->unknown_chunked = false;
	p->end_maybe_lost = false;
}

struct http1 *http1__new(const struct http1_config *cfg, enum http1_kind kind, bool synced)
{
	struct http1 *p;

	if (kind != HTTP1_REQUEST && kind != HTTP1_RESPONSE) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	config_fix(&p->cfg, cfg);
	p->tenant_or_safe = or_safe(p->cfg.tenant_header, p->cfg.tenant_header_len);
	init_state(p, kind, synced);
	return p;
}

void http1__free(struct http1 *p)
{
	free(p);
}

void http1__reset(struct http1 *p, enum http1_kind kind, bool synced)
{
	init_state(p, kind, synced);
}

uint64_t http1__msg_bytes(const struct http1 *p)
{
	return p->msg_bytes;
}

void http1__stop(struct http1 *p)
{
	p->state = S_STOPPED;
}

/* ---- start-line checks for resync points ---- */

bool http1_is_request_start(const uint8_t *d, size_t len)
{
	size_t lim = len < START_SCAN_MAX ? len : START_SCAN_MAX;
	size_t i = 0, t;

	while (i < lim && i < METHOD_MAX && d[i] >= 'A' && d[i] <= 'Z')
		i++;
	if (i == 0 || method_lookup((const char *)d, i) == HTTP1_METHOD_OTHER)
		return false;
	if (i >= lim || d[i] != ' ')
		return false;
	t = ++i;
	while (i < lim && is_target_char(d[i]))
		i++;
	if (i == t || i >= lim || d[i] != ' ')
		return false;
	i++;
	if (lim - i < 9 || memcmp(d + i, "HTTP/1.", 7) != 0 || (d[i + 7] != '0' && d[i + 7] != '1'))
		return false;
	i += 8;
	if (d[i] == '\n')
		return true;
	return d[i] == '\r' && i + 1 < lim && d[i + 1] == '\n';
}

bool http1_is_response_start(const uint8_t *d, size_t len)
{
	size_t lim = len < START_SCAN_MAX ? len : START_SCAN_MAX;
	size_t i;

	if (lim < 13 || memcmp(d, "HTTP/1.", 7) != 0 || (d[7] != '0' && d[7] != '1') || d[8] != ' ')
		return false;
	for (i = 9; i < 12; i++)
		if (d[i] < '0' || d[i] > '9')
			return false;
	if (d[9] == '0')
		return false;
	if (d[12] != ' ' && d[12] != '\r' && d[12] != '\n')
		return false;
	return memchr(d + 12, '\n', lim - 12) != NULL;
}

static bool is_start(const struct http1 *p, const uint8_t *d, size_t len)
{
	return p->kind == HTTP1_REQUEST ? http1_is_request_start(d, len)
					 : http1_is_response_start(d, len);
}

/* A fully captured syscall that is, or ends with, the last chunk of a chunked
 * body with no trailer: "0\r\n\r\n". */
static bool ends_with_last_chunk(const uint8_t *d, size_t len)
{
	if (len == 5)
		return memcmp(d, "0\r\n\r\n", 5) == 0;
	return len >= 7 && memcmp(d + len - 7, "\r\n0\r\n\r\n", 7) == 0;
}

/* ---- events ---- */

static enum http1_ev end_message(struct http1 *p, struct http1_event *ev, uint32_t flags,
				 uint64_t ts_last)
{
	ev->type = HTTP1_EV_END;
	ev->head = &p->head;
	ev->end_flags = flags;
	ev->ts_last = ts_last;
	ev->msg_bytes = p->msg_bytes;
	p->state = S_START;
	p->unknown_chunked = false;
	p->end_maybe_lost = false;
	return HTTP1_EV_END;
}

static bool in_head(const struct http1 *p)
{
	return p->state >= S_METHOD && p->state <= S_HEAD_LF;
}

/* Malformed input at data[i]. A bad head drops the message and waits for a
 * resync point; bad chunk framing keeps the message open with unknown end. */
static enum http1_ev fail(struct http1 *p, struct http1_input *in, uint64_t i,
			  enum http1_err err, struct http1_event *ev)
{
	if (p->state >= S_CHUNK_SIZE && p->state <= S_TRAILER_LF) {
		p->state = S_UNKNOWN;
		p->unknown_chunked = true;
		if (i < in->cap_len)
			p->msg_bytes++;	/* the bad byte is still part of the message */
	} else {
		p->state = S_RESYNC;
	}
	p->lossy = true;
	in->pos = i < in->cap_len ? i + 1 : in->cap_len;
	ev->type = HTTP1_EV_ERROR;
	ev->err = err;
	return HTTP1_EV_ERROR;
}

static void begin_message(struct http1 *p, const struct http1_input *in)
{
	struct http1_head *h = &p->head;

	/* field by field: the string arrays only need their terminator */
	h->content_length = 0;
	h->flags = 0;
	h->head_len = 0;
	h->status = 0;
	h->method = 0;
	h->version = 0;
	/* a string whose length is 0 is already "": leave its line alone */
	if (h->path_len)
		h->path[0] = 0;
	if (h->tenant_len)
		h->tenant[0] = 0;
	if (h->request_id_len)
		h->request_id[0] = 0;
	if (h->traceparent_len)
		h->traceparent[0] = 0;
	if (h->host_len)
		h->host[0] = 0;
	h->path_len = 0;
	h->tenant_len = 0;
	h->request_id_len = 0;
	h->traceparent_len = 0;
	h->host_len = 0;
	h->ts_head_enter = 0;
	h->ts_head_exit = 0;
	p->head.kind = p->kind;
	p->head.ts_first_enter = in->ts_enter;
	p->head.ts_first_exit = in->ts_exit;
	if (p->lossy)
		p->head.flags |= HTTP1_F_AFTER_LOSS;
	p->lossy = false;
	p->msg_bytes = 0;
	p->remain = 0;
	p->nheaders = 0;
	p->target_len = 0;
	p->tok_len = 0;
	p->tok_total = 0;
	p->conn = 0;
	p->in_query = false;
	p->cl_seen = false;
	p->te_seen = false;
	p->te_chunked = false;
	p->upgrade_hdr = false;
	p->state = p->kind == HTTP1_REQUEST ? S_METHOD : S_RESP_VERSION;
}

/* ---- header values ---- */

/* Which known header the name t[0..n) is; t in any case. */
static uint32_t header_lookup(const struct http1 *p, const void *name, size_t n)
{
	const uint8_t *t = name;
	bool req = p->kind == HTTP1_REQUEST;

	if (req && n == p->cfg.tenant_header_len &&
	    (!p->tenant_or_safe ? eq_lower(t, n, p->cfg.tenant_header, n)
	     : n >= 8	       ? name_is(t, n, p->cfg.tenant_header)
			       : name_is_short(t, n, p->cfg.tenant_header)))
		return H_TENANT;
	switch (n) {
	case 4:
		return req && name_is_short(t, n, "host") ? H_HOST : H_UNKNOWN;
	case 6:
		return req && name_is_short(t, n, "expect") ? H_EXPECT : H_UNKNOWN;
	case 7:
		return name_is_short(t, n, "upgrade") ? H_UPGRADE : H_UNKNOWN;
	case 10:
		return name_is(t, n, "connection") ? H_CONNECTION : H_UNKNOWN;
	case 11:
		return req && name_is(t, n, "traceparent") ? H_TRACEPARENT : H_UNKNOWN;
	case 12:
		if (req)
			return name_is(t, n, "x-request-id") ? H_REQUEST_ID : H_UNKNOWN;
		return name_is(t, n, "content-type") ? H_CONTENT_TYPE : H_UNKNOWN;
	case 14:
		return name_is(t, n, "content-length") ? H_CONTENT_LENGTH : H_UNKNOWN;
	case 17:
		return name_is(t, n, "transfer-encoding") ? H_TRANSFER_ENCODING : H_UNKNOWN;
	}
	return H_UNKNOWN;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Calls fn on each comma-separated, OWS-trimmed, non-empty token of v. */
static void for_each_token(const char *v, size_t n,
			   void (*fn)(struct http1 *, const char *, size_t), struct http1 *p)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (e > s)
			fn(p, v + s, e - s);
	}
}

static void connection_token(struct http1 *p, const char *t, size_t n)
{
	if (EQ_LIT(t, n, "close"))
		p->conn |= C_CLOSE;
	else if (EQ_LIT(t, n, "keep-alive"))
		p->conn |= C_KEEP_ALIVE;
	else if (EQ_LIT(t, n, "upgrade"))
		p->conn |= C_UPGRADE;
}

static void te_token(struct http1 *p, const char *t, size_t n)
{
	p->te_chunked = EQ_LIT(t, n, "chunked");
}

static void copy_field(char *dst, size_t cap, const char *src, size_t n, uint8_t *len_out)
{
	if (n > cap)
		n = cap;
	memcpy(dst, src, n);
	dst[n] = 0;
	*len_out = (uint8_t)n;
}

/*
 * A known header's line ended: act on its value, of which v[0..kept) was
 * kept (at most VAL_MAX bytes) out of val_total, the last val_trail of
 * them OWS. The byte walk passes p->val, the whole-head parser the bytes in
 * place.
 */
static enum http1_err apply_value(struct http1 *p, const char *v, uint32_t kept,
				  uint32_t val_total, uint32_t val_trail)
{
	struct http1_head *h = &p->head;
	uint32_t n = kept, total;
	uint64_t cl = 0;
	bool bad = false;

	while (n > 0 && is_ows(v[n - 1]))
		n--;
	/* no controls but HTAB in a value we keep (RFC 9110 5.5; llhttp agrees);
	 * 8 bytes at a time while none is below 0x20 or 0x7f, then byte by byte */
	uint32_t i = 0;

	for (; i < n; i += 8) {
		uint64_t w;

		if (i + 8 > n) {
			if (n < 8)
				break;
			i = n - 8;	/* the last 8 bytes, again in part */
		}
		memcpy(&w, v + i, 8);
		if (((w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull) ||
		    (((w ^ 0x7f7f7f7f7f7f7f7full) - 0x0101010101010101ull) &
		     ~(w ^ 0x7f7f7f7f7f7f7f7full) & 0x8080808080808080ull))
			break;	/* a control, or a tab */
		if (i + 8 == n) {
			i = n;
			break;
		}
	}
	for (; i < n; i++)
		bad |= ((uint8_t)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f;
	if (bad)
		return HTTP1_ERR_HEADER;
	/* a value longer than val[] keeps its full length for the tenant check */
	total = val_total > kept ? val_total - val_trail : n;

	switch (p->hdr) {
	case H_CONTENT_LENGTH:
		if (n == 0 || total != n)
			return HTTP1_ERR_LENGTH;
		for (uint32_t i = 0; i < n; i++) {
			if (v[i] < '0' || v[i] > '9')
				return HTTP1_ERR_LENGTH;
			cl = cl * 10 + (uint64_t)(v[i] - '0');
			if (cl > LENGTH_MAX)
				return HTTP1_ERR_LENGTH;
		}
		if (p->cl_seen && cl != h->content_length)
			return HTTP1_ERR_LENGTH;
		p->cl_seen = true;
		h->content_length = cl;
		h->flags |= HTTP1_F_LENGTH;
		break;
	case H_TRANSFER_ENCODING:
		p->te_seen = true;
		p->te_chunked = false;
		if (total == n)
			for_each_token(v, n, te_token, p);
		break;
	case H_CONNECTION:
		if (EQ_LIT(v, n, "keep-alive"))	/* the usual values, without tokenizing */
			p->conn |= C_KEEP_ALIVE;
		else if (EQ_LIT(v, n, "close"))
			p->conn |= C_CLOSE;
		else
			for_each_token(v, n, connection_token, p);
		break;
	case H_UPGRADE:
		p->upgrade_hdr = p->upgrade_hdr || n > 0;
		break;
	case H_CONTENT_TYPE:
		if (n >= 17 && EQ_LIT(v, 17, "text/event-stream") &&
		    (n == 17 || v[17] == ';' || v[17] == ' ' || v[17] == '\t'))
			h->flags |= HTTP1_F_EVENT_STREAM;
		break;
	case H_EXPECT:
		if (EQ_LIT(v, n, "100-continue"))
			h->flags |= HTTP1_F_EXPECT_CONTINUE;
		break;
	case H_REQUEST_ID:
		if (!h->request_id_len)
			copy_field(h->request_id, HTTP1_REQUEST_ID_MAX, v, n, &h->request_id_len);
		break;
	case H_TRACEPARENT:
		if (!h->traceparent_len)
			copy_field(h->traceparent, HTTP1_TRACEPARENT_MAX, v, n, &h->traceparent_len);
		break;
	case H_HOST:
		if (!h->host_len)
			copy_field(h->host, HTTP1_HOST_MAX, v, n, &h->host_len);
		break;
	case H_TENANT:
		if (!(h->flags & HTTP1_F_TENANT)) {
			uint8_t kept;

			h->flags |= HTTP1_F_TENANT;
			copy_field(h->tenant, HTTP1_TENANT_MAX, v, n, &kept);
			h->tenant_len = (uint16_t)(total > UINT16_MAX ? UINT16_MAX : total);
		}
		break;
	}
	return HTTP1_ERR_NONE;
}

/* The byte walk's value, in p->val. */
static enum http1_err apply_header(struct http1 *p)
{
	return apply_value(p, p->val, p->val_len, p->val_total, p->val_trail);
}

/* absolute-form "http://host:port/p" keeps "/p"; authority-form stays. */
static void finish_path(struct http1_head *h)
{
	char *s = h->path, *slash, *sep;

	if (s[0] != '/' && s[0] != '*' && (sep = strstr(s, "://"))) {
		slash = strchr(sep + 3, '/');
		if (slash) {
			h->path_len = (uint8_t)strlen(slash);
			memmove(s, slash, h->path_len + 1);
		} else {
			strcpy(s, "/");
			h->path_len = 1;
		}
	}
}

/* Decides framing once the head is complete (or cut, when truncated). */
static void set_framing(struct http1 *p)
{
	struct http1_head *h = &p->head;

	if (h->version == 0)
		h->flags |= (p->conn & C_KEEP_ALIVE) ? 0 : HTTP1_F_CLOSE;
	else if (p->conn & C_CLOSE)
		h->flags |= HTTP1_F_CLOSE;
	if ((p->conn & C_UPGRADE) && p->upgrade_hdr)
		h->flags |= HTTP1_F_UPGRADE;
	if (p->te_seen)
		h->flags |= p->te_chunked ? HTTP1_F_CHUNKED : HTTP1_F_TE_OTHER;
}

static enum http1_ev head_done(struct http1 *p, struct http1_input *in, uint64_t i,
			       struct http1_event *ev)
{
	struct http1_head *h = &p->head;

	in->pos = i;
	p->msg_bytes = h->head_len;
	h->ts_head_enter = in->ts_enter;
	h->ts_head_exit = in->ts_exit;
	set_framing(p);
	if (p->kind == HTTP1_REQUEST) {
		if (h->flags & HTTP1_F_TE_OTHER)
			return fail(p, in, i - 1, HTTP1_ERR_TRANSFER_ENCODING, ev);
		if (h->flags & HTTP1_F_CHUNKED)
			p->state = S_CHUNK_SIZE;
		else if ((h->flags & HTTP1_F_LENGTH) && h->content_length)
			p->state = S_BODY_LENGTH;
		else
			p->state = S_BODY_NONE;
	} else {
		if ((h->status >= 100 && h->status < 200) || h->status == 204 || h->status == 304)
			p->state = S_BODY_NONE;
		else if (h->flags & HTTP1_F_CHUNKED)
			p->state = S_CHUNK_SIZE;
		else if (h->flags & HTTP1_F_TE_OTHER)
			p->state = S_UNTIL_CLOSE;
		else if (h->flags & HTTP1_F_LENGTH)
			p->state = h->content_length ? S_BODY_LENGTH : S_BODY_NONE;
		else
			p->state = S_UNTIL_CLOSE;
	}
	p->remain = p->state == S_BODY_LENGTH ? h->content_length : 0;
	p->chunk_digits = false;
	p->aux = 0;
	ev->type = HTTP1_EV_HEAD;
	ev->head = h;
	return HTTP1_EV_HEAD;
}

/* The head was cut by unseen bytes after its start line: report what was
 * seen; the message stays open with unknown framing. */
static enum http1_ev head_truncated(struct http1 *p, struct http1_input *in, bool gap,
				    struct http1_event *ev)
{
	struct http1_head *h = &p->head;

	h->flags |= HTTP1_F_TRUNCATED;
	p->msg_bytes = h->head_len;
	h->ts_head_enter = in->ts_enter;
	h->ts_head_exit = in->ts_exit;
	set_framing(p);
	p->state = S_UNKNOWN;
	p->unknown_chunked = (h->flags & HTTP1_F_CHUNKED) != 0;
	p->end_maybe_lost = gap;
	p->lossy = gap;
	ev->type = HTTP1_EV_HEAD;
	ev->head = h;
	return HTTP1_EV_HEAD;
}

static bool version_ok(struct http1 *p, enum http1_err *err)
{
	if (p->tok_len == 8 && memcmp(p->tok, "HTTP/1.", 7) == 0 &&
	    (p->tok[7] == '0' || p->tok[7] == '1')) {
		p->head.version = (uint8_t)(p->tok[7] - '0');
		return true;
	}
	*err = (p->tok_len >= 5 && memcmp(p->tok, "HTTP/", 5) == 0) ? HTTP1_ERR_VERSION
								    : HTTP1_ERR_START_LINE;
	return false;
}

/* One more byte of an "HTTP/1.x" token; false (err set) when the token is
 * already as long as a version can be: junk after a good one, or no version. */
static bool version_char(struct http1 *p, uint8_t c, enum http1_err *err)
{
	if (p->tok_len < 8) {
		p->tok[p->tok_len++] = (char)c;
		return true;
	}
	if (version_ok(p, err))
		*err = HTTP1_ERR_START_LINE;	/* junk after it */
	return false;
}

/* Bytes of head budget left. */
static uint64_t head_budget(const struct http1 *p)
{
	return p->head.head_len < p->cfg.max_head ? p->cfg.max_head - p->head.head_len : 0;
}

/* Head bytes consumed; msg_bytes catches up when the head ends. */
static void head_take(struct http1 *p, uint64_t n)
{
	p->head.head_len += (uint32_t)n;
}

/* Consumes bytes up to and including the next '\n' of d[0..n), within the
 * head budget, moving to S_HDR_START when the line ends. Returns the count. */
static uint64_t skip_line(struct http1 *p, const uint8_t *d, uint64_t n)
{
	uint64_t k = n < head_budget(p) ? n : head_budget(p);
	const uint8_t *nl = memchr(d, '\n', k);

	if (nl) {
		k = (uint64_t)(nl - d) + 1;
		p->state = S_HDR_START;
	}
	head_take(p, k);
	return k;
}

/*
 * A whole head at d[i..end), parsed at once: the request or status line,
 * then each header line found with memchr, known headers through
 * apply_header() as in the byte walk. Only plainly valid heads whose lines
 * end in CRLF (a header line may end in a bare LF, as the walk allows) and
 * that fit the limits; anything else is declined (returns 0) with nothing
 * decided, and the caller starts the message again byte by byte, which
 * reports the error or waits for more bytes. Returns the head's end offset.
 * Called right after begin_message(); fills p->head.
 */
static uint64_t fast_head(struct http1 *p, const uint8_t *d, uint64_t i, uint64_t end)
{
	struct http1_head *h = &p->head;
	const uint64_t lim = end - i < p->cfg.max_head ? end : i + p->cfg.max_head;
	const uint8_t *nl;
	uint64_t k, n, t;

	if (p->kind == HTTP1_REQUEST) {
		for (k = i; k < lim && tchar[d[k]] && k - i < METHOD_MAX; k++)
			;
		if (k == i || k >= lim || d[k] != ' ')
			return 0;
		h->method = (uint8_t)method_lookup((const char *)d + i, k - i);
		i = ++k;
		for (; k < lim && !path_end[d[k]]; k++)
			;
		n = k - i;
		if (n > HTTP1_PATH_MAX) {
			n = HTTP1_PATH_MAX;
			h->flags |= HTTP1_F_PATH_TRUNCATED;
		}
		memcpy(h->path, d + i, n);
		h->path[n] = 0;
		h->path_len = (uint8_t)n;
		for (; k < lim && is_target_char(d[k]); k++)	/* query, fragment */
			;
		if (k == i || k >= lim || d[k] != ' ')
			return 0;
		finish_path(h);
		k++;
		if (lim - k < 10 || memcmp(d + k, "HTTP/1.", 7) != 0 ||
		    (d[k + 7] != '0' && d[k + 7] != '1') || d[k + 8] != '\r' || d[k + 9] != '\n')
			return 0;
		h->version = (uint8_t)(d[k + 7] - '0');
		i = k + 10;
	} else {
		uint16_t status = 0;

		if (lim - i < 13 || memcmp(d + i, "HTTP/1.", 7) != 0 ||
		    (d[i + 7] != '0' && d[i + 7] != '1') || d[i + 8] != ' ')
			return 0;
		for (k = i + 9; k < i + 12; k++) {
			if (d[k] < '0' || d[k] > '9')
				return 0;
			status = (uint16_t)(status * 10 + (d[k] - '0'));
		}
		if (status < 100)
			return 0;
		if (d[k] == ' ') {	/* the reason phrase: any bytes */
			nl = memchr(d + k, '\n', lim - k);
			if (!nl)
				return 0;
			k = (uint64_t)(nl - d) + 1;
		} else if (d[k] == '\r' && k + 1 < lim && d[k + 1] == '\n') {
			k += 2;
		} else {
			return 0;
		}
		h->version = (uint8_t)(d[i + 7] - '0');
		h->status = status;
		i = k;
	}
	for (;;) {
		if (i >= lim)
			return 0;
		if (d[i] == '\r')
			return i + 1 < lim && d[i + 1] == '\n' ? i + 2 : 0;
		if (!tchar[d[i]] || ++p->nheaders > p->cfg.max_headers)
			return 0;
		/* the name: tchar bytes up to the colon */
		nl = memchr(d + i, ':', lim - i);
		if (!nl)
			return 0;
		k = (uint64_t)(nl - d);
		{
			uint64_t j = i + 1, w;
			uint8_t all = 1;

			for (; j + 8 <= k; j += 8) {
				memcpy(&w, d + j, 8);
				if (!alnum_dash8(w))
					break;
			}
			for (; j < k; j++)
				all &= tchar[d[j]];
			if (!all)
				return 0;
		}
		p->hdr = (uint8_t)header_lookup(p, d + i, k - i);
		k++;
		if (p->hdr != H_UNKNOWN)
			while (k < lim && (d[k] == ' ' || d[k] == '\t'))
				k++;
		nl = memchr(d + k, '\n', lim - k);
		if (!nl)
			return 0;
		i = (uint64_t)(nl - d) + 1;
		if (p->hdr == H_UNKNOWN)	/* never copied, never looked at */
			continue;
		n = (uint64_t)(nl - (d + k));
		for (t = 0; t < n && is_ows((char)d[k + n - 1 - t]); t++)
			;
		/* what the byte walk keeps (VAL_MAX bytes), trimmed already when
		 * the whole value fits: apply_value() trims the same way */
		if (apply_value(p, (const char *)d + k,
				(uint32_t)(n - t <= VAL_MAX ? n - t : VAL_MAX), (uint32_t)n,
				(uint32_t)t) != HTTP1_ERR_NONE)
			return 0;
	}
}

/* Walks captured bytes in->data[in->pos..cap_len) to the next event. */
static enum http1_ev step_seen(struct http1 *p, struct http1_input *in, struct http1_event *ev)
{
	const uint8_t *d = in->data;
	const uint64_t end = in->cap_len;
	uint64_t i = in->pos;
	enum http1_err err;
	const uint8_t *nl;
	uint64_t k, lim;
	uint8_t c;

	/* resync points are the first bytes of a syscall, nowhere else */
	if (i == 0 && (p->state == S_RESYNC || p->state == S_UNKNOWN)) {
		if (is_start(p, d, end)) {
			if (p->state == S_UNKNOWN) {
				uint32_t f = HTTP1_END_APPROX;
				uint64_t ts = p->prev_ts_exit;

				if (p->end_maybe_lost) {
					f |= HTTP1_END_IN_GAP;
					ts = in->ts_enter;
				}
				return end_message(p, ev, f, ts);
			}
			p->state = S_START;
		} else if (p->state == S_UNKNOWN && p->unknown_chunked && end == in->bytes &&
			   ends_with_last_chunk(d, end)) {
			uint32_t f = HTTP1_END_APPROX | (p->end_maybe_lost ? HTTP1_END_IN_GAP : 0);

			in->pos = end;
			p->msg_bytes += end;
			return end_message(p, ev, f, in->ts_exit);
		}
	}

	while (i < end) {
		if (in_head(p) && head_budget(p) == 0)
			return fail(p, in, i, HTTP1_ERR_HEAD_TOO_LARGE, ev);
		c = d[i];
		switch (p->state) {
		case S_RESYNC:
		case S_STOPPED:
			in->pos = end;
			return HTTP1_EV_NONE;
		case S_UNKNOWN:
		case S_UNTIL_CLOSE:
			p->msg_bytes += end - i;
			in->pos = end;
			return HTTP1_EV_NONE;
		case S_START:
			if (c == '\r' || c == '\n') {
				i++;
				break;
			}
			if (!p->cfg.bytewise) {
				bool lossy = p->lossy;

				begin_message(p, in);
				k = fast_head(p, d, i, end);
				if (k) {
					head_take(p, k - i);
					return head_done(p, in, k, ev);
				}
				p->lossy = lossy;	/* declined: from the start, byte by byte */
			}
			begin_message(p, in);
			break;
		case S_METHOD:
			k = i;
			lim = i + head_budget(p) < end ? i + head_budget(p) : end;
			{
				uint32_t tl = p->tok_len;

				while (k < lim && tchar[d[k]] && tl < METHOD_MAX)
					p->tok[tl++] = (char)d[k++];
				p->tok_len = tl;
			}
			head_take(p, k - i);
			i = k;
			if (i == end || i == lim)
				break;
			if (d[i] != ' ' || p->tok_len == 0)
				return fail(p, in, i, HTTP1_ERR_START_LINE, ev);
			p->head.method = (uint8_t)method_lookup(p->tok, p->tok_len);
			p->state = S_TARGET;
			head_take(p, 1);
			i++;
			break;
		case S_TARGET:
			k = i;
			lim = i + head_budget(p) < end ? i + head_budget(p) : end;
			if (!p->in_query) {
				struct http1_head *h = &p->head;

				while (k < lim && is_target_char(d[k]) && d[k] != '?' && d[k] != '#') {
					if (h->path_len < HTTP1_PATH_MAX)
						h->path[h->path_len++] = (char)d[k];
					else
						h->flags |= HTTP1_F_PATH_TRUNCATED;
					k++;
				}
				if (k < lim && (d[k] == '?' || d[k] == '#')) {
					p->in_query = true;
					k++;
				}
			}
			if (p->in_query)
				while (k < lim && is_target_char(d[k]))
					k++;
			p->target_len += (uint32_t)(k - i);
			head_take(p, k - i);
			i = k;
			if (i == end || i == lim)
				break;
			if (d[i] != ' ' || p->target_len == 0)
				return fail(p, in, i, HTTP1_ERR_START_LINE, ev);
			p->head.path[p->head.path_len] = 0;
			finish_path(&p->head);
			p->tok_len = 0;
			p->state = S_REQ_VERSION;
			head_take(p, 1);
			i++;
			/* the usual case in one step */
			if (end - i >= 10 && head_budget(p) >= 10 && memcmp(d + i, "HTTP/1.", 7) == 0 &&
			    (d[i + 7] == '1' || d[i + 7] == '0') && d[i + 8] == '\r' && d[i + 9] == '\n') {
				p->head.version = (uint8_t)(d[i + 7] - '0');
				p->state = S_HDR_START;
				head_take(p, 10);
				i += 10;
			}
			break;
		case S_REQ_VERSION:
			if (c == '\r' || c == '\n') {
				if (!version_ok(p, &err))
					return fail(p, in, i, err, ev);
				p->state = c == '\r' ? S_LINE_LF : S_HDR_START;
			} else if (!version_char(p, c, &err)) {
				return fail(p, in, i, err, ev);
			}
			head_take(p, 1);
			i++;
			break;
		case S_RESP_VERSION:
			if (p->tok_len == 0 && end - i >= 9 && head_budget(p) >= 9 &&
			    memcmp(d + i, "HTTP/1.", 7) == 0 && (d[i + 7] == '1' || d[i + 7] == '0') &&
			    d[i + 8] == ' ') {
				p->head.version = (uint8_t)(d[i + 7] - '0');
				p->state = S_STATUS;
				head_take(p, 9);
				i += 9;
				break;
			}
			if (c == ' ') {
				if (!version_ok(p, &err))
					return fail(p, in, i, err, ev);
				p->tok_len = 0;
				p->state = S_STATUS;
			} else if (!version_char(p, c, &err)) {
				return fail(p, in, i, err, ev);
			}
			head_take(p, 1);
			i++;
			break;
		case S_STATUS:
			if (c >= '0' && c <= '9' && p->tok_len < 3) {
				p->head.status = (uint16_t)(p->head.status * 10 + (c - '0'));
				p->tok_len++;
			} else if (p->tok_len == 3 && p->head.status >= 100 &&
				   (c == ' ' || c == '\r' || c == '\n')) {
				p->state = c == ' ' ? S_REASON : c == '\r' ? S_LINE_LF : S_HDR_START;
			} else {
				return fail(p, in, i, HTTP1_ERR_START_LINE, ev);
			}
			head_take(p, 1);
			i++;
			break;
		case S_REASON:
			i += skip_line(p, d + i, end - i);
			break;
		case S_LINE_LF:
			if (c != '\n')
				return fail(p, in, i, HTTP1_ERR_START_LINE, ev);
			p->state = S_HDR_START;
			head_take(p, 1);
			i++;
			break;
		case S_HDR_START:
			if (c == '\r') {
				if (i + 1 < end && d[i + 1] == '\n' && head_budget(p) >= 2) {
					head_take(p, 2);
					return head_done(p, in, i + 2, ev);
				}
				p->state = S_HEAD_LF;
				head_take(p, 1);
				i++;
			} else if (c == '\n') {
				head_take(p, 1);
				return head_done(p, in, i + 1, ev);
			} else if (tchar[c]) {
				if (++p->nheaders > p->cfg.max_headers)
					return fail(p, in, i, HTTP1_ERR_TOO_MANY_HEADERS, ev);
				p->tok_len = 0;
				p->tok_total = 0;
				p->state = S_HDR_NAME;
			} else {
				return fail(p, in, i, HTTP1_ERR_HEADER, ev);
			}
			break;
		case S_HDR_NAME:
			k = i;
			lim = i + head_budget(p) < end ? i + head_budget(p) : end;
			while (k < lim && tchar[d[k]])
				k++;
			if (p->tok_total == 0 && k < lim && d[k] == ':') {
				/* the whole name is here: compare in place */
				p->hdr = (uint8_t)header_lookup(p, d + i, k - i);
			} else {
				/* the name goes on in the next syscall: keep its start */
				uint64_t m = k - i;

				if (m > TOK_MAX - p->tok_len)
					m = TOK_MAX - p->tok_len;
				memcpy(p->tok + p->tok_len, d + i, m);
				p->tok_len += (uint32_t)m;
				p->tok_total += (uint32_t)(k - i);
				if (k == lim || d[k] != ':') {
					head_take(p, k - i);
					i = k;
					if (i == end || i == lim)
						break;
					return fail(p, in, i, HTTP1_ERR_HEADER, ev);
				}
				p->hdr = p->tok_total == p->tok_len
						 ? (uint8_t)header_lookup(p, p->tok, p->tok_len)
						 : H_UNKNOWN;
			}
			head_take(p, k + 1 - i);
			i = k + 1;
			p->val_len = 0;
			p->val_total = 0;
			p->val_trail = 0;
			p->state = p->hdr == H_UNKNOWN ? S_HDR_SKIP : S_HDR_OWS;
			break;
		case S_HDR_OWS:
			if (c == ' ' || c == '\t') {
				head_take(p, 1);
				i++;
			} else {
				p->state = S_HDR_VALUE;
			}
			break;
		case S_HDR_VALUE:
			k = end - i < head_budget(p) ? end - i : head_budget(p);
			nl = memchr(d + i, '\n', k);
			if (nl)
				k = (uint64_t)(nl - (d + i));
			if (p->val_len < VAL_MAX) {
				uint64_t m = VAL_MAX - p->val_len < k ? VAL_MAX - p->val_len : k;

				memcpy(p->val + p->val_len, d + i, m);
				p->val_len += (uint32_t)m;
			}
			p->val_total = p->val_total + k > UINT32_MAX ? UINT32_MAX
								    : p->val_total + (uint32_t)k;
			{
				uint64_t t = 0;

				while (t < k && is_ows((char)d[i + k - 1 - t]))
					t++;
				p->val_trail = t == k ? p->val_trail + (uint32_t)t : (uint32_t)t;
			}
			head_take(p, k);
			i += k;
			if (nl) {
				err = apply_header(p);
				if (err != HTTP1_ERR_NONE)
					return fail(p, in, i, err, ev);
				head_take(p, 1);
				i++;
				p->state = S_HDR_START;
			}
			break;
		case S_HDR_SKIP:
			i += skip_line(p, d + i, end - i);
			break;
		case S_HEAD_LF:
			if (c != '\n')
				return fail(p, in, i, HTTP1_ERR_HEADER, ev);
			head_take(p, 1);
			return head_done(p, in, i + 1, ev);
		case S_BODY_NONE:
			in->pos = i;
			return end_message(p, ev, 0, p->head.ts_head_exit);
		case S_BODY_LENGTH:
			k = end - i < p->remain ? end - i : p->remain;
			p->remain -= k;
			p->msg_bytes += k;
			i += k;
			if (p->remain == 0) {
				in->pos = i;
				return end_message(p, ev, 0, in->ts_exit);
			}
			break;
		case S_CHUNK_SIZE:
			if (hexval(c) >= 0) {
				if (p->remain >= CHUNK_SIZE_MAX)
					return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
				p->remain = p->remain * 16 + (uint64_t)hexval(c);
				p->chunk_digits = true;
			} else if (!p->chunk_digits) {
				return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
			} else if (c == ';' || c == ' ' || c == '\t') {
				p->aux = 0;
				p->state = S_CHUNK_EXT;
			} else if (c == '\r') {
				p->state = S_CHUNK_SIZE_LF;
			} else if (c == '\n') {
				p->state = p->remain ? S_CHUNK_DATA : S_TRAILER_START;
				p->aux = 0;
			} else {
				return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
			}
			p->msg_bytes++;
			i++;
			break;
		case S_CHUNK_EXT:
			k = end - i < CHUNK_EXT_MAX - p->aux ? end - i : CHUNK_EXT_MAX - p->aux;
			if (k == 0)
				return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
			nl = memchr(d + i, '\n', k);
			if (nl) {
				k = (uint64_t)(nl - (d + i)) + 1;
				p->state = p->remain ? S_CHUNK_DATA : S_TRAILER_START;
				p->aux = 0;
			} else {
				p->aux += (uint32_t)k;
			}
			p->msg_bytes += k;
			i += k;
			break;
		case S_CHUNK_SIZE_LF:
			if (c != '\n')
				return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
			p->state = p->remain ? S_CHUNK_DATA : S_TRAILER_START;
			p->aux = 0;
			p->msg_bytes++;
			i++;
			break;
		case S_CHUNK_DATA:
			k = end - i < p->remain ? end - i : p->remain;
			p->remain -= k;
			p->msg_bytes += k;
			i += k;
			if (p->remain == 0)
				p->state = S_CHUNK_DATA_CR;
			break;
		case S_CHUNK_DATA_CR:
		case S_CHUNK_DATA_LF:
			if (c == '\r' && p->state == S_CHUNK_DATA_CR) {
				p->state = S_CHUNK_DATA_LF;
			} else if (c == '\n') {
				p->state = S_CHUNK_SIZE;
				p->remain = 0;
				p->chunk_digits = false;
			} else {
				return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
			}
			p->msg_bytes++;
			i++;
			break;
		case S_TRAILER_START:
			p->msg_bytes++;
			i++;
			if (c == '\r') {
				p->state = S_TRAILER_LF;
			} else if (c == '\n') {
				in->pos = i;
				return end_message(p, ev, 0, in->ts_exit);
			} else {
				p->state = S_TRAILER_LINE;
				p->aux++;
			}
			break;
		case S_TRAILER_LINE:
			if (p->aux >= p->cfg.max_head)
				return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
			k = end - i < p->cfg.max_head - p->aux ? end - i : p->cfg.max_head - p->aux;
			nl = memchr(d + i, '\n', k);
			if (nl) {
				k = (uint64_t)(nl - (d + i)) + 1;
				p->state = S_TRAILER_START;
			}
			p->aux += (uint32_t)k;
			p->msg_bytes += k;
			i += k;
			break;
		case S_TRAILER_LF:
			if (c != '\n')
				return fail(p, in, i, HTTP1_ERR_CHUNK, ev);
			in->pos = i + 1;
			p->msg_bytes++;
			return end_message(p, ev, 0, in->ts_exit);
		}
	}
	in->pos = i;
	return HTTP1_EV_NONE;
}

/* Consumes n unseen bytes: the gap first, then what lies beyond cap_len. */
static void take_unseen(struct http1_input *in, bool gap, uint64_t n)
{
	if (gap)
		in->gap_left -= n;
	else
		in->pos += n;
}

/* Unseen bytes at the cursor: the rest of the gap, or the uncaptured tail. */
static enum http1_ev step_unseen(struct http1 *p, struct http1_input *in, struct http1_event *ev)
{
	bool gap = in->gap_left > 0;
	bool unknown = in->gap_left == HTTP1_GAP_UNKNOWN;
	uint64_t n = gap ? in->gap_left : in->bytes - in->pos;
	uint64_t k;

	/* an unknown amount cannot be skipped exactly: the framing is lost */
	if (unknown && p->state >= S_BODY_LENGTH && p->state <= S_TRAILER_LF) {
		p->unknown_chunked = p->state != S_BODY_LENGTH;
		p->state = S_UNKNOWN;
	}
	switch (p->state) {
	case S_RESYNC:
	case S_STOPPED:
		take_unseen(in, gap, n);
		return HTTP1_EV_NONE;
	case S_START:
		take_unseen(in, gap, n);
		p->state = S_RESYNC;
		p->lossy = true;
		ev->type = HTTP1_EV_LOST;
		ev->in_gap = gap;
		return HTTP1_EV_LOST;
	case S_BODY_NONE:
		return end_message(p, ev, 0, p->head.ts_head_exit);
	case S_BODY_LENGTH:
	case S_CHUNK_DATA:
		k = n < p->remain ? n : p->remain;
		take_unseen(in, gap, k);
		p->remain -= k;
		p->msg_bytes += k;
		if (p->remain)
			return HTTP1_EV_NONE;
		if (p->state == S_CHUNK_DATA) {
			p->state = S_CHUNK_DATA_CR;
			return HTTP1_EV_NONE;
		}
		return end_message(p, ev, gap ? HTTP1_END_IN_GAP : 0,
				   gap ? in->ts_enter : in->ts_exit);
	case S_CHUNK_DATA_CR:
		/* the CRLF after chunk data is known to be there */
		take_unseen(in, gap, 1);
		p->msg_bytes++;
		p->state = S_CHUNK_DATA_LF;
		return HTTP1_EV_NONE;
	case S_CHUNK_DATA_LF:
		take_unseen(in, gap, 1);
		p->msg_bytes++;
		p->state = S_CHUNK_SIZE;
		p->remain = 0;
		p->chunk_digits = false;
		return HTTP1_EV_NONE;
	case S_CHUNK_SIZE:
	case S_CHUNK_EXT:
	case S_CHUNK_SIZE_LF:
	case S_TRAILER_START:
	case S_TRAILER_LINE:
	case S_TRAILER_LF:
		p->state = S_UNKNOWN;
		p->unknown_chunked = true;
		/* fall through */
	case S_UNKNOWN:
	case S_UNTIL_CLOSE:
		take_unseen(in, gap, n);
		if (!unknown)
			p->msg_bytes += n;
		if (gap && p->state == S_UNKNOWN) {
			p->end_maybe_lost = true;
			p->lossy = true;
		}
		return HTTP1_EV_NONE;
	default: /* a head state */
		if (p->state >= S_HDR_START && p->state <= S_HEAD_LF)
			return head_truncated(p, in, gap, ev);
		take_unseen(in, gap, n);
		p->state = S_RESYNC;
		p->lossy = true;
		ev->type = HTTP1_EV_LOST;
		ev->in_gap = gap;
		return HTTP1_EV_LOST;
	}
}

enum http1_ev http1__next(struct http1 *p, struct http1_input *in, struct http1_event *ev)
{
	enum http1_ev r = HTTP1_EV_NONE;

	memset(ev, 0, sizeof(*ev));
	if (!in->started) {
		in->started = true;
		if (in->bytes) {	/* a gap-only input moved nothing in this direction */
			p->prev_ts_exit = p->cur_ts_exit;
			p->cur_ts_exit = in->ts_exit;
		}
	}
	/* Each round consumes bytes or moves to a state that does; the cap is a
	 * guard against a bug turning into a hang, not a limit ever reached. */
	for (int round = 0; round < 64 && r == HTTP1_EV_NONE; round++) {
		if (p->state == S_BODY_NONE)
			return ev->type = end_message(p, ev, 0, p->head.ts_head_exit);
		if (in->gap_left > 0 || (in->pos >= in->cap_len && in->pos < in->bytes))
			r = step_unseen(p, in, ev);
		else if (in->pos < in->cap_len)
			r = step_seen(p, in, ev);
		else
			break;
	}
	ev->type = r;
	return r;
}

void http1__set_no_body(struct http1 *p)
{
	if (p->state == S_BODY_LENGTH || p->state == S_CHUNK_SIZE || p->state == S_UNTIL_CLOSE ||
	    p->state == S_BODY_NONE)
		p->state = S_BODY_NONE;
}

bool http1__force_end(struct http1 *p, struct http1_event *ev)
{
	uint32_t f = HTTP1_END_APPROX;

	memset(ev, 0, sizeof(*ev));
	if (p->state != S_UNKNOWN)
		return false;
	if (p->end_maybe_lost)
		f |= HTTP1_END_IN_GAP;
	end_message(p, ev, f, p->cur_ts_exit);
	p->state = S_RESYNC;
	return true;
}

bool http1__close(struct http1 *p, struct http1_event *ev)
{
	uint32_t f = HTTP1_END_AT_CLOSE;
	uint8_t s = p->state;

	memset(ev, 0, sizeof(*ev));
	p->state = S_STOPPED;
	switch (s) {
	case S_BODY_NONE:
		end_message(p, ev, 0, p->head.ts_head_exit);
		break;
	case S_UNTIL_CLOSE:
		end_message(p, ev, f, p->cur_ts_exit);
		break;
	case S_UNKNOWN:
		f |= HTTP1_END_APPROX | (p->end_maybe_lost ? HTTP1_END_IN_GAP : 0);
		end_message(p, ev, f, p->cur_ts_exit);
		break;
	case S_BODY_LENGTH:
	case S_CHUNK_SIZE:
	case S_CHUNK_EXT:
	case S_CHUNK_SIZE_LF:
	case S_CHUNK_DATA:
	case S_CHUNK_DATA_CR:
	case S_CHUNK_DATA_LF:
	case S_TRAILER_START:
	case S_TRAILER_LINE:
	case S_TRAILER_LF:
		end_message(p, ev, f | HTTP1_END_INCOMPLETE, p->cur_ts_exit);
		break;
	default:
		return false;
	}
	p->state = S_STOPPED;
	return true;
}

int http1_parse_head(const uint8_t *data, size_t len, enum http1_kind kind,
		     const struct http1_config *cfg, struct http1_head *head, enum http1_err *err)
{
	struct http1 p;
	struct http1_input in;
	struct http1_event ev;
	enum http1_ev r;

	*err = HTTP1_ERR_NONE;
	if (kind != HTTP1_REQUEST && kind != HTTP1_RESPONSE) {
		*err = HTTP1_ERR_START_LINE;
		return HTTP1_MALFORMED;
	}
	memset(&p, 0, sizeof(p));
	config_fix(&p.cfg, cfg);
	p.tenant_or_safe = or_safe(p.cfg.tenant_header, p.cfg.tenant_header_len);
	init_state(&p, kind, true);
	http1_input_init(&in, data, len, len, 0, 0, 0);
	r = http1__next(&p, &in, &ev);
	if (r == HTTP1_EV_HEAD) {
		*head = p.head;
		return (int)in.pos;
	}
	if (r == HTTP1_EV_ERROR) {
		*err = ev.err;
		return HTTP1_MALFORMED;
	}
	return HTTP1_PARTIAL;
}
