// SPDX-License-Identifier: Apache-2.0
/*
 * route.c - path -> route template (see route.h).
 *
 * The heuristic looks at one segment at a time and asks "is this an id?"
 * from character classes only: all digits, UUID, hex >= 8, an email, a
 * percent-encoded or non-ASCII value, a digit-heavy or letter/digit-alternating
 * mix, or a long token. Words, slugs and versions stay. The cost is linear in
 * the path and the output is bounded (ROUTE_MAX_LEN, ROUTE_MAX_SEGMENTS).
 *
 * Tricky: a heuristic can never know every id (a slug like `my-first-post` is
 * kept), which is why route_set caps the distinct templates per service.
 *
 * User patterns are matched through an index, not one by one: a bitset of
 * patterns per (depth, literal segment), one per depth of the patterns that
 * take any segment there (a parameter, or a `*` at or before it), and one per
 * path length of the patterns that can match a path that long. A path is
 * split once; each of its segments costs one hash lookup and an AND over
 * the bitsets, and the first pattern in file order is the lowest set bit.
 * So the cost follows the path's segments, not the number of patterns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "route.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_sep(char c)
{
	return c == '-' || c == '_' || c == '.' || c == '~';
}

static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return true;
}

/* v1, v10, v1.2, v2beta1, v1alpha */
static bool is_version(const char *s, size_t n)
{
	size_t i = 1;

	if (n < 2 || (s[0] != 'v' && s[0] != 'V') || !is_digit(s[1]))
		return false;
	while (i < n && (is_digit(s[i]) || s[i] == '.'))
		i++;
	if (i == n)
		return true;
	if (n - i >= 4 && strncasecmp(s + i, "beta", 4) == 0)
		i += 4;
	else if (n - i >= 5 && strncasecmp(s + i, "alpha", 5) == 0)
		i += 5;
	else
		return false;
	while (i < n && is_digit(s[i]))
		i++;
	return i == n;
}

bool route_is_id_segment(const char *s, size_t n)
{
	size_t digits = 0, letters = 0, hex = 0, seps = 0, transitions = 0, case_flips = 0;
	int last_class = 0, last_case = 0;

	if (n == 0)
		return false;
	if (n > ROUTE_MAX_SEGMENT_LEN)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int cls = 0;

		if (c < 0x21 || c >= 0x7f || c == '%')
			return true;	/* encoded or non-ASCII: user data */
		if (c == '@' && i > 0 && i + 1 < n)
			return true;	/* email-like */
		if (is_digit((char)c)) {
			digits++;
			cls = 1;
		} else if (is_alpha((char)c)) {
			int cs = (c >= 'a') ? 1 : 2;

			letters++;
			cls = 2;
			if (last_case && cs != last_case)
				case_flips++;
			last_case = cs;
		} else if (is_sep((char)c)) {
			seps++;
		}
		if (is_hex((char)c))
			hex++;
		if (cls) {
			if (last_class && cls != last_class)
				transitions++;
			last_class = cls;
		}
	}
	if (digits == n || is_uuid(s, n))
		return true;
	if (hex == n && n >= 8)
		return true;
	if (is_version(s, n))
		return false;
	if (digits && !letters)
		return true;	/* 2024-01-01, 1.2.3, 12_34 */
	if (digits && letters) {
		if (digits >= 4 || n >= 16)
			return true;
		if (digits >= 2 && transitions >= 3)
			return true;
		return false;	/* oauth2, s3, k8s, sha256, v1 */
	}
	/* no digits: long unbroken runs with many case flips are tokens */
	if (!seps && n >= 24 && case_flips >= 6)
		return true;
	return !seps && n >= 40;
}

/* Length of path up to its query string or fragment. */
static size_t path_len(const char *path, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (path[i] == '?' || path[i] == '#')
			return i;
	return len;
}

