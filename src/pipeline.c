// SPDX-License-Identifier: Apache-2.0
/*
 * pipeline.c - decoded events in, labelled series out (see pipeline.h).
 *
 * Per process the service identity is looked up once, at its first exchange,
 * and kept in a small table by tgid until the process exits. Routes are
 * capped per service (route_set: the excess becomes `other`, counted),
 * tenants by one top-K tracker (the rest become `other`, counted), and every
 * series by agg's own caps. No label is ever a raw path, id or address.
 */
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg.h"
#include "bullmq.h"
#include "hist.h"
#include "pipeline.h"
#include "procstat.h"
#include "route.h"
#include "service.h"
#include "slowlog.h"
#include "tenant.h"

#define PROC_SLOTS 4096		/* processes with a cached identity (power of two) */
#define MAX_SERVICES 256	/* route sets, one per service name */
#define ROUTE_LEN 256

struct service_routes {
	char name[SERVICE_NAME_MAX];
	struct route_set *routes;
	/* Process figures, summed over the service's processes each tick;
	 * published under stats_lock for the renderer. */
	uint64_t cpu_ns;	/* only grows: deltas of live processes are added */
	uint64_t rss_bytes;
	uint64_t mem_limit;	/* the largest limit of its processes' cgroups; 0: none */
	uint32_t live;		/* processes read at the last tick; 0: the gauges go */
	bool serves_http;	/* has answered a request: keeps an active-requests gauge */
};

struct proc {
	uint32_t tgid;		/* 0: free slot */
	struct service_id id;
	struct service_routes *sr;
	uint64_t cpu_ns;	/* at the last tick */
	bool provisional;	/* identified at exec/fork: again at its first request,
				 * once it may have renamed itself (process.title) */
};

/* Server exchanges wait here until the end of the drain (pipeline__flush),
 * so that their series are fetched from memory together (agg.h). Strings
 * that might not outlive the drain are copied; routes are interned. */
struct http_batch {
	uint32_t n;
	struct agg_http h[AGG_BATCH_MAX];
	uint64_t now[AGG_BATCH_MAX];
	char service[AGG_BATCH_MAX][SERVICE_NAME_MAX];
	char tenant[AGG_BATCH_MAX][TENANT_MAX_LEN + 1];
	char ex_id[AGG_BATCH_MAX][AGG_EXEMPLAR_ID_MAX + 1];
};

struct pipeline {
	struct pipeline_config cfg;
	struct http_batch batch;
	struct conntab *ct;
	struct agg *agg;
	struct route_patterns *patterns;
	struct tenant_topk *tenants;
	struct bullmq *bullmq;		/* one for all connections: jobs cross them */
	struct slowlog *slow;		/* the slowest server requests of the last minute */
	struct proc procs[PROC_SLOTS];
	uint32_t n_procs;
	struct service_routes services[MAX_SERVICES];
	uint32_t n_services;
	struct service_routes overflow;	/* services past MAX_SERVICES share it */
	uint64_t last_decay_ns;
	pthread_mutex_t stats_lock;	/* services[] figures and n_services, for the renderer */
	/* Read by the renderer thread: plain counters, torn reads are harmless. */
	uint64_t routes_folded;
	uint64_t redis_cmd_cut;		/* Redis commands whose tail was not captured */
	uint64_t uncached_lookups;	/* identity looked up again: the table was full */
};

void pipeline_config_init(struct pipeline_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->proc_root = "/proc";
}

/* ---- processes and services ---- */

static struct service_routes *routes_for(struct pipeline *p, const char *service)
{
	for (uint32_t i = 0; i < p->n_services; i++)
		if (!strcmp(p->services[i].name, service))
			return &p->services[i];
	if (p->n_services == MAX_SERVICES)
		return &p->overflow;
	struct service_routes *sr = &p->services[p->n_services];

	sr->routes = route_set__new(p->cfg.max_routes);
	if (!sr->routes)
		return &p->overflow;
	snprintf(sr->name, sizeof(sr->name), "%s", service);
	pthread_mutex_lock(&p->stats_lock);
	p->n_services++;
	pthread_mutex_unlock(&p->stats_lock);
	return sr;
}

static size_t proc_slot(const struct pipeline *p, uint32_t tgid)
{
	size_t i = (tgid * 2654435761u) & (PROC_SLOTS - 1);

	while (p->procs[i].tgid && p->procs[i].tgid != tgid)
		i = (i + 1) & (PROC_SLOTS - 1);
	return i;
}

/* The identity of tgid, cached; *tmp holds it when the cache is full.
 * traffic: called for a request (a provisional identity is redone). */
