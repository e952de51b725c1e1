// SPDX-License-Identifier: Apache-2.0
/*
 * httpd.c - the metrics endpoint (see httpd.h): libmicrohttpd in external-
 * loop mode, run by one thread of ours that also enforces what libmicro-
 * httpd 0.9.75 cannot: a deadline per request. MHD's own timeout counts
 * inactivity only, so a client sending one byte per second would hold a
 * connection forever; here every connection has a start time (reset when a
 * response completes) and the loop shuts down the socket of any connection
 * past the deadline. Connection open/close notifications and the sweep run
 * on the same thread, and MHD notifies "closed" before it closes the fd,
 * so the sweep never touches a descriptor that was reused.
 *
 * TLS certificates are re-read when their files change: the GnuTLS
 * certificate callback hands each handshake its own copy (parsed from the
 * PEM kept in memory), which GnuTLS frees, so a rotation never frees
 * something a session still uses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "buf.h"
#include "drainreq.h"
#include "httpd.h"
#include "log.h"
#include "selfmetrics.h"

#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define TLS_MAX_CHAIN 8
#define TLS_FILE_MAX (1 << 20)
/* The endpoint thread's wait: with connections open, the grain of the
 * deadline sweep; with none, nothing is due, and httpd__stop() wakes it. */
#define LOOP_WAIT_MS 200
#define IDLE_WAIT_MS 1000
/* How long a scrape waits for the drain it asked for (drainreq.h): a drain
 * of a full 8 MiB ring takes tens of ms; longer means the loop is stuck,
 * and the endpoint has one thread: /healthz may wait behind it. */
#define FRESH_WAIT_MS 500
#define LOG_EVERY_MS 10000
#define WORKERS_PREFIX "sba_worker_"

/* Status codes this endpoint answers with, for sba_observer_http_requests_total. */
static const unsigned int codes[] = { 200, 400, 401, 404, 405, 429, 500, 503 };
#define N_CODES (sizeof(codes) / sizeof(codes[0]))

struct conn_slot {
	int fd;
	uint64_t start_ms;	/* connection start, or end of the last response */
	bool used, cut;
};

struct tls_files {
	char *cert, *key;		/* PEM in use */
	size_t cert_len, key_len;
	struct stat cert_st, key_st;	/* what was read (or found broken) */
	uint64_t last_look_ms;
	uint64_t reloads, reload_errors;
};

struct httpd {
	struct MHD_Daemon *d;
	pthread_t thread;
	bool thread_started;
	int stop;				/* atomic */
	struct httpd_config cfg;
	struct auth *auth;			/* NULL with no_auth */
	const struct selfmetrics_shared *ready;
	struct httpd_renderer rend[HTTPD_MAX_RENDERERS];
	struct httpd_debug dbg;
	struct drainreq *fresh;		/* NULL: serve what the last drain left */
	int n_rend;
	struct conn_slot slots[HTTPD_MAX_CONNS];
	unsigned int open_conns;
	struct tls_files tls;
	bool use_tls;
	struct sockaddr_storage wake_addr;	/* our listening address, to wake the thread */
	socklen_t wake_len;			/* 0: unknown */
	/* counters, owned by the httpd thread */
	uint64_t by_code[N_CODES];
	uint64_t url_credentials, deadline_cuts, slots_full;
	double last_render_s;
	size_t last_render_bytes;
	/* log throttling */
	uint64_t limited_since_log, last_limit_log_ms;
	char last_limited_addr[INET6_ADDRSTRLEN];
};

/* The GnuTLS certificate callback has no closure: one endpoint per process. */
static struct httpd *tls_owner;

static uint64_t now_ms(void)
{
	return selfmetrics_now_ns() / 1000000ULL;
}

/* ---- configuration ---- */

