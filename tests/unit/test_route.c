// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of route.c: the id heuristic per segment, whole-path templates
 * (query dropped, slashes collapsed, bounds), Express-style user patterns
 * (add, load from a file, match order), and the per-service route cap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "check.h"
#include "route.h"

#define P(s) s, strlen(s)	/* a path and its length */

struct seg_case {
	const char *seg;
	bool id;
};

static const struct seg_case seg_cases[] = {
	/* ids */
	{ "0", true },
	{ "42", true },
	{ "1234567890123", true },
	{ "550e8400-e29b-41d4-a716-446655440000", true },	/* UUID */
	{ "550E8400-E29B-41D4-A716-446655440000", true },
	{ "deadbeefcafe", true },				/* hex >= 8 */
	{ "5f3c9a2b", true },
	{ "507f1f77bcf86cd799439011", true },			/* Mongo ObjectId */
	{ "john.doe@example.com", true },			/* email */
	{ "user1234", true },					/* digit-heavy */
	{ "a1b2c3", true },					/* alternating */
	{ "ord_7f9a2k", true },
	{ "cus_9s8df7g6h5", true },
	{ "2024-01-31", true },					/* date */
	{ "1.2.3", true },
	{ "abcdefghijklmnop1", true },				/* long, with a digit */
	{ "AbCdEfGhIjKlMnOpQrStUvWx", true },			/* long mixed-case token */
	{ "eyJhbGciOiJIUzI1NiJ9", true },			/* base64 token */
	{ "hello%20world", true },				/* percent-encoded */
	{ "caf\xc3\xa9", true },				/* non-ASCII */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },	/* > 64 */
	/* words, versions, names */
	{ "users", false },
	{ "api", false },
	{ "v1", false },
	{ "v2", false },
	{ "v10", false },
	{ "v1.2", false },
	{ "v1beta1", false },
	{ "v2alpha", false },
	{ "healthz", false },
	{ "readyz", false },
	{ "oauth2", false },
	{ "s3", false },
	{ "k8s", false },
	{ "sha256", false },
	{ "base64", false },
	{ "i18n", false },
	{ "my-first-post", false },		/* slug: kept (the route cap catches these) */
	{ "internationalization", false },
	{ "graphql", false },
	{ "@me", false },
	{ "abcdef", false },			/* hex, too short */
	{ "facade", false },
	{ "", false },
};

static void test_id_segments(void)
{
	for (size_t i = 0; i < sizeof(seg_cases) / sizeof(seg_cases[0]); i++) {
		const struct seg_case *c = &seg_cases[i];

		CHECK_MSG(route_is_id_segment(c->seg, strlen(c->seg)) == c->id, "\"%s\": want %s",
			  c->seg, c->id ? "id" : "kept");
	}
}

struct path_case {
	const char *path;
	const char *tmpl;
};

#define SEG20 "/zzzzzzzzzzzzzzzzzzz"	/* 20 bytes, a word: kept */

static const struct path_case path_cases[] = {
	{ "/", "/" },
	{ "", "*" },
	{ "*", "*" },
	{ "example.com:443", "*" },
	{ "/users", "/users" },
	{ "/users/", "/users" },
	{ "/users/42", "/users/:id" },
	{ "/users/42/orders/550e8400-e29b-41d4-a716-446655440000", "/users/:id/orders/:id" },
	{ "/api/v1/users/42?expand=1&x=2", "/api/v1/users/:id" },
	{ "/api/v1/search#frag", "/api/v1/search" },
	{ "/?q=1", "/" },
	{ "//a///b//", "/a/b" },
	{ "/healthz", "/healthz" },
	{ "/files/deadbeef00/raw", "/files/:id/raw" },
	{ "/u/john@example.com/settings", "/u/:id/settings" },
	{ "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", "/:id/:id/:id/:id/:id/:id/:id/:id/:id/:id/:id/:id/:id/:id/:id/:id" },
	{ "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/*" },
	/* 13 kept segments of 20 bytes: the 13th does not fit in 255 */
	{ SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20,
	  SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 SEG20 "/*" },
};

