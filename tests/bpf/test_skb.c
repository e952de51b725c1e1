// SPDX-License-Identifier: Apache-2.0
/*
 * test_skb.c - the packet-layer capture (--hooks skb) on this kernel: loads
 * the real programs (cgroup_skb on the cgroup v2 root, the tcp read and
 * state raw tracepoints), targets this test process, drives real loopback
 * sockets, and checks what reaches the sinks once pktconv has turned
 * packets and reads into connection and data records: bytes exact, payload
 * exact up to the capture, data read stamped at the read, roles, closes,
 * and nothing from a process that is not a target. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "events.h"
#include "loader.h"
#include "log.h"
#include "observer.skel.h"
#include "pktconv.h"
#include "recorder.h"

static struct events evs;
static struct loader ldr;

static int start(void)
{
	char pid[16];
	char *argv[] = { "test", "--pid", pid, "--hooks", "skb", NULL };
	struct event_sink sink = { .on_conn = on_conn, .on_data = on_data };
	struct sba_config cfg;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (config_parse(&cfg, 5, argv))
		return -EINVAL;
	log_set_level(LOG_WARN);
	memset(&evs, 0, sizeof(evs));
	events__add_sink(&evs, &sink);
	if (events__use_packets(&evs, 0))
		return -1;
	recorder_reset();
	if (loader__start(&ldr, &cfg, events__handle, &evs))
		return -1;
	return loader__add_target(&ldr, getpid(), 1);
}

static void drain(void)
{
	/* TCP_CLOSE of a socket can trail its close() by a few ms (FIN, ACK) */
	usleep(20000);
	loader__drain(&ldr);
	events__flush(&evs);
	/* as the observer's loop does after each drain */
	events__take_owned(&evs, loader__own_socket, &ldr);
}

static void stop(void)
{
	loader__stop(&ldr);
	events__free(&evs);
}

/* ---- sockets ---- */

static int listen_any(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) || getsockname(fd, (void *)&a, &len) ||
	    listen(fd, 4))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (void *)&a, sizeof(a)))
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

struct pair {
	int listener, client, server;
	uint16_t port;
};

static int tcp_pair(struct pair *p)
{
	p->listener = listen_any(&p->port);
	if (p->listener < 0)
		return -1;
	p->client = connect_to(p->port);
	p->server = accept4(p->listener, NULL, NULL, SOCK_CLOEXEC);
	return p->client < 0 || p->server < 0 ? -1 : 0;
}

static void close_pair(struct pair *p)
{
	close(p->client);
	close(p->server);
	close(p->listener);
}

static size_t read_exact(int fd, void *buf, size_t n, size_t chunk)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got < chunk ? n - got : chunk);

		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

static struct rec *open_by_lport(uint16_t lport)
{
	for (int i = 0; i < n_recs; i++)
		if (recs[i].kind == SBA_EV_CONN_OPEN && recs[i].lport == lport)
			return &recs[i];
	return NULL;
}

static int count_kind(uint8_t kind, uint64_t conn)
{
	int n = 0;

	for (int i = 0; i < n_recs; i++)
		n += recs[i].kind == kind && recs[i].conn_id == conn;
	return n;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	return getsockname(fd, (void *)&a, &len) ? 0 : ntohs(a.sin_port);
}

static bool have_root(void)
{
	return geteuid() == 0;
}

/* ---- cases ---- */

