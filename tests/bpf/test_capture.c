// SPDX-License-Identifier: Apache-2.0
/*
 * test_capture.c - loads the real BPF programs into this kernel, targets this
 * test process (--pid self), drives real sockets, files and pipes, and checks
 * every event the probes wrote: bytes exact, captures exact up to the caps,
 * nothing from non-TCP fds, losses counted and reported as gaps.
 * Each case runs with both hook flavours. Needs root; skipped without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "events.h"
#include "loader.h"
#include "log.h"
#include "recorder.h"

static struct events evs;
static struct loader ldr;
static const char *hooks = "raw";

static int start(const char *extra1, const char *extra2)
{
	char pid[16];
	char *argv[] = { "test", "--pid", pid, "--hooks", (char *)hooks, (char *)extra1,
			 (char *)extra2, NULL };
	int argc = extra2 ? 7 : extra1 ? 6 : 5;
	struct sba_config cfg;
	struct event_sink sink = { .on_conn = on_conn, .on_data = on_data };

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (config_parse(&cfg, argc, argv))
		return -EINVAL;
	log_set_level(LOG_WARN);
	memset(&evs, 0, sizeof(evs));
	events__add_sink(&evs, &sink);
	recorder_reset();
	if (loader__start(&ldr, &cfg, events__handle, &evs))
		return -1;
	return loader__add_target(&ldr, getpid(), 1);
}

static void drain(void)
{
	loader__drain(&ldr);	/* the observer's own reader */
}

static void stop(void)
{
	loader__stop(&ldr);
}

/* ---- sockets ---- */

struct pair {
	int listener, client, server;
	uint16_t port;
};

static int tcp_pair(struct pair *p)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int one = 1;

	p->listener = socket(AF_INET, SOCK_STREAM, 0);
	if (p->listener < 0 || bind(p->listener, (void *)&a, sizeof(a)) ||
	    getsockname(p->listener, (void *)&a, &len) || listen(p->listener, 4))
		return -1;
	p->port = ntohs(a.sin_port);
	p->client = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(p->client, (void *)&a, sizeof(a)))
		return -1;
	/* Node's way: no address asked for. */
	p->server = accept4(p->listener, NULL, NULL, SOCK_CLOEXEC);
	setsockopt(p->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return p->server < 0 ? -1 : 0;
}

static void close_pair(struct pair *p)
{
	close(p->client);
	close(p->server);
	close(p->listener);
}

static void read_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r <= 0)
			break;
		got += r;
	}
}

static struct rec *open_of_fd(int fd)
{
	struct rec *r = NULL;

	for (int i = 0; i < n_recs; i++)
		if (recs[i].kind == SBA_EV_CONN_OPEN && recs[i].fd == fd)
			r = &recs[i];
	return r;
}

/* ---- cases ---- */

static bool have_root(void)
{
	return geteuid() == 0;
}

static void test_open_roles_and_ports(void)
{
	struct pair p;
	struct rec *c, *s;

	if (!have_root())
		SKIP("needs root");
	CHECK(start(NULL, NULL) == 0);
	CHECK(tcp_pair(&p) == 0);
	drain();
	c = open_of_fd(p.client);
	s = open_of_fd(p.server);
	CHECK(c && c->role == SBA_ROLE_CLIENT && c->rport == p.port);
	CHECK(s && s->role == SBA_ROLE_SERVER && s->lport == p.port);
	CHECK(c && s && c->lport == s->rport && c->conn_id != s->conn_id);
	/* The listener never carries data: no event for it. */
	CHECK(open_of_fd(p.listener) == NULL);
	close_pair(&p);
	stop();
}

static void test_bytes_exact_both_directions(void)
{
	static const char req[] = "GET /users/42 HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	char buf[256];
	struct rec *d[8];
	struct pair p;
	struct rec *s;

	if (!have_root())
		SKIP("needs root");
	CHECK(start(NULL, NULL) == 0);
	CHECK(tcp_pair(&p) == 0);
	CHECK(write(p.client, req, strlen(req)) == (ssize_t)strlen(req));
	read_exact(p.server, buf, strlen(req));
	CHECK(send(p.server, resp, strlen(resp), 0) == (ssize_t)strlen(resp));
	CHECK(recv(p.client, buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT) >= 0 || errno == EAGAIN);
	drain();
	s = open_of_fd(p.server);
	CHECK(s != NULL);
	if (s) {
		CHECK_EQ_INT(data_of(s->conn_id, SBA_DIR_IN, d, 8), 1);
		CHECK_EQ_INT(d[0]->bytes, strlen(req));
		CHECK_EQ_INT(d[0]->cap_len, strlen(req));
		CHECK_EQ_INT(d[0]->sys, SBA_SYS_READ);
		CHECK(memcmp(captured + d[0]->data_off, req, strlen(req)) == 0);
		CHECK_EQ_INT(data_of(s->conn_id, SBA_DIR_OUT, d, 8), 1);
		CHECK_EQ_INT(d[0]->sys, SBA_SYS_SENDTO);
		CHECK_EQ_INT(d[0]->bytes, strlen(resp));
		CHECK(memcmp(captured + d[0]->data_off, resp, strlen(resp)) == 0);
	}
	close_pair(&p);
	stop();
}

