/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resp.h - incremental RESP2/RESP3 parser for both directions of a Redis
 * connection, built for a passive observer.
 *
 * Bytes go in as they were captured, split anywhere; the parser stops at the
 * end of every top-level frame and hands back a compact summary of it: a flat,
 * pre-order list of items (type, depth, length, integer value, and the first
 * `str_cap` bytes of each string) in a fixed arena. Nothing is allocated and
 * nothing beyond those prefixes is kept, so a 300 KB job payload costs the
 * same memory as "+OK".
 *
 * The tricky part is the observer's view of the stream: bytes can be missing.
 * resp_parser__skip() consumes bytes that moved on the wire but were not
 * captured; that works while they fall inside a bulk string body, and reports
 * RESP_ERR_LOST as soon as they would cover a header. resp_parser__cut() then
 * closes the partial frame (flagged RESP_FF_CUT) so the caller can decide.
 *
 * Every length from the wire is bounded (RESP_MAX_*): hostile input gives a
 * named error, never unbounded memory or work beyond the bytes fed.
 */
#ifndef SBA_RESP_H
#define SBA_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_MAX_DEPTH	32		/* nesting of aggregates */
#define RESP_MAX_ITEMS	96		/* items summarised per frame; the rest only parsed */
#define RESP_ARENA	4096		/* string prefix bytes kept per frame */
#define RESP_STR_CAP	128		/* default prefix kept per string */
#define RESP_MAX_AGG	(1LL << 24)	/* elements of one aggregate */
#define RESP_MAX_BULK	(512LL << 20)	/* bytes of one bulk string (redis proto-max-bulk-len) */
#define RESP_MAX_LINE	65536		/* simple string, error, inline command line */
#define RESP_MAX_ARGS	(1LL << 20)	/* arguments of one command (multibulk) */

/* Item types are the RESP type bytes themselves. */
enum resp_type {
	RESP_T_SIMPLE = '+',
	RESP_T_ERROR = '-',
	RESP_T_INT = ':',
	RESP_T_BULK = '$',
	RESP_T_ARRAY = '*',
	RESP_T_NULL = '_',
	RESP_T_DOUBLE = ',',
	RESP_T_BOOL = '#',
	RESP_T_BLOB_ERROR = '!',
	RESP_T_VERBATIM = '=',
	RESP_T_BIGNUM = '(',
	RESP_T_MAP = '%',
	RESP_T_SET = '~',
	RESP_T_ATTR = '|',
	RESP_T_PUSH = '>',
};

/* What the parser returns. */
enum resp_status {
	RESP_NEED_MORE = 0,	/* all input used, the frame is not complete yet */
	RESP_FRAME = 1,		/* a top-level frame completed; read it, then feed the rest */
	RESP_ERR_PROTO = -1,	/* bytes are not RESP (or not a command in command mode) */
	RESP_ERR_LIMIT = -2,	/* a length, the nesting or a line is beyond RESP_MAX_* */
	RESP_ERR_LOST = -3,	/* skipped bytes would cover a header: sync lost */
};

enum resp_mode {
	RESP_MODE_REPLIES = 0,	/* server -> client: any RESP2/RESP3 value */
	RESP_MODE_COMMANDS = 1,	/* client -> server: arrays of bulk strings, or inline */
};

/* resp_item.flags */
#define RESP_IF_NULL	0x1	/* $-1, *-1, _ */
#define RESP_IF_PART	0x2	/* string longer than what was kept (prefix only) */
#define RESP_IF_LOST	0x4	/* some of its bytes were skipped (not captured) */
#define RESP_IF_STREAM	0x8	/* streamed string or aggregate (RESP3 `?` length) */

struct resp_item {
	uint8_t type;		/* enum resp_type */
	uint8_t depth;		/* 0 = the frame itself */
	uint16_t flags;		/* RESP_IF_* */
	uint32_t off;		/* kept prefix: arena[off, off + kept) */
	uint32_t kept;
	uint32_t __pad;
	int64_t len;		/* strings: full byte length; aggregates: elements (maps 2 per pair); -1 null */
	int64_t ival;		/* ':' value, '#' 1/0 */
};

/* resp_frame.flags */
#define RESP_FF_PUSH	0x1	/* a top-level `>` push (out-of-band, not a reply) */
#define RESP_FF_INLINE	0x2	/* an inline command */
#define RESP_FF_ITEMS	0x4	/* more items than RESP_MAX_ITEMS: the list is a prefix */
#define RESP_FF_CUT	0x8	/* closed by resp_parser__cut(): the tail is missing */
#define RESP_FF_LOST	0x10	/* some bytes were skipped (not captured) */