static void test_exchange_both_sides(void)
{
	static const char req[] = "GET /users/42 HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	char buf[256];
	struct rec *c, *s, *d[8];
	uint64_t t_read0, t_read1;
	struct pair p;

	if (!have_root())
		SKIP("needs root");
	CHECK(start() == 0);
	CHECK(tcp_pair(&p) == 0);
	CHECK(write(p.client, req, strlen(req)) == (ssize_t)strlen(req));
	usleep(2000);	/* the request waits in the socket: its read comes later */
	t_read0 = now_ns();
	CHECK(read_exact(p.server, buf, strlen(req), sizeof(buf)) == strlen(req));
	t_read1 = now_ns();
	CHECK(send(p.server, resp, strlen(resp), 0) == (ssize_t)strlen(resp));
	CHECK(read_exact(p.client, buf, strlen(resp), sizeof(buf)) == strlen(resp));
	drain();
	c = open_by_lport(local_port(p.client));
	s = open_by_lport(p.port);
	CHECK_MSG(c && c->role == SBA_ROLE_CLIENT && c->rport == p.port && !c->flags, "client open: role %d rport %d flags %d", c ? c->role : -1, c ? c->rport : -1, c ? c->flags : -1);
	CHECK(s && s->role == SBA_ROLE_SERVER && !s->flags);
	CHECK(c && c->tgid == (uint32_t)getpid());
	if (s) {
		CHECK_EQ_INT(data_of(s->conn_id, SBA_DIR_IN, d, 8), 1);
		CHECK_EQ_INT(d[0]->bytes, strlen(req));
		CHECK_EQ_INT(d[0]->cap_len, strlen(req));
		CHECK_EQ_INT(d[0]->gap, 0);
		CHECK(memcmp(captured + d[0]->data_off, req, strlen(req)) == 0);
		/* stamped when read, not when it arrived 2 ms before */
		CHECK_MSG(d[0]->ts >= t_read0 && d[0]->ts <= t_read1, "read at %llu, not in [%llu, %llu]",
			  (unsigned long long)d[0]->ts, (unsigned long long)t_read0,
			  (unsigned long long)t_read1);
		CHECK_EQ_INT(data_of(s->conn_id, SBA_DIR_OUT, d, 8), 1);
		CHECK_EQ_INT(d[0]->bytes, strlen(resp));
		CHECK(memcmp(captured + d[0]->data_off, resp, strlen(resp)) == 0);
	}
	if (c) {
		CHECK_EQ_INT(data_of(c->conn_id, SBA_DIR_OUT, d, 8), 1);
		CHECK_EQ_INT(d[0]->bytes, strlen(req));
		CHECK_EQ_INT(data_of(c->conn_id, SBA_DIR_IN, d, 8), 1);
		CHECK_EQ_INT(d[0]->bytes, strlen(resp));
	}
	/* The packet records' stats are the observer's count of what it read
	 * (the programs count nothing on the way): each message went out of
	 * one socket and into the other, one packet each. */
	CHECK_EQ_INT(evs.stats[SBA_STAT_DATA_EVENTS], 4);
	CHECK_EQ_INT(evs.stats[SBA_STAT_BYTES_SEEN], 2 * (strlen(req) + strlen(resp)));
	CHECK_EQ_INT(evs.stats[SBA_STAT_BYTES_CAPTURED], 2 * (strlen(req) + strlen(resp)));
	CHECK_EQ_INT(evs.stats[SBA_STAT_RING_BYTES], 4 * (sizeof(struct sba_pkt_ev) + 256));
	close_pair(&p);
	drain();
	CHECK(c && count_kind(SBA_EV_CONN_CLOSE, c->conn_id) == 1);
	CHECK(s && count_kind(SBA_EV_CONN_CLOSE, s->conn_id) == 1);
	stop();
}

/* 300 KB in one write (GSO packets of up to 64 KiB and more on lo), read
 * in 1000-byte chunks: every byte counted once, no gap, heads captured. */