/* 200 iovecs of 7 bytes in one writev, read back with readv into 3 pieces. */
static void test_writev_many_iovecs(void)
{
	char src[200][7], dst[1400], expect[1400];
	struct iovec iov[200], rv[3];
	struct rec *d[8];
	struct pair p;
	struct rec *c;

	if (!have_root())
		SKIP("needs root");
	for (int i = 0; i < 200; i++) {
		snprintf(src[i], sizeof(src[i]), "%06d", i);
		src[i][6] = ',';
		iov[i] = (struct iovec){ src[i], 7 };
		memcpy(expect + i * 7, src[i], 7);
	}
	CHECK(start(NULL, NULL) == 0);
	CHECK(tcp_pair(&p) == 0);
	CHECK_EQ_INT(writev(p.client, iov, 200), 1400);
	rv[0] = (struct iovec){ dst, 100 };
	rv[1] = (struct iovec){ dst + 100, 1000 };
	rv[2] = (struct iovec){ dst + 1100, 300 };
	usleep(10000);
	CHECK_EQ_INT(readv(p.server, rv, 3), 1400);
	drain();
	c = open_of_fd(p.client);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ_INT(data_of(c->conn_id, SBA_DIR_OUT, d, 8), 1);
		CHECK_EQ_INT(d[0]->sys, SBA_SYS_WRITEV);
		CHECK_EQ_INT(d[0]->bytes, 1400);
		CHECK_EQ_INT(d[0]->cap_len, 1400);
		CHECK(memcmp(captured + d[0]->data_off, expect, 1400) == 0);
	}
	c = open_of_fd(p.server);
	if (c) {
		CHECK_EQ_INT(data_of(c->conn_id, SBA_DIR_IN, d, 8), 1);
		CHECK_EQ_INT(d[0]->sys, SBA_SYS_READV);
		CHECK_EQ_INT(d[0]->cap_len, 1400);
		CHECK(memcmp(captured + d[0]->data_off, expect, 1400) == 0);
	}
	close_pair(&p);
	stop();
}

/*
 * The copy budget: after a change of direction, cap_head bytes; then
 * cap_body bytes of each further syscall. Here head 1000, body 100:
 *   write 600 -> 600 captured (budget 1000), write 600 -> 400 (head left),
 *   write 600 -> 100 (body cap), then the reply flips the direction, and the
 *   next write gets the full head budget again.
 */
