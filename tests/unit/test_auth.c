// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of auth.c: header parsing, token sources (file with rotation,
 * environment, generated file), a broken file keeping the old tokens, the
 * failure limit per address (right token always served, window, Retry-After,
 * IPv6 /64, bounded table) and that no message carries a token.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"

#define TOK_A "tokA_0123456789abcdefghijklmnopqrstuvwxyz"
#define TOK_B "tokB-ABCDEFGHIJKLMNOPQRSTUVWXYZ.0123456789~+/=="

static char dir[] = "/tmp/test_auth_XXXXXX";

static struct sockaddr_in v4(const char *ip)
{
	struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(40000) };

	inet_pton(AF_INET, ip, &s.sin_addr);
	return s;
}

static struct sockaddr_in6 v6(const char *ip)
{
	struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(40000) };

	inet_pton(AF_INET6, ip, &s.sin6_addr);
	return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* Replaces path atomically (as a Kubernetes Secret update does). */
static void write_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

static enum auth_verdict check(struct auth *a, const char *hdr, const struct sockaddr *peer,
			       uint64_t now)
{
	uint32_t ra;

	return auth__check(a, hdr, peer, now, &ra);
}

static void test_is_token(void)
{
	CHECK(auth_is_token(TOK_A, strlen(TOK_A)));
	CHECK(auth_is_token(TOK_B, strlen(TOK_B)));
	CHECK(!auth_is_token("short", 5));
	CHECK(!auth_is_token(TOK_A " x", strlen(TOK_A) + 2));		/* space */
	CHECK(!auth_is_token("=" TOK_A, strlen(TOK_A) + 1));		/* = only at the end */
	CHECK(!auth_is_token(TOK_A "=x", strlen(TOK_A) + 2));
	CHECK(!auth_is_token(TOK_A "\"", strlen(TOK_A) + 1));
	CHECK(!auth_is_token(TOK_A "\xc3\xa9", strlen(TOK_A) + 2));
	CHECK(auth_memeq("abc", "abc", 3));
	CHECK(!auth_memeq("abc", "abd", 3));
}

static void test_header_forms(void)
{
	struct auth_config cfg = { .env_token = TOK_A, .rl_window_s = 60, .rl_max = 1000 };
	struct sockaddr_in p = v4("127.0.0.1");
	static const struct {
		const char *hdr;
		enum auth_verdict want;
	} cases[] = {
		{ "Bearer " TOK_A, AUTH_OK },
		{ "bearer " TOK_A, AUTH_OK },
		{ "BEARER   " TOK_A "  ", AUTH_OK },
		{ "Bearer\t" TOK_A, AUTH_OK },
		{ NULL, AUTH_MISSING },
		{ "", AUTH_MISSING },
		{ "Bearer", AUTH_MISSING },
		{ "Bearer ", AUTH_MISSING },
		{ "Basic dXNlcjpwYXNz", AUTH_MISSING },
		{ "Bearer" TOK_A, AUTH_MISSING },			/* no space */
		{ "Bearer " TOK_A " " TOK_A, AUTH_MISSING },		/* two tokens */
		{ "Bearer \"" TOK_A "\"", AUTH_MISSING },		/* quoted */
		{ "Bearer " TOK_A "x", AUTH_INVALID },
		{ "Bearer tokA_0123456789abcdefghijklmnopqrstuvwxy", AUTH_INVALID }, /* prefix */
		{ "Bearer " TOK_B, AUTH_INVALID },
		{ "Bearer abc", AUTH_INVALID },				/* well-formed, short */
	};
	char err[256];
	struct auth *a = auth__new(&cfg, err, sizeof(err));

	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_EQ_INT(auth__source(a), AUTH_SRC_ENV);
	CHECK(auth__path(a) == NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum auth_verdict v = check(a, cases[i].hdr, SA(p), 1000);

		CHECK_MSG(v == cases[i].want, "case %zu: %d, want %d", i, v, cases[i].want);
	}
	CHECK_EQ_INT(auth__stats(a)->ok, 4);
	CHECK_EQ_INT(auth__stats(a)->missing, 8);
	CHECK_EQ_INT(auth__stats(a)->invalid, 4);
	auth__free(a);
}

