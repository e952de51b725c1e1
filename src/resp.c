// SPDX-License-Identifier: Apache-2.0
/*
 * resp.c - incremental RESP2/RESP3 parser (see resp.h for the contract).
 *
 * A byte-level state machine with an explicit stack of open aggregates, so a
 * frame may be split at any byte and no recursion depends on the input.
 * Header lines are scanned with memchr and bulk bodies are copied or skipped
 * in one step, so the work is linear in the bytes fed. Only the first
 * RESP_MAX_ITEMS items of a frame and the first str_cap bytes of each string
 * are kept; everything else is counted and dropped.
 *
 *   *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n   -> items: [* len 3 d0] [$ "SET" d1] [$ "k" d1] [$ "v" d1]
 *   ^type ^line          ^body ^CRLF
 *
 * Tricky: attributes (`|`) are not values: they precede the value they
 * annotate, their content is parsed but not kept, and closing one does not
 * complete an element of the parent.
 */
#include <string.h>
#include <strings.h>

#include "resp.h"

enum {
	S_TYPE = 0,	/* expecting a type byte (frame boundary when depth == 0) */
	S_LINE,		/* inside a header or simple line, until \r */
	S_LINE_LF,	/* got \r, expecting \n */
	S_BODY,		/* inside a bulk body */
	S_BODY_CR,	/* body done, expecting \r */
	S_BODY_LF,	/* expecting \n */
	S_INLINE,	/* inline command line, until \n */
	S_ERROR,	/* protocol error or limit: sticky until reset */
	S_LOST,		/* skipped bytes covered a header: sticky until reset or cut */
};

#define CONTINUE 2	/* internal: element done, frame goes on */

void resp_parser__init(struct resp_parser *p, enum resp_mode mode, uint32_t str_cap)
{
	memset(p, 0, sizeof(*p));
	p->mode = (uint8_t)mode;
	p->str_cap = str_cap ? str_cap : RESP_STR_CAP;
	if (p->str_cap > RESP_ARENA)
		p->str_cap = RESP_ARENA;
	p->cur = -1;
}

void resp_parser__reset(struct resp_parser *p)
{
	p->state = S_TYPE;
	p->depth = 0;
	p->in_attr = 0;
	p->in_stream = 0;
	p->in_arg = 0;
	p->in_frame = 0;
	p->cur = -1;
	p->line_len = 0;
	p->bulk_left = 0;
	p->hdr_len = 0;
	p->frame.nitems = 0;
	p->frame.arena_used = 0;
	p->frame.flags = 0;
	p->frame.nbytes = 0;
}

bool resp_parser__at_boundary(const struct resp_parser *p)
{
	return p->state == S_TYPE && !p->in_frame;
}

bool resp_type_is_agg(uint8_t t)
{
	return t == '*' || t == '%' || t == '~' || t == '>' || t == '|';
}

static bool is_reply_type(uint8_t b)
{
	return strchr("+-:$*_,#!=(%~|>.", b) != NULL && b != '\0';
}

static bool is_line_data_type(uint8_t t)
{
	return t == '+' || t == '-' || t == ',' || t == '(';
}

static int32_t item_new(struct resp_parser *p, uint8_t type, uint8_t depth)
{
	struct resp_frame *f = &p->frame;
	struct resp_item *it;

	if (p->in_attr)
		return -1;
	if (f->nitems >= RESP_MAX_ITEMS) {
		f->flags |= RESP_FF_ITEMS;
		return -1;
	}
	it = &f->items[f->nitems];
	memset(it, 0, sizeof(*it));
	it->type = type;
	it->depth = depth;
	it->off = f->arena_used;
	return (int32_t)f->nitems++;
}

static struct resp_item *cur_item(struct resp_parser *p)
{
	return p->cur >= 0 ? &p->frame.items[p->cur] : NULL;
}

