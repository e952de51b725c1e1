// SPDX-License-Identifier: Apache-2.0
/*
 * trace.c - prints events as JSON lines (the format is docs/TRACE.md).
 * Captured bytes are printed escaped, never interpreted.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "agg.h"
#include "config.h"
#include "json.h"
#include "loader.h"
#include "trace.h"

static const char *role_name(uint8_t role)
{
	switch (role) {
	case SBA_ROLE_SERVER: return "server";
	case SBA_ROLE_CLIENT: return "client";
	default: return "unknown";
	}
}

static void addr_str(uint8_t family, const uint8_t *addr, char *out, size_t len)
{
	if (!inet_ntop(family == 10 ? AF_INET6 : AF_INET, addr, out, len))
		snprintf(out, len, "?");
}

static void trace_proc(void *ctx, const struct sba_proc_ev *ev)
{
	FILE *f = ctx;
	const char *name = ev->hdr.kind == SBA_EV_PROC_EXEC   ? "exec"
			   : ev->hdr.kind == SBA_EV_PROC_FORK ? "fork"
							      : "exit";
	char comm[SBA_COMM_LEN + 1];

	memcpy(comm, ev->comm, SBA_COMM_LEN);
	comm[SBA_COMM_LEN] = 0;
	fprintf(f, "{\"ev\":\"%s\",\"ts\":%" PRIu64 ",\"tgid\":%u,\"gen\":%" PRIu64, name,
		(uint64_t)ev->hdr.ts_ns, ev->hdr.tgid, (uint64_t)ev->gen);
	if (ev->hdr.kind == SBA_EV_PROC_FORK)
		fprintf(f, ",\"ppid\":%u", ev->ppid);
	fputs(",\"comm\":\"", f);
	json_write_bytes(f, (const uint8_t *)comm, strlen(comm));
	fputs("\"}\n", f);
}

static void trace_conn(void *ctx, const struct sba_conn_ev *ev)
{
	FILE *f = ctx;
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];

	if (ev->hdr.kind == SBA_EV_CONN_CLOSE) {
		fprintf(f,
			"{\"ev\":\"close\",\"ts\":%" PRIu64 ",\"tgid\":%u,\"conn\":%" PRIu64
			",\"fd\":%d,\"by_exit\":false}\n",
			(uint64_t)ev->hdr.ts_ns, ev->hdr.tgid, (uint64_t)ev->conn_id, ev->fd);
		return;
	}
	addr_str(ev->family, ev->laddr, l, sizeof(l));
	addr_str(ev->family, ev->raddr, r, sizeof(r));
	fprintf(f,
		"{\"ev\":\"open\",\"ts\":%" PRIu64 ",\"tgid\":%u,\"tid\":%u,\"conn\":%" PRIu64
		",\"fd\":%d,\"role\":\"%s\",\"joined\":%s,\"laddr\":\"%s\",\"lport\":%u,"
		"\"raddr\":\"%s\",\"rport\":%u}\n",
		(uint64_t)ev->hdr.ts_ns, ev->hdr.tgid, ev->tid, (uint64_t)ev->conn_id, ev->fd,
		role_name(ev->role), ev->hdr.flags & SBA_CONN_JOINED ? "true" : "false", l,
		ev->lport, r, ev->rport);
}

static const char *cut_name(uint8_t flags)
{
	if (flags & SBA_DATA_CUT_FAULT)
		return "fault";
	if (flags & SBA_DATA_CUT_IOV)
		return "iov";
	if (flags & SBA_DATA_NO_PAYLOAD)
		return "sendfile";
	if (flags & SBA_DATA_CUT_CAP)
		return "cap";
	return NULL;
}

static void trace_data(void *ctx, const struct sba_data_ev *ev, const uint8_t *data)
{
	FILE *f = ctx;
	const char *cut = cut_name(ev->hdr.flags);

	fprintf(f,
		"{\"ev\":\"data\",\"ts\":%" PRIu64 ",\"tgid\":%u,\"tid\":%u,\"conn\":%" PRIu64 ",\"fd\":%d,\"dir\":\"%s\","
		"\"sys\":\"%s\",\"bytes\":%" PRIu64 ",\"cap\":%u,\"gap\":%" PRIu64,
		(uint64_t)ev->hdr.ts_ns, ev->hdr.tgid, ev->tid,
		(uint64_t)ev->conn_id, ev->fd, ev->dir == SBA_DIR_IN ? "in" : "out",
		sba_sys_name(ev->sys), (uint64_t)ev->bytes, ev->cap_len, (uint64_t)ev->gap_bytes);
	if (cut)
		fprintf(f, ",\"cut\":\"%s\"", cut);
	if (ev->hdr.flags & SBA_DATA_TAIL)
		fputs(",\"tail\":true", f);
	fputs(",\"data\":\"", f);
	json_write_bytes(f, data, ev->cap_len);
	fputs("\"}\n", f);
}

struct event_sink trace_sink(FILE *f, uint32_t kinds)
{
	return (struct event_sink){
		.on_proc = kinds & SBA_TRACE_PROC ? trace_proc : NULL,
		.on_conn = kinds & SBA_TRACE_CONN ? trace_conn : NULL,
		.on_data = kinds & SBA_TRACE_DATA ? trace_data : NULL,
		.ctx = f,
	};
}

static void put_str(FILE *f, const char *key, const char *v)
{
	fprintf(f, ",\"%s\":\"", key);
	json_write_bytes(f, (const uint8_t *)v, strlen(v));
	fputc('"', f);
}

static void trace_http(void *ctx, const struct pipeline_http_rec *r)
{
	FILE *f = ctx;

	fprintf(f, "{\"ev\":\"http\",\"side\":\"%s\",\"pid\":%u,\"conn\":%" PRIu64,
		role_name(r->role), r->tgid, r->conn_id);
	put_str(f, "service", r->service);
	put_str(f, "method", r->method);
	put_str(f, "route", r->route);
	fprintf(f, ",\"status\":%u", r->status);
	put_str(f, "tenant", r->tenant);
	if (r->peer)
		put_str(f, "peer", r->peer);
	fprintf(f, ",\"end_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 ",\"ttfb_ns\":%" PRId64,
		r->end_ns, r->duration_ns, r->ttfb_ns == AGG_NO_VALUE ? (int64_t)-1 : (int64_t)r->ttfb_ns);
	if (r->request_id)
		put_str(f, "request_id", r->request_id);
	fputs("}\n", f);
}

/* "timeout,5xx": the failure classes of an attempt, comma-separated. */
static const char *class_list(uint32_t fail, char *buf, size_t n)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} classes[] = { { AGG_WF_TIMEOUT, "timeout" }, { AGG_WF_4XX, "4xx" }, { AGG_WF_5XX, "5xx" } };
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (fail & classes[i].bit)
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "," : "",
						classes[i].name);
	return buf;
}