int route_normalize(const char *path, size_t len, char *out, size_t out_size)
{
	size_t o = 0, i, nseg = 0;

	if (out_size < ROUTE_BUF_SIZE)
		return -ENOSPC;
	len = path ? path_len(path, len) : 0;
	if (len == 0 || path[0] != '/') {
		strcpy(out, "*");
		return 1;
	}
	i = 1;
	while (i < len) {
		size_t j = i, rlen;
		const char *rep;

		while (j < len && path[j] != '/')
			j++;
		if (j == i) {	/* empty segment: "//" or a trailing slash */
			i = j + 1;
			continue;
		}
		if (route_is_id_segment(path + i, j - i)) {
			rep = ROUTE_ID;
			rlen = strlen(ROUTE_ID);
		} else {
			rep = path + i;
			rlen = j - i;
		}
		/* keep room for a final wildcard segment when the rest does not fit */
		if (nseg == ROUTE_MAX_SEGMENTS || o + 1 + rlen > ROUTE_MAX_LEN - 2) {
			memcpy(out + o, "/*", 2);
			o += 2;
			break;
		}
		out[o++] = '/';
		memcpy(out + o, rep, rlen);
		o += rlen;
		nseg++;
		i = j + 1;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = 0;
	return (int)o;
}

/* ---- user patterns ---- */

enum { SEG_LIT = 0, SEG_PARAM, SEG_STAR };

struct pseg {
	uint16_t off;
	uint16_t len;
	uint8_t kind;
};

struct pattern {
	char text[ROUTE_BUF_SIZE];
	uint32_t nseg;
	struct pseg seg[ROUTE_MAX_SEGMENTS];
};

/* Path lengths told apart: 0..ROUTE_MAX_SEGMENTS, and "more than that". */
#define LEN_CLASSES (ROUTE_MAX_SEGMENTS + 2)
/* Fixed bitsets at the start of the pool: by path length, then "any segment"
 * by depth; the literal segments' sets follow. */
#define SET_LEN(n)	(n)
#define SET_ANY(d)	(LEN_CLASSES + (d))
#define FIXED_SETS	(LEN_CLASSES + ROUTE_MAX_SEGMENTS)

/* One (depth, literal) of the index: its text is pattern `pat`'s segment. */
struct lit {
	uint32_t hash;		/* 0: empty slot */
	uint32_t set;		/* bitset number in the pool */
	uint32_t pat;
	uint16_t seg;
	uint16_t len;
};

struct route_patterns {
	struct pattern *v;
	uint32_t n;
	uint32_t cap;
	/* the index */
	uint32_t words;		/* uint64_t per bitset: room for words * 64 patterns */
	uint32_t nsets, sets_cap;
	uint64_t *pool;		/* nsets bitsets of `words` words */
	struct lit *lit;	/* open addressing, linear probing */
	uint32_t lit_mask;	/* slots - 1 */
	uint32_t nlit;
};

struct route_patterns *route_patterns__new(void)
{
	return calloc(1, sizeof(struct route_patterns));
}

void route_patterns__free(struct route_patterns *rp)
{
	if (!rp)
		return;
	free(rp->v);
	free(rp->pool);
	free(rp->lit);
	free(rp);
}

uint32_t route_patterns__count(const struct route_patterns *rp)
{
	return rp ? rp->n : 0;
}

static bool is_lit_char(char c)
{
	return c > 0x20 && c < 0x7f && !strchr(":*?#()", c);
}

static int parse_pattern(const char *s, struct pattern *pt)
{
	size_t n = strlen(s), i = 1;

	if (n == 0 || n > ROUTE_MAX_LEN || s[0] != '/')
		return -EINVAL;
	while (n > 1 && s[n - 1] == '/')
		n--;
	memset(pt, 0, sizeof(*pt));
	memcpy(pt->text, s, n);
	pt->text[n] = 0;
	while (i < n) {
		size_t j = i;
		struct pseg *sg;

		while (j < n && s[j] != '/')
			j++;
		if (j == i || pt->nseg == ROUTE_MAX_SEGMENTS)
			return -EINVAL;
		if (pt->nseg && pt->seg[pt->nseg - 1].kind == SEG_STAR)
			return -EINVAL;	/* '*' only last */
		sg = &pt->seg[pt->nseg++];
		sg->off = (uint16_t)i;
		sg->len = (uint16_t)(j - i);
		if (s[i] == ':') {
			if (j - i < 2)
				return -EINVAL;
			for (size_t k = i + 1; k < j; k++)
				if (!is_alpha(s[k]) && !is_digit(s[k]) && s[k] != '_')
					return -EINVAL;
			sg->kind = SEG_PARAM;
		} else if (j - i == 1 && s[i] == '*') {
			sg->kind = SEG_STAR;
		} else {
			for (size_t k = i; k < j; k++)
				if (!is_lit_char(s[k]))
					return -EINVAL;
			sg->kind = SEG_LIT;
		}
		i = j + 1;
	}
	return 0;
}

/* ---- the pattern index ---- */

/* ASCII lower case of every byte, by table: the hot loops look up a byte
 * rather than compare it twice. */
static const uint8_t lower_tab[256] = {
#define L4(i) (i), (i) + 1, (i) + 2, (i) + 3
#define L16(i) L4(i), L4((i) + 4), L4((i) + 8), L4((i) + 12)
	L16(0x00), L16(0x10), L16(0x20), L16(0x30),
	0x40, L4(0x61), L4(0x65), L4(0x69), L4(0x6d), L4(0x71), L4(0x75), 0x79, 0x7a,
	0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	L16(0x60), L16(0x70), L16(0x80), L16(0x90), L16(0xa0), L16(0xb0), L16(0xc0),
	L16(0xd0), L16(0xe0), L16(0xf0),
#undef L16
#undef L4
};

static char lower(char c)
{
	return (char)lower_tab[(uint8_t)c];
}

/* FNV-1a of the lower-cased segment, mixed with its depth; never 0. In
 * three steps, so that a path is hashed while it is split. */
static uint32_t seg_hash_init(uint32_t depth)
{
	return 2166136261u ^ (depth * 0x9e3779b9u);
}

static uint32_t seg_hash_step(uint32_t h, char c)
{
	return (h ^ (unsigned char)lower(c)) * 16777619u;
}

static uint32_t seg_hash_end(uint32_t h)
{
	h ^= h >> 15;
	return h ? h : 1;
}

static uint32_t seg_hash(const char *s, size_t n, uint32_t depth)
{
	uint32_t h = seg_hash_init(depth);

	for (size_t i = 0; i < n; i++)
		h = seg_hash_step(h, s[i]);
	return seg_hash_end(h);
}

static bool seg_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

static uint64_t *set_of(const struct route_patterns *rp, uint32_t set)
{
	return rp->pool + (size_t)set * rp->words;
}

static void set_bit(struct route_patterns *rp, uint32_t set, uint32_t bit)
{
	set_of(rp, set)[bit / 64] |= 1ull << (bit % 64);
}

/* Room for one more pattern bit in every set, and for `more` new sets. */
static int index_reserve(struct route_patterns *rp, uint32_t more)
{
	uint32_t words = rp->words ? rp->words : 1, cap = rp->sets_cap;
	uint32_t nsets = rp->nsets ? rp->nsets : FIXED_SETS;

	while (rp->n >= words * 64)
		words *= 2;
	if (!cap)
		cap = FIXED_SETS + 16;
	while (nsets + more > cap)
		cap *= 2;
	if (words != rp->words || cap != rp->sets_cap) {
		uint64_t *pool = calloc((size_t)cap * words, sizeof(*pool));

		if (!pool)
			return -ENOMEM;
		for (uint32_t i = 0; i < rp->nsets; i++)
			memcpy(pool + (size_t)i * words, set_of(rp, i), rp->words * sizeof(*pool));
		free(rp->pool);
		rp->pool = pool;
		rp->words = words;
		rp->sets_cap = cap;
	}
	rp->nsets = nsets;
	return 0;
}

/* The literal (depth, s[0..n)), or NULL. */
static const struct lit *lit_find(const struct route_patterns *rp, const char *s, size_t n,
				  uint32_t depth, uint32_t h)
{
	if (!rp->lit)
		return NULL;
	for (uint32_t i = h & rp->lit_mask;; i = (i + 1) & rp->lit_mask) {
		const struct lit *l = &rp->lit[i];

		if (!l->hash)
			return NULL;
		/* a pattern's segment number is the depth it matches at */
		if (l->hash == h && l->len == n && l->seg == depth &&
		    seg_eq(rp->v[l->pat].text + rp->v[l->pat].seg[l->seg].off, s, n))
			return l;
	}
}

static void lit_put(struct lit *tab, uint32_t mask, const struct lit *l)
{
	uint32_t i = l->hash & mask;

	while (tab[i].hash)
		i = (i + 1) & mask;
	tab[i] = *l;
}

/* The set of the literal segment `seg` of pattern `pat`, added if new. */
static int lit_set(struct route_patterns *rp, uint32_t pat, uint32_t seg, uint32_t *set)
{
	const struct pattern *pt = &rp->v[pat];
	const char *s = pt->text + pt->seg[seg].off;
	uint32_t h = seg_hash(s, pt->seg[seg].len, seg);
	const struct lit *f = lit_find(rp, s, pt->seg[seg].len, seg, h);
	struct lit l;
	int err;

	if (f) {
		*set = f->set;
		return 0;
	}
	if ((rp->nlit + 1) * 2 > rp->lit_mask + 1 || !rp->lit) {	/* at most half full */
		uint32_t slots = rp->lit ? (rp->lit_mask + 1) * 2 : 64;
		struct lit *tab = calloc(slots, sizeof(*tab));

		if (!tab)
			return -ENOMEM;
		for (uint32_t i = 0; rp->lit && i <= rp->lit_mask; i++)
			if (rp->lit[i].hash)
				lit_put(tab, slots - 1, &rp->lit[i]);
		free(rp->lit);
		rp->lit = tab;
		rp->lit_mask = slots - 1;
	}
	err = index_reserve(rp, 1);
	if (err)
		return err;
	l = (struct lit){ .hash = h, .set = rp->nsets++, .pat = pat, .seg = (uint16_t)seg,
			  .len = pt->seg[seg].len };
	lit_put(rp->lit, rp->lit_mask, &l);
	rp->nlit++;
	*set = l.set;
	return 0;
}

/* Adds pattern number `pat` (the last one) to the index. */
static int index_add(struct route_patterns *rp, uint32_t pat)
{
	const struct pattern *pt = &rp->v[pat];
	bool star = pt->nseg && pt->seg[pt->nseg - 1].kind == SEG_STAR;
	uint32_t fixed = star ? pt->nseg - 1 : pt->nseg;	/* segments before a `*` */
	uint32_t set;
	int err = index_reserve(rp, 0);

	if (err)
		return err;
	/* which path lengths it can match: exactly its own, or from `fixed` on */
	for (uint32_t n = 0; n < LEN_CLASSES; n++)
		if (star ? n >= fixed : n == pt->nseg)
			set_bit(rp, SET_LEN(n), pat);
	for (uint32_t d = 0; d < ROUTE_MAX_SEGMENTS; d++) {
		if (d >= fixed) {
			/* past its end: only a `*` takes these; a shorter
			 * pattern is ruled out by the length anyway */
			set_bit(rp, SET_ANY(d), pat);
		} else if (pt->seg[d].kind == SEG_PARAM) {
			set_bit(rp, SET_ANY(d), pat);
		} else {
			err = lit_set(rp, pat, d, &set);
			if (err)
				return err;
			set_bit(rp, set, pat);
		}
	}
	return 0;
}

int route_patterns__add(struct route_patterns *rp, const char *pattern)
{
	struct pattern pt;
	int err;

	if (!rp || !pattern)
		return -EINVAL;
	err = parse_pattern(pattern, &pt);
	if (err)
		return err;
	if (rp->n == ROUTE_MAX_PATTERNS)
		return -ENOSPC;
	if (rp->n == rp->cap) {
		uint32_t cap = rp->cap ? rp->cap * 2 : 16;
		struct pattern *v = realloc(rp->v, sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		rp->v = v;
		rp->cap = cap;
	}
	rp->v[rp->n] = pt;
	err = index_add(rp, rp->n);
	if (err) {
		/* out of memory half way: its bit goes, for the next pattern */
		for (uint32_t i = 0; rp->pool && rp->n < rp->words * 64 && i < rp->nsets; i++)
			set_of(rp, i)[rp->n / 64] &= ~(1ull << (rp->n % 64));
		return err;
	}
	rp->n++;
	return 0;
}

int route_patterns__load(struct route_patterns *rp, const char *file, int *bad_line)
{
	char line[1024];
	int lineno = 0, err = 0;
	FILE *f;

	if (bad_line)
		*bad_line = 0;
	f = fopen(file, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *s = line;

		lineno++;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n' && !feof(f)) {
			err = -EINVAL;	/* longer than any pattern can be */
			break;
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
				 line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == 0 || *s == '#')
			continue;
		err = route_patterns__add(rp, s);
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = -EIO;
	if (err && bad_line)
		*bad_line = lineno;
	fclose(f);
	return err;
}

const char *route_patterns__text(const struct route_patterns *rp, int i)
{
	return rp && i >= 0 && (uint32_t)i < rp->n ? rp->v[i].text : NULL;
}

const char *route_patterns__match(const struct route_patterns *rp, const char *path, size_t len)
{
	return route_patterns__text(rp, route_patterns__find(rp, path, len));
}

/* Ends a segment: '/', and the query or fragment that end the path. */
static const uint8_t seg_end[256] = { ['/'] = 1, ['?'] = 2, ['#'] = 2 };

int route_patterns__find(const struct route_patterns *rp, const char *path, size_t len)
{
	uint64_t cand[ROUTE_MAX_PATTERNS / 64], any = 0;
	const uint64_t *lenset;
	size_t i = 1, nps = 0;
	uint32_t words;

	if (!rp || !rp->n || !path || len == 0 || path[0] != '/')
		return -1;
	words = (rp->n + 63) / 64;
	for (uint32_t w = 0; w < words; w++)
		any |= cand[w] = ~0ull;
	/* one pass: split at '/', hash each segment, narrow the candidates;
	 * the path length's set is applied at the end (the order of ANDs does
	 * not matter), past ROUTE_MAX_SEGMENTS only the count does */
	while (i < len && any && nps <= ROUTE_MAX_SEGMENTS) {
		size_t s = i;
		uint32_t h;

		if (seg_end[(uint8_t)path[i]] == 2)
			break;
		if (path[i] == '/') {
			i++;
			continue;
		}
		h = seg_hash_init((uint32_t)nps);
		for (; i < len && !seg_end[(uint8_t)path[i]]; i++)
			h = seg_hash_step(h, path[i]);
		if (nps < ROUTE_MAX_SEGMENTS) {
			const struct lit *l = lit_find(rp, path + s, i - s, (uint32_t)nps,
						       seg_hash_end(h));
			const uint64_t *a = set_of(rp, SET_ANY(nps));
			const uint64_t *b = l ? set_of(rp, l->set) : NULL;

			any = 0;
			for (uint32_t w = 0; w < words; w++)
				any |= cand[w] &= a[w] | (b ? b[w] : 0);
		}
		nps++;
	}
	lenset = set_of(rp, SET_LEN(nps));
	for (uint32_t w = 0; w < words && any; w++)
		if (cand[w] & lenset[w])
			return (int)(w * 64 + (uint32_t)__builtin_ctzll(cand[w] & lenset[w]));
	return -1;
}

int route_template(const struct route_patterns *rp, const char *path, size_t len, char *out,
		   size_t out_size)
{
	const char *m;
	size_t n;

	if (out_size < ROUTE_BUF_SIZE)
		return -ENOSPC;
	m = route_patterns__match(rp, path, len);
	if (!m)
		return route_normalize(path, len, out, out_size);
	n = strlen(m);
	memcpy(out, m, n + 1);
	return (int)n;
}

/* ---- distinct routes per service ---- */

struct route_set {
	const char **by_pattern;	/* interned text of user pattern i, or NULL */
	uint32_t n_by_pattern;
	char **slot;		/* open addressing, linear probing; NULL = empty */
	uint32_t nslots;	/* power of two, >= 2 * max */
	uint32_t count;
	uint32_t max;
	uint64_t folded;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

struct route_set *route_set__new(uint32_t max_routes)
{
	struct route_set *rs;
	uint32_t n = 16;

	if (max_routes == 0)
		max_routes = ROUTE_MAX_ROUTES_DEFAULT;
	if (max_routes > (1u << 20)) {
		errno = EINVAL;
		return NULL;
	}
	while (n < 2 * max_routes)
		n *= 2;
	rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	rs->slot = calloc(n, sizeof(*rs->slot));
	if (!rs->slot) {
		free(rs);
		return NULL;
	}
	rs->nslots = n;
	rs->max = max_routes;
	return rs;
}

void route_set__free(struct route_set *rs)
{
	if (!rs)
		return;
	for (uint32_t i = 0; i < rs->nslots; i++)
		free(rs->slot[i]);
	free(rs->slot);
	free(rs->by_pattern);
	free(rs);
}

const char *route_set__intern(struct route_set *rs, const char *tmpl)
{
	uint32_t i = (uint32_t)hash_str(tmpl) & (rs->nslots - 1);

	/* the table is at most half full, so the probe ends at an empty slot */
	while (rs->slot[i]) {
		if (strcmp(rs->slot[i], tmpl) == 0)
			return rs->slot[i];
		i = (i + 1) & (rs->nslots - 1);
	}
	if (rs->count >= rs->max) {
		rs->folded++;
		return ROUTE_OTHER;
	}
	rs->slot[i] = strdup(tmpl);
	if (!rs->slot[i]) {
		rs->folded++;
		return ROUTE_OTHER;
	}
	rs->count++;
	return rs->slot[i];
}

const char *route_set__intern_pattern(struct route_set *rs, int idx, const char *text)
{
	const char *r;

	if (idx >= 0 && (uint32_t)idx < rs->n_by_pattern && rs->by_pattern[idx])
		return rs->by_pattern[idx];
	r = route_set__intern(rs, text);
	/* interned strings live as long as the set; a fold is counted each time */
	if (!strcmp(r, ROUTE_OTHER) || idx < 0 || idx >= ROUTE_MAX_PATTERNS)
		return r;
	if ((uint32_t)idx >= rs->n_by_pattern) {
		uint32_t n = rs->n_by_pattern ? rs->n_by_pattern : 16;
		const char **v;

		while (n <= (uint32_t)idx)
			n *= 2;
		v = realloc(rs->by_pattern, n * sizeof(*v));
		if (!v)
			return r;	/* not remembered: the next one interns again */
		memset(v + rs->n_by_pattern, 0, (n - rs->n_by_pattern) * sizeof(*v));
		rs->by_pattern = v;
		rs->n_by_pattern = n;
	}
	rs->by_pattern[idx] = r;
	return r;
}

uint32_t route_set__count(const struct route_set *rs)
{
	return rs->count;
}

uint64_t route_set__folded(const struct route_set *rs)
{
	return rs->folded;
}