void httpd_config_defaults(struct httpd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = HTTPD_DEFAULT_LISTEN;
	c->auth.rl_window_s = 60;
	c->auth.rl_max = 10;
	c->auth.reload_ms = 1000;
	c->max_conns = 64;
	c->per_ip_conns = 8;
	c->idle_timeout_s = 5;
	c->deadline_s = 10;
	c->header_limit = 32 * 1024;
	c->ready_stale_ms = 5000;
}

bool httpd_is_disabled(const struct httpd_config *cfg)
{
	return !cfg->listen || !strcmp(cfg->listen, "none");
}

int httpd_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + 2], *end;
	const char *colon;
	unsigned long port;
	size_t hlen;

	memset(ss, 0, sizeof(*ss));
	if (!s)
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hlen = (size_t)(rb - s - 1);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
		if (hlen >= sizeof(host) || memchr(s, ':', hlen))
			return -EINVAL;
		memcpy(host, s, hlen);
	}
	host[hlen] = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port == 0 || port > 65535 || colon[1] == '-' ||
	    colon[1] == '+')
		return -EINVAL;
	if (s[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (!hlen)
			strcpy(host, "0.0.0.0");
		else if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a);
	}
	return 0;
}

bool httpd_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static void addr_str(const struct sockaddr *sa, char *out, size_t n)
{
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
	else
		snprintf(out, n, "?");
}

/* ---- TLS: certificate files, re-read when they change ---- */

static int read_file(const char *path, char **out, size_t *len, struct stat *st)
{
	char *data;
	ssize_t got = 0, r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), err;

	if (fd < 0)
		return -errno;
	err = fstat(fd, st) ? -errno : !S_ISREG(st->st_mode) ? -EINVAL
				     : st->st_size > TLS_FILE_MAX ? -EFBIG : 0;
	if (err) {
		close(fd);
		return err;
	}
	data = malloc((size_t)st->st_size + 1);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < st->st_size && (r = read(fd, data + got, (size_t)(st->st_size - got))) > 0)
		got += r;
	err = r < 0 ? -errno : 0;
	close(fd);
	if (err) {
		explicit_bzero(data, (size_t)st->st_size + 1);
		free(data);
		return err;
	}
	data[got] = 0;
	*out = data;
	*len = (size_t)got;
	return 0;
}

static void free_secret(char *p, size_t n)
{
	if (p) {
		explicit_bzero(p, n);
		free(p);
	}
}

/* Parses a PEM pair into a fresh certificate chain and key, checking that
 * the key belongs to the first certificate. Returns 0 or a GnuTLS error. */