static void test_rate_limit(void)
{
	struct auth_config cfg = { .env_token = TOK_A, .rl_window_s = 10, .rl_max = 3 };
	struct sockaddr_in bad = v4("127.0.0.2"), other = v4("127.0.0.3");
	struct sockaddr_in6 b6 = v6("2001:db8:1:2::5"), same64 = v6("2001:db8:1:2::99"),
			    next64 = v6("2001:db8:1:3::5");
	char err[256];
	struct auth *a = auth__new(&cfg, err, sizeof(err));
	uint32_t ra = 0;

	if (!a) {
		CHECK(a != NULL);
		return;
	}
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(bad), 1000), AUTH_INVALID);
	CHECK_EQ_INT(check(a, NULL, SA(bad), 1100), AUTH_MISSING);
	CHECK_EQ_INT(auth__fail(a, SA(bad), 1200, &ra), AUTH_INVALID);	/* token in URL */
	/* 3 failures in the window: now limited, until 1000 + 10 s */
	CHECK_EQ_INT(auth__check(a, "Bearer " TOK_B, SA(bad), 2500, &ra), AUTH_LIMITED);
	CHECK_EQ_INT(ra, 9);	/* 8.5 s left, rounded up */
	CHECK_EQ_INT(auth__check(a, NULL, SA(bad), 10999, &ra), AUTH_LIMITED);
	CHECK_EQ_INT(ra, 1);
	CHECK_EQ_INT(auth__fail(a, SA(bad), 3000, &ra), AUTH_LIMITED);
	/* the right token is never limited */
	CHECK_EQ_INT(check(a, "Bearer " TOK_A, SA(bad), 3000), AUTH_OK);
	/* other addresses are not affected */
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(other), 3000), AUTH_INVALID);
	/* the window ends: failures counted afresh */
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(bad), 11000), AUTH_INVALID);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(bad), 11001), AUTH_INVALID);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(bad), 11002), AUTH_INVALID);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(bad), 11003), AUTH_LIMITED);
	/* IPv6: one client per /64 */
	for (int i = 0; i < 3; i++)
		check(a, NULL, SA(b6), 20000);
	CHECK_EQ_INT(check(a, NULL, SA(same64), 20000), AUTH_LIMITED);
	CHECK_EQ_INT(check(a, NULL, SA(next64), 20000), AUTH_MISSING);
	CHECK_EQ_INT(auth__stats(a)->limited, 5);
	auth__free(a);
}

/* Thousands of one-shot addresses cannot evict a limited one, and the
 * table stays the same size. */
static void test_rate_limit_table_bounded(void)
{
	struct auth_config cfg = { .env_token = TOK_A, .rl_window_s = 60, .rl_max = 3 };
	struct sockaddr_in bad = v4("10.0.0.1");
	char err[256], ip[32];
	struct auth *a = auth__new(&cfg, err, sizeof(err));

	if (!a) {
		CHECK(a != NULL);
		return;
	}
	for (int i = 0; i < 3; i++)
		check(a, NULL, SA(bad), 1000);
	CHECK_EQ_INT(check(a, NULL, SA(bad), 1000), AUTH_LIMITED);
	for (int i = 0; i < 5000; i++) {
		struct sockaddr_in s;

		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250 + 1);
		s = v4(ip);
		CHECK_EQ_INT(check(a, NULL, SA(s), 1001 + i), AUTH_MISSING);
	}
	CHECK(auth__stats(a)->rl_evictions >= 5000 - AUTH_RL_SETS * AUTH_RL_WAYS);
	CHECK_EQ_INT(check(a, NULL, SA(bad), 7000), AUTH_LIMITED);
	auth__free(a);
}

static void test_token_file_rotation(void)
{
	struct auth_config cfg = { .rl_window_s = 60, .rl_max = 1000, .reload_ms = 1000 };
	struct sockaddr_in p = v4("127.0.0.1");
	char path[128], err[512];
	struct auth *a;

	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, "# the admin token\n" TOK_A "\r\n\n");
	chmod(path, 0600);
	cfg.token_file = path;
	a = auth__new(&cfg, err, sizeof(err));
	if (!a) {
		CHECK_MSG(a != NULL, "%s", err);
		return;
	}
	CHECK_EQ_INT(auth__source(a), AUTH_SRC_FILE);
	CHECK_EQ_STR(auth__path(a), path);
	CHECK_EQ_INT(auth__n_tokens(a), 1);
	CHECK(!auth__file_too_open(a));
	CHECK_EQ_INT(check(a, "Bearer " TOK_A, SA(p), 1000), AUTH_OK);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(p), 1000), AUTH_INVALID);

	/* rotation, step 1: both tokens; seen at the next look, not before */
	write_file(path, TOK_A "\n" TOK_B "\n");
	CHECK_EQ_INT(auth__reload(a, 500, err, sizeof(err)), 0);	/* < 1 s since the start */
	CHECK_EQ_INT(auth__reload(a, 2000, err, sizeof(err)), 1);
	CHECK_EQ_INT(auth__n_tokens(a), 2);
	CHECK_EQ_INT(check(a, "Bearer " TOK_A, SA(p), 2000), AUTH_OK);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(p), 2000), AUTH_OK);
	CHECK_EQ_INT(auth__reload(a, 3000, err, sizeof(err)), 0);	/* unchanged */

	/* step 2: the old token removed */
	write_file(path, TOK_B "\n");
	CHECK_EQ_INT(auth__reload(a, 4000, err, sizeof(err)), 1);
	CHECK_EQ_INT(check(a, "Bearer " TOK_A, SA(p), 4000), AUTH_INVALID);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(p), 4000), AUTH_OK);

	/* a broken file keeps the tokens in use, is reported once, and its
	 * content is not in the message */
	write_file(path, TOK_B "\nshort-secret-xyz\n");
	CHECK_EQ_INT(auth__reload(a, 5000, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK(!strstr(err, "short-secret-xyz") && !strstr(err, TOK_B));
	CHECK_EQ_INT(auth__reload(a, 6000, err, sizeof(err)), 0);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(p), 6000), AUTH_OK);
	unlink(path);
	CHECK_EQ_INT(auth__reload(a, 7000, err, sizeof(err)), -ENOENT);
	CHECK_EQ_INT(auth__reload(a, 8000, err, sizeof(err)), 0);
	CHECK_EQ_INT(check(a, "Bearer " TOK_B, SA(p), 8000), AUTH_OK);
	/* fixed: used again */
	write_file(path, TOK_A "\n");
	CHECK_EQ_INT(auth__reload(a, 9000, err, sizeof(err)), 1);
	CHECK_EQ_INT(check(a, "Bearer " TOK_A, SA(p), 9000), AUTH_OK);
	CHECK_EQ_INT(auth__stats(a)->reloads, 3);
	CHECK_EQ_INT(auth__stats(a)->reload_errors, 2);
	/* world-readable: the caller is told */
	chmod(path, 0644);
	write_file(path, TOK_A "\n" TOK_B "\n");
	chmod(path, 0644);
	CHECK_EQ_INT(auth__reload(a, 10000, err, sizeof(err)), 1);
	CHECK(auth__file_too_open(a));
	auth__free(a);
	unlink(path);
}