static const struct proc *proc_of(struct pipeline *p, uint32_t tgid, struct proc *tmp,
				  bool traffic)
{
	size_t i = proc_slot(p, tgid);
	struct proc *pr = &p->procs[i];

	if (pr->tgid == tgid) {
		if (traffic && pr->provisional) {
			struct service_id again;

			/* a process gone since its start keeps the name it had then:
			 * records are read up to --poll-ms late, and a short-lived
			 * client may have exited by the time its requests are. A
			 * zombie's /proc entry is still there, with no environment
			 * and no command line: nothing it says beats what we had. */
			pr->provisional = false;
			if (service_identify(p->cfg.proc_root, (pid_t)tgid, &p->cfg.services,
					     &again) == 0 &&
			    (again.source != SERVICE_FROM_NONE || pr->id.source == SERVICE_FROM_NONE)) {
				pr->id = again;
				pr->sr = routes_for(p, pr->id.name);
			}
		}
		return pr;
	}
	if (p->n_procs >= PROC_SLOTS * 3 / 4) {
		p->uncached_lookups++;
		pr = tmp;
	} else {
		p->n_procs++;
	}
	pr->tgid = tgid;
	pr->cpu_ns = 0;
	pr->provisional = !traffic;
	service_identify(p->cfg.proc_root, (pid_t)tgid, &p->cfg.services, &pr->id);
	pr->sr = routes_for(p, pr->id.name);
	return pr;
}

/* Frees tgid's slot and re-inserts the run after it (linear probing). */
static void proc_forget(struct pipeline *p, uint32_t tgid)
{
	size_t i = proc_slot(p, tgid), j = i;

	if (p->procs[i].tgid != tgid)
		return;
	p->procs[i].tgid = 0;
	p->n_procs--;
	for (;;) {
		j = (j + 1) & (PROC_SLOTS - 1);
		if (!p->procs[j].tgid)
			break;
		struct proc moving = p->procs[j];

		p->procs[j].tgid = 0;
		p->procs[proc_slot(p, moving.tgid)] = moving;
	}
}

/* ---- the batch of server exchanges ---- */