static int tls_parse(const char *cert, size_t cert_len, const char *key, size_t key_len,
		     gnutls_pcert_st **pcerts, unsigned int *n, gnutls_privkey_t *pkey)
{
	gnutls_datum_t c = { (unsigned char *)cert, (unsigned int)cert_len };
	gnutls_datum_t k = { (unsigned char *)key, (unsigned int)key_len };
	unsigned char id1[64], id2[64];
	size_t l1 = sizeof(id1), l2 = sizeof(id2);
	gnutls_pubkey_t pub = NULL;
	gnutls_pcert_st *pc;
	int rc;

	*n = TLS_MAX_CHAIN;
	*pkey = NULL;
	pc = gnutls_calloc(TLS_MAX_CHAIN, sizeof(*pc));
	if (!pc)
		return GNUTLS_E_MEMORY_ERROR;
	rc = gnutls_pcert_list_import_x509_raw(pc, n, &c, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		gnutls_free(pc);
		return rc;
	}
	rc = gnutls_privkey_init(pkey);
	if (!rc)
		rc = gnutls_privkey_import_x509_raw(*pkey, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (!rc)
		rc = gnutls_pubkey_init(&pub);
	if (!rc)
		rc = gnutls_pubkey_import_privkey(pub, *pkey, 0, 0);
	if (!rc)
		rc = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, id1, &l1);
	if (!rc)
		rc = gnutls_pubkey_get_key_id(pc[0].pubkey, GNUTLS_KEYID_USE_SHA256, id2, &l2);
	if (!rc && (l1 != l2 || memcmp(id1, id2, l1)))
		rc = GNUTLS_E_CERTIFICATE_KEY_MISMATCH;
	if (pub)
		gnutls_pubkey_deinit(pub);
	if (rc < 0) {
		for (unsigned int i = 0; i < *n; i++)
			gnutls_pcert_deinit(&pc[i]);
		gnutls_free(pc);
		if (*pkey)
			gnutls_privkey_deinit(*pkey);
		*pkey = NULL;
	} else {
		*pcerts = pc;
	}
	return rc;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Loads the certificate and key if they changed (at start: always). A pair
 * that does not parse or does not match leaves the previous one in use.
 * Returns 1 on a new pair, 0 when unchanged, -1 on error (logged).
 */
static int tls_load(struct httpd *h, bool first)
{
	struct tls_files *t = &h->tls;
	struct stat cs, ks;
	char *cert = NULL, *key = NULL;
	size_t cl = 0, kl = 0;
	gnutls_pcert_st *pc;
	gnutls_privkey_t pk;
	unsigned int n;
	int rc;

	if (!first) {
		if (stat(h->cfg.tls_cert, &cs) || stat(h->cfg.tls_key, &ks) ||
		    (same_file(&cs, &t->cert_st) && same_file(&ks, &t->key_st)))
			return 0;
	}
	rc = read_file(h->cfg.tls_cert, &cert, &cl, &cs);
	if (rc) {
		pr_warn("cannot read the TLS certificate %s: %s\n", h->cfg.tls_cert, strerror(-rc));
		goto fail;
	}
	rc = read_file(h->cfg.tls_key, &key, &kl, &ks);
	if (rc) {
		pr_warn("cannot read the TLS key %s: %s\n", h->cfg.tls_key, strerror(-rc));
		goto fail;
	}
	rc = tls_parse(cert, cl, key, kl, &pc, &n, &pk);
	if (rc < 0) {
		pr_warn("TLS certificate %s and key %s not usable: %s\n", h->cfg.tls_cert,
			h->cfg.tls_key, gnutls_strerror(rc));
		goto fail;
	}
	for (unsigned int i = 0; i < n; i++)
		gnutls_pcert_deinit(&pc[i]);
	gnutls_free(pc);
	gnutls_privkey_deinit(pk);
	free_secret(t->cert, t->cert_len);
	free_secret(t->key, t->key_len);
	t->cert = cert;
	t->cert_len = cl;
	t->key = key;
	t->key_len = kl;
	t->cert_st = cs;
	t->key_st = ks;
	if (!first) {
		t->reloads++;
		pr_info("TLS certificate %s reloaded\n", h->cfg.tls_cert);
	}
	return 1;
fail:
	free_secret(cert, cl);
	free_secret(key, kl);
	/* remember the broken pair: reported once, retried when a file changes */
	stat(h->cfg.tls_cert, &t->cert_st);
	stat(h->cfg.tls_key, &t->key_st);
	if (!first)
		t->reload_errors++;
	return -1;
}

static int tls_cert_cb(gnutls_session_t session, const struct gnutls_cert_retr_st *info,
		       gnutls_pcert_st **certs, unsigned int *n, gnutls_ocsp_data_st **ocsp,
		       unsigned int *ocsp_len, gnutls_privkey_t *pkey, unsigned int *flags)
{
	struct httpd *h = tls_owner;
	uint64_t now = now_ms();

	*ocsp = NULL;
	*ocsp_len = 0;
	if (!h || !h->tls.cert)
		return -1;
	if (now - h->tls.last_look_ms >= 1000) {
		h->tls.last_look_ms = now;
		tls_load(h, false);
	}
	if (tls_parse(h->tls.cert, h->tls.cert_len, h->tls.key, h->tls.key_len, certs, n, pkey) < 0)
		return -1;
	*flags = GNUTLS_CERT_RETR_DEINIT_ALL;	/* GnuTLS frees this copy after use */
	return 0;
}

/* ---- responses ---- */

static void count_code(struct httpd *h, unsigned int code)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (codes[i] == code)
			h->by_code[i]++;
}