static void test_large_write_small_reads(void)
{
	static char big[300000], back[300000];
	uint64_t in = 0, out = 0, gaps = 0;
	struct rec *s, *c, *d[1024];
	struct pair p;
	int n;

	if (!have_root())
		SKIP("needs root");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	CHECK(start() == 0);
	CHECK(tcp_pair(&p) == 0);
	/* the reader runs beside the writer: the socket buffers are smaller */
	if (fork() == 0) {
		_exit(write(p.client, big, sizeof(big)) == (ssize_t)sizeof(big) ? 0 : 1);
	}
	CHECK(read_exact(p.server, back, sizeof(back), 1000) == sizeof(back));
	wait(NULL);
	drain();
	s = open_by_lport(p.port);
	c = open_by_lport(local_port(p.client));
	CHECK(s != NULL);
	if (s) {
		n = data_of(s->conn_id, SBA_DIR_IN, d, 1024);
		for (int i = 0; i < n; i++) {
			in += d[i]->bytes;
			gaps += d[i]->gap;
		}
		CHECK_EQ_INT(in, sizeof(big));
		CHECK_EQ_INT(gaps, 0);
		CHECK(n > 0 && d[0]->cap_len > 0 && memcmp(captured + d[0]->data_off, big,
							      d[0]->cap_len) == 0);
	}
	/* the write came from a forked target: the client socket is still ours */
	if (c) {
		n = data_of(c->conn_id, SBA_DIR_OUT, d, 1024);
		for (int i = 0; i < n; i++)
			out += d[i]->bytes;
		CHECK_EQ_INT(out, sizeof(big));
	}
	close_pair(&p);
	stop();
}

/* skb.bpf.h's egress cache: the slot of a socket's cookie. */
static int fast_slot(uint64_t cookie, struct sba_skb_fast *f, bool write)
{
	uint32_t idx = cookie & (SBA_SKB_FAST_SLOTS - 1);
	struct bpf_map *m = ldr.skel->maps.skb_fast;

	if (write)
		return bpf_map__update_elem(m, &idx, sizeof(idx), f, sizeof(*f), 0) ? -errno : 0;
	return bpf_map__lookup_elem(m, &idx, sizeof(idx), f, sizeof(*f), 0) ? -errno : 0;
}

/* A process that is not a target serves us: only our side is reported. */
static void test_other_process_not_reported(void)
{
	static const char req[] = "PING\r\n";
	struct sba_skb_fast f;
	uint64_t theirs = 0;
	char buf[64];
	uint16_t port;
	int lfd, fd, st, n_open = 0, pfd[2];
	pid_t child;

	if (!have_root())
		SKIP("needs root");
	lfd = listen_any(&port);
	CHECK(lfd >= 0);
	CHECK(pipe(pfd) == 0);
	child = fork();	/* before start(): not a target */
	if (child == 0) {
		int s = accept(lfd, NULL, NULL);
		char b[64];
		ssize_t r = read(s, b, sizeof(b));
		uint64_t cookie = 0;
		socklen_t len = sizeof(cookie);

		getsockopt(s, SOL_SOCKET, SO_COOKIE, &cookie, &len);
		_exit(r > 0 && write(s, b, r) == r &&
				      write(pfd[1], &cookie, sizeof(cookie)) == sizeof(cookie)
			      ? 0
			      : 1);
	}
	close(lfd);
	close(pfd[1]);
	CHECK(start() == 0);
	fd = connect_to(port);
	CHECK(fd >= 0);
	CHECK(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	CHECK(read_exact(fd, buf, strlen(req), sizeof(buf)) == strlen(req));
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(read(pfd[0], &theirs, sizeof(theirs)) == sizeof(theirs));
	close(pfd[0]);
	/* its answer went out after its read said "not ours": the egress
	 * cache keeps that, so its next packets out stop at the slot */
	CHECK(theirs && fast_slot(theirs, &f, false) == 0);
	CHECK(f.cookie == theirs);
	CHECK_EQ_INT(f.state, SBA_SK_OTHER);
	close(fd);
	drain();
	for (int i = 0; i < n_recs; i++)
		if (recs[i].kind == SBA_EV_CONN_OPEN) {
			/* ours only: the client side, to port */
			CHECK_EQ_INT(recs[i].rport, port);
			CHECK_EQ_INT(recs[i].role, SBA_ROLE_CLIENT);
			n_open++;
		}
	CHECK_EQ_INT(n_open, 1);
	/* the child's socket was captured while pending, then given up, and
	 * that is not counted as a loss */
	CHECK_EQ_INT(pktconv__stats(evs.pc)->not_targets, 1);
	CHECK_EQ_INT(pktconv__stats(evs.pc)->pending_dropped, 0);
	stop();
}

static uint64_t cookie_of(int fd)
{
	uint64_t cookie = 0;
	socklen_t len = sizeof(cookie);

	getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len);
	return cookie;
}