static void test_capture_budget(void)
{
	static uint8_t big[600], sink[4096];
	struct rec *d[8];
	struct pair p;
	struct rec *c;
	int n;

	if (!have_root())
		SKIP("needs root");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	CHECK(start("--capture-head=1000", "--capture-body=100") == 0);
	CHECK(tcp_pair(&p) == 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(write(p.client, big, sizeof(big)), 600);
	read_exact(p.server, sink, 1800);
	CHECK_EQ_INT(write(p.server, "k", 1), 1);
	read_exact(p.client, sink, 1);
	CHECK_EQ_INT(write(p.client, big, sizeof(big)), 600);
	read_exact(p.server, sink, 600);
	drain();
	c = open_of_fd(p.client);
	CHECK(c != NULL);
	if (c) {
		n = data_of(c->conn_id, SBA_DIR_OUT, d, 8);
		CHECK_EQ_INT(n, 4);
		if (n == 4) {
			CHECK_EQ_INT(d[0]->cap_len, 600);
			CHECK_EQ_INT(d[1]->cap_len, 400);
			CHECK_EQ_INT(d[2]->cap_len, 100);
			CHECK_EQ_INT(d[3]->cap_len, 600);
			CHECK(!(d[0]->flags & SBA_DATA_CUT_CAP));
			CHECK(d[1]->flags & SBA_DATA_CUT_CAP);
			for (int i = 0; i < 4; i++) {
				CHECK_EQ_INT(d[i]->bytes, 600);
				CHECK(memcmp(captured + d[i]->data_off, big, d[i]->cap_len) == 0);
			}
		}
	}
	close_pair(&p);
	stop();
}

/* On a Redis connection a syscall copies up to SBA_CAP_MAX, and a longer
 * write sends the rest too: up to SBA_MID_CHUNKS records of SBA_CAP_MAX,
 * then its last --capture-tail bytes;
 * the records' bytes add up to the syscall's. Short writes, writes to other
 * ports and writev do not. */
static void test_tail_capture(void)
{
	static uint8_t big[120000], sink[120000];
	struct iovec iov[2] = { { big, 10000 }, { big + 10000, 10000 } };
	char port[32];
	struct rec *d[16], *c;
	struct pair p;
	uint64_t sum;
	int n;

	if (!have_root())
		SKIP("needs root");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	CHECK(tcp_pair(&p) == 0);
	snprintf(port, sizeof(port), "--redis-port=%u", p.port);
	CHECK(start(port, "--capture-tail=3000") == 0);
	CHECK_EQ_INT(write(p.client, big, 20000), 20000);
	read_exact(p.server, sink, 20000);
	CHECK_EQ_INT(write(p.client, big, 100), 100);
	read_exact(p.server, sink, 100);
	CHECK_EQ_INT(writev(p.client, iov, 2), 20000);
	read_exact(p.server, sink, 20000);
	CHECK_EQ_INT(write(p.server, big, 20000), 20000);
	read_exact(p.client, sink, 20000);
	/* longer than head + 3 x 16 KiB + tail: the middle is cut, counted */
	CHECK_EQ_INT(write(p.client, big, sizeof(big)), (int)sizeof(big));
	read_exact(p.server, sink, sizeof(big));
	drain();
	c = open_of_fd(p.client);
	CHECK(c != NULL);
	if (c) {
		n = data_of(c->conn_id, SBA_DIR_OUT, d, 16);
		CHECK_EQ_INT(n, 10);
		if (n == 10) {
			/* 20000 = 16384 head (Redis: the most a record holds)
			 * + 616 middle + 3000 tail, all copied */
			CHECK_EQ_INT(d[0]->bytes, SBA_CAP_MAX);
			CHECK_EQ_INT(d[0]->cap_len, SBA_CAP_MAX);
			CHECK_EQ_INT(d[0]->flags, 0);
			CHECK_EQ_INT(d[1]->flags, SBA_DATA_TAIL);
			CHECK_EQ_INT(d[1]->bytes, 20000 - SBA_CAP_MAX - 3000);
			CHECK_EQ_INT(d[1]->cap_len, d[1]->bytes);
			CHECK_EQ_INT(d[2]->flags, SBA_DATA_TAIL);
			CHECK_EQ_INT(d[2]->bytes, 3000);
			CHECK_EQ_INT(d[2]->cap_len, 3000);
			for (int i = 0, off = 0; i < 3; off += (int)d[i]->bytes, i++)
				CHECK(memcmp(captured + d[i]->data_off, big + off, d[i]->cap_len) == 0);
			CHECK_EQ_INT(d[3]->bytes, 100);
			CHECK(!(d[3]->flags & SBA_DATA_TAIL));
			CHECK_EQ_INT(d[4]->bytes, 20000);	/* writev: no tail */
			CHECK(!(d[4]->flags & SBA_DATA_TAIL));
			/* 120000: head, 16384, 16384, the last middle record holds
			 * 16384 copied of 67848 (the rest is cut), the tail */
			CHECK_EQ_INT(d[5]->cap_len, SBA_CAP_MAX);
			CHECK_EQ_INT(d[6]->cap_len, SBA_CAP_MAX);
			CHECK_EQ_INT(d[7]->cap_len, SBA_CAP_MAX);
			CHECK_EQ_INT(d[8]->cap_len, SBA_CAP_MAX);
			CHECK_EQ_INT(d[8]->flags, SBA_DATA_TAIL | SBA_DATA_CUT_CAP);
			CHECK_EQ_INT(d[8]->bytes, sizeof(big) - 3 * SBA_CAP_MAX - 3000);
			CHECK_EQ_INT(d[9]->bytes, 3000);
			CHECK(memcmp(captured + d[9]->data_off, big + sizeof(big) - 3000, 3000) == 0);
			sum = 0;
			for (int i = 5; i < 10; i++)
				sum += d[i]->bytes;
			CHECK_EQ_INT(sum, sizeof(big));
		}
	}
	c = open_of_fd(p.server);	/* its peer's port is not a Redis port */
	CHECK(c != NULL);
	if (c) {
		n = data_of(c->conn_id, SBA_DIR_OUT, d, 16);
		CHECK_EQ_INT(n, 1);
		if (n == 1)
			CHECK_EQ_INT(d[0]->bytes, 20000);
	}
	close_pair(&p);
	stop();
}

/* The ring room a first record takes: it is reserved at a size class of
 * the bytes to copy (capture.bpf.h emit_direct), twice the class for an
 * iovec array whose first iovec does not hold them all (vec). */
static uint64_t room_of(uint64_t want, bool vec)
{
	uint64_t cap = want <= 128 ? 128 : want <= 256 ? 256 : want <= 1024 ? 1024 :
		       want <= 2048 ? 2048 : want <= 4096 ? 4096 : want <= 8192 ? 8192 :
		       SBA_CAP_MAX;

	return sizeof(struct sba_data_ev) + (vec ? 2 * cap : cap);
}

/*
 * Records written straight into the ring, one size class after another:
 * at each class boundary and past the largest, by write and recvfrom
 * (plain) and by writev and recvmsg (iovec arrays), each answered by a
 * 1-byte writev/readv so the next one has the whole head budget. Every
 * record is exact (bytes, cap_len, content, CUT_CAP only past SBA_CAP_MAX)
 * though the ring record behind it is longer, and the ring bytes counted
 * are exactly the rooms of the classes chosen: the writev of two halves
 * takes twice its class, the recvmsg into one iovec (and the 1-byte
 * writev of [1 byte, empty], as Node writes a response) only its class.
 */
static void test_size_classes(void)
{
	static const size_t sizes[] = { 1, 128, 129, 256, 257, 1024, 1025, 2048, 2049, 4096,
					4097, 8192, 8193, SBA_CAP_MAX, SBA_CAP_MAX + 1 };
	static uint8_t big[SBA_CAP_MAX + 1], sink[SBA_CAP_MAX + 1];
	const int nsizes = sizeof(sizes) / sizeof(sizes[0]);
	uint64_t ring = 0, want;
	struct sba_counters cnt;
	struct rec *d[64];
	struct pair p;
	struct rec *c, *s;
	char one = 'k';
	int n;

	if (!have_root())
		SKIP("needs root");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + (i >> 8));
	CHECK(start("--capture-head=16384", "--capture-body=16384") == 0);
	CHECK(tcp_pair(&p) == 0);
	for (int vec = 0; vec < 2; vec++) {
		for (int i = 0; i < nsizes; i++) {
			size_t len = sizes[i], half = len / 2;
			struct iovec iov[2] = { { big, half }, { big + half, len - half } };
			struct iovec one_iov[2] = { { &one, 1 }, { &one, 0 } };
			struct iovec in_iov = { sink, len };
			struct msghdr msg = { .msg_iov = &in_iov, .msg_iovlen = 1 };

			if (vec) {
				CHECK_EQ_INT(writev(p.client, iov, 2), len);
				CHECK_EQ_INT(recvmsg(p.server, &msg, MSG_WAITALL), len);
			} else {
				CHECK_EQ_INT(write(p.client, big, len), len);
				CHECK_EQ_INT(recv(p.server, sink, len, MSG_WAITALL), len);
			}
			want = len < SBA_CAP_MAX ? len : SBA_CAP_MAX;
			ring += room_of(want, vec) + room_of(want, false);
			CHECK_EQ_INT(writev(p.server, one_iov, 2), 1);
			CHECK_EQ_INT(readv(p.client, one_iov, 1), 1);
			ring += 2 * room_of(1, false);
		}
	}
	drain();
	CHECK(loader__counters(&ldr, &cnt) == 0);
	CHECK_EQ_INT(cnt.stats[SBA_STAT_RING_BYTES], ring);
	c = open_of_fd(p.client);
	s = open_of_fd(p.server);
	CHECK(c != NULL && s != NULL);
	if (!c || !s)
		goto out;
	for (int end = 0; end < 2; end++) {
		n = data_of(end ? s->conn_id : c->conn_id, end ? SBA_DIR_IN : SBA_DIR_OUT, d, 64);
		CHECK_EQ_INT(n, 2 * nsizes);
		for (int i = 0; i < n && i < 2 * nsizes; i++) {
			size_t len = sizes[i % nsizes];

			want = len < SBA_CAP_MAX ? len : SBA_CAP_MAX;
			CHECK_EQ_INT(d[i]->sys, end ? (i < nsizes ? SBA_SYS_RECVFROM : SBA_SYS_RECVMSG)
						    : (i < nsizes ? SBA_SYS_WRITE : SBA_SYS_WRITEV));
			CHECK_EQ_INT(d[i]->bytes, len);
			CHECK_EQ_INT(d[i]->cap_len, want);
			CHECK_EQ_INT(d[i]->gap, 0);
			CHECK_EQ_INT(d[i]->flags, len > want ? SBA_DATA_CUT_CAP : 0);
			CHECK_MSG(memcmp(captured + d[i]->data_off, big, want) == 0,
				  "end %d record %d (%zu bytes): payload differs", end, i, len);
		}
		n = data_of(end ? s->conn_id : c->conn_id, end ? SBA_DIR_OUT : SBA_DIR_IN, d, 64);
		CHECK_EQ_INT(n, 2 * nsizes);
		for (int i = 0; i < n; i++)
			CHECK(d[i]->bytes == 1 && d[i]->cap_len == 1 &&
			      captured[d[i]->data_off] == 'k');
	}
out:
	close_pair(&p);
	stop();
}