static void test_normalize(void)
{
	char out[ROUTE_BUF_SIZE];

	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		const struct path_case *c = &path_cases[i];
		int n = route_normalize(c->path, strlen(c->path), out, sizeof(out));

		CHECK_MSG(n == (int)strlen(c->tmpl) && strcmp(out, c->tmpl) == 0,
			  "\"%s\": got \"%s\" (%d), want \"%s\"", c->path, out, n, c->tmpl);
		CHECK(n <= ROUTE_MAX_LEN);
	}
	CHECK_EQ_INT(route_normalize("/a", 2, out, ROUTE_BUF_SIZE - 1), -ENOSPC);
	CHECK_EQ_INT(route_normalize(NULL, 0, out, sizeof(out)), 1);
	CHECK_EQ_STR(out, "*");
	/* the length is honoured: no NUL needed in the input */
	CHECK_EQ_INT(route_normalize("/users/42XXX", 9, out, sizeof(out)), 10);
	CHECK_EQ_STR(out, "/users/:id");
}

/* Random paths: bounded output, always starting with '/' or "*". */
static void test_normalize_random(void)
{
	char path[2048], out[ROUTE_BUF_SIZE];
	uint64_t x = 88172645463325252ULL;

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 0;
		int r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = x % sizeof(path);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			path[i] = (x & 3) == 0 ? '/' : (char)(x >> 8);
		}
		if (n)
			path[0] = '/';
		r = route_normalize(path, n, out, sizeof(out));
		CHECK(r > 0 && r <= ROUTE_MAX_LEN && (size_t)r == strlen(out));
		CHECK(out[0] == '/' || (out[0] == '*' && r == 1));
	}
}

