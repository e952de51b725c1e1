// SPDX-License-Identifier: Apache-2.0
/*
 * expo.c - Prometheus text 0.0.4 / OpenMetrics 1.0 writer (see expo.h).
 *
 * The one thing that matters for speed: a scrape can hold tens of thousands
 * of histogram series, so each series is composed with plain pointer writes
 * into a scratch area sized up front (labels escaped once per series, bucket
 * bounds formatted once per bounds array), then appended to the output in
 * one call. No printf on the hot path except for doubles that are not a
 * whole number of nanoseconds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "expo.h"

#define EXEMPLAR_MAX_BYTES 128	/* OpenMetrics: label names + values <= 128 UTF-8 chars */

/* ---- small writers: p is a cursor into memory already sized for the write ---- */

static inline char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

static inline char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int i = 20;

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put(p, tmp + i, (size_t)(20 - i));
}

size_t expo_format_double(char dst[32], double v)
{
	char *p = dst;
	int n;

	if (isnan(v))
		return (size_t)(put(dst, "NaN", 3) - dst);
	if (isinf(v))
		return (size_t)(put(dst, v > 0 ? "+Inf" : "-Inf", 4) - dst);
	if (v == 0)
		return (size_t)(put(dst, "0", 1) - dst);
	/* Whole numbers, and whole numbers of nanoseconds (latency sums): exact
	 * decimal without printf. 9e6 s keeps v * 1e9 below 2^53. */
	if (fabs(v) < 9e15 && v == (double)(int64_t)v) {
		if (v < 0)
			*p++ = '-';
		p = put_u64(p, (uint64_t)fabs(v));
		return (size_t)(p - dst);
	}
	if (fabs(v) < 9e6) {
		int64_t ns = llround(v * 1e9);

		if ((double)ns / 1e9 == v) {
			uint64_t a = ns < 0 ? (uint64_t)-ns : (uint64_t)ns, frac = a % 1000000000;
			char f[9];
			int len = 9;

			if (ns < 0)
				*p++ = '-';
			p = put_u64(p, a / 1000000000);
			*p++ = '.';
			for (int i = 8; i >= 0; i--, frac /= 10)
				f[i] = (char)('0' + frac % 10);
			while (len > 1 && f[len - 1] == '0')
				len--;
			p = put(p, f, (size_t)len);
			return (size_t)(p - dst);
		}
	}
	/* Whole milliseconds (Unix timestamps of exemplars): 9e12 s keeps
	 * v * 1e3 below 2^53. */
	if (fabs(v) < 9e12) {
		int64_t ms = llround(v * 1e3);

		if ((double)ms / 1e3 == v) {
			uint64_t a = ms < 0 ? (uint64_t)-ms : (uint64_t)ms, frac = a % 1000;
			char f[3] = { (char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
				      (char)('0' + frac % 10) };
			int len = 3;

			if (ms < 0)
				*p++ = '-';
			p = put_u64(p, a / 1000);
			*p++ = '.';
			while (len > 1 && f[len - 1] == '0')
				len--;
			p = put(p, f, (size_t)len);
			return (size_t)(p - dst);
		}
	}
	n = snprintf(dst, 32, "%.15g", v);
	if (strtod(dst, NULL) != v)
		n = snprintf(dst, 32, "%.17g", v);
	return (size_t)n;
}

/* ---- names, labels, escaping ---- */

static bool is_metric_name(const char *s, size_t n)
{
	if (!n || n > EXPO_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static bool is_label_name(const char *s, size_t *len)
{
	size_t i;

	if (!s || (s[0] == '_' && s[1] == '_'))
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
		      (i && c >= '0' && c <= '9')))
			return false;
	}
	*len = i;
	return i > 0 && i <= EXPO_NAME_MAX;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* Writes s escaped for a label value (quote = true) or a HELP text; at most
 * 3 bytes per input byte. */
static char *put_escaped(char *p, const char *s, size_t n, bool quote)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t run = i;

		/* the common case: printable ASCII without \ and " */
		while (run < n && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '\\' && u[run] != '"')
			run++;
		p = put(p, s + i, run - i);
		i = run;
		if (i == n)
			break;
		if (u[i] == '\\') {
			p = put(p, "\\\\", 2), i++;
		} else if (u[i] == '"') {
			p = quote ? put(p, "\\\"", 2) : put(p, "\"", 1), i++;
		} else if (u[i] == '\n') {
			p = put(p, "\\n", 2), i++;
		} else {
			size_t k = utf8_seq(u + i, n - i);

			if (k) {
				p = put(p, s + i, k), i += k;
			} else {
				p = put(p, "\xef\xbf\xbd", 3), i++;	/* U+FFFD */
			}
		}
	}
	return p;
}