/* test_copy_fault: a thread that makes a page unreadable and readable again
 * while the main thread writes from it. */
static atomic_int flipping;

static void *flip_page(void *page)
{
	while (atomic_load(&flipping)) {
		mprotect(page, 4096, PROT_NONE);
		mprotect(page, 4096, PROT_READ | PROT_WRITE);
	}
	return NULL;
}

/* Runs th on another CPU than the caller, which stays on its own: on one
 * CPU the flips would fall between syscalls, never inside one. */
static void pin_apart(pthread_t th)
{
	cpu_set_t mine, other;
	int cpu = sched_getcpu(), n = (int)sysconf(_SC_NPROCESSORS_ONLN);

	if (cpu < 0 || n < 2)
		return;
	CPU_ZERO(&mine);
	CPU_SET(cpu, &mine);
	CPU_ZERO(&other);
	CPU_SET((cpu + 1) % n, &other);
	sched_setaffinity(0, sizeof(mine), &mine);
	pthread_setaffinity_np(th, sizeof(other), &other);
}

static void unpin(void)
{
	cpu_set_t all;

	CPU_ZERO(&all);
	for (int i = 0; i < CPU_SETSIZE; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof(all), &all);
}

/*
 * A write whose bytes are unreadable by the time its exit is seen (the
 * page made PROT_NONE after the kernel copied it) still gets its record,
 * flagged SBA_DATA_CUT_FAULT with what was copied before the fault, and
 * each such record counts one SBA_DROP_COPY_FAULT; the bytes stay exact. By write (plain) and writev (iovec array) alternately, until
 * both kinds faulted a few times (the race is won within a few hundred
 * writes here) or 1500 writes.
 */