/*
 * Queues a response. body is copied unless owned (then freed by MHD).
 * extra is NULL or name/value pairs ending with NULL.
 */
static enum MHD_Result reply(struct httpd *h, struct MHD_Connection *c, unsigned int code,
			     const char *ctype, const char *body, size_t len, bool owned,
			     const char *const *extra)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (owned)
		r = MHD_create_response_from_buffer_with_free_callback(len, (void *)body, free);
	else
		r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
	if (h->use_tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
	for (; extra && extra[0]; extra += 2)
		MHD_add_response_header(r, extra[0], extra[1]);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	count_code(h, code);
	return ret;
}

#define TEXT "text/plain; charset=utf-8"

static enum MHD_Result reply_text(struct httpd *h, struct MHD_Connection *c, unsigned int code,
				  const char *body, const char *const *extra)
{
	return reply(h, c, code, TEXT, body, strlen(body), false, extra);
}

/* ---- the endpoint's own families ---- */

static void render_self(struct httpd *h, struct expo *e)
{
	const struct auth_stats *as = h->auth ? auth__stats(h->auth) : NULL;
	char code[8];

	expo_family(e, "sba_observer_http_requests", EXPO_COUNTER,
		    "Requests answered by the metrics endpoint, by status code (responses that "
		    "libmicrohttpd sends itself, such as 431, are not counted).");
	for (size_t i = 0; i < N_CODES; i++) {
		snprintf(code, sizeof(code), "%u", codes[i]);
		expo_counter(e, (struct expo_label[]){ { "code", code } }, 1, h->by_code[i]);
	}
	expo_family(e, "sba_observer_http_auth_failures", EXPO_COUNTER,
		    "Requests refused by the admin-token check: missing (no or malformed "
		    "Authorization header), invalid (wrong token), url (credentials in the query "
		    "string), limited (answered 429).");
	if (as) {
		expo_counter(e, (struct expo_label[]){ { "reason", "missing" } }, 1, as->missing);
		expo_counter(e, (struct expo_label[]){ { "reason", "invalid" } }, 1,
			     as->invalid - h->url_credentials);
		expo_counter(e, (struct expo_label[]){ { "reason", "url" } }, 1, h->url_credentials);
		expo_counter(e, (struct expo_label[]){ { "reason", "limited" } }, 1, as->limited);
	}
	expo_family(e, "sba_observer_http_connections", EXPO_GAUGE,
		    "Connections open on the metrics endpoint.");
	expo_gauge(e, NULL, 0, h->open_conns);
	expo_family(e, "sba_observer_http_deadline_cuts", EXPO_COUNTER,
		    "Connections closed because a request took longer than the deadline "
		    "(slow clients).");
	expo_counter(e, NULL, 0, h->deadline_cuts);
	expo_family(e, "sba_observer_token_reloads", EXPO_COUNTER,
		    "Re-reads of the admin token file after it changed, by result.");
	if (as) {
		expo_counter(e, (struct expo_label[]){ { "result", "ok" } }, 1, as->reloads);
		expo_counter(e, (struct expo_label[]){ { "result", "error" } }, 1, as->reload_errors);
	}
	expo_family(e, "sba_observer_tls_reloads", EXPO_COUNTER,
		    "Re-reads of the TLS certificate and key after they changed, by result.");
	if (h->use_tls) {
		expo_counter(e, (struct expo_label[]){ { "result", "ok" } }, 1, h->tls.reloads);
		expo_counter(e, (struct expo_label[]){ { "result", "error" } }, 1,
			     h->tls.reload_errors);
	}
	if (h->fresh) {
		expo_family(e, "sba_observer_scrape_stale", EXPO_COUNTER,
			    "Scrapes (and /debug/slow reads) served without the ring drain they asked "
			    "for: the event loop did not answer within 0.5 s (or had not answered since "
			    "one that did not), so what they showed is as old as its stall.");
		expo_counter(e, NULL, 0, drainreq_misses(h->fresh));
	}
	expo_family(e, "sba_observer_scrape_render_seconds", EXPO_GAUGE,
		    "Time the previous scrape took to render (before compression).");
	expo_gauge(e, NULL, 0, h->last_render_s);
	expo_family(e, "sba_observer_scrape_size_bytes", EXPO_GAUGE,
		    "Size of the previous exposition (before compression).");
	expo_gauge(e, NULL, 0, (double)h->last_render_bytes);
}