static void test_patterns(void)
{
	struct route_patterns *rp = route_patterns__new();
	char out[ROUTE_BUF_SIZE];

	CHECK(rp != NULL);
	CHECK_EQ_INT(route_patterns__add(rp, "/users/me"), 0);
	CHECK_EQ_INT(route_patterns__add(rp, "/users/:userId"), 0);
	CHECK_EQ_INT(route_patterns__add(rp, "/users/:userId/orders/:orderId/"), 0);
	CHECK_EQ_INT(route_patterns__add(rp, "/blog/:slug"), 0);
	CHECK_EQ_INT(route_patterns__add(rp, "/static/*"), 0);
	CHECK_EQ_INT(route_patterns__add(rp, "/"), 0);
	CHECK_EQ_INT(route_patterns__count(rp), 6);

	CHECK_EQ_STR(route_patterns__match(rp, P("/users/me")), "/users/me");	/* file order */
	CHECK_EQ_INT(route_patterns__find(rp, P("/users/me")), 0);
	CHECK_EQ_INT(route_patterns__find(rp, P("/users/7/orders/9")), 2);
	CHECK_EQ_INT(route_patterns__find(rp, P("/nowhere")), -1);
	CHECK_EQ_STR(route_patterns__text(rp, 3), "/blog/:slug");
	CHECK(route_patterns__text(rp, 6) == NULL && route_patterns__text(rp, -1) == NULL);
	CHECK_EQ_STR(route_patterns__match(rp, P("/Users/ME/")), "/users/me");	/* case, slash */
	CHECK_EQ_STR(route_patterns__match(rp, P("/users/alice")), "/users/:userId");
	CHECK_EQ_STR(route_patterns__match(rp, P("/users/7/orders/9?x")),
		     "/users/:userId/orders/:orderId");
	CHECK_EQ_STR(route_patterns__match(rp, P("/blog/my-first-post")), "/blog/:slug");
	CHECK_EQ_STR(route_patterns__match(rp, P("/static/css/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q.css")),
		     "/static/*");
	CHECK_EQ_STR(route_patterns__match(rp, P("/static")), "/static/*");	/* * may be empty */
	CHECK_EQ_STR(route_patterns__match(rp, P("/?a=1")), "/");
	CHECK(route_patterns__match(rp, P("/users/7/orders")) == NULL);
	CHECK(route_patterns__match(rp, P("/blog")) == NULL);
	CHECK(route_patterns__match(rp, P("*")) == NULL);
	CHECK(route_patterns__match(NULL, P("/users/me")) == NULL);

	/* pattern first, heuristic otherwise */
	CHECK_EQ_INT(route_template(rp, P("/blog/how-to-2024"), out, sizeof(out)), 11);
	CHECK_EQ_STR(out, "/blog/:slug");
	route_template(rp, P("/items/42"), out, sizeof(out));
	CHECK_EQ_STR(out, "/items/:id");
	route_template(NULL, P("/items/42"), out, sizeof(out));
	CHECK_EQ_STR(out, "/items/:id");
	CHECK_EQ_INT(route_template(rp, P("/items/42"), out, 10), -ENOSPC);

	/* refused patterns */
	CHECK_EQ_INT(route_patterns__add(rp, "users"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, ""), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, "/a//b"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, "/a/:"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, "/a/:id(\\d+)"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, "/a/*/b"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, "/a b"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, "/a?x"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17"), -EINVAL);
	CHECK_EQ_INT(route_patterns__add(rp, NULL), -EINVAL);
	CHECK_EQ_INT(route_patterns__count(rp), 6);
	route_patterns__free(rp);
	route_patterns__free(NULL);
}

static void test_patterns_file(void)
{
	char path[] = "/tmp/sba-routes-XXXXXX";
	struct route_patterns *rp = route_patterns__new();
	int fd = mkstemp(path), bad = -1;
	FILE *f = fdopen(fd, "w");

	fputs("# routes of the shop service\n\n  /products/:sku  \r\n/cart\n\t# indented comment\n"
	      "/bad pattern\n/never-read\n",
	      f);
	fclose(f);
	CHECK_EQ_INT(route_patterns__load(rp, path, &bad), -EINVAL);
	CHECK_EQ_INT(bad, 6);
	CHECK_EQ_INT(route_patterns__count(rp), 2);
	CHECK_EQ_STR(route_patterns__match(rp, P("/products/X-12")), "/products/:sku");
	CHECK_EQ_STR(route_patterns__match(rp, P("/cart")), "/cart");

	f = fopen(path, "w");
	fputs("/a/:x\n/b\n", f);
	fclose(f);
	CHECK_EQ_INT(route_patterns__load(rp, path, &bad), 0);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(route_patterns__count(rp), 4);
	unlink(path);
	CHECK_EQ_INT(route_patterns__load(rp, path, &bad), -ENOENT);
	route_patterns__free(rp);
}

static void test_route_set_cap(void)
{
	struct route_set *rs = route_set__new(3);
	const char *a, *b;

	CHECK(rs != NULL);
	a = route_set__intern(rs, "/a");
	CHECK_EQ_STR(a, "/a");
	CHECK(route_set__intern(rs, "/a") == a);	/* interned: same pointer */
	b = route_set__intern(rs, "/b");
	CHECK_EQ_STR(route_set__intern(rs, "/c"), "/c");
	CHECK_EQ_INT(route_set__count(rs), 3);
	CHECK_EQ_STR(route_set__intern(rs, "/d"), ROUTE_OTHER);
	CHECK_EQ_STR(route_set__intern(rs, "/e"), ROUTE_OTHER);
	CHECK(route_set__intern(rs, "/b") == b);	/* known ones still resolve */
	CHECK_EQ_INT(route_set__folded(rs), 2);
	CHECK_EQ_INT(route_set__count(rs), 3);
	route_set__free(rs);

	/* many distinct templates: bounded by the cap */
	rs = route_set__new(0);
	for (int i = 0; i < 2000; i++) {
		char t[32];

		snprintf(t, sizeof(t), "/r%d", i);
		route_set__intern(rs, t);
	}
	CHECK_EQ_INT(route_set__count(rs), ROUTE_MAX_ROUTES_DEFAULT);
	CHECK_EQ_INT(route_set__folded(rs), 2000 - ROUTE_MAX_ROUTES_DEFAULT);
	route_set__free(rs);
	route_set__free(NULL);

	/* by pattern number: the same strings and the same folds as by text */
	rs = route_set__new(2);
	a = route_set__intern_pattern(rs, 40, "/a/:id");
	CHECK_EQ_STR(a, "/a/:id");
	CHECK(route_set__intern_pattern(rs, 40, "/a/:id") == a);
	CHECK(route_set__intern(rs, "/a/:id") == a);
	b = route_set__intern(rs, "/b");
	CHECK(route_set__intern_pattern(rs, 3, "/b") == b);
	CHECK_EQ_STR(route_set__intern_pattern(rs, 7, "/c"), ROUTE_OTHER);
	CHECK_EQ_STR(route_set__intern_pattern(rs, 7, "/c"), ROUTE_OTHER);
	CHECK_EQ_INT(route_set__folded(rs), 2);		/* each request on it counts */
	CHECK(route_set__intern_pattern(rs, -1, "/a/:id") == a);
	CHECK_EQ_INT(route_set__count(rs), 2);
	route_set__free(rs);
	errno = 0;
	CHECK(route_set__new(UINT32_MAX) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
}

/* ---- the index against a matcher that tries every pattern in order ---- */

/* What route.h says a match is, written the slow and obvious way. */
static bool ref_matches(const char *pat, const char *path)
{
	char ps[ROUTE_MAX_SEGMENTS + 2][80], xs[40][80];
	int np = 0, nx = 0;
	const char *q;

	for (const char *c = pat; *c;) {	/* pattern segments */
		while (*c == '/')
			c++;
		if (!*c)
			break;
		q = strchr(c, '/') ? strchr(c, '/') : c + strlen(c);
		snprintf(ps[np++], sizeof(ps[0]), "%.*s", (int)(q - c), c);
		c = q;
	}
	for (const char *c = path; *c && *c != '?' && *c != '#' && nx < 40;) {	/* path segments */
		while (*c == '/')
			c++;
		if (!*c || *c == '?' || *c == '#')
			break;
		q = c + strcspn(c, "/?#");
		snprintf(xs[nx++], sizeof(xs[0]), "%.*s", (int)(q - c), c);
		c = q;
	}
	for (int k = 0; k < np; k++) {
		if (!strcmp(ps[k], "*"))
			return true;	/* the rest, even nothing */
		if (k >= nx || k >= ROUTE_MAX_SEGMENTS)
			return false;
		if (ps[k][0] != ':' && strcasecmp(ps[k], xs[k]))
			return false;
	}
	return nx == np;
}

static const char *ref_match(char pats[][200], int n, const char *path)
{
	if (path[0] != '/')
		return NULL;
	for (int i = 0; i < n; i++)
		if (ref_matches(pats[i], path))
			return pats[i];
	return NULL;
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

/* A segment from a small alphabet, so patterns and paths meet often. */
static const char *rnd_seg(bool pattern)
{
	static const char *const lit[] = { "api", "API", "users", "Users", "orders", "v1", "a", "b",
					   "history", "x-y", "1", "42" };

	if (pattern && rnd(5) == 0)
		return rnd(2) ? ":id" : ":rev";
	return lit[rnd(sizeof(lit) / sizeof(lit[0]))];
}

static void test_patterns_index(void)
{
	static char pats[700][200];
	struct route_patterns *rp = route_patterns__new();
	int n = 0, matched = 0;

	/* 700 patterns: several bitset words, and growth past each */
	while (n < 700) {
		int nseg = (int)rnd(n < 20 ? 4 : ROUTE_MAX_SEGMENTS + 1);
		size_t o = 0;

		for (int k = 0; k < nseg; k++)
			o += (size_t)snprintf(pats[n] + o, sizeof(pats[0]) - o, "/%s", rnd_seg(true));
		if (rnd(8) == 0 && nseg < ROUTE_MAX_SEGMENTS)
			o += (size_t)snprintf(pats[n] + o, sizeof(pats[0]) - o, "/*");
		if (!o)
			strcpy(pats[n], "/");
		CHECK_EQ_INT(route_patterns__add(rp, pats[n]), 0);
		n++;
		if (n % 97 == 0 || n < 70) {
			for (int t = 0; t < 300; t++) {
				char path[400];
				int nx = (int)rnd(ROUTE_MAX_SEGMENTS + 4);
				size_t m = 0;
				const char *want, *got;

				for (int k = 0; k < nx; k++)
					m += (size_t)snprintf(path + m, sizeof(path) - m, "%s%s",
							      rnd(10) ? "/" : "//", rnd_seg(false));
				if (!m || rnd(10) == 0)
					m += (size_t)snprintf(path + m, sizeof(path) - m, "/");
				if (rnd(6) == 0)
					snprintf(path + m, sizeof(path) - m, "?q=/api");
				want = ref_match(pats, n, path);
				got = route_patterns__match(rp, path, strlen(path));
				matched += want != NULL;
				CHECK_MSG((want == NULL) == (got == NULL) && (!want || !strcmp(want, got)),
					  "%d patterns, path %s: want %s, got %s", n, path,
					  want ? want : "none", got ? got : "none");
			}
		}
	}
	CHECK(matched > 1000);	/* the test meets patterns, not only misses */
	route_patterns__free(rp);
}

int main(void)
{
	RUN(test_id_segments);
	RUN(test_normalize);
	RUN(test_normalize_random);
	RUN(test_patterns);
	RUN(test_patterns_file);
	RUN(test_patterns_index);
	RUN(test_route_set_cap);
	return check_summary();
}
