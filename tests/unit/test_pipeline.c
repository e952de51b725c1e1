// SPDX-License-Identifier: Apache-2.0
/*
 * test_pipeline.c - decoded events in, exposition out: the pipeline fed with
 * hand-made ring records (connections and HTTP bytes of this very process),
 * rendered as the exporter renders it. Checks the labels, the exemplars and
 * the render budget of issue 4 (10,000 label sets in 10 ms).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "expo.h"
#include "pipeline.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- ring records, as the kernel writes them ---- */

/* The records' clock: CLOCK_MONOTONIC like the kernel's, moved on by hand. */
static uint64_t clock_ns;
/* The process the records belong to (its /proc entry names the service). */
static pid_t tgid;

static void conn_open(struct event_sink *s, uint64_t id, uint8_t role, uint16_t rport)
{
	struct sba_conn_ev ev = { .hdr = { .kind = SBA_EV_CONN_OPEN, .size = sizeof(ev),
					   .tgid = (uint32_t)tgid, .ts_ns = clock_ns },
				  .conn_id = id, .tid = (uint32_t)tgid, .fd = 10, .role = role,
				  .family = 2, .lport = 40000, .rport = rport,
				  .laddr = { 127, 0, 0, 1 }, .raddr = { 127, 0, 0, 1 } };

	s->on_conn(s->ctx, &ev);
}

static void conn_close(struct event_sink *s, uint64_t id)
{
	struct sba_conn_ev ev = { .hdr = { .kind = SBA_EV_CONN_CLOSE, .size = sizeof(ev),
					   .tgid = (uint32_t)tgid, .ts_ns = clock_ns },
				  .conn_id = id, .tid = (uint32_t)tgid, .fd = 10 };

	s->on_conn(s->ctx, &ev);
}

static void data(struct event_sink *s, uint64_t id, uint8_t dir, const char *bytes, uint64_t dt_ns)
{
	static uint8_t rec[sizeof(struct sba_data_ev) + 4096];
	struct sba_data_ev *ev = (struct sba_data_ev *)rec;
	size_t n = strlen(bytes);

	clock_ns += dt_ns;
	*ev = (struct sba_data_ev){ .hdr = { .kind = SBA_EV_DATA, .size = (uint16_t)(sizeof(*ev) + n),
					     .tgid = (uint32_t)tgid, .ts_ns = clock_ns },
				    .conn_id = id, .bytes = n, .tid = (uint32_t)tgid, .fd = 10,
				    .cap_len = (uint32_t)n, .dir = dir,
				    .sys = dir == SBA_DIR_IN ? SBA_SYS_READ : SBA_SYS_WRITE };
	memcpy(rec + sizeof(*ev), bytes, n);
	s->on_data(s->ctx, ev, rec + sizeof(*ev));
}

static struct pipeline *new_pipeline_conns(uint32_t max_routes, uint32_t max_conns)
{
	struct pipeline_config cfg;
	struct pipeline *p;

	pipeline_config_init(&cfg);
	cfg.max_routes = max_routes;
	cfg.max_conns = max_conns;
	CHECK(service_rules_add(&cfg.services, "test_pipeline=shop") == 0);
	p = pipeline__new(&cfg, NULL);
	CHECK(p != NULL);
	return p;
}

static void render(struct pipeline *p, enum expo_format fmt, struct buf *out)
{
	struct expo e;

	pipeline__flush(p);	/* as the event loop does after each drain */
	buf_reset(out);
	expo_init(&e, out, fmt, NULL);
	pipeline__render(p, &e);
	CHECK_EQ_INT(expo_finish(&e), 0);
	buf_cstr(out);
}

static struct pipeline *new_pipeline(uint32_t max_routes)
{
	return new_pipeline_conns(max_routes, 0);
}

/* ---- tests ---- */

/* Server and client exchanges become labelled series; the peer comes from
 * the Host header when it is a name, never from an address. */