static void test_bad_sources(void)
{
	struct auth_config cfg = { .rl_window_s = 60, .rl_max = 10 };
	char path[128], err[512];
	struct auth *a;

	snprintf(path, sizeof(path), "%s/missing", dir);
	cfg.token_file = path;
	a = auth__new(&cfg, err, sizeof(err));
	CHECK(a == NULL && errno == ENOENT);
	CHECK(strstr(err, path) != NULL);

	snprintf(path, sizeof(path), "%s/empty", dir);
	write_file(path, "# nothing\n\n");
	a = auth__new(&cfg, err, sizeof(err));
	CHECK(a == NULL && errno == EINVAL);
	CHECK(strstr(err, "no token") != NULL);

	cfg.token_file = NULL;
	cfg.env_token = "too-short-secret";
	a = auth__new(&cfg, err, sizeof(err));
	CHECK(a == NULL && errno == EINVAL);
	CHECK(!strstr(err, "too-short-secret"));

	cfg.env_token = NULL;
	cfg.token_out = "/proc/version/cannot/be/here";
	a = auth__new(&cfg, err, sizeof(err));
	CHECK(a == NULL);
	CHECK(strstr(err, "/proc/version/cannot/be/here") != NULL);
}

static void test_generated_token(void)
{
	struct auth_config cfg = { .rl_window_s = 60, .rl_max = 10 };
	struct sockaddr_in p = v4("127.0.0.1");
	char path[128], err[512], tok[128], hdr[160];
	struct stat st;
	struct auth *a;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/run/admin-token", dir);
	cfg.token_out = path;
	a = auth__new(&cfg, err, sizeof(err));
	if (!a) {
		CHECK_MSG(a != NULL, "%s", err);
		return;
	}
	CHECK_EQ_INT(auth__source(a), AUTH_SRC_GENERATED);
	CHECK_EQ_STR(auth__path(a), path);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	fd = open(path, O_RDONLY);
	n = read(fd, tok, sizeof(tok) - 1);
	close(fd);
	CHECK_EQ_INT(n, 65);
	tok[n > 0 ? n - 1 : 0] = 0;
	CHECK_EQ_INT(strspn(tok, "0123456789abcdef"), 64);
	snprintf(hdr, sizeof(hdr), "Bearer %s", tok);
	CHECK_EQ_INT(check(a, hdr, SA(p), 1), AUTH_OK);
	auth__free(a);
	/* a second start writes a different token */
	a = auth__new(&cfg, err, sizeof(err));
	CHECK(a != NULL);
	if (a)
		CHECK_EQ_INT(check(a, hdr, SA(p), 1), AUTH_INVALID);
	auth__free(a);
	snprintf(hdr, sizeof(hdr), "%s/run", dir);
	CHECK(stat(hdr, &st) == 0 && (st.st_mode & 0777) == 0700);
	unlink(path);
	rmdir(hdr);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_is_token);
	RUN(test_header_forms);
	RUN(test_rate_limit);
	RUN(test_rate_limit_table_bounded);
	RUN(test_token_file_rotation);
	RUN(test_bad_sources);
	RUN(test_generated_token);
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_summary();
}