/* Bytes needed for a label block; 0 with *ok false when a name is invalid. */
static size_t labels_bound(const struct expo_label *l, unsigned int n, bool *ok)
{
	size_t need = 0, len;

	*ok = true;
	for (unsigned int i = 0; i < n; i++) {
		if (!is_label_name(l[i].name, &len) || !l[i].value) {
			*ok = false;
			return 0;
		}
		need += len + 4 + 3 * strlen(l[i].value);
	}
	return need;
}

/* k1="v1",k2="v2" (no braces) */
static char *put_labels(char *p, const struct expo_label *l, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		p = put(p, l[i].name, strlen(l[i].name));
		p = put(p, "=\"", 2);
		p = put_escaped(p, l[i].value, strlen(l[i].value), true);
		*p++ = '"';
	}
	return p;
}

static bool reserve(struct expo *e, size_t need)
{
	size_t cap;
	char *s;

	if (need <= e->scratch_cap)
		return true;
	cap = e->scratch_cap ? e->scratch_cap : 4096;
	while (cap < need)
		cap *= 2;
	s = realloc(e->scratch, cap);
	if (!s) {
		e->scratch_oom = true;
		e->out->oom = true;
		return false;
	}
	e->scratch = s;
	e->scratch_cap = cap;
	return true;
}

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- the writer ---- */

void expo_init(struct expo *e, struct buf *out, enum expo_format fmt, const char *only_prefix)
{
	memset(e, 0, sizeof(*e));
	e->out = out;
	e->fmt = fmt;
	e->only_prefix = only_prefix;
}