/* What test_copy_fault saw of the client's writes so far. */
struct fault_tally {
	uint64_t conn;		/* the client's connection, once its open is seen */
	uint64_t total;		/* bytes of its data records */
	uint64_t faults;	/* records cut by a fault */
	int faulted[2];		/* of them: write, writev */
};

/* Drains, checks and counts the client's data records, then forgets every
 * record: the loop runs as long as it takes, not as long as the recorder
 * holds. A record's bytes are exact either way; a cut one copied nothing,
 * or a writev's first iovec only (its second can fault after). want: what
 * the page holds, read from a copy (the page itself may be PROT_NONE). */
static void tally_faults(struct fault_tally *t, int client, const uint8_t *want)
{
	static struct rec *d[MAX_EVS];
	struct rec *c;
	int n;

	drain();
	if (!t->conn && (c = open_of_fd(client)))
		t->conn = c->conn_id;
	n = t->conn ? data_of(t->conn, SBA_DIR_OUT, d, MAX_EVS) : 0;
	for (int k = 0; k < n; k++) {
		t->total += d[k]->bytes;
		if (!(d[k]->flags & SBA_DATA_CUT_FAULT)) {
			CHECK(d[k]->cap_len == d[k]->bytes &&
			      memcmp(captured + d[k]->data_off, want, d[k]->cap_len) == 0);
			continue;
		}
		t->faults++;
		t->faulted[d[k]->sys == SBA_SYS_WRITEV]++;
		CHECK(d[k]->cap_len == 0 || (d[k]->sys == SBA_SYS_WRITEV && d[k]->cap_len == 100));
		CHECK(memcmp(captured + d[k]->data_off, want, d[k]->cap_len) == 0);
	}
	recorder_reset();
}