static enum MHD_Result serve_metrics(struct httpd *h, struct MHD_Connection *c, const char *prefix)
{
	enum expo_format fmt = expo_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
	bool gz = expo_accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
	static const char *const vary[] = { "Vary", "Accept, Accept-Encoding", NULL };
	static const char *const vary_gz[] = { "Vary", "Accept, Accept-Encoding",
					       "Content-Encoding", "gzip", NULL };
	uint64_t t0;
	struct buf out, z;
	struct expo e;
	int err;

	if (h->fresh)
		drainreq_wait(h->fresh, FRESH_WAIT_MS);
	t0 = selfmetrics_now_ns();
	buf_init(&out, HTTPD_RENDER_MAX);
	expo_init(&e, &out, fmt, prefix);
	for (int i = 0; i < h->n_rend; i++)
		h->rend[i].fn(h->rend[i].ctx, &e);
	render_self(h, &e);
	err = expo_finish(&e);
	h->last_render_s = (double)(selfmetrics_now_ns() - t0) / 1e9;
	h->last_render_bytes = out.len;
	if (err) {
		buf_free(&out);
		pr_warn("a scrape failed: the exposition is larger than %u MiB or memory ran out\n",
			HTTPD_RENDER_MAX >> 20);
		return reply_text(h, c, 500, "500 exposition too large\n", NULL);
	}
	if (gz) {
		buf_init(&z, HTTPD_RENDER_MAX);
		err = expo_gzip(out.data, out.len, &z);
		buf_free(&out);
		if (err) {
			buf_free(&z);
			return reply_text(h, c, 500, "500 compression failed\n", NULL);
		}
		out = z;
	}
	if (!out.data) {	/* nothing rendered (a filtered view) */
		return reply(h, c, 200, expo_content_type(fmt), "", 0, false, gz ? vary_gz : vary);
	}
	return reply(h, c, 200, expo_content_type(fmt), out.data, out.len, true, gz ? vary_gz : vary);
}

/* The slow-request log: JSON, never compressed (small, and for people). */
static enum MHD_Result serve_slow(struct httpd *h, struct MHD_Connection *c)
{
	static const char empty[] = "{\"window_seconds\":60,\"count\":0,\"requests\":[]}\n";
	struct buf out;

	if (!h->dbg.slow)
		return reply(h, c, 200, "application/json", empty, sizeof(empty) - 1, false, NULL);
	if (h->fresh)
		drainreq_wait(h->fresh, FRESH_WAIT_MS);
	buf_init(&out, 16u << 20);
	if (h->dbg.slow(h->dbg.ctx, &out) || out.oom) {
		buf_free(&out);
		return reply_text(h, c, 500, "500 out of memory\n", NULL);
	}
	buf_puts(&out, "\n");
	return reply(h, c, 200, "application/json", out.data, out.len, true, NULL);
}

/* ---- auth ---- */

static void log_limited(struct httpd *h, const struct sockaddr *peer, uint64_t now)
{
	h->limited_since_log++;
	addr_str(peer, h->last_limited_addr, sizeof(h->last_limited_addr));
	if (now - h->last_limit_log_ms < LOG_EVERY_MS)
		return;
	pr_warn("metrics endpoint: %llu requests answered 429 (too many failed token checks) in "
		"the last %u s, the last from %s\n",
		(unsigned long long)h->limited_since_log, LOG_EVERY_MS / 1000, h->last_limited_addr);
	h->limited_since_log = 0;
	h->last_limit_log_ms = now;
}