/* What the skb programs read as a socket's verdict. 0 or -errno. */
static int verdict_of(uint64_t cookie, struct sba_skb_sock *v)
{
	return bpf_map__lookup_elem(ldr.skel->maps.skb_socks, &cookie, sizeof(cookie), v,
				    sizeof(*v), 0) ? -errno : 0;
}

/* An accepted socket is pending until its first read; the read hook looks
 * nothing up, so the owner reaches the kernel through userspace after the
 * drain: then the skb programs stop asking. The client's verdict came
 * from its SYN. */
static void test_owner_handed_over(void)
{
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	struct sba_skb_sock v;
	uint64_t server, client;
	char buf[64];
	struct pair p;

	if (!have_root())
		SKIP("needs root");
	CHECK(start() == 0);
	CHECK(tcp_pair(&p) == 0);
	server = cookie_of(p.server);
	client = cookie_of(p.client);
	CHECK(write(p.client, req, strlen(req)) == (ssize_t)strlen(req));
	usleep(2000);
	CHECK(verdict_of(server, &v) == 0);
	CHECK_EQ_INT(v.state, SBA_SK_PENDING);
	CHECK(read_exact(p.server, buf, strlen(req), sizeof(buf)) == strlen(req));
	CHECK(verdict_of(server, &v) == 0);
	CHECK_EQ_INT(v.state, SBA_SK_PENDING);	/* the read hook wrote nothing */
	drain();
	CHECK(verdict_of(server, &v) == 0);
	CHECK_EQ_INT(v.state, SBA_SK_TARGET);
	CHECK_EQ_INT(v.tgid, getpid());
	CHECK(verdict_of(client, &v) == 0);
	CHECK_EQ_INT(v.state, SBA_SK_TARGET);
	CHECK_EQ_INT(v.tgid, getpid());
	close_pair(&p);
	drain();
	/* gone at TCP_CLOSE: the table does not keep them */
	CHECK_EQ_INT(verdict_of(server, &v), -ENOENT);
	CHECK_EQ_INT(verdict_of(client, &v), -ENOENT);
	stop();
}

/* Two requests in one write, then a reply to each: pipelining survives. */
static void test_pipelined_requests(void)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[256];
	struct rec *s, *d[8];
	struct pair p;

	if (!have_root())
		SKIP("needs root");
	CHECK(start() == 0);
	CHECK(tcp_pair(&p) == 0);
	CHECK(write(p.client, two, strlen(two)) == (ssize_t)strlen(two));
	usleep(1000);
	CHECK(read_exact(p.server, buf, strlen(two), sizeof(buf)) == strlen(two));
	drain();
	s = open_by_lport(p.port);
	CHECK(s != NULL);
	if (s) {
		CHECK_EQ_INT(data_of(s->conn_id, SBA_DIR_IN, d, 8), 1);
		CHECK_EQ_INT(d[0]->bytes, strlen(two));
		CHECK(memcmp(captured + d[0]->data_off, two, strlen(two)) == 0);
	}
	close_pair(&p);
	stop();
}

#define ANSWER_REQ "GET / HTTP/1.1\r\n\r\n"

/* One exchange; returns the last data record the server sent, after a
 * drain (which also hands the server socket's owner to the kernel). */
static struct rec *answer(struct pair *p, const char *resp, size_t len)
{
	static const char req[] = ANSWER_REQ;
	static char back[8192];
	struct rec *s, *d[32];
	int n;

	if (write(p->client, req, strlen(req)) != (ssize_t)strlen(req) ||
	    read_exact(p->server, back, strlen(req), sizeof(back)) != strlen(req) ||
	    send(p->server, resp, len, 0) != (ssize_t)len ||
	    read_exact(p->client, back, len, sizeof(back)) != len)
		return NULL;
	drain();
	s = open_by_lport(p->port);
	n = s ? data_of(s->conn_id, SBA_DIR_OUT, d, 32) : 0;
	return n ? d[n - 1] : NULL;
}