static void trace_job(void *ctx, const struct bullmq_event *ev, uint32_t fail)
{
	FILE *f = ctx;
	bool finish = ev->op != BULLMQ_OP_STARTED && ev->op != BULLMQ_OP_ADDED;
	int64_t dur = ev->duration_ns >= 0   ? ev->duration_ns
		      : ev->duration_ms >= 0 ? ev->duration_ms * 1000000
					     : -1;
	char cls[32];

	fprintf(f, "{\"ev\":\"job\",\"ts\":%" PRIu64, ev->ts_ns);
	put_str(f, "queue", ev->queue ? ev->queue : "");
	put_str(f, "op", bullmq_op_name(ev->op));
	put_str(f, "job_id", ev->job_id ? ev->job_id : "");
	fprintf(f, ",\"attempt\":%u,\"wait_ns\":%" PRId64 ",\"duration_ns\":%" PRId64
		   ",\"class\":\"%s\"}\n",
		ev->attempt, ev->wait_ms >= 0 ? ev->wait_ms * 1000000 : (int64_t)-1,
		finish ? dur : (int64_t)-1, class_list(fail, cls, sizeof(cls)));
}

struct pipeline_tap trace_tap(FILE *f, uint32_t kinds)
{
	return (struct pipeline_tap){
		.http = kinds & SBA_TRACE_HTTP ? trace_http : NULL,
		.job = kinds & SBA_TRACE_JOB ? trace_job : NULL,
		.ctx = f,
	};
}

void trace_ready(FILE *f, const char *hooks, int targets)
{
	fprintf(f, "{\"ev\":\"ready\",\"hooks\":\"%s\",\"targets\":%d}\n", hooks, targets);
	fflush(f);
}

void trace_closed_by_exit(void *ctx, uint32_t tgid, uint64_t conn_id, int fd)
{
	fprintf((FILE *)ctx,
		"{\"ev\":\"close\",\"ts\":0,\"tgid\":%u,\"conn\":%" PRIu64
		",\"fd\":%d,\"by_exit\":true}\n",
		tgid, conn_id, fd);
}

void trace_stats(FILE *f, const struct sba_counters *c, const struct events *e)
{
	fputs("{\"ev\":\"stats\",\"drops\":{", f);
	for (int i = 0; i < SBA_DROP__MAX; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", sba_drop_name(i),
			(uint64_t)c->drops[i]);
	fprintf(f, ",\"exits_overflow\":%" PRIu64 "},\"stats\":{", e->exits_overflow);
	for (int i = 0; i < SBA_STAT__MAX; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", sba_stat_name(i),
			(uint64_t)c->stats[i]);
	fprintf(f, ",\"records\":%" PRIu64 ",\"bad_records\":%" PRIu64 "}}\n", e->records,
		e->bad_records);
	fflush(f);
}