/* Returns true when the request may be served; otherwise a response was queued. */
static bool authorized(struct httpd *h, struct MHD_Connection *c, enum MHD_Result *ret)
{
	static const char *const www_missing[] = { "WWW-Authenticate", "Bearer", NULL };
	static const char *const www_invalid[] = { "WWW-Authenticate", "Bearer error=\"invalid_token\"",
						   NULL };
	static const char *const www_request[] = { "WWW-Authenticate",
						   "Bearer error=\"invalid_request\"", NULL };
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *peer = ci ? ci->client_addr : NULL;
	uint64_t now = now_ms();
	enum auth_verdict v;
	int n_args;
	uint32_t ra = 0;
	char err[512], retry[16];
	int rc;

	if (!h->auth)
		return true;
	rc = auth__reload(h->auth, now, err, sizeof(err));
	if (rc > 0)
		pr_info("admin token file %s reloaded: %u token(s)\n", auth__path(h->auth),
			auth__n_tokens(h->auth));
	else if (rc < 0)
		pr_warn("%s; the previous token(s) stay in use\n", err);

	/* Credentials in a URL end up in proxy and shell histories: the
	 * authenticated endpoints take no query string at all. */
	n_args = MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL);
	if (n_args > 0) {
		v = auth__fail(h->auth, peer, now, &ra);
		if (v != AUTH_LIMITED) {
			h->url_credentials++;
			*ret = reply_text(h, c, 400,
					  "400 bad request: no query string here; send the token in "
					  "an Authorization: Bearer header\n",
					  www_request);
			return false;
		}
	} else {
		v = auth__check(h->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
				peer, now, &ra);
	}
	switch (v) {
	case AUTH_OK:
		return true;
	case AUTH_MISSING:
		*ret = reply_text(h, c, 401, "401 unauthorized: send Authorization: Bearer <admin token>\n",
				  www_missing);
		return false;
	case AUTH_INVALID:
		*ret = reply_text(h, c, 401, "401 unauthorized: invalid token\n", www_invalid);
		return false;
	case AUTH_LIMITED:
	default:
		log_limited(h, peer, now);
		snprintf(retry, sizeof(retry), "%u", ra ? ra : 1);
		*ret = reply_text(h, c, 429, "429 too many failed attempts; retry later\n",
				  (const char *const[]){ "Retry-After", retry, NULL });
		return false;
	}
}

/* ---- request dispatch ---- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static const char *const allow[] = { "Allow", "GET, HEAD", NULL };
	struct httpd *h = cls;
	enum MHD_Result ret = MHD_NO;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_text(h, c, 405, "405 method not allowed\n", allow);
	if (!strcmp(url, "/healthz"))
		return reply_text(h, c, 200, "ok\n", NULL);
	if (!strcmp(url, "/readyz")) {
		if (h->ready && selfmetrics_is_ready(h->ready, selfmetrics_now_ns(), h->cfg.ready_stale_ms))
			return reply_text(h, c, 200, "ready\n", NULL);
		return reply_text(h, c, 503, "not ready\n", NULL);
	}
	if (strcmp(url, "/metrics") && strcmp(url, "/metrics/workers") && strcmp(url, "/debug/slow"))
		return reply_text(h, c, 404, "404 not found\n", NULL);
	if (!authorized(h, c, &ret))
		return ret;
	if (!strcmp(url, "/debug/slow"))
		return serve_slow(h, c);
	return serve_metrics(h, c, strcmp(url, "/metrics") ? WORKERS_PREFIX : NULL);
}

/* ---- connections and the deadline ---- */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct httpd *h = cls;
	struct conn_slot *s = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_context = NULL;
		h->open_conns++;
		for (unsigned int i = 0; ci && i < HTTPD_MAX_CONNS; i++) {
			if (!h->slots[i].used) {
				h->slots[i] = (struct conn_slot){ ci->connect_fd, now_ms(), true, false };
				*socket_context = &h->slots[i];
				return;
			}
		}
		h->slots_full++;
	} else {
		if (h->open_conns)
			h->open_conns--;
		if (s)
			s->used = false;
		*socket_context = NULL;
	}
}