struct resp_frame {
	uint32_t nitems;
	uint32_t arena_used;
	uint32_t flags;		/* RESP_FF_* */
	uint32_t __pad;
	uint64_t nbytes;	/* wire bytes of the frame, skipped ones included */
	struct resp_item items[RESP_MAX_ITEMS];
	uint8_t arena[RESP_ARENA];
};

struct resp_level {
	int64_t left;		/* elements still expected; streamed: -1 - elements seen */
	int32_t item;		/* its item, -1 if not kept */
	uint8_t type;
	uint8_t __pad[3];
};

struct resp_parser {
	uint8_t mode;		/* enum resp_mode */
	uint8_t state;
	uint8_t depth;		/* open aggregates */
	uint8_t type;		/* type byte of the current line or bulk */
	uint8_t in_attr;	/* open attribute levels: their content is not kept */
	uint8_t in_stream;	/* inside a streamed string ($?) */
	uint8_t hdr_len;
	uint8_t in_arg;		/* inline: inside an argument */
	uint8_t in_frame;	/* a frame has begun and not ended */
	uint8_t __pad[3];
	int32_t cur;		/* item being filled, -1 none */
	uint32_t str_cap;
	uint64_t line_len;
	int64_t bulk_left;
	char hdr[32];		/* start of the current line, for numbers */
	struct resp_level stack[RESP_MAX_DEPTH];
	/* Statistics, never reset by resp_parser__reset(). */
	uint64_t frames;
	uint64_t errors;
	struct resp_frame frame;	/* the frame in progress or just completed */
};

/* Prepare a parser. str_cap = prefix bytes kept per string (0 = RESP_STR_CAP). */
void resp_parser__init(struct resp_parser *p, enum resp_mode mode, uint32_t str_cap);

/* Forget any partial frame and errors; the next byte must start a frame. */
void resp_parser__reset(struct resp_parser *p);

/*
 * Parse up to len bytes. *used is set to the bytes consumed. On RESP_FRAME the
 * frame is p->frame (valid until the next feed/skip/cut/reset) and the caller
 * feeds the remaining bytes again. On an error the parser stays in error until
 * resp_parser__reset(); *used tells where it stopped.
 */
enum resp_status resp_parser__feed(struct resp_parser *p, const uint8_t *data, size_t len,
				   size_t *used);

/*
 * Account for n bytes that moved on the wire but were not captured, at the
 * current position. Same return contract as feed (RESP_FRAME: a frame ended
 * inside them, *used says where), plus RESP_ERR_LOST when they would cover a
 * header or start a new frame: the parser is then out of sync.
 */
enum resp_status resp_parser__skip(struct resp_parser *p, uint64_t n, uint64_t *used);

/* True when no frame is in progress (the next byte starts a new frame). */
bool resp_parser__at_boundary(const struct resp_parser *p);

/*
 * Close the frame in progress as it is (RESP_FF_CUT) and go back to a frame
 * boundary. Returns true if there was a frame to close: it is in p->frame.
 */
bool resp_parser__cut(struct resp_parser *p);

/* True if data[0..len) plausibly starts a frame in this mode (for resync;
 * commands: multibulk only, inline is too easy to find in the middle of data). */
bool resp_looks_like_start(enum resp_mode mode, const uint8_t *data, size_t len);

/*
 * Views: a subtree of a frame, items [first, end). Views point into the frame
 * and are valid as long as it is.
 */
struct resp_view {
	const struct resp_frame *f;
	uint32_t first;
	uint32_t end;
};

/* The whole frame. False if it has no items. */
bool resp_view_top(const struct resp_frame *f, struct resp_view *v);
/* The root item of a view (NULL for an empty view). */
const struct resp_item *resp_view_item(const struct resp_view *v);
/* Child idx (0-based) of the view's root aggregate; false if absent or not kept. */
bool resp_view_child(const struct resp_view *v, uint32_t idx, struct resp_view *out);
/* Kept bytes of an item's string; *len = kept bytes (may be < item->len). */
const uint8_t *resp_item_data(const struct resp_frame *f, const struct resp_item *it,
			      size_t *len);
/* The item is a complete string equal to s (case-sensitive). */
bool resp_item_eq(const struct resp_frame *f, const struct resp_item *it, const char *s);
/* Same, ASCII case-insensitive. */
bool resp_item_eq_nocase(const struct resp_frame *f, const struct resp_item *it, const char *s);
/* An integer: ':' or a complete decimal string ("42", "-7"). */
bool resp_item_int(const struct resp_frame *f, const struct resp_item *it, int64_t *out);
/* Copy the kept string into buf as a C string (truncated to size-1); returns its length. */
size_t resp_item_copy(const struct resp_frame *f, const struct resp_item *it, char *buf,
		      size_t size);
/* True for aggregate types (* % ~ > |). */
bool resp_type_is_agg(uint8_t type);

#endif /* SBA_RESP_H */