int expo_family(struct expo *e, const char *name, enum expo_type type, const char *help)
{
	static const char *const types[] = { "counter", "gauge", "histogram", "summary" };
	size_t n = name ? strlen(name) : 0, hlen = help ? strlen(help) : 0;
	const char *tname;
	uint64_t h;
	char *p;

	e->active = false;
	if (type == EXPO_COUNTER && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	if (!is_metric_name(name, n) || type > EXPO_SUMMARY) {
		e->skipped++;
		return -EINVAL;
	}
	if (e->only_prefix && strncmp(name, e->only_prefix, strlen(e->only_prefix)))
		return 1;
	h = fnv1a(name, n);
	for (unsigned int i = 0; i < e->n_fam; i++) {
		if (e->fam_hash[i] == h) {
			e->skipped++;
			return -EEXIST;
		}
	}
	if (e->n_fam < EXPO_MAX_FAMILIES)
		e->fam_hash[e->n_fam++] = h;

	memcpy(e->name, name, n);
	e->name_len = n;
	e->name[n] = 0;
	e->type = type;
	e->active = true;

	/* The family's name on its metadata lines: text 0.0.4 names a counter
	 * by its sample name; OpenMetrics by the family name. */
	if (!reserve(e, 2 * (n + 32) + 3 * hlen))
		return -ENOMEM;
	tname = types[type];
	p = e->scratch;
	p = put(p, "# HELP ", 7);
	p = put(p, name, n);
	if (type == EXPO_COUNTER && e->fmt == EXPO_FMT_TEXT)
		p = put(p, "_total", 6);
	*p++ = ' ';
	p = put_escaped(p, help ? help : "", hlen, e->fmt == EXPO_FMT_OPENMETRICS);
	p = put(p, "\n# TYPE ", 8);
	p = put(p, name, n);
	if (type == EXPO_COUNTER && e->fmt == EXPO_FMT_TEXT)
		p = put(p, "_total", 6);
	*p++ = ' ';
	p = put(p, tname, strlen(tname));
	*p++ = '\n';
	buf_append(e->out, e->scratch, (size_t)(p - e->scratch));
	return 0;
}

/* name + suffix + {labels[,extra]} */
static char *put_series_name(struct expo *e, char *p, const char *suffix, size_t slen,
			     const char *lbl, size_t lbl_len, bool more)
{
	p = put(p, e->name, e->name_len);
	p = put(p, suffix, slen);
	if (lbl_len || more) {
		*p++ = '{';
		p = put(p, lbl, lbl_len);
		if (lbl_len && more)
			*p++ = ',';
		else if (!more)
			*p++ = '}';
	}
	return p;
}

static void simple_sample(struct expo *e, const struct expo_label *labels, unsigned int n,
			  enum expo_type want, const char *val, size_t vlen)
{
	size_t lbound;
	bool ok;
	char *p, *lbl;
	size_t lbl_len;

	if (!e->active || e->type != want)
		return;
	lbound = labels_bound(labels, n, &ok);
	if (!ok) {
		e->skipped++;
		return;
	}
	if (!reserve(e, 2 * lbound + e->name_len + 16 + vlen))
		return;
	lbl = e->scratch;
	lbl_len = (size_t)(put_labels(lbl, labels, n) - lbl);
	p = lbl + lbl_len;
	p = put_series_name(e, p, want == EXPO_COUNTER ? "_total" : "",
			    want == EXPO_COUNTER ? 6 : 0, lbl, lbl_len, false);
	*p++ = ' ';
	p = put(p, val, vlen);
	*p++ = '\n';
	buf_append(e->out, lbl + lbl_len, (size_t)(p - lbl - lbl_len));
	e->series++;
}

void expo_counter(struct expo *e, const struct expo_label *labels, unsigned int n, uint64_t value)
{
	char v[24];
	size_t len = (size_t)(put_u64(v, value) - v);

	simple_sample(e, labels, n, EXPO_COUNTER, v, len);
}

void expo_counter_double(struct expo *e, const struct expo_label *labels, unsigned int n,
			 double value)
{
	char v[32];
	size_t len = expo_format_double(v, value);

	simple_sample(e, labels, n, EXPO_COUNTER, v, len);
}

void expo_gauge(struct expo *e, const struct expo_label *labels, unsigned int n, double value)
{
	char v[32];
	size_t len = expo_format_double(v, value);

	simple_sample(e, labels, n, EXPO_GAUGE, v, len);
}

void expo_quantile(struct expo *e, const struct expo_label *labels, unsigned int n,
		   const char *q, double value)
{
	struct expo_label l[EXPO_MAX_LABELS + 1];
	char v[32];
	size_t len = expo_format_double(v, value);

	if (n > EXPO_MAX_LABELS)
		return;
	memcpy(l, labels, n * sizeof(*l));
	l[n] = (struct expo_label){ "quantile", q };
	simple_sample(e, l, n + 1, EXPO_SUMMARY, v, len);
}

/* Formats the bucket bounds once, each as `<le>"} `; false if they are not
 * finite and increasing. */
static bool prepare_bounds(struct expo *e, const double *bounds, unsigned int n_bounds)
{
	if (e->le_bounds == bounds && e->le_n == n_bounds && bounds)
		return true;
	e->le_bounds = NULL;
	if (n_bounds > EXPO_MAX_BUCKETS || (n_bounds && !bounds))
		return false;
	for (unsigned int i = 0; i < n_bounds; i++) {
		char *s = e->le_str[i];
		size_t len;

		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			return false;
		len = expo_format_double(s, bounds[i]);
		/* OpenMetrics canonical numbers: "1.0", not "1". */
		if (e->fmt == EXPO_FMT_OPENMETRICS && !memchr(s, '.', len) && !memchr(s, 'e', len))
			len = (size_t)(put(s + len, ".0", 2) - s);
		len = (size_t)(put(s + len, "\"} ", 3) - s);	/* 31 + 5 fits in 40 */
		e->le_len[i] = (uint8_t)len;
	}
	e->le_bounds = bounds;
	e->le_n = n_bounds;
	return true;
}

/* Bytes of " # {labels} value ts", or 0 when ex is absent or too big. */
static size_t exemplar_bound(const struct expo_exemplar *ex)
{
	size_t raw = 0, len;

	if (!ex || (ex->n_labels && !ex->labels))
		return 0;
	for (unsigned int i = 0; i < ex->n_labels; i++) {
		if (!is_label_name(ex->labels[i].name, &len) || !ex->labels[i].value)
			return 0;
		raw += len + strlen(ex->labels[i].value);
	}
	if (raw > EXEMPLAR_MAX_BYTES)
		return 0;
	return 4 + 3 * raw + 4 * ex->n_labels + 2 + 32 + 1 + 32;
}

static char *put_exemplar(char *p, const struct expo_exemplar *ex)
{
	char num[32];

	p = put(p, " # {", 4);
	p = put_labels(p, ex->labels, ex->n_labels);
	p = put(p, "} ", 2);
	p = put(p, num, expo_format_double(num, ex->value));
	if (ex->ts > 0) {
		*p++ = ' ';
		p = put(p, num, expo_format_double(num, ex->ts));
	}
	return p;
}

/*
 * Room for n more bytes (and a NUL) at the end of b, or NULL with b->oom set.
 * The same contract as buf.c's appends (max caps the size, oom is sticky);
 * it exists so that a histogram is composed in place, without a copy.
 */
static char *out_reserve(struct buf *b, size_t n)
{
	size_t cap;
	char *d;

	if (b->oom)
		return NULL;
	if (n > (size_t)-1 / 4 - b->len || (b->max && b->len + n > b->max)) {
		b->oom = true;
		return NULL;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	return b->data + b->len;
}

void expo_histogram(struct expo *e, const struct expo_label *labels, unsigned int n,
		    const struct expo_hist *h)
{
	bool om = e->fmt == EXPO_FMT_OPENMETRICS, ok;
	size_t lbound, pre_len, need, exb[EXPO_MAX_BUCKETS + 1];
	uint64_t cum = 0;
	char num[32], *p, *start, *pre, *lbl;
	unsigned int nb;

	if (!e->active || e->type != EXPO_HISTOGRAM)
		return;
	lbound = labels_bound(labels, n, &ok);
	if (!ok || !h || !h->counts || !prepare_bounds(e, h->bounds, h->n_bounds)) {
		e->skipped++;
		return;
	}
	nb = h->n_bounds;
	for (unsigned int i = 0; i < n; i++) {
		if (!strcmp(labels[i].name, "le")) {
			e->skipped++;
			return;
		}
	}
	for (unsigned int i = 1; h->cumulative && i <= nb; i++) {
		if (h->counts[i] < h->counts[i - 1]) {
			e->skipped++;
			return;
		}
	}
	/* scratch: the label block, then `name_bucket{labels,le="` */
	if (!reserve(e, 2 * lbound + e->name_len + 16))
		return;
	lbl = e->scratch;
	p = put_labels(lbl, labels, n);
	pre = p;
	p = put_series_name(e, p, "_bucket", 7, lbl, (size_t)(pre - lbl), true);
	p = put(p, "le=\"", 4);
	pre_len = (size_t)(p - pre);

	/* each line: prefix, `<le>"} `, the count, an exemplar, \n; + _sum, _count */
	need = (nb + 1) * (pre_len + 40 + 21) + 2 * (e->name_len + 8 + lbound + 34);
	for (unsigned int i = 0; i <= nb; i++) {
		exb[i] = om && h->ex ? exemplar_bound(h->ex[i]) : 0;
		need += exb[i];
	}
	start = p = out_reserve(e->out, need);
	if (!p)
		return;
	for (unsigned int i = 0; i <= nb; i++) {
		cum = h->cumulative ? h->counts[i] : cum + h->counts[i];
		p = put(p, pre, pre_len);
		if (i < nb)
			p = put(p, e->le_str[i], e->le_len[i]);
		else
			p = put(p, "+Inf\"} ", 7);
		p = put_u64(p, cum);
		if (exb[i])
			p = put_exemplar(p, h->ex[i]);
		*p++ = '\n';
	}
	p = put_series_name(e, p, "_sum", 4, lbl, (size_t)(pre - lbl), false);
	*p++ = ' ';
	p = put(p, num, expo_format_double(num, h->sum));
	*p++ = '\n';
	p = put_series_name(e, p, "_count", 6, lbl, (size_t)(pre - lbl), false);
	*p++ = ' ';
	p = put_u64(p, cum);
	*p++ = '\n';
	e->out->len += (size_t)(p - start);
	e->series++;
}

int expo_finish(struct expo *e)
{
	if (e->fmt == EXPO_FMT_OPENMETRICS)
		buf_puts(e->out, "# EOF\n");
	free(e->scratch);
	e->scratch = NULL;
	e->scratch_cap = 0;
	e->active = false;
	return e->out->oom || e->scratch_oom ? -ENOMEM : 0;
}

/* ---- HTTP negotiation ---- */

/* Walks "a;p=v;q=0.5, b" one element at a time. */
struct hdr_elem {
	const char *type;
	size_t type_len;
	const char *params;	/* from the first ';' to the end of the element */
	size_t params_len;
};

static const char *next_elem(const char *s, struct hdr_elem *el)
{
	const char *end, *semi;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (!*s)
		return NULL;
	end = s + strcspn(s, ",");
	semi = memchr(s, ';', (size_t)(end - s));
	el->type = s;
	el->type_len = (size_t)((semi ? semi : end) - s);
	while (el->type_len && (s[el->type_len - 1] == ' ' || s[el->type_len - 1] == '\t'))
		el->type_len--;
	el->params = semi ? semi : end;
	el->params_len = (size_t)(end - el->params);
	return end;
}

/* Value of parameter key in ";k=v;k2=v2" (quotes stripped), into out. */
static bool get_param(const struct hdr_elem *el, const char *key, char *out, size_t outsz)
{
	const char *p = el->params, *end = el->params + el->params_len;
	size_t klen = strlen(key);

	while (p < end) {
		const char *semi, *eq, *v, *ve;

		if (*p == ';')
			p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		semi = memchr(p, ';', (size_t)(end - p));
		if (!semi)
			semi = end;
		eq = memchr(p, '=', (size_t)(semi - p));
		if (eq && (size_t)(eq - p) == klen && !strncasecmp(p, key, klen)) {
			v = eq + 1;
			ve = semi;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (ve - v >= 2 && *v == '"' && ve[-1] == '"')
				v++, ve--;
			if ((size_t)(ve - v) >= outsz)
				return false;
			memcpy(out, v, (size_t)(ve - v));
			out[ve - v] = 0;
			return true;
		}
		p = semi;
	}
	return false;
}

static double elem_q(const struct hdr_elem *el)
{
	char v[16];
	char *end;
	double q;

	if (!get_param(el, "q", v, sizeof(v)))
		return 1.0;
	q = strtod(v, &end);
	if (end == v || *end || !(q >= 0) || q > 1)
		return 0;
	return q;
}

static bool type_is(const struct hdr_elem *el, const char *t)
{
	return el->type_len == strlen(t) && !strncasecmp(el->type, t, el->type_len);
}

enum expo_format expo_negotiate(const char *accept)
{
	double q_om = -1, q_text = -1;
	struct hdr_elem el;
	char ver[16];

	if (!accept)
		return EXPO_FMT_TEXT;
	for (const char *s = accept; (s = next_elem(s, &el));) {
		double q = elem_q(&el);

		if (type_is(&el, "application/openmetrics-text")) {
			if (!get_param(&el, "version", ver, sizeof(ver)) || !strcmp(ver, "1.0.0"))
				q_om = q > q_om ? q : q_om;
		} else if (type_is(&el, "text/plain") || type_is(&el, "text/*") ||
			   type_is(&el, "*/*")) {
			q_text = q > q_text ? q : q_text;
		}
	}
	return q_om > 0 && q_om >= q_text ? EXPO_FMT_OPENMETRICS : EXPO_FMT_TEXT;
}

const char *expo_content_type(enum expo_format fmt)
{
	return fmt == EXPO_FMT_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
					   : "text/plain; version=0.0.4; charset=utf-8";
}

bool expo_accepts_gzip(const char *accept_encoding)
{
	struct hdr_elem el;

	if (!accept_encoding)
		return false;
	for (const char *s = accept_encoding; (s = next_elem(s, &el));)
		if ((type_is(&el, "gzip") || type_is(&el, "x-gzip")) && elem_q(&el) > 0)
			return true;
	return false;
}

int expo_gzip(const void *in, size_t n, struct buf *out)
{
	unsigned char chunk[65536];
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 16: gzip wrapper. Level 1: a scrape is CPU on a shared node. */
	if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = 0;
	do {
		if (!zs.avail_in && n) {
			size_t take = n > (1u << 30) ? (1u << 30) : n;

			zs.avail_in = (uInt)take;
			n -= take;
		}
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zr = deflate(&zs, n || zs.avail_in ? Z_NO_FLUSH : Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			deflateEnd(&zs);
			return -EIO;
		}
		buf_append(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (zr != Z_STREAM_END && !out->oom);
	deflateEnd(&zs);
	return out->oom ? -ENOMEM : 0;
}
