// SPDX-License-Identifier: Apache-2.0
/*
 * auth.c - admin tokens (file, environment, generated), constant-time
 * checks, and the failure limit per client address (see auth.h).
 *
 * The tricky part is what must never happen: a token in a message, a
 * comparison whose time depends on where the first wrong byte is, or a
 * half-written token file replacing good tokens with nothing. Raw tokens
 * live only in buffers that are wiped once hashed; a broken file keeps the
 * previous tokens in use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/memops.h>
#include <nettle/sha2.h>

#include "auth.h"

#define DIGEST_LEN SHA256_DIGEST_SIZE

struct file_sig {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int err;		/* stat() errno, 0 if it succeeded */
};

struct rl_entry {
	uint8_t key[16];	/* IPv6, or IPv4-mapped; IPv6 cut to /64 */
	uint64_t window_start_ms;
	uint64_t last_ms;
	uint32_t failures;	/* in the current window */
	bool used;
};

struct auth {
	enum auth_source source;
	char *path;
	uint8_t digest[AUTH_MAX_TOKENS][DIGEST_LEN];
	uint8_t in_use[AUTH_MAX_TOKENS];	/* 0 or 1 */
	unsigned int n_tokens;
	struct file_sig sig;		/* of the tokens in use */
	struct file_sig bad_sig;	/* of the last file that could not be used */
	bool have_bad_sig;
	mode_t mode;
	uint64_t last_look_ms;
	uint32_t reload_ms, rl_window_ms, rl_max;
	uint64_t hash_seed[2];
	struct rl_entry rl[AUTH_RL_SETS][AUTH_RL_WAYS];
	struct auth_stats stats;
};

bool auth_memeq(const void *a, const void *b, size_t n)
{
	return memeql_sec(a, b, n) != 0;
}

static bool is_b64token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

bool auth_is_token(const char *s, size_t n)
{
	size_t i = 0;

	if (n < AUTH_TOKEN_MIN || n > AUTH_TOKEN_MAX)
		return false;
	while (i < n && is_b64token_char(s[i]))
		i++;
	if (!i)
		return false;
	while (i < n && s[i] == '=')
		i++;
	return i == n;
}

static void digest_of(const char *s, size_t n, uint8_t out[DIGEST_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, n, (const uint8_t *)s);
	sha256_digest(&ctx, DIGEST_LEN, out);
	explicit_bzero(&ctx, sizeof(ctx));
}

/* ---- token sources ---- */

static void get_sig(const char *path, struct file_sig *sig)
{
	struct stat st;

	memset(sig, 0, sizeof(*sig));
	if (stat(path, &st)) {
		sig->err = errno;
		return;
	}
	sig->dev = st.st_dev;
	sig->ino = st.st_ino;
	sig->size = st.st_size;
	sig->mtime = st.st_mtim;
	sig->ctime = st.st_ctim;
}

static bool sig_eq(const struct file_sig *a, const struct file_sig *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/*
 * Parses the tokens of a file's text into digests: one per line, blank
 * lines and '#' comments skipped, surrounding blanks trimmed. Returns the
 * number of tokens, or -EINVAL with a message naming the line (not its text).
 */
static int parse_tokens(const char *text, size_t len, uint8_t (*dig)[DIGEST_LEN],
			const char *what, char *err, size_t errsz)
{
	size_t pos = 0;
	int n = 0, line = 0;

	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - s) : len - pos;

		pos += l + (nl ? 1 : 0);
		line++;
		while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		while (l && (*s == ' ' || *s == '\t'))
			s++, l--;
		if (!l || *s == '#')
			continue;
		if (!auth_is_token(s, l)) {
			snprintf(err, errsz,
				 "%s, line %d: not a token (%d to %d characters from A-Z a-z 0-9 "
				 "-._~+/ with optional trailing =)",
				 what, line, AUTH_TOKEN_MIN, AUTH_TOKEN_MAX);
			return -EINVAL;
		}
		if (n == AUTH_MAX_TOKENS) {
			snprintf(err, errsz, "%s: more than %d tokens", what, AUTH_MAX_TOKENS);
			return -EINVAL;
		}
		digest_of(s, l, dig[n++]);
	}
	if (!n) {
		snprintf(err, errsz, "%s: no token in it", what);
		return -EINVAL;
	}
	return n;
}

