/* SPDX-License-Identifier: Apache-2.0 */
/*
 * route.h - request path -> route template, so metric labels carry
 * `/users/:id`, never `/users/42`.
 *
 * Order: user patterns first (Express style, `--routes FILE`, first match in
 * file order wins), else a heuristic that replaces id-like segments (numbers,
 * UUIDs, hex, emails, long random tokens, mixed letter/digit ids) with `:id`
 * and keeps words and versions (`api`, `v1`, `healthz`, `oauth2`). Query
 * strings and fragments are dropped; segment count and length are bounded.
 *
 * A route_set per service caps the number of distinct templates: past the
 * cap, new templates fold into ROUTE_OTHER and the fold is counted.
 */
#ifndef SBA_ROUTE_H
#define SBA_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_MAX_LEN		255	/* template bytes, NUL excluded */
#define ROUTE_BUF_SIZE		(ROUTE_MAX_LEN + 1)
#define ROUTE_MAX_SEGMENTS	16	/* more: the rest becomes one "*" segment */
#define ROUTE_MAX_SEGMENT_LEN	64	/* longer segments are ids */
#define ROUTE_MAX_PATTERNS	4096
#define ROUTE_ID		":id"
#define ROUTE_OTHER		"other"
#define ROUTE_MAX_ROUTES_DEFAULT 500

/*
 * Heuristic template of path[0..len) into out (NUL-terminated, at most
 * out_size - 1 bytes). The path may carry a query string (dropped). A path
 * not starting with '/' (asterisk or authority form) gives "*". Returns the
 * template length, or -ENOSPC if out_size < ROUTE_BUF_SIZE.
 */
int route_normalize(const char *path, size_t len, char *out, size_t out_size);

/* True if one path segment (no '/') looks like an identifier. */
bool route_is_id_segment(const char *seg, size_t len);

struct route_patterns;

/* Returns NULL with errno set on failure. */
struct route_patterns *route_patterns__new(void);
void route_patterns__free(struct route_patterns *rp);

/*
 * Adds an Express-style pattern: '/'-separated segments, each a literal, a
 * `:name` parameter (one segment) or, last only, `*` (the rest of the path).
 * Returns 0, -EINVAL (bad pattern), -ENOSPC (ROUTE_MAX_PATTERNS), -ENOMEM.
 */
int route_patterns__add(struct route_patterns *rp, const char *pattern);

/*
 * Loads one pattern per line; blank lines and lines starting with '#' are
 * skipped, surrounding whitespace is trimmed. Returns 0 or -errno; on
 * -EINVAL *bad_line (if not NULL) is the 1-based line that was refused.
 */
int route_patterns__load(struct route_patterns *rp, const char *file, int *bad_line);

uint32_t route_patterns__count(const struct route_patterns *rp);

/*
 * The first pattern matching the path (query ignored, literals compared
 * case-insensitively, a trailing slash ignored), or NULL. The string is
 * owned by rp and lives as long as it.
 */
const char *route_patterns__match(const struct route_patterns *rp, const char *path, size_t len);

/* The number of the pattern route_patterns__match() would return (in file
 * order, from 0), or -1; and a pattern's text by its number (NULL if none). */
int route_patterns__find(const struct route_patterns *rp, const char *path, size_t len);
const char *route_patterns__text(const struct route_patterns *rp, int i);

/* User pattern if one matches (rp may be NULL), else route_normalize().
 * Same contract as route_normalize(). */
int route_template(const struct route_patterns *rp, const char *path, size_t len, char *out,
		   size_t out_size);

struct route_set;

/* max_routes 0 = ROUTE_MAX_ROUTES_DEFAULT. Returns NULL with errno set. */
struct route_set *route_set__new(uint32_t max_routes);
void route_set__free(struct route_set *rs);

/*
 * The interned copy of tmpl (stable until route_set__free), or ROUTE_OTHER
 * when the set is full (counted in route_set__folded) or memory ran out.
 */
const char *route_set__intern(struct route_set *rs, const char *tmpl);

/*
 * route_set__intern() of the text of user pattern number idx, remembered by
 * number once interned, so the next request on that pattern costs an array
 * read. Same result and same fold count as route_set__intern(rs, text).
 */
const char *route_set__intern_pattern(struct route_set *rs, int idx, const char *text);

uint32_t route_set__count(const struct route_set *rs);	/* distinct templates kept */
uint64_t route_set__folded(const struct route_set *rs);	/* lookups folded into other */

#endif /* SBA_ROUTE_H */