static void test_copy_fault(void)
{
	static uint8_t sink[512], want[200];
	struct fault_tally t = { 0 };
	struct sba_counters cnt;
	uint64_t sent = 0, deadline;
	struct pair p;
	pthread_t th;
	uint8_t *page;

	if (!have_root())
		SKIP("needs root");
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED);
	if (page == MAP_FAILED)
		return;
	memset(page, 'f', 4096);
	memset(want, 'f', sizeof(want));
	CHECK(start(NULL, NULL) == 0);
	CHECK(tcp_pair(&p) == 0);
	atomic_store(&flipping, 1);
	CHECK(pthread_create(&th, NULL, flip_page, page) == 0);
	pin_apart(th);
	/* A fault needs the flip to land between the kernel's copy and the
	 * probe's, a few in a thousand syscalls: go on until three of each
	 * kind, or 20 s. */
	deadline = now_ns() + 20000000000ull;
	for (int i = 0; (t.faulted[0] < 3 || t.faulted[1] < 3) && now_ns() < deadline; i++) {
		struct iovec iov[2] = { { page, 100 }, { page + 100, 100 } };
		ssize_t r = i & 1 ? writev(p.client, iov, 2) : write(p.client, page, 200);

		if (r <= 0)
			continue;	/* the kernel's own copy faulted: no record */
		sent += r;
		read_exact(p.server, sink, r);
		if (i % 50 == 49)
			tally_faults(&t, p.client, want);
	}
	atomic_store(&flipping, 0);
	pthread_join(th, NULL);
	unpin();
	tally_faults(&t, p.client, want);
	CHECK(loader__counters(&ldr, &cnt) == 0);
	CHECK(t.conn != 0);
	CHECK_EQ_INT(t.total, sent);
	CHECK_MSG(t.faulted[0] >= 1 && t.faulted[1] >= 1, "faults seen: write %d, writev %d",
		  t.faulted[0], t.faulted[1]);
	CHECK_EQ_INT(cnt.drops[SBA_DROP_COPY_FAULT], t.faults);
	close_pair(&p);
	stop();
	munmap(page, 4096);
}

/* Files, pipes, UDP and unix sockets: never captured, but classified once. */
static void test_non_tcp_fds_not_captured(void)
{
	char path[] = "/tmp/sba-test-XXXXXX", buf[64];
	int fd = mkstemp(path), pipefd[2], us[2], udp;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	struct sba_counters cnt;

	if (!have_root())
		SKIP("needs root");
	CHECK(start(NULL, NULL) == 0);
	CHECK(fd >= 0 && pipe(pipefd) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, us) == 0);
	CHECK(write(fd, "file-marker", 11) == 11);
	CHECK(pread(fd, buf, 11, 0) == 11);
	lseek(fd, 0, SEEK_SET);
	CHECK(read(fd, buf, 11) == 11);
	CHECK(write(pipefd[1], "pipe-marker", 11) == 11);
	CHECK(read(pipefd[0], buf, 11) == 11);
	CHECK(write(us[0], "unix-marker", 11) == 11);
	CHECK(read(us[1], buf, 11) == 11);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(bind(udp, (void *)&a, sizeof(a)) == 0 && getsockname(udp, (void *)&a, &len) == 0);
	CHECK(sendto(udp, "udp-marker", 10, 0, (void *)&a, sizeof(a)) == 10);
	CHECK(recv(udp, buf, sizeof(buf), 0) == 10);
	drain();
	CHECK_EQ_INT(n_recs, 0);
	CHECK(loader__counters(&ldr, &cnt) == 0);
	/* file, pipe r/w, unix pair, udp: 6 fds, each classified once. */
	CHECK_EQ_INT(cnt.stats[SBA_STAT_FDS_IGNORED], 6);
	CHECK_EQ_INT(cnt.stats[SBA_STAT_DATA_EVENTS], 0);
	close(fd);
	unlink(path);
	close(pipefd[0]);
	close(pipefd[1]);
	close(us[0]);
	close(us[1]);
	close(udp);
	stop();
}