void pipeline__flush(struct pipeline *p)
{
	if (!p->batch.n)
		return;
	agg__http_server_batch(p->agg, p->batch.h, p->batch.now, p->batch.n);
	p->batch.n = 0;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static void batch_server(struct pipeline *p, const struct agg_http *h, uint64_t now)
{
	struct http_batch *b = &p->batch;
	uint32_t i = b->n;

	b->h[i] = *h;
	b->now[i] = now;
	/* labels longer than these are not labels the caps would keep either:
	 * the service name, tenant and exemplar id are bounded where they come from */
	copy_str(b->service[i], sizeof(b->service[i]), h->service);
	copy_str(b->tenant[i], sizeof(b->tenant[i]), h->tenant);
	copy_str(b->ex_id[i], sizeof(b->ex_id[i]), h->ex_id);
	b->h[i].service = b->service[i];
	b->h[i].tenant = b->tenant[i];
	b->h[i].ex_id = b->ex_id[i];
	if (++b->n == AGG_BATCH_MAX)
		pipeline__flush(p);
}

/* ---- what the sessions hand over ---- */

/* Peer of an outbound call, host:port. The host comes from the request's
 * Host header when it is a name; an address (IP literal, or no Host) is
 * never a label: "localhost" on loopback, else empty. The port is the
 * header's, else the connection's. */
static void peer_label(const struct conn_info *ci, const struct http1_head *req, char *out,
		       size_t len)
{
	bool loopback = (ci->family == 2 && ci->raddr[0] == 127) ||
			(ci->family == 10 && !memcmp(ci->raddr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16));
	const char *h = req->host, *colon = strrchr(h, ':');
	size_t hn = colon ? (size_t)(colon - h) : strlen(h);
	bool name = hn > 0 && h[0] != '[', digits_only = true;
	unsigned long port = ci->rport;

	for (size_t i = 0; name && i < hn; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			name = false;
		if (!((c >= '0' && c <= '9') || c == '.'))
			digits_only = false;
	}
	if (name && colon) {
		char *end;

		port = strtoul(colon + 1, &end, 10);
		if (*end || end == colon + 1 || port == 0 || port > 65535)
			name = false;
	}
	if (!name || digits_only) {
		snprintf(out, len, "%s:%u", loopback ? "localhost" : "", ci->rport);
		return;
	}
	snprintf(out, len, "%.*s:%lu", (int)hn, h, port);
	for (char *c = out; *c && *c != ':'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

/* The id an exemplar carries: the trace id of a W3C traceparent
 * (00-<32 hex>-<16 hex>-<2 hex>), else the x-request-id. */
static uint32_t exemplar_id(const struct http1_head *req, char *out, size_t len)
{
	const char *tp = req->traceparent;
	bool ok = req->traceparent_len >= 55 && tp[2] == '-' && tp[35] == '-';

	for (int i = 3; ok && i < 35; i++)
		ok = (tp[i] >= '0' && tp[i] <= '9') || (tp[i] >= 'a' && tp[i] <= 'f');
	if (ok && strspn(tp + 3, "0") < 32) {
		snprintf(out, len, "%.32s", tp + 3);
		return AGG_EX_TRACE_ID;
	}
	if (req->request_id_len) {
		size_t n = strnlen(req->request_id, len - 1);

		memcpy(out, req->request_id, n);	/* cut to the exemplar's size */
		out[n] = 0;
		return AGG_EX_REQUEST_ID;
	}
	return AGG_EX_NONE;
}

static void on_http(void *ctx, const struct conn_info *ci, const struct httpconn_exchange *x)
{
	struct pipeline *p = ctx;
	struct proc tmp;
	const struct proc *pr;
	char route[ROUTE_LEN], peer[HTTP1_HOST_MAX + 8], ex_id[AGG_EXEMPLAR_ID_MAX + 1] = "";
	const char *tenant;
	struct agg_http h;
	int pat;

	if (!x->req || !x->resp)
		return; /* nothing to label: counted by the session's stats */
	pr = proc_of(p, ci->tgid, &tmp, true);
	pat = route_patterns__find(p->patterns, x->req->path, x->req->path_len);
	if (pat >= 0) {	/* a user pattern: its interned text, by its number */
		h.route = pr->sr->routes ? route_set__intern_pattern(pr->sr->routes, pat,
							route_patterns__text(p->patterns, pat))
					 : ROUTE_OTHER;
	} else {
		if (route_normalize(x->req->path, x->req->path_len, route, sizeof(route)) < 0)
			snprintf(route, sizeof(route), "%s", ROUTE_OTHER);
		h.route = pr->sr->routes ? route_set__intern(pr->sr->routes, route) : ROUTE_OTHER;
	}
	if (!strcmp(h.route, ROUTE_OTHER))
		p->routes_folded++;
	tenant = tenant_topk__label(p->tenants, x->req->tenant, x->req->tenant_len,
				    x->req->flags & HTTP1_F_TENANT);
	h.service = pr->id.name;
	h.method = http1_method_name((enum http1_method)x->req->method);
	h.tenant = tenant;
	h.status = x->resp->status;
	h.duration_ns = x->duration_ns;
	h.ttfb_ns = x->ttfb_ns;
	h.peer = NULL;
	h.ex_kind = exemplar_id(x->req, ex_id, sizeof(ex_id));
	h.ex_id = ex_id;
	if (x->role == SBA_ROLE_CLIENT) {
		peer_label(ci, x->req, peer, sizeof(peer));
		h.peer = peer;
		pipeline__flush(p);	/* every update in the order it came */
		agg__http_client(p->agg, &h, x->end_ns);
	} else {
		struct slowlog_req sr = { .service = h.service, .method = h.method, .route = h.route,
					  .tenant = h.tenant, .request_id = x->req->request_id,
					  .traceparent = x->req->traceparent, .status = h.status,
					  .duration_ns = h.duration_ns, .end_ns = x->end_ns };

		if (pr->sr != &p->overflow)
			pr->sr->serves_http = true;
		batch_server(p, &h, x->end_ns);
		slowlog__add(p->slow, &sr);
	}
	if (p->cfg.tap.http) {
		struct pipeline_http_rec rec = {
			.role = x->role, .tgid = ci->tgid, .conn_id = ci->conn_id,
			.service = h.service, .method = h.method, .route = h.route,
			.tenant = h.tenant, .peer = h.peer,
			.request_id = x->req->request_id_len ? x->req->request_id : NULL,
			.status = h.status, .duration_ns = h.duration_ns, .ttfb_ns = h.ttfb_ns,
			.end_ns = x->end_ns,
		};

		p->cfg.tap.http(p->cfg.tap.ctx, &rec);
	}
}

static void on_redis(void *ctx, const struct conn_info *ci, const struct redisconn_ev *ev)
{
	struct pipeline *p = ctx;
	const struct redisconn_rec *r = ev->rec;
	struct proc tmp;
	const struct proc *pr;
	uint64_t dur;

	/* BullMQ stages what an unsure stretch implies until its verdict;
	 * command counts only take what is sure. */
	if (ev->kind == REDISCONN_EV_CONFIRM) {
		bullmq__confirm(p->bullmq, ev->epoch);
		return;
	}
	if (ev->kind == REDISCONN_EV_REFUTE) {
		bullmq__refute(p->bullmq, ev->epoch);
		return;
	}
	if (ev->kind != REDISCONN_EV_CMD || !r)
		return;
	/* A command cut by the capture cap (ioredis sends a script's first use on
	 * a connection as EVAL with a 13-32 KB body before the keys): what it did
	 * cannot be known; say so rather than lose it silently. */
	if (r->flags & REDISCONN_R_CMD_CUT)
		p->redis_cmd_cut++;
	if (r->call && r->call->script != BULLMQ_S_NONE)
		bullmq__on_reply(p->bullmq, r->call, r->reply, r->ts_start_ns, r->ts_end_ns,
				 r->epoch);
	if (r->epoch)
		return;
	pr = proc_of(p, ci->tgid, &tmp, true);
	dur = r->ts_end_ns > r->ts_start_ns && !(r->flags & REDISCONN_R_NO_REPLY)
		      ? r->ts_end_ns - r->ts_start_ns
		      : AGG_NO_VALUE;
	pipeline__flush(p);
	agg__redis(p->agg, pr->id.name, r->cmd, r->status, dur, r->flags & REDISCONN_R_BLOCKING,
		   r->ts_end_ns);
}

/* Failure classes of a failed reason: timeouts, and HTTP statuses it names
 * ("... status code 503", "Request failed with status 404", "HTTP 429").
 * docs/REDIS_BULLMQ.md has the rules. */
static uint32_t failure_class(const char *reason)
{
	uint32_t f = 0;

	if (!reason || !*reason)
		return 0;
	if (strcasestr(reason, "timeout") || strcasestr(reason, "timed out") ||
	    strstr(reason, "ETIMEDOUT"))
		f |= AGG_WF_TIMEOUT;
	for (const char *q = reason; *q; q++) {
		/* three digits 4xx/5xx standing alone */
		if ((q[0] == '4' || q[0] == '5') && q[1] >= '0' && q[1] <= '9' && q[2] >= '0' &&
		    q[2] <= '9' && (q == reason || q[-1] < '0' || q[-1] > '9') &&
		    (q[3] < '0' || q[3] > '9')) {
			f |= q[0] == '4' ? AGG_WF_4XX : AGG_WF_5XX;
			break;
		}
	}
	return f;
}

static void on_bullmq(void *ctx, const struct bullmq_event *bev)
{
	struct pipeline *p = ctx;
	struct agg_worker_ev w = { .queue = bev->queue, .counter = -1,
				   .duration_ns = AGG_NO_VALUE, .wait_ns = AGG_NO_VALUE,
				   .active = bev->active, .depth = bev->depth };

	switch (bev->op) {
	case BULLMQ_OP_ADDED: w.counter = AGG_W_ADDED; break;
	case BULLMQ_OP_STARTED:
		w.counter = AGG_W_STARTED;
		if (bev->wait_ms >= 0)
			w.wait_ns = (uint64_t)bev->wait_ms * 1000000ull;
		break;
	case BULLMQ_OP_COMPLETED:
	case BULLMQ_OP_FAILED:
	case BULLMQ_OP_RETRIED:
		w.counter = bev->op == BULLMQ_OP_COMPLETED ? AGG_W_COMPLETED
			    : bev->op == BULLMQ_OP_FAILED  ? AGG_W_FAILED
							    : AGG_W_RETRIED;
		/* The capture clock when both ends were seen, else the app's. */
		if (bev->duration_ns >= 0)
			w.duration_ns = (uint64_t)bev->duration_ns;
		else if (bev->duration_ms >= 0)
			w.duration_ns = (uint64_t)bev->duration_ms * 1000000ull;
		if (bev->op != BULLMQ_OP_COMPLETED)
			w.fail = failure_class(bev->reason);
		break;
	case BULLMQ_OP_STALLED: w.counter = AGG_W_STALLED; break;
	default: break; /* counts, removed: gauges only */
	}
	pipeline__flush(p);
	agg__worker(p->agg, &w, bev->ts_ns);
	if (p->cfg.tap.job && w.counter >= 0)
		p->cfg.tap.job(p->cfg.tap.ctx, bev, w.fail);
}

/* ---- events in ---- */

static void ev_proc(void *ctx, const struct sba_proc_ev *ev)
{
	struct pipeline *p = ctx;

	/* An exit (or an exec, which ends the old image) invalidates what we
	 * know of the process; a new image is identified again on first use. */
	struct proc tmp;

	if (ev->hdr.kind == SBA_EV_PROC_EXIT || ev->hdr.kind == SBA_EV_PROC_EXEC) {
		if (ev->hdr.kind == SBA_EV_PROC_EXIT)
			conntab__forget_tgid(p->ct, ev->hdr.tgid);
		proc_forget(p, ev->hdr.tgid);
	}
	/* Known from its start: its CPU and memory count before its first request. */
	if (ev->hdr.kind == SBA_EV_PROC_EXEC || ev->hdr.kind == SBA_EV_PROC_FORK)
		proc_of(p, ev->hdr.tgid, &tmp, false);
}

static void ev_conn(void *ctx, const struct sba_conn_ev *ev)
{
	struct pipeline *p = ctx;

	if (ev->hdr.kind == SBA_EV_CONN_OPEN)
		conntab__open(p->ct, ev);
	else
		conntab__close(p->ct, ev->conn_id);
}

static void ev_data(void *ctx, const struct sba_data_ev *ev, const uint8_t *data)
{
	struct pipeline *p = ctx;

	conntab__data(p->ct, ev, data);
}

struct event_sink pipeline__sink(struct pipeline *p)
{
	return (struct event_sink){ .on_proc = ev_proc, .on_conn = ev_conn, .on_data = ev_data,
				    .ctx = p };
}

/* CPU, memory and memory limit of every known process, summed per service.
 * A process's CPU counts from when it became known (its first tick). */
static void sample_processes(struct pipeline *p)
{
	static uint64_t rss[MAX_SERVICES + 1], limit[MAX_SERVICES + 1], cpu[MAX_SERVICES + 1];
	static uint32_t live[MAX_SERVICES + 1];
	struct procstat st;

	memset(live, 0, sizeof(live));
	memset(rss, 0, sizeof(rss));
	memset(limit, 0, sizeof(limit));
	memset(cpu, 0, sizeof(cpu));
	for (size_t i = 0; i < PROC_SLOTS; i++) {
		struct proc *pr = &p->procs[i];
		size_t s;

		if (!pr->tgid || !pr->sr || pr->sr == &p->overflow)
			continue;
		if (procstat_read(p->cfg.proc_root, "/sys/fs/cgroup", (pid_t)pr->tgid, &st))
			continue;
		s = (size_t)(pr->sr - p->services);
		if (pr->cpu_ns && st.cpu_ns > pr->cpu_ns)
			cpu[s] += st.cpu_ns - pr->cpu_ns;
		pr->cpu_ns = st.cpu_ns ? st.cpu_ns : 1;
		rss[s] += st.rss_bytes;
		live[s]++;
		if (st.mem_limit > limit[s])
			limit[s] = st.mem_limit;
	}
	pthread_mutex_lock(&p->stats_lock);
	for (uint32_t s = 0; s < p->n_services; s++) {
		p->services[s].cpu_ns += cpu[s];
		p->services[s].rss_bytes = rss[s];
		p->services[s].mem_limit = limit[s];
		p->services[s].live = live[s];
	}
	pthread_mutex_unlock(&p->stats_lock);
}

struct active_count {
	struct pipeline *p;
	uint32_t n[MAX_SERVICES];
};

static void count_active(void *ctx, const struct conn_info *ci, enum sba_role role,
			 uint32_t pending)
{
	struct active_count *a = ctx;
	struct proc tmp;
	const struct proc *pr;

	if (role != SBA_ROLE_SERVER || !pending)
		return;
	pr = proc_of(a->p, ci->tgid, &tmp, false);
	if (pr->sr && pr->sr != &a->p->overflow)
		a->n[pr->sr - a->p->services] += pending;
}

/* sba_http_server_active_requests: requests read whose response has not
 * ended, sampled each tick, for every service that serves HTTP and has a
 * live process. */
static void sample_active(struct pipeline *p, uint64_t now_ns)
{
	static struct active_count a;	/* the event loop's only: no stack for 1 KiB */
	bool live[MAX_SERVICES] = { false };

	memset(&a, 0, sizeof(a));
	a.p = p;
	conntab__visit_http(p->ct, count_active, &a);
	for (size_t i = 0; i < PROC_SLOTS; i++) {
		const struct proc *pr = &p->procs[i];

		if (pr->tgid && pr->sr && pr->sr != &p->overflow)
			live[pr->sr - p->services] = true;
	}
	for (uint32_t s = 0; s < p->n_services; s++) {
		struct agg_update u;
		const char *service = p->services[s].name;

		if (!p->services[s].serves_http || !live[s])
			continue;
		agg_update_init(&u);
		u.gauge[AGG_HTTP_ACTIVE_REQUESTS] = a.n[s];
		u.gauge_set = 1u << AGG_HTTP_ACTIVE_REQUESTS;
		agg__update(p->agg, AGG_HTTP_ACTIVE, &service, &u, now_ns);
	}
}

void pipeline__tick(struct pipeline *p, uint64_t now_ns)
{
	pipeline__flush(p);
	sample_processes(p);
	sample_active(p, now_ns);
	slowlog__flush(p->slow);
	agg__expire(p->agg, now_ns);
	/* Halve tenant counts every minute: the top-K follows current traffic. */
	if (now_ns - p->last_decay_ns > 60ull * 1000000000ull) {
		tenant_topk__decay(p->tenants);
		p->last_decay_ns = now_ns;
	}
}

/* ---- lifecycle ---- */

struct pipeline *pipeline__new(const struct pipeline_config *cfg, int *bad_line)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	struct conntab_config cc;
	struct agg_config ac;
	int err = 0;

	if (!p)
		return NULL;
	pthread_mutex_init(&p->stats_lock, NULL);
	if (cfg)
		p->cfg = *cfg;
	else
		pipeline_config_init(&p->cfg);
	if (!p->cfg.proc_root)
		p->cfg.proc_root = "/proc";

	conntab_config_init(&cc);
	if (p->cfg.max_conns)
		cc.max_conns = p->cfg.max_conns;
	if (p->cfg.n_redis_ports) {
		memcpy(cc.redis_ports, p->cfg.redis_ports, sizeof(cc.redis_ports));
		cc.n_redis_ports = p->cfg.n_redis_ports;
	}
	if (p->cfg.tenant_header)
		err = http1_config_set_tenant_header(&cc.http1, p->cfg.tenant_header);
	cc.sink = (struct conntab_sink){ .on_http = on_http, .on_redis = on_redis, .ctx = p };
	agg_config_init(&ac);
	p->patterns = route_patterns__new();
	if (!err && p->patterns && p->cfg.routes_file)
		err = route_patterns__load(p->patterns, p->cfg.routes_file, bad_line);
	if (err)
		goto out_free;
	p->ct = conntab__new(&cc);
	p->agg = agg__new(&ac);
	p->tenants = tenant_topk__new(p->cfg.max_tenants);
	p->bullmq = bullmq__new(NULL, on_bullmq, p);
	p->slow = slowlog__new(p->cfg.slow_n, 0);
	p->overflow.routes = route_set__new(1);
	snprintf(p->overflow.name, sizeof(p->overflow.name), "%s", AGG_OTHER);
	if (!p->ct || !p->agg || !p->tenants || !p->bullmq || !p->patterns || !p->slow ||
	    !p->overflow.routes) {
		err = -ENOMEM;
		goto out_free;
	}
	return p;

out_free:
	pipeline__free(p);
	errno = -err;
	return NULL;
}

void pipeline__free(struct pipeline *p)
{
	if (!p)
		return;
	conntab__free(p->ct);
	agg__free(p->agg);
	route_patterns__free(p->patterns);
	tenant_topk__free(p->tenants);
	bullmq__free(p->bullmq);
	slowlog__free(p->slow);
	for (uint32_t i = 0; i < p->n_services; i++)
		route_set__free(p->services[i].routes);
	route_set__free(p->overflow.routes);
	pthread_mutex_destroy(&p->stats_lock);
	free(p);
}

/* ---- rendering (exporter thread) ---- */

/* The kernel's timestamps are CLOCK_MONOTONIC (bpf_ktime_get_ns). */
static uint64_t mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct render {
	struct expo *e;
	const struct agg_family_info *fi;
	const struct hist_bounds *bounds;
	int what;		/* counter, gauge or hist index, or window counter */
	bool hist;
	bool gauge;		/* `what` is a gauge index */
	int window;		/* 0: no; 1: per second of `what`; 2: ratio what / attempts */
	int skip_label;		/* label index left out (-1: none), e.g. status for durations */
	uint64_t slot_ns, now_ns;
	double wall_off_s;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, for exemplar timestamps */
};

static unsigned int labels_of(const struct render *r, const struct agg_series *s,
			      struct expo_label *out)
{
	unsigned int n = 0;

	for (uint32_t i = 0; i < s->n_labels && i < AGG_MAX_LABELS; i++) {
		if ((int)i == r->skip_label)
			continue;
		out[n].name = r->fi->label[i];
		out[n].value = s->label[i];
		n++;
	}
	return n;
}

static int render_series(void *ctx, const struct agg_series *s)
{
	struct render *r = ctx;
	struct expo_label l[AGG_MAX_LABELS];
	unsigned int n = labels_of(r, s, l);

	if (r->hist) {
		const struct expo_exemplar *exs[EXPO_MAX_BUCKETS + 1] = { 0 };
		struct expo_exemplar ex;
		struct expo_label exl;
		struct hist_export x;
		struct expo_hist h;

		hist_export(&s->hist[r->what], r->bounds, &x);
		h = (struct expo_hist){ .bounds = r->bounds->le_s, .n_bounds = x.n,
					.counts = x.cum, .cumulative = true, .sum = x.sum_s };
		/* The kept request goes on the bucket its duration fell into. */
		if (r->what == 0 && s->ex && x.n <= EXPO_MAX_BUCKETS) {
			unsigned int b = 0;

			exl = (struct expo_label){ s->ex->kind == AGG_EX_TRACE_ID ? "trace_id" : "request_id",
						   s->ex->id };
			ex = (struct expo_exemplar){ .labels = &exl, .n_labels = 1,
						     .value = (double)s->ex->value_ns / 1e9,
						     /* whole ms: printed without printf */
						     .ts = (double)llround(((double)s->ex->ts_ns / 1e9 +
									    r->wall_off_s) * 1e3) / 1e3 };
			while (b < x.n && ex.value > r->bounds->le_s[b])
				b++;
			exs[b] = &ex;
			h.ex = exs;
		}
		expo_histogram(r->e, l, n, &h);
	} else if (r->window == 1 && s->wr) {
		expo_gauge(r->e, l, n, wrate_per_s(s->wr, r->slot_ns, r->now_ns, (uint32_t)r->what));
	} else if (r->window == 2 && s->wr) {
		double v = wrate_ratio(s->wr, r->slot_ns, r->now_ns, (uint32_t)r->what,
				       AGG_WR_ATTEMPTS);

		expo_gauge(r->e, l, n, isnan(v) ? 0 : v);
	} else if (r->gauge) {
		expo_gauge(r->e, l, n, (double)s->gauge[r->what]);
	} else if (!r->window) {
		expo_counter(r->e, l, n, s->counter[r->what]);
	}
	return 0;
}

static double wall_offset_s(void)
{
	struct timespec rt, mt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	return (double)(rt.tv_sec - mt.tv_sec) + (double)(rt.tv_nsec - mt.tv_nsec) / 1e9;
}

static void family_mode(struct pipeline *p, struct expo *e, enum agg_family f, const char *name,
			enum expo_type type, int what, int window, const char *help)
{
	struct render r = { .e = e, .fi = agg_family_info(f), .bounds = agg__bounds(p->agg),
			    .what = what, .hist = type == EXPO_HISTOGRAM,
			    .gauge = type == EXPO_GAUGE && !window, .window = window,
			    .skip_label = -1, .slot_ns = agg__slot_ns(p->agg),
			    .now_ns = mono_now_ns(), .wall_off_s = wall_offset_s() };

	if (expo_family(e, name, type, help) == 0)
		agg__visit(p->agg, f, render_series, &r);
}

static void family(struct pipeline *p, struct expo *e, enum agg_family f, const char *name,
		   enum expo_type type, int what, const char *help)
{
	family_mode(p, e, f, name, type, what, 0, help);
}

/* The sba_worker_* families, per queue_name (also served on /metrics/workers). */
static void render_workers(struct pipeline *p, struct expo *e)
{
	static const struct {
		const char *name, *help;
	} counters[AGG_W__COUNTERS] = {
		[AGG_W_ADDED] = { "sba_worker_jobs_added", "Jobs added to the queue." },
		[AGG_W_STARTED] = { "sba_worker_jobs_started",
				    "Jobs handed to a worker (including those handed out in a finish reply)." },
		[AGG_W_COMPLETED] = { "sba_worker_jobs_completed", "Jobs completed." },
		[AGG_W_FAILED] = { "sba_worker_jobs_failed", "Jobs failed for good (no attempt left)." },
		[AGG_W_RETRIED] = { "sba_worker_jobs_retried", "Failed attempts that will be retried." },
		[AGG_W_STALLED] = { "sba_worker_jobs_stalled", "Jobs found stalled and moved back to wait." },
	};

	for (int c = 0; c < AGG_W__COUNTERS; c++)
		family(p, e, AGG_WORKER, counters[c].name, EXPO_COUNTER, c, counters[c].help);
	family(p, e, AGG_WORKER, "sba_worker_active_jobs", EXPO_GAUGE, AGG_W_ACTIVE,
	       "Jobs started and not finished.");
	family(p, e, AGG_WORKER, "sba_worker_queue_depth", EXPO_GAUGE, AGG_W_DEPTH,
	       "Jobs waiting: from getCounts replies when the app asks, else inferred.");
	family(p, e, AGG_WORKER, "sba_worker_job_duration_seconds", EXPO_HISTOGRAM,
	       AGG_W_JOB_DURATION, "Job start to finish.");
	family(p, e, AGG_WORKER, "sba_worker_job_wait_seconds", EXPO_HISTOGRAM, AGG_W_JOB_WAIT,
	       "Job added (or due again) to started.");
	family_mode(p, e, AGG_WORKER, "sba_worker_throughput", EXPO_GAUGE, AGG_WR_COMPLETED, 1,
		    "Jobs completed per second over the window (60 s).");
	family_mode(p, e, AGG_WORKER, "sba_worker_error_rate", EXPO_GAUGE, AGG_WR_FAILED, 2,
		    "Failed attempts / attempts over the window.");
	family_mode(p, e, AGG_WORKER, "sba_worker_error4xx_rate", EXPO_GAUGE, AGG_WR_4XX, 2,
		    "Failed attempts whose reason names an HTTP 4xx status / attempts.");
	family_mode(p, e, AGG_WORKER, "sba_worker_error5xx_rate", EXPO_GAUGE, AGG_WR_5XX, 2,
		    "Failed attempts whose reason names an HTTP 5xx status / attempts.");
	family_mode(p, e, AGG_WORKER, "sba_worker_timeout_rate", EXPO_GAUGE, AGG_WR_TIMEOUT, 2,
		    "Failed attempts whose reason is a timeout / attempts.");
}

static const double quantiles[] = { 0.5, 0.95, 0.99 };
static const char *const quantile_names[] = { "0.5", "0.95", "0.99" };


static int render_quantiles(void *ctx, const struct agg_series *s)
{
	struct render *r = ctx;
	struct expo_label l[AGG_MAX_LABELS];
	unsigned int n = labels_of(r, s, l);
	double v[3];

	if (!s->wq || !wquant_quantiles(s->wq, r->slot_ns, r->now_ns, quantiles, v, 3))
		return 0;
	for (int i = 0; i < 3; i++) {
		if (isnan(v[i]))
			continue;
		expo_quantile(r->e, l, n, quantile_names[i], v[i]);
	}
	return 0;
}

/* sba_process_*: the Node processes' own resources, per service. */
static void render_processes(struct pipeline *p, struct expo *e)
{
	static const struct {
		const char *name, *help;
		enum expo_type type;
	} fam[] = {
		{ "sba_process_cpu_seconds_total", "CPU time of the service's Node processes "
		  "since the observer knew them.", EXPO_COUNTER },
		{ "sba_process_resident_memory_bytes", "Resident memory of the service's Node "
		  "processes.", EXPO_GAUGE },
		{ "sba_process_memory_limit_bytes", "Memory limit of the cgroup of the service's "
		  "processes (the tightest on the way to the root); absent when unlimited.",
		  EXPO_GAUGE },
	};

	pthread_mutex_lock(&p->stats_lock);
	for (int f = 0; f < 3; f++) {
		if (expo_family(e, fam[f].name, fam[f].type, fam[f].help))
			continue;
		for (uint32_t s = 0; s < p->n_services; s++) {
			const struct service_routes *sr = &p->services[s];
			struct expo_label l = { "service", sr->name };

			/* The CPU counter stays; the gauges only while the
			 * service has processes (no "0 bytes" for one gone). */
			if (f == 0)
				expo_counter_double(e, &l, 1, (double)sr->cpu_ns / 1e9);
			else if (!sr->live)
				continue;
			else if (f == 1)
				expo_gauge(e, &l, 1, (double)sr->rss_bytes);
			else if (sr->mem_limit)
				expo_gauge(e, &l, 1, (double)sr->mem_limit);
		}
	}
	pthread_mutex_unlock(&p->stats_lock);
}

int pipeline__slow_json(void *ctx, struct buf *out)
{
	struct pipeline *p = ctx;

	return slowlog__render_json(p->slow, mono_now_ns(), out);
}

void pipeline__render(void *ctx, struct expo *e)
{
	struct pipeline *p = ctx;
	struct render q = { .e = e, .fi = agg_family_info(AGG_HTTP_QUANTILE), .skip_label = -1,
			    .slot_ns = agg__slot_ns(p->agg), .now_ns = mono_now_ns() };
	struct agg_family_stats st;
	const struct conntab_stats *cs = conntab__stats(p->ct);

	family(p, e, AGG_HTTP_SERVER, "sba_http_server_requests", EXPO_COUNTER, AGG_HTTP_REQUESTS,
	       "HTTP requests served by Node processes, by route template, status and tenant.");
	family(p, e, AGG_HTTP_SERVER, "sba_http_server_request_duration_seconds", EXPO_HISTOGRAM,
	       AGG_HTTP_DURATION,
	       "Server time: first request byte read to last response byte written.");
	family(p, e, AGG_HTTP_SERVER, "sba_http_server_time_to_first_byte_seconds",
	       EXPO_HISTOGRAM, AGG_HTTP_TTFB,
	       "First request byte read to first response byte written.");
	family(p, e, AGG_HTTP_ACTIVE, "sba_http_server_active_requests", EXPO_GAUGE,
	       AGG_HTTP_ACTIVE_REQUESTS,
	       "Requests read whose response has not ended yet, sampled every second.");
	if (expo_family(e, "sba_http_server_request_duration_quantile_seconds", EXPO_SUMMARY,
			"Request duration quantiles over the last window (60 s), per route.") == 0)
		agg__visit(p->agg, AGG_HTTP_QUANTILE, render_quantiles, &q);
	family(p, e, AGG_HTTP_CLIENT, "sba_http_client_requests", EXPO_COUNTER, AGG_HTTP_REQUESTS,
	       "HTTP requests made by Node processes to other services.");
	family(p, e, AGG_HTTP_CLIENT, "sba_http_client_request_duration_seconds", EXPO_HISTOGRAM,
	       AGG_HTTP_DURATION, "Client time: first request byte written to last response byte read.");
	family(p, e, AGG_REDIS, "sba_redis_commands", EXPO_COUNTER, AGG_REDIS_COMMANDS,
	       "Redis commands sent by Node processes, by command and status (ok or error prefix).");
	family(p, e, AGG_REDIS_DURATION, "sba_redis_command_duration_seconds", EXPO_HISTOGRAM,
	       AGG_REDIS_LATENCY,
	       "Redis command latency: first command byte written to last reply byte read; "
	       "blocking commands are left out.");

	render_workers(p, e);
	render_processes(p, e);

	if (expo_family(e, "sba_observer_series", EXPO_GAUGE,
			"Series held per family (the caps fold the excess into other).") == 0) {
		for (int f = 0; f < AGG_FAMILY__MAX; f++) {
			struct expo_label l = { "family", agg_family_info(f)->name };

			agg__stats(p->agg, f, &st);
			expo_gauge(e, &l, 1, (double)st.series);
		}
	}
	if (expo_family(e, "sba_observer_series_dropped", EXPO_COUNTER,
			"Updates folded into an other series, by family and reason.") == 0) {
		for (int f = 0; f < AGG_FAMILY__MAX; f++) {
			agg__stats(p->agg, f, &st);
			for (int d = 0; d < AGG_DROP__MAX; d++) {
				struct expo_label l[2] = { { "family", agg_family_info(f)->name },
							   { "reason", agg_drop_reason_name(d) } };

				expo_counter(e, l, 2, st.dropped[d]);
			}
		}
	}
	if (expo_family(e, "sba_observer_routes_folded", EXPO_COUNTER,
			"Requests whose route template was folded into other by the per-service route cap.") == 0)
		expo_counter(e, NULL, 0, p->routes_folded);
	if (expo_family(e, "sba_observer_tenants_folded", EXPO_COUNTER,
			"Requests whose tenant was folded into other (not among the top tenants).") == 0)
		expo_counter(e, NULL, 0, tenant_topk__folded(p->tenants));
	if (expo_family(e, "sba_observer_capture_cut_commands", EXPO_COUNTER,
			"Redis commands longer than the capture cap: counted, but what they did "
			"(e.g. a BullMQ script's first EVAL) is unknown.") == 0) {
		struct expo_label l = { "protocol", "redis" };

		expo_counter(e, &l, 1, p->redis_cmd_cut);
	}
	if (expo_family(e, "sba_observer_parse_errors", EXPO_COUNTER,
			"Malformed traffic by protocol (the connection resynchronises).") == 0) {
		uint64_t http = 0;
		struct expo_label l = { "protocol", "http" };

		for (int i = 0; i < HTTP1_ERR__MAX; i++)
			http += cs->http.parse_errors[i];
		expo_counter(e, &l, 1, http);
	}
	if (expo_family(e, "sba_observer_connections_tracked", EXPO_GAUGE,
			"Connections whose parser state the observer holds.") == 0)
		expo_gauge(e, NULL, 0, (double)conntab__count(p->ct));
	if (expo_family(e, "sba_observer_connections_max", EXPO_GAUGE,
			"The most connections the observer holds at once (--max-conns).") == 0)
		expo_gauge(e, NULL, 0, (double)conntab__max(p->ct));
	if (expo_family(e, "sba_observer_untracked_records", EXPO_COUNTER,
			"Records (opens, data) of connections the observer had no room for: "
			"not parsed.") == 0)
		expo_counter(e, NULL, 0, cs->table_full);
	if (expo_family(e, "sba_observer_connections_by_protocol", EXPO_COUNTER,
			"Connections by the protocol detected on their first bytes.") == 0) {
		static const char *const names[CONN_PROTO__MAX] = { "unknown", "http", "redis",
								     "other" };

		for (int i = 1; i < CONN_PROTO__MAX; i++) {
			struct expo_label l = { "protocol", names[i] };

			expo_counter(e, &l, 1, cs->proto[i]);
		}
	}
}