/* Reads the token file into digests; sig is what was read. */
static int read_token_file(const char *path, uint8_t (*dig)[DIGEST_LEN], struct file_sig *sig,
			   mode_t *mode, char *err, size_t errsz)
{
	char *text = NULL, what[PATH_MAX + 16];
	struct stat st;
	ssize_t got = 0, r = 0;
	int fd, n;

	snprintf(what, sizeof(what), "token file %s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		n = -errno;
		snprintf(err, errsz, "cannot read %s: %s", what, strerror(-n));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > AUTH_FILE_MAX) {
		n = -EINVAL;
		snprintf(err, errsz, "%s: not a regular file of at most %d bytes", what,
			 AUTH_FILE_MAX);
		goto out;
	}
	text = malloc(AUTH_FILE_MAX + 1);
	if (!text) {
		n = -ENOMEM;
		snprintf(err, errsz, "%s: out of memory", what);
		goto out;
	}
	while (got <= AUTH_FILE_MAX && (r = read(fd, text + got, AUTH_FILE_MAX + 1 - got)) > 0)
		got += r;
	if (r < 0 || got > AUTH_FILE_MAX) {
		n = r < 0 ? -errno : -EINVAL;
		snprintf(err, errsz, "cannot read %s: %s", what,
			 r < 0 ? strerror(errno) : "larger than 64 KiB");
		goto out;
	}
	n = parse_tokens(text, (size_t)got, dig, what, err, errsz);
	*mode = st.st_mode;
	sig->dev = st.st_dev;
	sig->ino = st.st_ino;
	sig->size = st.st_size;
	sig->mtime = st.st_mtim;
	sig->ctime = st.st_ctim;
	sig->err = 0;
out:
	if (text) {
		explicit_bzero(text, AUTH_FILE_MAX + 1);
		free(text);
	}
	if (fd >= 0)
		close(fd);
	return n;
}

/* mkdir of the parent directory (mode 0700) when it is missing. */
static int make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* A random token (64 hex characters), written atomically with mode 0600. */
static int generate_token(const char *path, uint8_t dig[DIGEST_LEN], char *err, size_t errsz)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[32];
	char tok[2 * sizeof(raw) + 1], tmp[PATH_MAX];
	ssize_t got;
	int fd = -1, e = 0;

	got = getrandom(raw, sizeof(raw), 0);
	if (got != (ssize_t)sizeof(raw)) {
		e = got < 0 ? -errno : -EIO;
		snprintf(err, errsz, "cannot get random bytes for the admin token: %s",
			 strerror(-e));
		return e;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		tok[2 * i] = hex[raw[i] >> 4];
		tok[2 * i + 1] = hex[raw[i] & 15];
	}
	tok[2 * sizeof(raw)] = '\n';
	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		e = -ENAMETOOLONG;
		goto fail;
	}
	e = make_parent(path);
	if (e)
		goto fail;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) || write(fd, tok, sizeof(tok)) != (ssize_t)sizeof(tok) ||
	    fsync(fd) || close(fd)) {
		e = -errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto fail;
	}
	if (rename(tmp, path)) {
		e = -errno;
		unlink(tmp);
		goto fail;
	}
	digest_of(tok, sizeof(tok) - 1, dig);
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(raw, sizeof(raw));
	return 0;
fail:
	explicit_bzero(tok, sizeof(tok));
	explicit_bzero(raw, sizeof(raw));
	snprintf(err, errsz, "cannot write the generated admin token to %s: %s (set --token-out, "
		 "--token-file or SBA_ADMIN_TOKEN)", path, strerror(-e));
	return e;
}

struct auth *auth__new(const struct auth_config *cfg, char *err, size_t errsz)
{
	uint8_t dig[AUTH_MAX_TOKENS][DIGEST_LEN];
	struct auth *a;
	int n = 0, e = 0;

	err[0] = 0;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errsz, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	a->reload_ms = cfg->reload_ms;
	/* the caller keeps the window under 49 days */
	a->rl_window_ms = (cfg->rl_window_s ? cfg->rl_window_s : 60) * 1000U;
	a->rl_max = cfg->rl_max ? cfg->rl_max : 10;
	if (getrandom(a->hash_seed, sizeof(a->hash_seed), 0) != (ssize_t)sizeof(a->hash_seed))
		a->hash_seed[0] = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;