/* A closed fd number reused by a new connection is a new connection. */
static void test_fd_reuse_new_conn(void)
{
	struct pair p1, p2;
	uint64_t first = 0, second = 0;
	int fd1, closes = 0;

	if (!have_root())
		SKIP("needs root");
	CHECK(start(NULL, NULL) == 0);
	CHECK(tcp_pair(&p1) == 0);
	CHECK(write(p1.client, "a", 1) == 1);
	fd1 = p1.client;
	close_pair(&p1);
	CHECK(tcp_pair(&p2) == 0);
	CHECK(write(p2.client, "b", 1) == 1);
	drain();
	for (int i = 0; i < n_recs; i++) {
		if (recs[i].kind == SBA_EV_CONN_OPEN && recs[i].role == SBA_ROLE_CLIENT)
			(first ? &second : &first)[0] = recs[i].conn_id;
		if (recs[i].kind == SBA_EV_CONN_CLOSE)
			closes++;
	}
	/* The kernel hands out the lowest free fd: the same number comes back. */
	CHECK_EQ_INT(p2.client, fd1);
	CHECK(first && second && first != second);
	CHECK_EQ_INT(closes, 2); /* client and server of the first pair */
	close_pair(&p2);
	stop();
}

/* A socket opened before the observer is joined mid-stream at its next write. */
static void test_join_mid_stream(void)
{
	struct pair p;
	struct rec *r;
	char buf[8];

	if (!have_root())
		SKIP("needs root");
	CHECK(tcp_pair(&p) == 0);
	CHECK(start(NULL, NULL) == 0);
	CHECK(write(p.client, "late", 4) == 4);
	read_exact(p.server, buf, 4);
	drain();
	r = open_of_fd(p.client);
	CHECK(r && r->role == SBA_ROLE_UNKNOWN && (r->flags & SBA_CONN_JOINED));
	CHECK(r && r->lport && r->rport == p.port);
	close_pair(&p);
	stop();
}

/*
 * Nothing is lost silently: with a 64 KiB ring that nobody drains, 400
 * request/echo round trips of 1000 bytes overflow it. Every lost event is
 * counted, and the next event of the same direction that makes it through
 * reports that direction's lost bytes as its gap, so per connection and per
 * direction sum(bytes) + sum(gap) equals what was moved.
 */
static void test_ring_full_counted_as_gap(void)
{
	static uint8_t chunk[1000], sink[1 << 16];
	struct sba_counters cnt;
	struct rec *d[1024];
	uint64_t total, delivered = 0;
	struct pair p;
	struct rec *c;
	int n;

	if (!have_root())
		SKIP("needs root");
	CHECK(start("--ringbuf-size=65536", "--capture-body=1000") == 0);
	CHECK(tcp_pair(&p) == 0);
	for (int i = 0; i <= 400; i++) {
		if (i == 400)
			drain(); /* frees the ring: the last round trip gets through */
		CHECK_EQ_INT(write(p.client, chunk, sizeof(chunk)), 1000);
		read_exact(p.server, sink, sizeof(chunk));
		CHECK_EQ_INT(write(p.server, chunk, sizeof(chunk)), 1000);
		read_exact(p.client, sink, sizeof(chunk));
	}
	drain();
	CHECK(loader__counters(&ldr, &cnt) == 0);
	CHECK(cnt.drops[SBA_DROP_RINGBUF_FULL] > 0);
	/* Both ends are in this process: each conn moved 401 KB each way. */
	for (int end = 0; end < 2; end++) {
		c = open_of_fd(end ? p.server : p.client);
		CHECK(c != NULL);
		if (!c)
			continue;
		for (uint8_t dir = SBA_DIR_IN; dir <= SBA_DIR_OUT; dir++) {
			n = data_of(c->conn_id, dir, d, 1024);
			total = 0;
			for (int i = 0; i < n; i++) {
				total += d[i]->bytes + d[i]->gap;
				delivered += d[i]->bytes;
			}
			CHECK_MSG(total == 401 * 1000, "end %d dir %u: bytes + gaps = %llu", end,
				  dir, (unsigned long long)total);
			CHECK(n > 0 && d[n - 1]->gap > 0);
		}
	}
	CHECK_EQ_INT(cnt.stats[SBA_STAT_DATA_LOST_BYTES], 4 * 401 * 1000 - delivered);
	close_pair(&p);
	stop();
}

/* A forked child is a target; when it exits holding a socket, its exit is
 * reported and forgetting the process closes exactly that connection. */
static uint64_t forgotten_conn;
static int forgotten;