/* A response went out (or the request failed): the next one gets a full deadline. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_slot *s = ci ? ci->socket_context : NULL;

	if (s)
		s->start_ms = now_ms();
}

static void sweep_deadlines(struct httpd *h)
{
	uint64_t now = now_ms(), limit = (uint64_t)h->cfg.deadline_s * 1000;

	for (unsigned int i = 0; i < HTTPD_MAX_CONNS; i++) {
		struct conn_slot *s = &h->slots[i];

		if (s->used && !s->cut && now - s->start_ms > limit) {
			/* MHD sees the socket fail and closes the connection itself */
			shutdown(s->fd, SHUT_RDWR);
			s->cut = true;
			h->deadline_cuts++;
		}
	}
}

static void *httpd_thread(void *arg)
{
	struct httpd *h = arg;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
		if (MHD_run_wait(h->d, h->open_conns ? LOOP_WAIT_MS : IDLE_WAIT_MS) != MHD_YES) {
			pr_err("the metrics endpoint stopped: libmicrohttpd failed\n");
			break;
		}
		sweep_deadlines(h);
	}
	return NULL;
}

/* ---- start and stop ---- */

/* Where a connection to ourselves goes: the bound address, loopback for a
 * wildcard one. */
static void note_wake_addr(struct httpd *h)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage *ss = &h->wake_addr;
	socklen_t sl = sizeof(*ss);

	if (!di || getsockname(di->listen_fd, (struct sockaddr *)ss, &sl))
		return;
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			a->sin6_addr = in6addr_loopback;
	} else {
		return;
	}
	h->wake_len = sl;
}

/* Wakes the endpoint thread out of an idle MHD_run_wait() with a connection
 * to its own socket. Returns the fd to close once the thread is gone (-1
 * if it could not connect: the thread then sees `stop` within IDLE_WAIT_MS). */