static void test_exchanges_to_series(void)
{
	struct pipeline *p = new_pipeline(0);
	struct event_sink s = pipeline__sink(p);
	struct buf out;

	buf_init(&out, 0);
	conn_open(&s, 1, SBA_ROLE_SERVER, 51000);
	data(&s, 1, SBA_DIR_IN, "GET /users/42?x=1 HTTP/1.1\r\nHost: shop\r\nx-tenant-id: acme\r\n"
				"x-request-id: r-1\r\nAuthorization: Bearer hunter2-secret\r\n\r\n", 0);
	data(&s, 1, SBA_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 3000000);
	conn_open(&s, 2, SBA_ROLE_CLIENT, 8080);
	data(&s, 2, SBA_DIR_OUT, "GET /v1/prices/9 HTTP/1.1\r\nHost: Pricing.Internal:8080\r\n\r\n", 0);
	data(&s, 2, SBA_DIR_IN, "HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n", 1000000);
	conn_open(&s, 3, SBA_ROLE_CLIENT, 9090);
	data(&s, 3, SBA_DIR_OUT, "GET /a HTTP/1.1\r\nHost: 10.1.2.3:9090\r\n\r\n", 0);
	data(&s, 3, SBA_DIR_IN, "HTTP/1.1 204 No Content\r\n\r\n", 1000000);
	render(p, EXPO_FMT_TEXT, &out);
	CHECK(strstr(out.data, "sba_http_server_requests_total{service=\"shop\",method=\"GET\","
			       "route=\"/users/:id\",status_code=\"200\",tenant=\"acme\"} 1\n") != NULL);
	CHECK(strstr(out.data, "sba_http_client_requests_total{service=\"shop\",method=\"GET\","
			       "peer=\"pricing.internal:8080\",route=\"/v1/prices/:id\","
			       "status_code=\"503\",tenant=\"none\"} 1\n") != NULL);
	/* an address is not a label: localhost on loopback */
	CHECK(strstr(out.data, "peer=\"localhost:9090\",route=\"/a\",status_code=\"204\"") != NULL);
	CHECK(strstr(out.data, "10.1.2.3") == NULL);
	CHECK(strstr(out.data, "hunter2") == NULL);
	CHECK(strstr(out.data, "/users/42") == NULL);
	/* the request id is an exemplar in OpenMetrics only */
	CHECK(strstr(out.data, "r-1") == NULL);
	render(p, EXPO_FMT_OPENMETRICS, &out);
	CHECK(strstr(out.data, "route=\"/users/:id\",status_code=\"200\",tenant=\"acme\",le=\"0.005\"} 1 "
			       "# {request_id=\"r-1\"} 0.003 ") != NULL);
	CHECK(strstr(out.data, "hunter2") == NULL);
	buf_free(&out);
	pipeline__free(p);
}

/* --max-conns bounds the connections parsed at once: the gauges say how
 * many are held and the most, and a connection with no room has its records
 * counted, its requests not. A close makes room again. */
static void test_connection_cap(void)
{
	struct pipeline *p = new_pipeline_conns(0, 2);
	struct event_sink s = pipeline__sink(p);
	struct buf out;

	buf_init(&out, 0);
	render(p, EXPO_FMT_TEXT, &out);
	CHECK(strstr(out.data, "\nsba_observer_connections_tracked 0\n") != NULL);
	CHECK(strstr(out.data, "\nsba_observer_connections_max 2\n") != NULL);
	CHECK(strstr(out.data, "\nsba_observer_untracked_records_total 0\n") != NULL);
	for (uint64_t id = 1; id <= 3; id++) {
		conn_open(&s, id, SBA_ROLE_SERVER, 51000);
		data(&s, id, SBA_DIR_IN, "GET /a HTTP/1.1\r\nHost: shop\r\n\r\n", 0);
		data(&s, id, SBA_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1000000);
	}
	render(p, EXPO_FMT_TEXT, &out);
	CHECK(strstr(out.data, "\nsba_observer_connections_tracked 2\n") != NULL);
	CHECK(strstr(out.data, "\nsba_observer_untracked_records_total 3\n") != NULL);
	CHECK(strstr(out.data, "route=\"/a\",status_code=\"200\",tenant=\"none\"} 2\n") != NULL);
	conn_close(&s, 1);
	conn_open(&s, 4, SBA_ROLE_SERVER, 51000);
	data(&s, 4, SBA_DIR_IN, "GET /a HTTP/1.1\r\nHost: shop\r\n\r\n", 0);
	data(&s, 4, SBA_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1000000);
	render(p, EXPO_FMT_TEXT, &out);
	CHECK(strstr(out.data, "\nsba_observer_connections_tracked 2\n") != NULL);
	CHECK(strstr(out.data, "\nsba_observer_untracked_records_total 3\n") != NULL);
	CHECK(strstr(out.data, "route=\"/a\",status_code=\"200\",tenant=\"none\"} 3\n") != NULL);
	buf_free(&out);
	pipeline__free(p);
}

