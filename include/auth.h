/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth.h - the admin token of the metrics endpoints, and the per-address
 * limit on failed attempts.
 *
 * Tokens come from a file (one per line, several during a rotation; re-read
 * when the file changes), from SBA_ADMIN_TOKEN, or are generated and written
 * to a mode-0600 file. Only their SHA-256 digests are kept; a presented
 * token is hashed and compared with every digest in constant time, so
 * neither the position of a wrong byte nor the length leaks through timing.
 *
 * Failures (missing, malformed or wrong token) are counted per client
 * address in a fixed table (IPv6 by /64); past `max` failures in a `window`
 * the address is answered 429 until the window ends. A request with a right
 * token is always served, even from a limited address: it is checked first.
 * Tokens are at least AUTH_TOKEN_MIN bytes, so online guessing is hopeless
 * anyway; the limit keeps floods cheap and visible.
 *
 * Not thread-safe: one thread (the httpd's) owns a struct auth. Nothing here
 * logs; messages come back to the caller, and never contain a token.
 */
#ifndef SBA_AUTH_H
#define SBA_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define AUTH_TOKEN_MIN 32		/* bytes */
#define AUTH_TOKEN_MAX 4096
#define AUTH_MAX_TOKENS 8		/* tokens held at once (rotation) */
#define AUTH_FILE_MAX 65536		/* a token file larger than this is refused */
#define AUTH_RL_SETS 256		/* rate-limit table: sets x ways entries */
#define AUTH_RL_WAYS 4
#define AUTH_DEFAULT_TOKEN_OUT "/run/sba-observer/admin-token"

enum auth_source {
	AUTH_SRC_FILE = 0,	/* --token-file */
	AUTH_SRC_ENV = 1,	/* SBA_ADMIN_TOKEN */
	AUTH_SRC_GENERATED = 2,	/* random, written to token_out */
};

struct auth_config {
	const char *token_file;		/* NULL: no file */
	const char *env_token;		/* the value of SBA_ADMIN_TOKEN, or NULL */
	const char *token_out;		/* where a generated token goes (NULL: default) */
	uint32_t rl_window_s;		/* failure-counting window, >= 1 */
	uint32_t rl_max;		/* failures allowed per window, >= 1 */
	uint32_t reload_ms;		/* token file checked at most this often */
};

enum auth_verdict {
	AUTH_OK = 0,		/* serve */
	AUTH_MISSING = 1,	/* no header, or not "Bearer <token>": 401, WWW-Authenticate: Bearer */
	AUTH_INVALID = 2,	/* a token that is not ours: 401, error="invalid_token" */
	AUTH_LIMITED = 3,	/* too many failures from this address: 429, Retry-After */
};

struct auth_stats {
	uint64_t ok, missing, invalid, limited;	/* verdicts given */
	uint64_t reloads, reload_errors;	/* token file */
	uint64_t rl_evictions;			/* table entries reused for a new address */
};

struct auth;

/*
 * Sets up the tokens from cfg: token_file if set, else env_token if set,
 * else a generated token written to token_out. Returns NULL with errno set
 * on failure, and a message in err (never a token).
 */
struct auth *auth__new(const struct auth_config *cfg, char *err, size_t errsz);
void auth__free(struct auth *a);

enum auth_source auth__source(const struct auth *a);
/* Path of the token file read or written; NULL for AUTH_SRC_ENV. */
const char *auth__path(const struct auth *a);
unsigned int auth__n_tokens(const struct auth *a);
/* True when the token file can be read or written by others than its owner
 * and group (a warning for the caller to log). */
bool auth__file_too_open(const struct auth *a);

/*
 * Re-reads the token file if it changed (dev, inode, size, mtime, ctime)
 * and at least reload_ms passed since the last look. Returns 1 when a new
 * set of tokens is in use, 0 when nothing changed, -errno when the changed
 * file could not be used (the previous tokens stay; the same broken state
 * is reported once), with a message in err.
 */
int auth__reload(struct auth *a, uint64_t now_ms, char *err, size_t errsz);

/*
 * Judges a request from peer carrying this Authorization header (NULL if
 * absent). A right token is AUTH_OK whatever the address did before. Any
 * other verdict counts a failure for peer. *retry_after_s is set for
 * AUTH_LIMITED.
 */
enum auth_verdict auth__check(struct auth *a, const char *authorization, const struct sockaddr *peer,
			      uint64_t now_ms, uint32_t *retry_after_s);

/* Counts a failure the caller decided on (a token in the URL). Returns
 * AUTH_LIMITED (with *retry_after_s) if peer is now over the limit, else
 * AUTH_INVALID. */
enum auth_verdict auth__fail(struct auth *a, const struct sockaddr *peer, uint64_t now_ms,
			     uint32_t *retry_after_s);

const struct auth_stats *auth__stats(const struct auth *a);

/* Compares a and b (n bytes) in time independent of their contents. */
bool auth_memeq(const void *a, const void *b, size_t n);

/* True when s[0..n) is a valid bearer token (RFC 6750 b64token, length
 * AUTH_TOKEN_MIN..AUTH_TOKEN_MAX). */
bool auth_is_token(const char *s, size_t n);

#endif /* SBA_AUTH_H */