static int wake_thread(const struct httpd *h)
{
	int fd;

	if (!h->wake_len)
		return -1;
	fd = socket(h->wake_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (const struct sockaddr *)&h->wake_addr, h->wake_len) &&
	    errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static const char *source_text(const struct auth *a, char *buf, size_t n)
{
	switch (auth__source(a)) {
	case AUTH_SRC_FILE:
		snprintf(buf, n, "admin token from %s", auth__path(a));
		break;
	case AUTH_SRC_ENV:
		snprintf(buf, n, "admin token from SBA_ADMIN_TOKEN");
		break;
	default:
		snprintf(buf, n, "admin token generated and written to %s (mode 0600)", auth__path(a));
	}
	return buf;
}

struct httpd *httpd__start(const struct httpd_config *cfg, const struct selfmetrics_shared *ready,
			   const struct httpd_renderer *r, int n_renderers,
			   const struct httpd_debug *dbg, struct drainreq *fresh)
{
	struct sockaddr_storage ss;
	char err[512], addr[INET6_ADDRSTRLEN], what[PATH_MAX + 96];
	unsigned int flags = MHD_USE_EPOLL;
	struct httpd *h;
	socklen_t sl;
	sigset_t all, old;
	int e = EINVAL;

	if (httpd_parse_listen(cfg->listen, &ss, &sl)) {
		pr_err("--listen %s: not HOST:PORT with a numeric address\n", cfg->listen);
		errno = EINVAL;
		return NULL;
	}
	if (cfg->no_auth && !httpd_is_loopback((struct sockaddr *)&ss)) {
		pr_err("--no-auth is refused on %s: without a token the endpoint may only listen on "
		       "a loopback address\n", cfg->listen);
		errno = EINVAL;
		return NULL;
	}
	if (!cfg->tls_cert != !cfg->tls_key) {
		pr_err("--tls-cert and --tls-key go together\n");
		errno = EINVAL;
		return NULL;
	}
	if (n_renderers > HTTPD_MAX_RENDERERS) {
		errno = E2BIG;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		errno = ENOMEM;
		return NULL;
	}
	h->cfg = *cfg;
	if (h->cfg.max_conns > HTTPD_MAX_CONNS)
		h->cfg.max_conns = HTTPD_MAX_CONNS;
	h->ready = ready;
	memcpy(h->rend, r, sizeof(*r) * (size_t)n_renderers);
	h->n_rend = n_renderers;
	if (dbg)
		h->dbg = *dbg;
	h->fresh = fresh;
	if (!cfg->no_auth) {
		h->auth = auth__new(&cfg->auth, err, sizeof(err));
		if (!h->auth) {
			e = errno;
			pr_err("%s\n", err);
			goto fail;
		}
		if (auth__file_too_open(h->auth))
			pr_warn("admin token file %s can be read or written by other users: make it "
				"0600 or 0640 (Kubernetes: defaultMode 0400)\n", auth__path(h->auth));
	}
	if (cfg->tls_cert) {
		if (!MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK2)) {
			pr_err("--tls-cert: this libmicrohttpd has no TLS certificate callback\n");
			goto fail;
		}
		if (tls_load(h, true) < 0)
			goto fail;
		h->use_tls = true;
		flags |= MHD_USE_TLS;
		tls_owner = h;
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;

	/* libmicrohttpd's calls happen on our thread; SIGPIPE is ignored by main
	 * and blocked here, so no signal lands on the endpoint thread. */
	h->d = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)h->cfg.max_conns,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)h->cfg.per_ip_conns,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)h->cfg.idle_timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)h->cfg.header_limit,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)h->cfg.max_conns,
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)1,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		h->use_tls ? MHD_OPTION_HTTPS_PRIORITIES : MHD_OPTION_END, TLS_PRIORITIES,
		MHD_OPTION_HTTPS_CERT_CALLBACK2, tls_cert_cb,
		MHD_OPTION_END);
	if (!h->d) {
		e = EADDRNOTAVAIL;
		pr_err("cannot start the metrics endpoint on %s: the address is in use or not "
		       "available%s\n", cfg->listen, h->use_tls ? ", or TLS could not be set up" : "");
		goto fail;
	}
	note_wake_addr(h);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&h->thread, NULL, httpd_thread, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		pr_err("cannot start the metrics endpoint thread: %s\n", strerror(e));
		goto fail;
	}
	h->thread_started = true;
	addr_str((struct sockaddr *)&ss, addr, sizeof(addr));
	pr_info("metrics endpoint on %s://%s%s%s:%u/metrics (%s)\n", h->use_tls ? "https" : "http",
		ss.ss_family == AF_INET6 ? "[" : "", addr, ss.ss_family == AF_INET6 ? "]" : "",
		ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port),
		h->auth ? source_text(h->auth, what, sizeof(what)) : "no authentication");
	return h;
fail:
	httpd__stop(h);
	errno = e;
	return NULL;
}

void httpd__stop(struct httpd *h)
{
	if (!h)
		return;
	if (h->thread_started) {
		int wake;

		__atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
		wake = wake_thread(h);
		pthread_join(h->thread, NULL);
		if (wake >= 0)
			close(wake);
	}
	if (h->d)
		MHD_stop_daemon(h->d);
	if (tls_owner == h)
		tls_owner = NULL;
	free_secret(h->tls.cert, h->tls.cert_len);
	free_secret(h->tls.key, h->tls.key_len);
	auth__free(h->auth);
	free(h);
}
