/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd.h - the metrics endpoint: libmicrohttpd driven by one thread of its
 * own, so a scrape never runs on (or waits for) the event loop.
 *
 *   GET /metrics          every family                 admin token
 *   GET /metrics/workers  families named sba_worker_*  admin token
 *   GET /debug/slow       slow-request log, JSON       admin token
 *   GET /healthz          200 while the process runs   open, no data
 *   GET /readyz           200 when probes are attached and the event loop
 *                         drained the ring recently; else 503    open, no data
 *   anything else 404; methods other than GET and HEAD 405.
 *
 * docs/SECURITY_ENDPOINTS.md says what is enforced and why. All logging of
 * the endpoint happens here, and never includes a token, a header value or
 * a URL.
 */
#ifndef SBA_HTTPD_H
#define SBA_HTTPD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth.h"
#include "buf.h"
#include "expo.h"

struct selfmetrics_shared;
struct drainreq;

#define HTTPD_DEFAULT_LISTEN "0.0.0.0:9464"
#define HTTPD_MAX_RENDERERS 8
#define HTTPD_MAX_CONNS 1024
#define HTTPD_RENDER_MAX (256u << 20)	/* an exposition larger than this is a 500 */

struct httpd_config {
	const char *listen;		/* "HOST:PORT", "[V6]:PORT", ":PORT"; "none": no endpoint */
	bool no_auth;			/* serve without a token: loopback addresses only */
	const char *tls_cert;		/* PEM certificate chain and key, both or neither */
	const char *tls_key;
	struct auth_config auth;
	uint32_t max_conns;		/* connections at once (MHD_OPTION_CONNECTION_LIMIT) */
	uint32_t per_ip_conns;		/* per client address */
	uint32_t idle_timeout_s;	/* inactivity (MHD_OPTION_CONNECTION_TIMEOUT) */
	uint32_t deadline_s;		/* from connection start or the previous response
					 * to the end of the next one (slowloris) */
	uint32_t header_limit;		/* request memory per connection, headers included */
	uint32_t ready_stale_ms;	/* /readyz fails when the loop is older than this */
};

/* Fills c with the defaults above (listen HTTPD_DEFAULT_LISTEN). */
void httpd_config_defaults(struct httpd_config *c);

/*
 * Parses a listen address (numeric IPv4 or IPv6; "localhost" is 127.0.0.1;
 * an empty host is 0.0.0.0). Returns 0 or -EINVAL.
 */
int httpd_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len);
bool httpd_is_loopback(const struct sockaddr *sa);
/* True when cfg->listen says the endpoint is off. */
bool httpd_is_disabled(const struct httpd_config *cfg);

/* Writes families into e; called on the httpd thread, once per scrape. It
 * must not block on the event loop (copy under a short lock, or seqcount). */
typedef void (*httpd_render_fn)(void *ctx, struct expo *e);

struct httpd_renderer {
	httpd_render_fn fn;
	void *ctx;
};

/* Writes the /debug/slow JSON into out; called on the httpd thread. Returns
 * 0 or -ENOMEM. Must not block on the event loop. */
typedef int (*httpd_json_fn)(void *ctx, struct buf *out);

struct httpd_debug {
	httpd_json_fn slow;		/* NULL: /debug/slow answers an empty log */
	void *ctx;
};

struct httpd;

/*
 * Sets up the admin token, binds, and starts the endpoint thread. The
 * renderers run in order on each scrape, then the endpoint's own families.
 * ready is read for /readyz. With fresh, each scrape and /debug/slow read
 * first asks the event loop for a drain and waits for it (drainreq.h).
 * Logs what it did (never the token) and, on failure, why; returns NULL
 * with errno set.
 */
struct httpd *httpd__start(const struct httpd_config *cfg, const struct selfmetrics_shared *ready,
			   const struct httpd_renderer *r, int n_renderers,
			   const struct httpd_debug *dbg, struct drainreq *fresh);

/* Stops the thread, closes every connection and frees h (NULL is fine). */
void httpd__stop(struct httpd *h);

#endif /* SBA_HTTPD_H */
