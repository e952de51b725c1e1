// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of conntab.c: protocol detection, sessions fed with the
 * connection's identity, bounded size, close and process exit, and the
 * integrity of the table under many inserts and removals.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "conntab.h"

static int n_http, n_redis;
static struct {
	uint64_t conn_id;
	uint16_t status;
	char path[HTTP1_PATH_MAX + 1], tenant[HTTP1_TENANT_MAX + 1];
	uint64_t duration;
	uint8_t role;
} last_http;
static char last_cmd[REDISCONN_NAME_MAX + 8], last_status[32];

static void on_http(void *ctx, const struct conn_info *ci, const struct httpconn_exchange *x)
{
	n_http++;
	last_http.conn_id = ci->conn_id;
	last_http.status = x->resp ? x->resp->status : 0;
	snprintf(last_http.path, sizeof(last_http.path), "%s", x->req ? x->req->path : "");
	snprintf(last_http.tenant, sizeof(last_http.tenant), "%s", x->req ? x->req->tenant : "");
	last_http.duration = x->duration_ns;
	last_http.role = x->role;
}

static void on_redis(void *ctx, const struct conn_info *ci, const struct redisconn_ev *ev)
{
	if (ev->kind != REDISCONN_EV_CMD)
		return;
	n_redis++;
	snprintf(last_cmd, sizeof(last_cmd), "%s", ev->rec->cmd);
	snprintf(last_status, sizeof(last_status), "%s", ev->rec->status);
}

static struct conntab *new_tab(uint32_t max)
{
	struct conntab_config cfg;

	conntab_config_init(&cfg);
	cfg.max_conns = max;
	cfg.sink = (struct conntab_sink){ .on_http = on_http, .on_redis = on_redis };
	n_http = n_redis = 0;
	return conntab__new(&cfg);
}

static void open_conn(struct conntab *t, uint64_t id, uint32_t tgid, uint8_t role, uint16_t lport,
		      uint16_t rport)
{
	struct sba_conn_ev ev = { .hdr = { .kind = SBA_EV_CONN_OPEN, .tgid = tgid },
				  .conn_id = id, .role = role, .family = 2,
				  .lport = lport, .rport = rport };

	conntab__open(t, &ev);
}

static void data(struct conntab *t, uint64_t id, uint32_t tgid, uint8_t dir, uint64_t ts,
		 const char *s)
{
	struct sba_data_ev ev = { .hdr = { .kind = SBA_EV_DATA, .tgid = tgid, .ts_ns = ts },
				  .conn_id = id, .dir = dir, .bytes = strlen(s),
				  .cap_len = (uint32_t)strlen(s) };

	conntab__data(t, &ev, (const uint8_t *)s);
}