/* The slow-request log: slowest first, labels as the metrics have them. */
static void test_slow_log(void)
{
	struct pipeline *p = new_pipeline(0);
	struct event_sink s = pipeline__sink(p);
	struct buf out;

	buf_init(&out, 0);
	conn_open(&s, 1, SBA_ROLE_SERVER, 51000);
	for (int i = 0; i < 3; i++) {
		char req[128];

		snprintf(req, sizeof(req), "GET /orders/%d HTTP/1.1\r\nx-request-id: q%d\r\n\r\n", i, i);
		data(&s, 1, SBA_DIR_IN, req, 1000);
		data(&s, 1, SBA_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		     (uint64_t)(i == 1 ? 900 : 10) * 1000000);
	}
	/* the log's clock is CLOCK_MONOTONIC: this test's fake clock is in its past */
	pipeline__tick(p, clock_ns);
	CHECK_EQ_INT(pipeline__slow_json(p, &out), 0);
	buf_cstr(&out);
	CHECK(strstr(out.data, "\"requests\":[{\"status\":200,\"duration_seconds\":0.900000,") != NULL);
	CHECK(strstr(out.data, "\"route\":\"/orders/:id\"") != NULL);
	CHECK(strstr(out.data, "\"request_id\":\"q1\"") != NULL);
	buf_free(&out);
	pipeline__free(p);
}

/* A process named by its environment, to own a service's records. */
static pid_t service_process(const char *name)
{
	pid_t pid = fork();

	if (pid == 0) {
		char env[64];

		snprintf(env, sizeof(env), "OTEL_SERVICE_NAME=%s", name);
		execle("/bin/sleep", "sleep", "60", NULL, (char *[]){ env, NULL });
		_exit(127);
	}
	usleep(20000);	/* exec'd: its environ is the new one */
	return pid;
}

/* Waits until pid is a zombie: exited, not reaped, /proc/pid still there
 * with an empty environment and command line. */
static void wait_zombie(pid_t pid)
{
	char path[64], st[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(path, "r");
		char *rp = NULL;

		if (f) {
			rp = fgets(st, sizeof(st), f) ? strrchr(st, ')') : NULL;
			fclose(f);
		}
		if (rp && rp[1] == ' ' && rp[2] == 'Z')
			return;
		usleep(2000);
	}
}

/* A short-lived client: started, its requests made, gone before the drain
 * that brings them (reaped, or still a zombie whose /proc entry has no
 * environment). Its requests keep the name it had at its start, not
 * "unknown" (the re-identification at the first request finds nothing). */
static void identity_outlives_process(bool reaped)
{
	struct pipeline *p = new_pipeline(0);
	struct event_sink s = pipeline__sink(p);
	pid_t self = tgid, pid = service_process("web");
	struct sba_proc_ev ev = { .hdr = { .kind = SBA_EV_PROC_EXEC, .size = sizeof(ev),
					   .tgid = (uint32_t)pid, .ts_ns = clock_ns }, .gen = 7 };
	struct buf out;

	buf_init(&out, 0);
	s.on_proc(s.ctx, &ev);	/* the drain that had its exec, while it lived */
	kill(pid, SIGKILL);
	if (reaped)
		waitpid(pid, NULL, 0);
	else
		wait_zombie(pid);
	tgid = pid;		/* the next drain: its client exchange */
	conn_open(&s, 9, SBA_ROLE_CLIENT, 8080);
	data(&s, 9, SBA_DIR_OUT, "GET /quotes/1 HTTP/1.1\r\nHost: api:8080\r\n\r\n", 0);
	data(&s, 9, SBA_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1000000);
	tgid = self;
	render(p, EXPO_FMT_TEXT, &out);
	CHECK(strstr(out.data, "sba_http_client_requests_total{service=\"web\",method=\"GET\","
			       "peer=\"api:8080\",route=\"/quotes/:id\"") != NULL);
	CHECK(strstr(out.data, "service=\"unknown\"") == NULL);
	buf_free(&out);
	pipeline__free(p);
	if (!reaped)
		waitpid(pid, NULL, 0);
}