/* A target's responses after its first take the cache, not the socket
 * storage: the slot holds the socket, a foreign cookie in it sends the
 * packet to the storage path (which takes the slot back), and what the
 * slot says is what the program uses (a tail flag the storage does not
 * have makes it copy past --capture-head; OTHER makes it copy nothing). */
static void test_egress_cache(void)
{
	static char big[6000];
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct sba_skb_fast f;
	struct rec *r;
	uint64_t server;
	struct pair p;

	if (!have_root())
		SKIP("needs root");
	memset(big, 'x', sizeof(big));
	CHECK(start() == 0);
	CHECK(tcp_pair(&p) == 0);
	server = cookie_of(p.server);
	for (int i = 0; i < 3; i++) {
		r = answer(&p, ok, strlen(ok));
		CHECK(r && r->bytes == strlen(ok) && r->cap_len == strlen(ok) && r->gap == 0);
	}
	CHECK(fast_slot(server, &f, false) == 0);
	CHECK(f.cookie == server);
	CHECK_EQ_INT(f.tgid, getpid());
	CHECK_EQ_INT(f.tail, 0);
	CHECK_EQ_INT(f.state, SBA_SK_TARGET);

	f = (struct sba_skb_fast){ .cookie = server + SBA_SKB_FAST_SLOTS, .tgid = 1 };
	CHECK(fast_slot(server, &f, true) == 0);
	r = answer(&p, big, sizeof(big));
	CHECK(r && r->bytes == sizeof(big) && r->cap_len == SBA_CAP_HEAD_DEFAULT && r->gap == 0);
	CHECK(fast_slot(server, &f, false) == 0);
	CHECK(f.cookie == server);
	CHECK_EQ_INT(f.tgid, getpid());

	f.tail = 1;
	CHECK(fast_slot(server, &f, true) == 0);
	r = answer(&p, big, sizeof(big));
	CHECK_MSG(r && r->bytes == sizeof(big) && r->cap_len == sizeof(big) && r->gap == 0,
		  "cap_len %u", r ? r->cap_len : 0);

	/* A slot that says OTHER: the answer is not captured; the next one,
	 * the slot TARGET again, reports the bytes it skipped as its gap. */
	f.state = SBA_SK_OTHER;
	CHECK(fast_slot(server, &f, true) == 0);
	r = answer(&p, ok, strlen(ok));
	CHECK(r && r->bytes == sizeof(big));	/* the last one before */
	f.state = SBA_SK_TARGET;
	f.tail = 0;
	CHECK(fast_slot(server, &f, true) == 0);
	r = answer(&p, ok, strlen(ok));
	CHECK(r && r->bytes == strlen(ok) && r->gap == strlen(ok));
	/* The packet records' stats are the observer's count of what it read:
	 * seven requests and seven answers, one packet each on loopback, each
	 * seen twice (both ends are this process's) but for the answer the
	 * OTHER slot stopped on its way out. The long answers' heads only, but
	 * the one the tail flag let through whole. */
	CHECK_EQ_INT(evs.stats[SBA_STAT_DATA_EVENTS], 2 * 14 - 1);
	CHECK_EQ_INT(evs.stats[SBA_STAT_BYTES_SEEN],
		     2 * (7 * strlen(ANSWER_REQ) + 5 * strlen(ok) + 2 * sizeof(big)) - strlen(ok));
	CHECK_EQ_INT(evs.stats[SBA_STAT_BYTES_CAPTURED],
		     2 * (7 * strlen(ANSWER_REQ) + 5 * strlen(ok)) - strlen(ok) +
			     3 * SBA_CAP_HEAD_DEFAULT + sizeof(big));
	CHECK(evs.stats[SBA_STAT_RING_BYTES] > evs.stats[SBA_STAT_BYTES_CAPTURED]);
	close_pair(&p);
	stop();
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGPIPE, SIG_IGN);
	RUN(test_exchange_both_sides);
	RUN(test_large_write_small_reads);
	RUN(test_other_process_not_reported);
	RUN(test_owner_handed_over);
	RUN(test_pipelined_requests);
	RUN(test_egress_cache);
	return check_summary();
}