static void on_forgotten(void *ctx, uint32_t tgid, uint64_t conn_id, int fd)
{
	forgotten_conn = conn_id;
	forgotten++;
}

static void test_child_exit_forgets_its_conns(void)
{
	struct pair p;
	pid_t child;
	uint64_t child_conn = 0;
	int n_exits;

	if (!have_root())
		SKIP("needs root");
	CHECK(start(NULL, NULL) == 0);
	CHECK(tcp_pair(&p) == 0);
	child = fork();
	if (child == 0) {
		/* The inherited client socket, first used here: joined, then leaked. */
		if (write(p.client, "from-child", 10) != 10)
			_exit(1);
		_exit(0);
	}
	CHECK(waitpid(child, NULL, 0) == child);
	drain();
	for (int i = 0; i < n_recs; i++)
		if (recs[i].kind == SBA_EV_DATA && recs[i].bytes == 10 && recs[i].dir == SBA_DIR_OUT)
			child_conn = recs[i].conn_id;
	n_exits = evs.n_exits;
	CHECK_EQ_INT(n_exits, 1);
	CHECK(child_conn != 0);
	forgotten = 0;
	if (n_exits == 1) {
		CHECK_EQ_INT(evs.exits[0].tgid, child);
		CHECK_EQ_INT(loader__forget_process(&ldr, evs.exits[0].tgid, evs.exits[0].gen,
						    on_forgotten, NULL),
			     1);
		CHECK_EQ_INT(forgotten, 1);
		CHECK_EQ_INT(forgotten_conn, child_conn);
	}
	close_pair(&p);
	stop();
}

/* A target that execs keeps its tgid but is a new image: a socket it kept
 * across exec is a new connection, joined, not the old one continued. */
static void test_exec_starts_a_new_image(void)
{
	struct pair p;
	pid_t child;
	uint64_t before = 0, after = 0;
	bool joined = false;
	int status = 0;
	char fd[16];

	if (!have_root())
		SKIP("needs root");
	CHECK(start(NULL, NULL) == 0);
	CHECK(tcp_pair(&p) == 0);
	child = fork();
	if (child == 0) {
		if (write(p.client, "pre-exec", 8) != 8)
			_exit(1);
		snprintf(fd, sizeof(fd), "%d", p.client);
		execl("/proc/self/exe", "test_capture", "--write-fd", fd, (char *)NULL);
		_exit(1);
	}
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	drain();
	for (int i = 0; i < n_recs; i++) {
		if (recs[i].kind == SBA_EV_DATA && recs[i].dir == SBA_DIR_OUT && recs[i].bytes == 8)
			before = recs[i].conn_id;
		if (recs[i].kind == SBA_EV_DATA && recs[i].dir == SBA_DIR_OUT && recs[i].bytes == 9)
			after = recs[i].conn_id;
	}
	for (int i = 0; i < n_recs; i++)
		if (recs[i].kind == SBA_EV_CONN_OPEN && recs[i].conn_id == after)
			joined = recs[i].flags & SBA_CONN_JOINED;
	CHECK(before != 0);
	CHECK(after != 0);
	CHECK(before != after);
	CHECK(joined);
	close_pair(&p);
	stop();
}

/* The observer can be stopped and started again at once, many times. */
static void test_restart(void)
{
	if (!have_root())
		SKIP("needs root");
	for (int i = 0; i < 5; i++) {
		CHECK(start(NULL, NULL) == 0);
		stop();
	}
}

static void run_all(void)
{
	RUN(test_open_roles_and_ports);
	RUN(test_bytes_exact_both_directions);
	RUN(test_writev_many_iovecs);
	RUN(test_capture_budget);
	RUN(test_tail_capture);
	RUN(test_size_classes);
	RUN(test_copy_fault);
	RUN(test_non_tcp_fds_not_captured);
	RUN(test_fd_reuse_new_conn);
	RUN(test_join_mid_stream);
	RUN(test_ring_full_counted_as_gap);
	RUN(test_child_exit_forgets_its_conns);
	RUN(test_exec_starts_a_new_image);
	RUN(test_restart);
}

int main(int argc, char **argv)
{
	/* test_exec_starts_a_new_image: the image a target execs into. */
	if (argc == 3 && strcmp(argv[1], "--write-fd") == 0)
		return write(atoi(argv[2]), "post-exec", 9) == 9 ? 0 : 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("# hooks raw\n");
	hooks = "raw";
	run_all();
	printf("# hooks tp\n");
	hooks = "tp";
	run_all();
	return check_summary();
}