/* Append string bytes to the current item, within its cap and the arena. */
static void item_append(struct resp_parser *p, const uint8_t *d, size_t n)
{
	struct resp_frame *f = &p->frame;
	struct resp_item *it = cur_item(p);
	size_t room, k;

	if (!it || n == 0)
		return;
	room = it->kept < p->str_cap ? p->str_cap - it->kept : 0;
	if (room > RESP_ARENA - f->arena_used)
		room = RESP_ARENA - f->arena_used;
	/* Strings are appended only by the newest item, so the arena stays contiguous. */
	if (it->off + it->kept != f->arena_used)
		room = 0;
	k = n < room ? n : room;
	if (k) {
		memcpy(f->arena + f->arena_used, d, k);
		it->kept += (uint32_t)k;
		f->arena_used += (uint32_t)k;
	}
	if (k < n)
		it->flags |= RESP_IF_PART;
}

/* Strict decimal int64: optional '-', 1..19 digits, no overflow. */
static bool parse_i64(const char *s, size_t n, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0;
	size_t i = 0;

	if (n && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i >= n || n - i > 19)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* An element (leaf or aggregate) completed: close the aggregates it fills. */
static int elem_done(struct resp_parser *p)
{
	p->cur = -1;
	p->state = S_TYPE;
	for (int guard = 0; guard <= RESP_MAX_DEPTH; guard++) {
		struct resp_level *l;

		if (p->depth == 0) {
			p->frames++;
			p->in_frame = 0;
			return RESP_FRAME;
		}
		l = &p->stack[p->depth - 1];
		if (l->left < 0) {	/* streamed: counts down from -1 */
			l->left--;
			return CONTINUE;
		}
		if (--l->left > 0)
			return CONTINUE;
		p->depth--;
		if (l->type == '|') {
			/* An attribute annotates the next value: not an element itself. */
			p->in_attr--;
			return CONTINUE;
		}
	}
	return RESP_ERR_PROTO;	/* unreachable: depth is bounded */
}

static int fail(struct resp_parser *p, int err)
{
	p->state = S_ERROR;
	p->errors++;
	return err;
}

/* A header or simple line completed (CRLF consumed). */
static int line_done(struct resp_parser *p)
{
	struct resp_item *it = cur_item(p);
	const char *h = p->hdr;
	size_t hn = p->hdr_len;
	int64_t n = 0;
	bool streamed = hn == 1 && h[0] == '?';
	bool numeric_ok = p->line_len == hn && parse_i64(h, hn, &n);

	switch (p->type) {
	case '+':
	case '-':
	case '(':
	case ',':
		if (it)
			it->len = (int64_t)p->line_len;
		return elem_done(p);
	case ':':
		if (!numeric_ok)
			return fail(p, RESP_ERR_PROTO);
		if (it)
			it->ival = n;
		return elem_done(p);
	case '_':
		if (p->line_len)
			return fail(p, RESP_ERR_PROTO);
		if (it) {
			it->flags |= RESP_IF_NULL;
			it->len = -1;
		}
		return elem_done(p);
	case '#':
		if (p->line_len != 1 || (h[0] != 't' && h[0] != 'f'))
			return fail(p, RESP_ERR_PROTO);
		if (it)
			it->ival = h[0] == 't';
		return elem_done(p);
	case '$':
	case '!':
	case '=':
		if (streamed && p->type == '$' && p->mode == RESP_MODE_REPLIES) {
			if (it)
				it->flags |= RESP_IF_STREAM;
			p->in_stream = 1;
			p->state = S_TYPE;
			return CONTINUE;
		}
		if (!numeric_ok)
			return fail(p, RESP_ERR_PROTO);
		if (n == -1 && p->type == '$' && p->mode == RESP_MODE_REPLIES) {
			if (it) {
				it->flags |= RESP_IF_NULL;
				it->len = -1;
			}
			return elem_done(p);
		}
		if (n < 0)
			return fail(p, RESP_ERR_PROTO);
		if (n > RESP_MAX_BULK)
			return fail(p, RESP_ERR_LIMIT);
		if (it)
			it->len = n;
		p->bulk_left = n;
		p->state = n ? S_BODY : S_BODY_CR;
		return CONTINUE;
	case ';':
		if (!numeric_ok || n < 0)
			return fail(p, RESP_ERR_PROTO);
		if (n > RESP_MAX_BULK)
			return fail(p, RESP_ERR_LIMIT);
		if (n == 0) {
			p->in_stream = 0;
			/* The streamed string's item is the newest one, if kept. */
			if (p->frame.nitems && !p->in_attr) {
				struct resp_item *s = &p->frame.items[p->frame.nitems - 1];

				if (s->type == '$' && (s->flags & RESP_IF_STREAM))
					p->cur = (int32_t)(p->frame.nitems - 1);
			}
			return elem_done(p);
		}
		if (p->frame.nitems && !p->in_attr) {
			struct resp_item *s = &p->frame.items[p->frame.nitems - 1];

			if (s->type == '$' && (s->flags & RESP_IF_STREAM)) {
				p->cur = (int32_t)(p->frame.nitems - 1);
				s->len += n;
				if (s->len > RESP_MAX_BULK)
					return fail(p, RESP_ERR_LIMIT);
			}
		}
		p->bulk_left = n;
		p->state = S_BODY;
		return CONTINUE;
	case '.': {
		struct resp_level *l = &p->stack[p->depth - 1];

		if (p->line_len)
			return fail(p, RESP_ERR_PROTO);
		if (l->item >= 0)
			p->frame.items[l->item].len = -l->left - 1;
		p->depth--;
		return elem_done(p);
	}
	default: {	/* aggregates */
		int64_t elems, max = p->mode == RESP_MODE_COMMANDS ? RESP_MAX_ARGS : RESP_MAX_AGG;
		struct resp_level *l;

		if (streamed && p->type != '|' && p->mode == RESP_MODE_REPLIES) {
			elems = -1;
		} else {
			if (!numeric_ok)
				return fail(p, RESP_ERR_PROTO);
			if (n == -1 && p->type == '*' && p->mode == RESP_MODE_REPLIES) {
				if (it) {
					it->flags |= RESP_IF_NULL;
					it->len = -1;
				}
				return elem_done(p);
			}
			if (n < 0)
				return fail(p, RESP_ERR_PROTO);
			if (n > max)
				return fail(p, RESP_ERR_LIMIT);
			elems = (p->type == '%' || p->type == '|') ? 2 * n : n;
		}
		if (it) {
			it->len = elems < 0 ? 0 : elems;
			if (elems < 0)
				it->flags |= RESP_IF_STREAM;
		}
		if (elems == 0) {
			if (p->type == '|') {
				p->state = S_TYPE;
				return CONTINUE;
			}
			return elem_done(p);
		}
		if (p->depth >= RESP_MAX_DEPTH)
			return fail(p, RESP_ERR_LIMIT);
		l = &p->stack[p->depth++];
		l->left = elems;
		l->type = p->type;
		l->item = p->cur;
		if (p->type == '|')
			p->in_attr++;
		if (p->type == '>' && p->depth == 1)
			p->frame.flags |= RESP_FF_PUSH;
		p->cur = -1;
		p->state = S_TYPE;
		return CONTINUE;
	}
	}
}

/* A bulk body and its CRLF were consumed. */
static int body_done(struct resp_parser *p)
{
	if (p->in_stream) {
		p->cur = -1;
		p->state = S_TYPE;	/* next chunk header ';' */
		return CONTINUE;
	}
	return elem_done(p);
}

static void frame_begin(struct resp_parser *p)
{
	if (p->in_frame)
		return;	/* an attribute came first: same frame */
	p->in_frame = 1;
	p->frame.nitems = 0;
	p->frame.arena_used = 0;
	p->frame.flags = 0;
	p->frame.nbytes = 0;
}

/* Type byte. Returns CONTINUE or an error. */
static int on_type(struct resp_parser *p, uint8_t b)
{
	bool top = p->depth == 0 && !p->in_stream;

	if (p->in_stream) {
		if (b != ';')
			return fail(p, RESP_ERR_PROTO);
	} else if (p->mode == RESP_MODE_COMMANDS) {
		if (top && b != '*')
			return fail(p, RESP_ERR_PROTO);	/* inline handled by the caller */
		if (!top && b != '$')
			return fail(p, RESP_ERR_PROTO);
	} else {
		if (!is_reply_type(b) || b == ';')
			return fail(p, RESP_ERR_PROTO);
		if (b == '.' && (p->depth == 0 || p->stack[p->depth - 1].left >= 0))
			return fail(p, RESP_ERR_PROTO);
	}
	if (top)
		frame_begin(p);
	p->type = b;
	p->cur = (b == '|' || b == ';' || b == '.') ? -1 : item_new(p, b, p->depth);
	p->line_len = 0;
	p->hdr_len = 0;
	p->state = S_LINE;
	return CONTINUE;
}

static int inline_byte(struct resp_parser *p, uint8_t b)
{
	struct resp_frame *f = &p->frame;

	if (++p->line_len > RESP_MAX_LINE)
		return fail(p, RESP_ERR_LIMIT);
	if (b == '\n') {
		p->state = S_TYPE;
		p->cur = -1;
		p->in_frame = 0;
		if (f->nitems == 0 || f->items[0].len == 0)
			return CONTINUE;	/* blank line: redis ignores it */
		p->frames++;
		return RESP_FRAME;
	}
	if (b == ' ' || b == '\t' || b == '\r') {
		p->in_arg = 0;
		return CONTINUE;
	}
	if (!p->in_arg) {
		p->in_arg = 1;
		if (f->nitems)
			f->items[0].len++;
		p->cur = item_new(p, '$', 1);
	}
	if (p->cur >= 0)
		f->items[p->cur].len++;
	item_append(p, &b, 1);
	return CONTINUE;
}

enum resp_status resp_parser__feed(struct resp_parser *p, const uint8_t *data, size_t len,
				   size_t *used)
{
	size_t i = 0;
	int r = CONTINUE;

	while (i < len) {
		size_t start = i;
		uint8_t b = data[i];

		switch (p->state) {
		case S_ERROR:
		case S_LOST:
			*used = i;
			return p->state == S_LOST ? RESP_ERR_LOST : RESP_ERR_PROTO;
		case S_TYPE:
			i++;
			if (p->mode == RESP_MODE_COMMANDS && p->depth == 0 && b != '*') {
				/* Inline commands start with a letter (or are blank lines). */
				if (!((b | 0x20) >= 'a' && (b | 0x20) <= 'z') && b != '\r' &&
				    b != '\n' && b != ' ' && b != '\t') {
					r = fail(p, RESP_ERR_PROTO);
					break;
				}
				frame_begin(p);
				p->frame.flags |= RESP_FF_INLINE;
				p->cur = item_new(p, '*', 0);
				p->in_arg = 0;
				p->line_len = 0;
				p->state = S_INLINE;
				r = inline_byte(p, b);
			} else {
				r = on_type(p, b);
			}
			break;
		case S_LINE: {
			const uint8_t *cr = memchr(data + i, '\r', len - i);
			size_t n = cr ? (size_t)(cr - (data + i)) : len - i;
			size_t room = sizeof(p->hdr) - 1 - p->hdr_len;
			size_t k = n < room ? n : room;

			p->line_len += n;
			if (p->line_len > RESP_MAX_LINE) {
				r = fail(p, RESP_ERR_LIMIT);
				break;
			}
			memcpy(p->hdr + p->hdr_len, data + i, k);
			p->hdr_len += (uint8_t)k;
			if (is_line_data_type(p->type))
				item_append(p, data + i, n);
			i += n;
			if (cr) {
				i++;
				p->state = S_LINE_LF;
			}
			r = CONTINUE;
			break;
		}
		case S_LINE_LF:
			i++;
			r = b == '\n' ? line_done(p) : fail(p, RESP_ERR_PROTO);
			break;
		case S_BODY: {
			size_t n = len - i;

			if ((uint64_t)n > (uint64_t)p->bulk_left)
				n = (size_t)p->bulk_left;
			item_append(p, data + i, n);
			p->bulk_left -= (int64_t)n;
			i += n;
			if (p->bulk_left == 0)
				p->state = S_BODY_CR;
			r = CONTINUE;
			break;
		}
		case S_BODY_CR:
			i++;
			if (b == '\r')
				p->state = S_BODY_LF;
			else
				r = fail(p, RESP_ERR_PROTO);
			break;
		case S_BODY_LF:
			i++;
			r = b == '\n' ? body_done(p) : fail(p, RESP_ERR_PROTO);
			break;
		case S_INLINE:
			i++;
			r = inline_byte(p, b);
			break;
		default:
			r = fail(p, RESP_ERR_PROTO);
			break;
		}
		p->frame.nbytes += i - start;
		if (r == RESP_FRAME) {
			*used = i;
			return RESP_FRAME;
		}
		if (r < 0) {
			*used = i;
			return (enum resp_status)r;
		}
	}
	*used = i;
	return RESP_NEED_MORE;
}

enum resp_status resp_parser__skip(struct resp_parser *p, uint64_t n, uint64_t *used)
{
	uint64_t u = 0;
	int r;

	while (u < n) {
		switch (p->state) {
		case S_BODY: {
			uint64_t k = n - u;
			struct resp_item *it = cur_item(p);

			if (k > (uint64_t)p->bulk_left)
				k = (uint64_t)p->bulk_left;
			p->bulk_left -= (int64_t)k;
			u += k;
			p->frame.nbytes += k;
			p->frame.flags |= RESP_FF_LOST;
			if (it)
				it->flags |= RESP_IF_LOST | RESP_IF_PART;
			if (p->bulk_left == 0)
				p->state = S_BODY_CR;
			break;
		}
		case S_BODY_CR:
			/* Assumed CRLF: a body's terminator is fixed, nothing is lost. */
			u++;
			p->frame.nbytes++;
			p->state = S_BODY_LF;
			break;
		case S_BODY_LF:
			u++;
			p->frame.nbytes++;
			r = body_done(p);
			if (r == RESP_FRAME) {
				*used = u;
				return RESP_FRAME;
			}
			break;
		case S_ERROR:
			*used = u;
			return RESP_ERR_PROTO;
		default:
			p->state = S_LOST;
			if (p->in_frame)
				p->frame.flags |= RESP_FF_LOST;
			*used = u;
			return RESP_ERR_LOST;
		}
	}
	*used = u;
	return RESP_NEED_MORE;
}

bool resp_parser__cut(struct resp_parser *p)
{
	bool had = p->in_frame && p->state != S_ERROR;

	if (p->state == S_ERROR)
		return false;
	if (had)
		p->frame.flags |= RESP_FF_CUT;
	p->in_frame = 0;
	p->state = S_TYPE;
	p->depth = 0;
	p->in_attr = 0;
	p->in_stream = 0;
	p->in_arg = 0;
	p->cur = -1;
	return had;
}

static bool is_digits(const uint8_t *d, size_t len, size_t from, size_t max_digits, bool allow_q)
{
	size_t i = from, nd = 0;

	if (i < len && allow_q && d[i] == '?')
		return i + 1 >= len || d[i + 1] == '\r';
	if (i < len && d[i] == '-')
		i++;
	for (; i < len && d[i] != '\r'; i++, nd++)
		if (d[i] < '0' || d[i] > '9' || nd >= max_digits)
			return false;
	return i >= len || nd > 0;
}

bool resp_looks_like_start(enum resp_mode mode, const uint8_t *d, size_t len)
{
	if (len == 0)
		return false;
	if (mode == RESP_MODE_COMMANDS) {
		size_t i = 1;

		/* Only multibulk: clients (ioredis, node-redis) never send inline. */
		if (d[0] != '*')
			return false;
		if (len > 1 && d[1] == '-')
			return false;
		if (!is_digits(d, len, 1, 7, false))
			return false;
		while (i < len && d[i] != '\r')
			i++;
		/* *N\r\n$ */
		if (i + 1 < len && d[i + 1] != '\n')
			return false;
		if (i + 2 < len && d[i + 2] != '$')
			return false;
		return true;
	}
	switch (d[0]) {
	case '+':
	case '-':
		return len < 2 || (d[1] >= 0x20 && d[1] < 0x7f);
	case ':':
	case '$':
	case '*':
	case '%':
	case '~':
	case '>':
	case '|':
	case '!':
	case '=':
		return is_digits(d, len, 1, 19, true);
	case '_':
		return len < 2 || d[1] == '\r';
	case '#':
		return len < 2 || d[1] == 't' || d[1] == 'f';
	case ',':
	case '(':
		return len < 2 || d[1] == '-' || (d[1] >= '0' && d[1] <= '9') || d[1] == 'i' ||
		       d[1] == 'n';
	default:
		return false;
	}
}

/* ---- views ---- */

bool resp_view_top(const struct resp_frame *f, struct resp_view *v)
{
	v->f = f;
	v->first = 0;
	v->end = f->nitems;
	return f->nitems > 0;
}

const struct resp_item *resp_view_item(const struct resp_view *v)
{
	if (!v->f || v->first >= v->end)
		return NULL;
	return &v->f->items[v->first];
}

bool resp_view_child(const struct resp_view *v, uint32_t idx, struct resp_view *out)
{
	const struct resp_item *root = resp_view_item(v);
	uint32_t i, k = 0;
	uint8_t d;

	if (!root || !resp_type_is_agg(root->type) || (int64_t)idx >= root->len)
		return false;
	d = root->depth + 1;
	for (i = v->first + 1; i < v->end; i++) {
		const struct resp_item *it = &v->f->items[i];

		if (it->depth < d)
			break;
		if (it->depth != d)
			continue;
		if (k == idx) {
			uint32_t j = i + 1;

			while (j < v->end && v->f->items[j].depth > d)
				j++;
			out->f = v->f;
			out->first = i;
			out->end = j;
			return true;
		}
		k++;
	}
	return false;
}

const uint8_t *resp_item_data(const struct resp_frame *f, const struct resp_item *it, size_t *len)
{
	*len = it->kept;
	return f->arena + it->off;
}

static bool is_complete_str(const struct resp_item *it)
{
	return (it->type == '$' || it->type == '+' || it->type == '=' || it->type == '-' ||
		it->type == '!' || it->type == '(' || it->type == ',') &&
	       !(it->flags & (RESP_IF_NULL | RESP_IF_PART)) && it->len == (int64_t)it->kept;
}

bool resp_item_eq(const struct resp_frame *f, const struct resp_item *it, const char *s)
{
	size_t n = strlen(s);

	return it && is_complete_str(it) && it->kept == n && memcmp(f->arena + it->off, s, n) == 0;
}

bool resp_item_eq_nocase(const struct resp_frame *f, const struct resp_item *it, const char *s)
{
	size_t n = strlen(s);

	return it && is_complete_str(it) && it->kept == n &&
	       strncasecmp((const char *)f->arena + it->off, s, n) == 0;
}

bool resp_item_int(const struct resp_frame *f, const struct resp_item *it, int64_t *out)
{
	if (!it)
		return false;
	if (it->type == ':') {
		*out = it->ival;
		return true;
	}
	if (!is_complete_str(it) || it->type == '-' || it->type == '!')
		return false;
	return parse_i64((const char *)f->arena + it->off, it->kept, out);
}

size_t resp_item_copy(const struct resp_frame *f, const struct resp_item *it, char *buf,
		      size_t size)
{
	size_t n;

	if (!size)
		return 0;
	n = it ? it->kept : 0;
	if (n > size - 1)
		n = size - 1;
	if (n)
		memcpy(buf, f->arena + it->off, n);
	buf[n] = '\0';
	return n;
}