static void test_http_server_exchange(void)
{
	struct conntab *t = new_tab(16);

	open_conn(t, 7, 100, SBA_ROLE_SERVER, 3000, 40000);
	data(t, 7, 100, SBA_DIR_IN, 1000,
	     "GET /users/42?x=1 HTTP/1.1\r\nHost: a\r\nx-tenant-id: acme\r\n\r\n");
	CHECK_EQ_INT(n_http, 0);
	data(t, 7, 100, SBA_DIR_OUT, 5000, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
	CHECK_EQ_INT(n_http, 1);
	CHECK_EQ_INT(last_http.conn_id, 7);
	CHECK_EQ_INT(last_http.status, 201);
	CHECK_EQ_STR(last_http.path, "/users/42");
	CHECK_EQ_STR(last_http.tenant, "acme");
	CHECK_EQ_INT(last_http.duration, 4000);
	CHECK_EQ_INT(last_http.role, SBA_ROLE_SERVER);
	CHECK_EQ_INT(conntab__stats(t)->proto[CONN_PROTO_HTTP], 1);
	CHECK_EQ_INT(conntab__stats(t)->http.exchanges, 1);
	conntab__free(t);
}

static void test_redis_by_port_and_by_shape(void)
{
	struct conntab *t = new_tab(16);

	/* By the server port. */
	open_conn(t, 1, 100, SBA_ROLE_CLIENT, 50000, 6379);
	data(t, 1, 100, SBA_DIR_OUT, 10, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	data(t, 1, 100, SBA_DIR_IN, 20, "$1\r\nv\r\n");
	CHECK_EQ_INT(n_redis, 1);
	CHECK_EQ_STR(last_cmd, "GET");
	CHECK_EQ_STR(last_status, "ok");
	/* On another port, by the shape of the first command. */
	open_conn(t, 2, 100, SBA_ROLE_CLIENT, 50001, 7000);
	data(t, 2, 100, SBA_DIR_OUT, 30, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
	data(t, 2, 100, SBA_DIR_IN, 40, "-WRONGTYPE Operation against a key\r\n");
	CHECK_EQ_INT(n_redis, 2);
	CHECK_EQ_STR(last_cmd, "SET");
	CHECK_EQ_STR(last_status, "WRONGTYPE");
	CHECK_EQ_INT(conntab__stats(t)->proto[CONN_PROTO_REDIS], 2);
	conntab__free(t);
}

static void test_other_protocol_not_parsed(void)
{
	struct conntab *t = new_tab(16);

	open_conn(t, 3, 100, SBA_ROLE_CLIENT, 50000, 5432);
	data(t, 3, 100, SBA_DIR_OUT, 10, "\x16\x03\x01 binary handshake");
	data(t, 3, 100, SBA_DIR_OUT, 11, "GET / HTTP/1.1\r\n\r\n"); /* too late: decided */
	CHECK_EQ_INT(conntab__stats(t)->proto[CONN_PROTO_OTHER], 1);
	CHECK_EQ_INT(n_http + n_redis, 0);
	CHECK_EQ_INT(conntab__stats(t)->other_bytes, 38);
	conntab__free(t);
}

/* Joined mid-stream: a few body chunks first, then a request starts. */
static void test_joined_waits_for_a_message_start(void)
{
	struct conntab *t = new_tab(16);
	struct sba_conn_ev ev = { .hdr = { .kind = SBA_EV_CONN_OPEN, .tgid = 100,
					   .flags = SBA_CONN_JOINED },
				  .conn_id = 4, .role = SBA_ROLE_UNKNOWN, .lport = 3000,
				  .rport = 40000 };

	conntab__open(t, &ev);
	data(t, 4, 100, SBA_DIR_IN, 1, "tail of an earlier body");
	data(t, 4, 100, SBA_DIR_OUT, 2, "more body");
	CHECK_EQ_INT(conntab__stats(t)->proto[CONN_PROTO_OTHER], 0);
	data(t, 4, 100, SBA_DIR_IN, 10, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
	data(t, 4, 100, SBA_DIR_OUT, 30, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(n_http, 1);
	CHECK_EQ_STR(last_http.path, "/health");
	CHECK_EQ_INT(last_http.duration, 20);
	conntab__free(t);
}

static void test_data_without_open_is_counted_and_parsed(void)
{
	struct conntab *t = new_tab(16);

	data(t, 9, 100, SBA_DIR_OUT, 1, "GET /x HTTP/1.1\r\nHost: b\r\n\r\n");
	data(t, 9, 100, SBA_DIR_IN, 9, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	CHECK_EQ_INT(conntab__stats(t)->without_open, 1);
	CHECK_EQ_INT(n_http, 1);
	CHECK_EQ_INT(last_http.status, 404);
	CHECK_EQ_INT(last_http.role, SBA_ROLE_CLIENT); /* inferred: it wrote the request */
	conntab__free(t);
}

static void test_bounded_and_forget_tgid(void)
{
	struct conntab *t = new_tab(3);

	open_conn(t, 1, 100, SBA_ROLE_SERVER, 1, 2);
	open_conn(t, 2, 100, SBA_ROLE_SERVER, 1, 3);
	open_conn(t, 3, 200, SBA_ROLE_SERVER, 1, 4);
	open_conn(t, 4, 200, SBA_ROLE_SERVER, 1, 5);
	CHECK_EQ_INT(conntab__count(t), 3);
	CHECK_EQ_INT(conntab__stats(t)->table_full, 1);
	conntab__forget_tgid(t, 100);
	CHECK_EQ_INT(conntab__count(t), 1);
	conntab__close(t, 3);
	conntab__close(t, 3); /* twice: no effect */
	CHECK_EQ_INT(conntab__count(t), 0);
	CHECK_EQ_INT(conntab__stats(t)->closed, 3);
	conntab__free(t);
}

/* Backward-shift deletion keeps every remaining id findable. */
static void test_many_inserts_and_removals(void)
{
	enum { N = 5000 };
	struct conntab *t = new_tab(N);
	static uint64_t ids[N];
	size_t left = N;

	srand(7);
	for (int i = 0; i < N; i++) {
		ids[i] = ((uint64_t)(rand() % 4 + 1) << 40) | (uint64_t)rand();
		open_conn(t, ids[i], 1 + i % 7, SBA_ROLE_SERVER, 1, 2);
	}
	CHECK_EQ_INT(conntab__count(t), N);
	/* Close in a shuffled order; each close must find its id. */
	for (int i = N - 1; i > 0; i--) {
		int j = rand() % (i + 1);
		uint64_t x = ids[i];

		ids[i] = ids[j];
		ids[j] = x;
	}
	for (int i = 0; i < N / 2; i++) {
		conntab__close(t, ids[i]);
		left--;
	}
	CHECK_EQ_INT(conntab__count(t), left);
	conntab__forget_tgid(t, 3);
	for (int i = N / 2; i < N; i++)
		conntab__close(t, ids[i]);
	CHECK_EQ_INT(conntab__count(t), 0);
	CHECK_EQ_INT(conntab__stats(t)->closed, N);
	conntab__free(t);
}

struct visit_count {
	int conns;
	uint32_t pending;
	bool tgid3;
};

static void count_http(void *ctx, const struct conn_info *ci, enum sba_role role, uint32_t pending)
{
	struct visit_count *v = ctx;

	v->conns++;
	v->pending += pending;
	v->tgid3 |= ci->tgid == 3;
}

/* The walk over HTTP connections (the active-requests gauge) sees exactly
 * the live ones, after closes and process exits moved entries around. */
static void test_visit_http(void)
{
	enum { N = 300 };
	struct conntab *t = new_tab(N);
	static bool open[N + 1];
	struct visit_count v = { 0 };
	int want = 0;

	for (int i = 1; i <= N; i++) {
		open_conn(t, (uint64_t)i, 1 + i % 7, SBA_ROLE_SERVER, 80, (uint16_t)(40000 + i));
		if (i % 5)	/* the others never speak: no session */
			data(t, (uint64_t)i, 1 + i % 7, SBA_DIR_IN, 1000, "GET / HTTP/1.1\r\n\r\n");
		open[i] = true;
	}
	for (int i = 1; i <= N; i += 3) {
		conntab__close(t, (uint64_t)i);
		open[i] = false;
	}
	conntab__forget_tgid(t, 3);
	for (int i = 1; i <= N; i++)
		want += open[i] && i % 5 && 1 + i % 7 != 3;
	conntab__visit_http(t, count_http, &v);
	CHECK_EQ_INT(v.conns, want);
	CHECK_EQ_INT(v.pending, want);	/* one request each, unanswered */
	CHECK(!v.tgid3);
	conntab__free(t);
}

int main(void)
{
	RUN(test_http_server_exchange);
	RUN(test_redis_by_port_and_by_shape);
	RUN(test_other_protocol_not_parsed);
	RUN(test_joined_waits_for_a_message_start);
	RUN(test_data_without_open_is_counted_and_parsed);
	RUN(test_bounded_and_forget_tgid);
	RUN(test_many_inserts_and_removals);
	RUN(test_visit_http);
	return check_summary();
}