static void test_identity_outlives_process(void)
{
	identity_outlives_process(true);
}

static void test_identity_outlives_zombie(void)
{
	identity_outlives_process(false);
}

/* Issue 4's budget: 10,000 series rendered in 10 ms (10x under a
 * sanitizer; bench/render/run.sh measures an optimised build). 3,400 HTTP
 * label sets are 10,200 series (a counter and two histograms each), over
 * two services; the whole exposition is timed, every other family with it. */
static void test_render_10k(void)
{
	struct pipeline *p = new_pipeline(1000);
	struct event_sink s = pipeline__sink(p);
	double best_text = 1e9, best_om = 1e9;
	size_t bytes = 0;
	pid_t kids[2];
	struct buf out;

	buf_init(&out, 0);
	for (int k = 0; k < 2; k++) {
		char name[16];

		snprintf(name, sizeof(name), "svc%d", k);
		kids[k] = service_process(name);
		tgid = kids[k];
		conn_open(&s, 100 + (uint64_t)k, SBA_ROLE_SERVER, 51000);
		for (int i = 0; i < 1700; i++) {
			char req[256];

			snprintf(req, sizeof(req),
				 "GET /api/v1/resource%d/%d HTTP/1.1\r\nx-tenant-id: tenant-%d\r\n"
				 "x-request-id: req-%d-%d\r\n\r\n", i / 20, i, i % 20, k, i);
			data(&s, 100 + (uint64_t)k, SBA_DIR_IN, req, 1000);
			data(&s, 100 + (uint64_t)k, SBA_DIR_OUT,
			     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", (uint64_t)(i % 997) * 100000);
		}
	}
	tgid = getpid();
	for (int round = 0; round < 5; round++) {
		double t0 = now_ms(), t1, t2;

		render(p, EXPO_FMT_TEXT, &out);
		t1 = now_ms();
		bytes = out.len;
		render(p, EXPO_FMT_OPENMETRICS, &out);
		t2 = now_ms();
		if (t1 - t0 < best_text)
			best_text = t1 - t0;
		if (t2 - t1 < best_om)
			best_om = t2 - t1;
	}
	for (int k = 0; k < 2; k++) {
		kill(kids[k], SIGKILL);
		waitpid(kids[k], NULL, 0);
	}
	CHECK(strstr(out.data, "{service=\"svc1\",method=\"GET\",route=\"/api/v1/resource84/:id\","
			       "status_code=\"200\",tenant=\"tenant-19\",le=\"0.1\"}") != NULL);
	CHECK(strstr(out.data, "# {request_id=\"req-1-1699\"}") != NULL);
	CHECK(strstr(out.data, "sba_observer_series{family=\"http_server\"} 3400\n") != NULL);
	CHECK(strstr(out.data, "reason=\"service_limit\"} 0\n") != NULL);
	printf("  3400 label sets (10200 series + quantiles): text %.2f ms (%zu KiB), "
	       "OpenMetrics with exemplars %.2f ms%s\n",
	       best_text, bytes >> 10, best_om, SANITIZED ? " (sanitizer build)" : "");
	CHECK(best_text < (SANITIZED ? 100 : 10));
	CHECK(best_om < (SANITIZED ? 100 : 10));
	buf_free(&out);
	pipeline__free(p);
}

int main(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	clock_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	tgid = getpid();
	RUN(test_exchanges_to_series);
	RUN(test_connection_cap);
	RUN(test_slow_log);
	RUN(test_identity_outlives_process);
	RUN(test_identity_outlives_zombie);
	RUN(test_render_10k);
	return check_summary();
}