	if (cfg->token_file) {
		a->source = AUTH_SRC_FILE;
		a->path = strdup(cfg->token_file);
		n = a->path ? read_token_file(a->path, dig, &a->sig, &a->mode, err, errsz) : -ENOMEM;
	} else if (cfg->env_token) {
		a->source = AUTH_SRC_ENV;
		n = parse_tokens(cfg->env_token, strlen(cfg->env_token), dig, "SBA_ADMIN_TOKEN", err,
				 errsz);
		if (n > 1) {
			snprintf(err, errsz, "SBA_ADMIN_TOKEN: one token only");
			n = -EINVAL;
		}
	} else {
		a->source = AUTH_SRC_GENERATED;
		a->path = strdup(cfg->token_out ? cfg->token_out : AUTH_DEFAULT_TOKEN_OUT);
		n = a->path ? generate_token(a->path, dig[0], err, errsz) : -ENOMEM;
		if (!n) {
			n = 1;
			get_sig(a->path, &a->sig);
		}
	}
	if (n < 0) {
		e = -n;
		if (!err[0])
			snprintf(err, errsz, "admin token: %s", strerror(e));
		explicit_bzero(dig, sizeof(dig));
		auth__free(a);
		errno = e;
		return NULL;
	}
	memcpy(a->digest, dig, (size_t)n * DIGEST_LEN);
	for (int i = 0; i < n; i++)
		a->in_use[i] = 1;
	a->n_tokens = (unsigned int)n;
	explicit_bzero(dig, sizeof(dig));
	return a;
}

void auth__free(struct auth *a)
{
	if (!a)
		return;
	free(a->path);
	explicit_bzero(a, sizeof(*a));
	free(a);
}

enum auth_source auth__source(const struct auth *a)
{
	return a->source;
}

const char *auth__path(const struct auth *a)
{
	return a->path;
}

unsigned int auth__n_tokens(const struct auth *a)
{
	return a->n_tokens;
}

bool auth__file_too_open(const struct auth *a)
{
	return a->source == AUTH_SRC_FILE && (a->mode & 0027);
}

const struct auth_stats *auth__stats(const struct auth *a)
{
	return &a->stats;
}

int auth__reload(struct auth *a, uint64_t now_ms, char *err, size_t errsz)
{
	uint8_t dig[AUTH_MAX_TOKENS][DIGEST_LEN];
	struct file_sig sig, got = { 0 };
	mode_t mode = 0;
	int n;

	err[0] = 0;
	if (a->source != AUTH_SRC_FILE || now_ms - a->last_look_ms < a->reload_ms)
		return 0;
	a->last_look_ms = now_ms;
	get_sig(a->path, &sig);
	if (sig_eq(&sig, &a->sig) || (a->have_bad_sig && sig_eq(&sig, &a->bad_sig)))
		return 0;
	n = read_token_file(a->path, dig, &got, &mode, err, errsz);
	if (n < 0) {
		a->bad_sig = sig;
		a->have_bad_sig = true;
		a->stats.reload_errors++;
		explicit_bzero(dig, sizeof(dig));
		return n;
	}
	memset(a->in_use, 0, sizeof(a->in_use));
	memset(a->digest, 0, sizeof(a->digest));
	memcpy(a->digest, dig, (size_t)n * DIGEST_LEN);
	for (int i = 0; i < n; i++)
		a->in_use[i] = 1;
	a->n_tokens = (unsigned int)n;
	a->sig = got;
	a->mode = mode;
	a->have_bad_sig = false;
	a->stats.reloads++;
	explicit_bzero(dig, sizeof(dig));
	return 1;
}

/* ---- checks ---- */

/*
 * "Bearer <token>" (scheme case-insensitive, RFC 6750 2.1): sets *tok and *len
 * and returns true; false when absent or malformed.
 */
static bool parse_bearer(const char *h, const char **tok, size_t *len)
{
	size_t n;

	if (!h || strncasecmp(h, "Bearer", 6) || (h[6] != ' ' && h[6] != '\t'))
		return false;
	h += 6;
	while (*h == ' ' || *h == '\t')
		h++;
	n = strlen(h);
	while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	if (!n || n > AUTH_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_b64token_char(h[i]) && h[i] != '=')
			return false;
	*tok = h;
	*len = n;
	return true;
}

/* True when tok is one of ours. Every slot is compared, whatever matches. */
static bool token_matches(const struct auth *a, const char *tok, size_t len)
{
	uint8_t d[DIGEST_LEN];
	unsigned int hit = 0;

	digest_of(tok, len, d);
	for (int i = 0; i < AUTH_MAX_TOKENS; i++)
		hit |= (unsigned int)memeql_sec(d, a->digest[i], DIGEST_LEN) & a->in_use[i];
	explicit_bzero(d, sizeof(d));
	return hit != 0;
}

