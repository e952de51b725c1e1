// SPDX-License-Identifier: Apache-2.0
/*
 * test_redisconn.c - command/reply pairing per connection, as scripted
 * sessions of syscall chunks: pipelines, error statuses, NOSCRIPT -> EVAL,
 * MULTI/EXEC/DISCARD/EXECABORT, pub/sub in RESP2 and RESP3, blocking flags,
 * gaps on either side, mid-stream join, uncaptured bytes and cuts; then all
 * fixtures, whose records must not depend on how the bytes were split.
 *
 * A session's output is rendered as "CMD:status[:flags]" per record and
 * "+confirm"/"-refute" per epoch verdict. Flags: B blocking, T tx, C command
 * cut, R reply cut, N no reply, U unsure (epoch != 0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture_replay.h"
#include "redisconn.h"

struct out {
	char s[16384];
	uint64_t ts_start[256], ts_end[256];
	char script[256][32];
	int n;
	int unsure;
};

static void on_ev(void *ctx, const struct redisconn_ev *ev)
{
	struct out *o = ctx;
	size_t l = strlen(o->s);
	const struct redisconn_rec *r = ev->rec;
	char fl[16] = "";
	size_t k = 0;

	if (ev->kind == REDISCONN_EV_CONFIRM) {
		snprintf(o->s + l, sizeof(o->s) - l, "%s+confirm", l ? " " : "");
		return;
	}
	if (ev->kind == REDISCONN_EV_REFUTE) {
		snprintf(o->s + l, sizeof(o->s) - l, "%s-refute", l ? " " : "");
		return;
	}
	if (r->flags & REDISCONN_R_BLOCKING)
		fl[k++] = 'B';
	if (r->flags & REDISCONN_R_TX)
		fl[k++] = 'T';
	if (r->flags & REDISCONN_R_CMD_CUT)
		fl[k++] = 'C';
	if (r->flags & REDISCONN_R_REPLY_CUT)
		fl[k++] = 'R';
	if (r->flags & REDISCONN_R_NO_REPLY)
		fl[k++] = 'N';
	if (r->epoch) {
		fl[k++] = 'U';
		o->unsure++;
	}
	fl[k] = '\0';
	snprintf(o->s + l, sizeof(o->s) - l, "%s%s:%s%s%s", l ? " " : "", r->cmd, r->status,
		 k ? ":" : "", fl);
	if (o->n < 256) {
		o->ts_start[o->n] = r->ts_start_ns;
		o->ts_end[o->n] = r->ts_end_ns;
		snprintf(o->script[o->n], sizeof(o->script[0]), "%s", r->script ? r->script : "-");
		o->n++;
	}
}

/* RESP command from words ('~' = space inside a word). */
static const char *cmd(const char *words)
{
	static char bufs[4][4096];
	static int which;
	char *out = bufs[which++ % 4];
	char tmp[1024], *w, *save = NULL;
	const char *argv[64];
	int n = 0;
	size_t o;

	snprintf(tmp, sizeof(tmp), "%s", words);
	for (w = strtok_r(tmp, " ", &save); w && n < 64; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	o = (size_t)snprintf(out, 4096, "*%d\r\n", n);
	for (int i = 0; i < n; i++) {
		char a[256];

		snprintf(a, sizeof(a), "%s", argv[i]);
		for (char *p = a; *p; p++)
			if (*p == '~')
				*p = ' ';
		o += (size_t)snprintf(out + o, 4096 - o, "$%zu\r\n%s\r\n", strlen(a), a);
	}
	return out;
}

static struct out O;
static struct redisconn *C;

static void start(bool joined)
{
	memset(&O, 0, sizeof(O));
	redisconn__free(C);
	C = redisconn__new(on_ev, &O, joined);
}

static void put(enum redis_dir dir, const char *s, uint64_t ts)
{
	size_t n = strlen(s);

	CHECK_EQ_INT(redisconn__feed(C, dir, (const uint8_t *)s, n, n, 0, ts, ts + 5), 0);
}

/* Captured prefix cap of a chunk that moved `bytes`, after `gap` lost bytes. */
static void put_cap(enum redis_dir dir, const char *s, size_t cap, uint64_t bytes, uint64_t gap,
		    uint64_t ts)
{
	CHECK_EQ_INT(redisconn__feed(C, dir, (const uint8_t *)s, cap, bytes, gap, ts, ts + 5), 0);
}

#define OUT(s, ts) put(REDIS_DIR_OUT, s, ts)
#define IN(s, ts) put(REDIS_DIR_IN, s, ts)

static void test_pipeline_and_latency(void)
{
	char w[256];

	start(false);
	snprintf(w, sizeof(w), "%s%s%s", cmd("PING"), cmd("get k"), cmd("SET k v"));
	OUT(w, 100);
	IN("+PONG\r\n$-1\r\n+O", 200);
	IN("K\r\n", 300);
	CHECK_EQ_STR(O.s, "PING:ok GET:ok SET:ok");
	CHECK_EQ_INT(O.ts_start[2], 100);
	CHECK_EQ_INT(O.ts_end[0], 205);
	CHECK_EQ_INT(O.ts_end[2], 305);
	CHECK_EQ_INT(redisconn__pending(C), 0);
	/* A command split over two writes starts at the first one. */
	OUT("*2\r\n$3\r\nGET", 400);
	OUT("\r\n$1\r\nk\r\n", 410);
	IN("$1\r\nv\r\n", 420);
	CHECK_EQ_INT(O.ts_start[3], 400);
	CHECK_EQ_INT(O.ts_end[3], 425);
	/* Inline commands too. */
	OUT("PING\r\n", 500);
	IN("+PONG\r\n", 510);
	CHECK_EQ_STR(O.s, "PING:ok GET:ok SET:ok GET:ok PING:ok");
	CHECK_EQ_INT(redisconn__stats(C)->commands, 5);
}

static void test_error_statuses(void)
{
	start(false);
	OUT(cmd("INCR a"), 1);
	OUT(cmd("EVALSHA 705dea099608a5bec7f0193936824b3ddfd33d79 1 bull:emails: active wait"), 2);
	OUT(cmd("GET"), 3);
	OUT(cmd("XADD s"), 4);
	OUT(cmd("GET b"), 5);
	OUT(cmd("GET c"), 6);
	IN("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", 10);
	IN("-NOSCRIPT No matching script. Please use EVAL.\r\n", 11);
	IN("-ERR wrong number of arguments for 'get' command\r\n", 12);
	IN("!21\r\nSYNTAX invalid syntax\r\n", 13);
	IN("-error lowercase\r\n", 14);
	IN("-VERYVERYLONGERRORPREFIX x\r\n", 15);
	CHECK_EQ_STR(O.s, "INCR:WRONGTYPE EVALSHA:NOSCRIPT GET:ERR XADD:SYNTAX GET:ERR GET:ERR");
	/* ioredis re-sends the call as EVAL: both are named by their shape. */
	OUT(cmd("EVAL --[[getCounts]] 1 bull:emails: active wait"), 20);
	IN("*2\r\n:0\r\n:3\r\n", 21);
	CHECK_EQ_STR(O.script[1], "getCounts");
	CHECK_EQ_STR(O.script[6], "getCounts");
	CHECK_EQ_STR(O.script[0], "-");
}

static void test_transactions(void)
{
	char w[512];

	start(false);
	snprintf(w, sizeof(w), "%s%s%s%s", cmd("MULTI"), cmd("SET a 1"), cmd("INCR a"), cmd("EXEC"));
	OUT(w, 1);
	IN("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:2\r\n", 2);
	CHECK_EQ_STR(O.s, "MULTI:ok SET:ok:T INCR:ok:T EXEC:ok");
	CHECK_EQ_INT(O.ts_end[1], 7);

	/* An error while queuing aborts the EXEC. */
	start(false);
	snprintf(w, sizeof(w), "%s%s%s%s", cmd("MULTI"), cmd("SET a 1"), cmd("GET a b"),
		 cmd("EXEC"));
	OUT(w, 1);
	IN("+OK\r\n+QUEUED\r\n-ERR wrong number of arguments\r\n", 2);
	IN("-EXECABORT Transaction discarded because of previous errors.\r\n", 3);
	CHECK_EQ_STR(O.s, "MULTI:ok GET:ERR SET:EXECABORT:TN EXEC:EXECABORT");

	/* WATCH abort (null), DISCARD, and an error inside the EXEC array. */
	start(false);
	snprintf(w, sizeof(w), "%s%s%s", cmd("MULTI"), cmd("INCR a"), cmd("EXEC"));
	OUT(w, 1);
	IN("+OK\r\n+QUEUED\r\n*-1\r\n", 2);
	snprintf(w, sizeof(w), "%s%s%s", cmd("MULTI"), cmd("INCR a"), cmd("DISCARD"));
	OUT(w, 3);
	IN("+OK\r\n+QUEUED\r\n+OK\r\n", 4);
	snprintf(w, sizeof(w), "%s%s%s%s", cmd("MULTI"), cmd("INCR a"), cmd("LPUSH a x"),
		 cmd("EXEC"));
	OUT(w, 5);
	IN("+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n-WRONGTYPE Operation\r\n", 6);
	CHECK_EQ_STR(O.s, "MULTI:ok INCR:ABORTED:TN EXEC:ok MULTI:ok INCR:DISCARDED:TN DISCARD:ok "
			  "MULTI:ok INCR:ok:T LPUSH:WRONGTYPE:T EXEC:ok");
	/* EXEC with a different count than what was queued: we missed something. */
	snprintf(w, sizeof(w), "%s%s%s", cmd("MULTI"), cmd("INCR a"), cmd("EXEC"));
	OUT(w, 7);
	IN("+OK\r\n+QUEUED\r\n*2\r\n:1\r\n:2\r\n", 8);
	CHECK_MSG(strstr(O.s, "DISCARD:ok MULTI:ok INCR:ok:T LPUSH:WRONGTYPE:T EXEC:ok MULTI:ok EXEC:ok:U"),
		  "%s", O.s);
	CHECK_EQ_INT(redisconn__stats(C)->lost_commands, 1);
}

static void test_pubsub(void)
{
	start(false);
	OUT(cmd("SUBSCRIBE a b"), 1);
	IN("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", 2);
	CHECK_EQ_STR(O.s, "");
	IN("*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n",
	   3);
	OUT(cmd("PING"), 4);
	IN("*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nyo\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n", 5);
	OUT(cmd("UNSUBSCRIBE"), 6);
	IN("*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n", 7);
	IN("*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n", 8);
	/* Not subscribed any more: an array starting with "message" is a reply. */
	OUT(cmd("LRANGE l 0 -1"), 9);
	IN("*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n", 10);
	CHECK_EQ_STR(O.s, "SUBSCRIBE:ok PING:ok UNSUBSCRIBE:ok LRANGE:ok");
	CHECK_EQ_INT(redisconn__stats(C)->pushes, 2);
	CHECK_EQ_INT(redisconn__stats(C)->unpaired_replies, 0);

	/* RESP3: confirmations and messages are pushes; replies interleave. */
	start(false);
	OUT(cmd("HELLO 3"), 1);
	IN("%1\r\n$5\r\nproto\r\n:3\r\n", 2);
	CHECK(redisconn__resp3(C));
	OUT(cmd("SUBSCRIBE a"), 3);
	IN(">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n", 4);
	OUT(cmd("GET k"), 5);
	IN(">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nx\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
	   "$1\r\nv\r\n",
	   6);
	CHECK_EQ_STR(O.s, "HELLO:ok SUBSCRIBE:ok GET:ok");
	CHECK_EQ_INT(redisconn__stats(C)->pushes, 2);
	/* An attribute before a reply is not a reply. */
	OUT(cmd("GET k"), 7);
	IN("|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", 8);
	CHECK_EQ_STR(O.s, "HELLO:ok SUBSCRIBE:ok GET:ok GET:ok");
}

static void test_blocking_and_names(void)
{
	start(false);
	OUT(cmd("BZPOPMIN bull:q:marker 0.5"), 1);
	IN("_\r\n", 2);
	OUT(cmd("XREAD BLOCK 10000 STREAMS bull:q:events $"), 3);
	IN("_\r\n", 4);
	OUT(cmd("xread COUNT 1 STREAMS block 0"), 5);	/* "block" is the stream name here */
	IN("*0\r\n", 6);
	OUT(cmd("blmove a b LEFT RIGHT 0"), 7);
	IN("$1\r\nx\r\n", 8);
	OUT(cmd("CLIENT SETNAME bull:cmVwb3J0cw=="), 9);
	IN("+OK\r\n", 10);
	OUT(cmd("bad\x01name x"), 11);
	IN("-ERR unknown command\r\n", 12);
	OUT(cmd("BZPOPMIN bull:q:marker 5"), 13);
	CHECK_EQ_STR(O.s, "BZPOPMIN:ok:B XREAD:ok:B XREAD:ok BLMOVE:ok:B CLIENT:ok UNKNOWN:ERR");
	CHECK_EQ_STR(redisconn__client_name(C), "bull:cmVwb3J0cw==");
	CHECK_EQ_INT(redisconn__pending(C), 1);
	redisconn__close(C);
	CHECK_EQ_INT(redisconn__stats(C)->pending_at_close, 1);
}

/* Commands lost on the way out: their replies are absorbed or refute. */
static void test_gap_out(void)
{
	/* The lost command's reply is read before the next command is written: absorbed. */
	start(false);
	OUT(cmd("GET a"), 10);
	IN("$1\r\na\r\n$1\r\nb\r\n", 15);
	put_cap(REDIS_DIR_OUT, cmd("GET c"), strlen(cmd("GET c")), strlen(cmd("GET c")), 14, 20);
	IN("$1\r\nc\r\n", 30);
	OUT(cmd("PING"), 40);
	CHECK_EQ_STR(O.s, "GET:ok GET:ok:U +confirm");
	CHECK_EQ_INT(redisconn__stats(C)->gaps, 1);

	/* Here it is read after: GET c is mispaired, then the extra reply refutes. */
	start(false);
	OUT(cmd("GET a"), 10);
	put_cap(REDIS_DIR_OUT, cmd("GET c"), strlen(cmd("GET c")), strlen(cmd("GET c")), 14, 20);
	IN("$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", 30);
	OUT(cmd("PING"), 40);
	IN("+PONG\r\n", 50);
	OUT(cmd("PING"), 60);
	CHECK_EQ_STR(O.s, "GET:ok:U GET:ok:U -refute PING:ok:U +confirm");
	CHECK_EQ_INT(redisconn__stats(C)->unpaired_replies, 1);
}

/* Replies lost: pending commands are dropped, leftovers absorbed. */
static void test_gap_in(void)
{
	char w[256];

	start(false);
	snprintf(w, sizeof(w), "%s%s", cmd("GET a"), cmd("GET b"));
	OUT(w, 10);
	put_cap(REDIS_DIR_IN, "$1\r\nb\r\n", 7, 7, 7, 20);
	OUT(cmd("GET c"), 30);
	IN("$1\r\nc\r\n", 40);
	OUT(cmd("GET d"), 50);
	CHECK_EQ_STR(O.s, "GET:ok:U +confirm");
	CHECK_EQ_INT(redisconn__stats(C)->lost_commands, 2);
	CHECK_EQ_INT(redisconn__stats(C)->absorbed_replies, 1);
	/* A gap that lands mid-frame: the next chunk is not a frame start. */
	IN("\r\n", 60);
	put_cap(REDIS_DIR_IN, "lue\r\n", 5, 5, 30, 70);
	CHECK_EQ_INT(redisconn__stats(C)->skipped_chunks, 1);
}

static void test_midstream_join(void)
{
	start(true);
	OUT("lue\r\n*1\r\n$4\r\nPING\r\n", 10);	/* tail of an unseen command */
	IN("+OK\r\n", 20);			/* reply of something unseen */
	OUT(cmd("PING"), 30);
	IN("+PONG\r\n", 40);
	OUT(cmd("PING"), 50);
	IN("+PONG\r\n", 60);
	CHECK_EQ_STR(O.s, "PING:ok:U +confirm PING:ok");
	CHECK_EQ_INT(redisconn__stats(C)->skipped_chunks, 1);
	CHECK_EQ_INT(redisconn__stats(C)->absorbed_replies, 1);

	/* A reply read before its command was written cannot be its reply. */
	start(false);
	OUT(cmd("PING"), 50);
	IN("+PONG\r\n", 40);
	CHECK_EQ_STR(O.s, "");
	CHECK_EQ_INT(redisconn__stats(C)->unpaired_replies, 1);
}

/* Big values beyond the capture: skipped inside bodies, cut over headers. */
static void test_uncaptured_bytes(void)
{
	static char big[3000];
	size_t n;

	start(false);
	n = (size_t)snprintf(big, sizeof(big), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000\r\n");
	memset(big + n, 'x', 2000);
	memcpy(big + n + 2000, "\r\n", 2);
	/* Only 100 bytes captured, 2000+ moved: the body is skipped, the frame ends. */
	put_cap(REDIS_DIR_OUT, big, 100, n + 2002, 0, 10);
	IN("+OK\r\n", 20);
	CHECK_EQ_STR(O.s, "SET:ok");
	CHECK_EQ_INT(redisconn__stats(C)->cuts, 0);
	/* Same, but the uncaptured tail also holds a second command: unsure, then refuted. */
	put_cap(REDIS_DIR_OUT, big, 100, n + 2002 + 27, 0, 30);
	IN("+OK\r\n+OK\r\n", 40);
	CHECK_EQ_STR(O.s, "SET:ok SET:ok:U -refute");
	/* The skip runs into the command's next header: cut; right, so confirmed later. */
	memcpy(big, "*5", 2);
	memcpy(big + n + 2002, "$2\r\nEX\r\n$2\r\n10\r\n", 16);
	put_cap(REDIS_DIR_OUT, big, 100, n + 2002 + 16, 0, 50);
	IN("+OK\r\n", 60);
	OUT(cmd("PING"), 70);
	CHECK_EQ_STR(O.s, "SET:ok SET:ok:U -refute SET:ok:CU +confirm");
	CHECK_EQ_INT(redisconn__stats(C)->cuts, 1);
	/* A reply whose tail was not captured pairs with its command, unsure. */
	IN("+PONG\r\n", 75);
	OUT(cmd("GET k"), 80);
	put_cap(REDIS_DIR_IN, "*2\r\n$2000\r\nxx", 13, 13 + 1998 + 2 + 4, 0, 90);
	OUT(cmd("PING"), 100);
	IN("+PONG\r\n", 110);
	OUT(cmd("PING"), 120);
	CHECK(strstr(O.s, "PING:ok GET:ok:RU PING:ok:U +confirm") != NULL);
	CHECK_EQ_INT(redisconn__stats(C)->cuts, 2);
}

/* A burst of adds where each write kept only a 180-byte prefix: still adds. */
static void test_cut_adds_still_classified(void)
{
	struct fx fx;
	int adds = 0;

	if (!fx_load(&fx, "v670_resp3_08_burst_adds_one_read")) {
		CHECK(0);
		return;
	}
	start(false);
	for (size_t i = 0; i < fx.n; i++) {
		const struct fx_chunk *k = &fx.chunks[i];
		size_t cap = k->dir == REDIS_DIR_OUT && k->len > 180 ? 180 : k->len;

		redisconn__feed(C, k->dir, k->data, cap, k->len, 0, k->ts_ns, k->ts_ns);
	}
	for (int i = 0; i < O.n; i++)
		adds += !strcmp(O.script[i], "addStandardJob");
	CHECK_EQ_INT(adds, 20);
	CHECK_EQ_INT(redisconn__stats(C)->cuts, 20);
	CHECK_EQ_INT(O.unsure, 20);
	/* All answered: closing is a quiet point, the epoch is confirmed. */
	redisconn__close(C);
	CHECK(strstr(O.s, "+confirm") != NULL);
	CHECK(strstr(O.s, "refute") == NULL);
	fx_free(&fx);
}

static void test_bad_args_and_errors(void)
{
	start(false);
	CHECK_EQ_INT(redisconn__feed(C, 7, (const uint8_t *)"x", 1, 1, 0, 1, 1), -EINVAL);
	CHECK_EQ_INT(redisconn__feed(C, REDIS_DIR_IN, (const uint8_t *)"x", 2, 1, 0, 1, 1), -EINVAL);
	/* Binary garbage on the command side: a protocol error, then resync. */
	OUT("\x01\x02garbage", 1);
	CHECK_EQ_INT(redisconn__stats(C)->proto_errors, 1);
	OUT(cmd("PING"), 2);
	IN("+PONG\r\n", 3);
	OUT(cmd("PING"), 4);
	CHECK_EQ_STR(O.s, "PING:ok:U +confirm");
	/* Hostile reply length. */
	IN("*999999999\r\n", 5);
	CHECK_EQ_INT(redisconn__stats(C)->proto_errors, 2);
	CHECK_EQ_INT(redisconn__stats(C)->lost_commands, 1);
}

/* Records of every fixture, at syscall boundaries vs byte by byte. */
static void test_fixture_records(void)
{
	static char want[16384];

	for (size_t i = 0; i < FX_COUNT; i++) {
		struct fx fx;

		if (!fx_load(&fx, fx_names[i])) {
			CHECK_MSG(0, "load %s", fx_names[i]);
			continue;
		}
		start(false);
		fx_replay_syscalls(&fx, C);
		snprintf(want, sizeof(want), "%s", O.s);
		CHECK_MSG(O.unsure == 0 && !strstr(want, "refute"), "%s: %s", fx_names[i], want);
		CHECK_EQ_INT(redisconn__stats(C)->unpaired_replies, 0);
		start(false);
		fx_replay_split(&fx, C, 1);
		CHECK_MSG(!strcmp(want, O.s), "%s bytewise:\n got  %s\n want %s", fx_names[i], O.s,
			  want);
		if (!strcmp(fx_names[i], "v670_resp3_06_blocking_bzpopmin")) {
			CHECK_EQ_STR(want, "HELLO:ok CLIENT:ok CLIENT:ERR CLIENT:ERR INFO:ok INFO:ok "
					   "BZPOPMIN:ok:B BZPOPMIN:ok:B BZPOPMIN:ok:B BZPOPMIN:ok:B "
					   "BZPOPMIN:ok:B BZPOPMIN:ok:B BZPOPMIN:ok:B BZPOPMIN:ok:B "
					   "BZPOPMIN:ok:B BZPOPMIN:ok:B BZPOPMIN:ok:B");
			CHECK_EQ_INT(redisconn__pending(C), 1);
			CHECK(redisconn__resp3(C));
			CHECK_EQ_STR(redisconn__client_name(C), "bull:cmVwb3J0cw==");
		}
		if (!strcmp(fx_names[i], "v5815_resp2_06_blocking_bzpopmin"))
			CHECK(!redisconn__resp3(C));
		if (!strcmp(fx_names[i], "v4183_resp2_04_worker_multi_exec"))
			CHECK_EQ_STR(want, "EVALSHA:ok MULTI:ok EVALSHA:ok:T EVALSHA:ok:T EXEC:ok "
					   "EVALSHA:ok MULTI:ok EVALSHA:ok:T EVALSHA:ok:T EXEC:ok "
					   "MULTI:ok EVALSHA:ok:T EVALSHA:ok:T EXEC:ok");
		if (!strcmp(fx_names[i], "v670_resp3_07_queueevents_xread"))
			CHECK_EQ_INT(redisconn__stats(C)->records, 12);
		if (!strcmp(fx_names[i], "v670_resp3_04_worker_lifecycle")) {
			/* Latency: first write entry -> last read exit (strace: entry only). */
			start(false);
			fx_replay_syscalls(&fx, C);
			CHECK_EQ_INT(O.ts_start[0], fx.chunks[0].ts_ns);
			CHECK_EQ_INT(O.ts_end[0], fx.chunks[1].ts_ns + 5 * 0);
		}
		fx_free(&fx);
	}
}

int main(void)
{
	RUN(test_pipeline_and_latency);
	RUN(test_error_statuses);
	RUN(test_transactions);
	RUN(test_pubsub);
	RUN(test_blocking_and_names);
	RUN(test_gap_out);
	RUN(test_gap_in);
	RUN(test_midstream_join);
	RUN(test_uncaptured_bytes);
	RUN(test_cut_adds_still_classified);
	RUN(test_bad_args_and_errors);
	RUN(test_fixture_records);
	redisconn__free(C);
	return check_summary();
}