static void peer_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(key, &in6->sin6_addr, 16);
		/* IPv4-mapped stays whole; native IPv6 is one client per /64 */
		if (!(IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)))
			memset(key + 8, 0, 8);
	}
}

static unsigned int rl_set(const struct auth *a, const uint8_t key[16])
{
	uint64_t h = a->hash_seed[0], lo, hi;

	memcpy(&lo, key, 8);
	memcpy(&hi, key + 8, 8);
	h ^= lo * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	h ^= (hi + a->hash_seed[1]) * 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (unsigned int)(h % AUTH_RL_SETS);
}

static bool rl_blocked(const struct auth *a, const struct rl_entry *r, uint64_t now)
{
	return r->failures >= a->rl_max && now - r->window_start_ms < a->rl_window_ms;
}

/* The entry of key, or the one it replaces (free, else oldest unblocked, else oldest). */
static struct rl_entry *rl_find(struct auth *a, const uint8_t key[16], uint64_t now, bool create)
{
	struct rl_entry *set = a->rl[rl_set(a, key)], *victim = NULL;

	for (int w = 0; w < AUTH_RL_WAYS; w++)
		if (set[w].used && !memcmp(set[w].key, key, 16))
			return &set[w];
	if (!create)
		return NULL;
	for (int w = 0; w < AUTH_RL_WAYS; w++) {
		struct rl_entry *r = &set[w];

		if (!r->used) {
			victim = r;
			break;
		}
		if (!victim || (rl_blocked(a, victim, now) && !rl_blocked(a, r, now)) ||
		    (rl_blocked(a, victim, now) == rl_blocked(a, r, now) && r->last_ms < victim->last_ms))
			victim = r;
	}
	if (victim->used)
		a->stats.rl_evictions++;
	memset(victim, 0, sizeof(*victim));
	memcpy(victim->key, key, 16);
	victim->used = true;
	victim->window_start_ms = now;
	return victim;
}

static uint32_t retry_after(const struct auth *a, const struct rl_entry *r, uint64_t now)
{
	uint64_t left = r->window_start_ms + a->rl_window_ms - now;

	return (uint32_t)((left + 999) / 1000);
}

/* Is peer limited right now (without counting anything)? */
static bool peer_limited(struct auth *a, const uint8_t key[16], uint64_t now, uint32_t *ra)
{
	struct rl_entry *r = rl_find(a, key, now, false);

	if (r && rl_blocked(a, r, now)) {
		*ra = retry_after(a, r, now);
		return true;
	}
	return false;
}

static void count_failure(struct auth *a, const uint8_t key[16], uint64_t now)
{
	struct rl_entry *r = rl_find(a, key, now, true);

	if (now - r->window_start_ms >= a->rl_window_ms) {
		r->window_start_ms = now;
		r->failures = 0;
	}
	if (r->failures < UINT32_MAX)
		r->failures++;
	r->last_ms = now;
}

enum auth_verdict auth__fail(struct auth *a, const struct sockaddr *peer, uint64_t now_ms,
			     uint32_t *retry_after_s)
{
	uint8_t key[16];

	peer_key(peer, key);
	if (peer_limited(a, key, now_ms, retry_after_s)) {
		a->stats.limited++;
		return AUTH_LIMITED;
	}
	count_failure(a, key, now_ms);
	a->stats.invalid++;
	return AUTH_INVALID;
}

enum auth_verdict auth__check(struct auth *a, const char *authorization, const struct sockaddr *peer,
			      uint64_t now_ms, uint32_t *retry_after_s)
{
	enum auth_verdict v;
	const char *tok;
	uint8_t key[16];
	size_t len;

	*retry_after_s = 0;
	if (!parse_bearer(authorization, &tok, &len)) {
		v = AUTH_MISSING;
	} else if (token_matches(a, tok, len)) {
		a->stats.ok++;
		return AUTH_OK;
	} else {
		v = AUTH_INVALID;
	}
	peer_key(peer, key);
	if (peer_limited(a, key, now_ms, retry_after_s)) {
		a->stats.limited++;
		return AUTH_LIMITED;
	}
	count_failure(a, key, now_ms);
	if (v == AUTH_MISSING)
		a->stats.missing++;
	else
		a->stats.invalid++;
	return v;
}
