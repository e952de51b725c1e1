// SPDX-License-Identifier: Apache-2.0
/*
 * test_bullmq.c - BullMQ inference: every fixture replayed at its syscall
 * boundaries, one byte at a time and in odd-sized pieces must give exactly
 * the operations the transcript (.txt) shows; script identification by shape
 * must agree with the SHA1-resolved names of the transcripts; wait times and
 * durations match the app timestamps; staging, limits and dedup hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"
#include "check.h"
#include "fixture_replay.h"
#include "redisconn.h"

#define MAX_EV 256

struct ev_copy {
	enum bullmq_op op;
	char job[64];
	char queue[64];
	uint32_t attempt;
	int64_t wait_ms, duration_ms, duration_ns, delay_ms, depth, active;
	int64_t counts[BULLMQ_ST__MAX];
	char reason[96];
};

struct sink {
	struct bullmq *b;
	struct ev_copy ev[MAX_EV];
	int n;
	char ops[8192];		/* "op queue job;..." */
	char scripts[4096];	/* per record: script name or '-' */
	int by_sha;		/* records identified by SHA hint only */
};

static void on_bullmq(void *ctx, const struct bullmq_event *e)
{
	struct sink *s = ctx;
	size_t o = strlen(s->ops);

	snprintf(s->ops + o, sizeof(s->ops) - o, "%s%s %s %s", o ? ";" : "", bullmq_op_name(e->op),
		 e->queue, e->job_id);
	if (s->n < MAX_EV) {
		struct ev_copy *c = &s->ev[s->n++];

		c->op = e->op;
		snprintf(c->job, sizeof(c->job), "%s", e->job_id);
		snprintf(c->queue, sizeof(c->queue), "%s", e->queue);
		snprintf(c->reason, sizeof(c->reason), "%s", e->reason ? e->reason : "");
		c->attempt = e->attempt;
		c->wait_ms = e->wait_ms;
		c->duration_ms = e->duration_ms;
		c->duration_ns = e->duration_ns;
		c->delay_ms = e->delay_ms;
		c->depth = e->depth;
		c->active = e->active;
		for (int i = 0; i < BULLMQ_ST__MAX; i++)
			c->counts[i] = e->counts ? e->counts[i] : -2;
	}
}

static void on_conn(void *ctx, const struct redisconn_ev *ev)
{
	struct sink *s = ctx;
	size_t o;

	switch (ev->kind) {
	case REDISCONN_EV_CMD:
		o = strlen(s->scripts);
		snprintf(s->scripts + o, sizeof(s->scripts) - o, "%s%s", o ? "," : "",
			 ev->rec->script ? ev->rec->script : "-");
		if (ev->rec->call->by == BULLMQ_BY_SHA)
			s->by_sha++;
		bullmq__on_reply(s->b, ev->rec->call, ev->rec->reply, ev->rec->ts_start_ns,
				 ev->rec->ts_end_ns, ev->epoch);
		break;
	case REDISCONN_EV_CONFIRM:
		bullmq__confirm(s->b, ev->epoch);
		break;
	case REDISCONN_EV_REFUTE:
		bullmq__refute(s->b, ev->epoch);
		break;
	}
}

static void sink_init(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	s->b = bullmq__new(NULL, on_bullmq, s);
}

/* Script names per EVAL/EVALSHA in a transcript, in order ("-" for other commands). */
static void transcript_scripts(const char *txt, char *out, size_t size)
{
	const char *l = txt;
	size_t o = 0;

	out[0] = '\0';
	while ((l = strstr(l, "\n>> [")) != NULL) {
		const char *eol = strchr(l + 1, '\n'), *sc = strstr(l, "| script=");

		l++;
		if (sc && (!eol || sc < eol)) {
			const char *e = strchr(sc + 9, ' ');
			int n = (int)(e ? e - sc - 9 : 0);

			o += (size_t)snprintf(out + o, size - o, "%s%.*s", o ? "," : "", n, sc + 9);
		} else {
			o += (size_t)snprintf(out + o, size - o, "%s-", o ? "," : "");
		}
	}
}

struct fx_expect {
	const char *name;
	const char *ops;
};

static const struct fx_expect expect[] = {
	{ "v670_resp3_01_handshake_queue", "" },
	{ "v670_resp3_02_producer_add",
	  "added reports 4;added reports 5;added reports 6;added reports 7;added reports 8" },
	{ "v670_resp3_03_eval_then_evalsha_getCounts", "counts emails ;counts emails " },
	{ "v670_resp3_04_worker_lifecycle",
	  "started emails custom-42;"
	  "failed emails 9;started emails 12;"
	  "completed emails custom-42;started emails 10;"
	  "completed emails 10;started emails 7;"
	  "retried emails 7;started emails 6;"
	  "retried emails 6;started emails 5;"
	  "completed emails 5;started emails 3;"
	  "completed emails 3;started emails 7;"
	  "failed emails 7;started emails 6;"
	  "completed emails 6;started emails 4;"
	  "completed emails 4" },
	{ "v670_resp3_05_worker_extendLocks_stalled", "" },
	{ "v670_resp3_06_blocking_bzpopmin", "" },
	{ "v670_resp3_07_queueevents_xread", "" },
	{ "v670_resp3_08_burst_adds_one_read",
	  "added bulk 2;added bulk 3;added bulk 4;added bulk 5;added bulk 6;added bulk 7;"
	  "added bulk 8;added bulk 9;added bulk 10;added bulk 11;added bulk 12;added bulk 13;"
	  "added bulk 14;added bulk 15;added bulk 16;added bulk 17;added bulk 18;added bulk 19;"
	  "added bulk 20;added bulk 21" },
	{ "v670_resp3_09_reply_split_across_reads",
	  "completed bulk 9;started bulk 34;completed bulk 14;started bulk 35;"
	  "completed bulk 19;started bulk 36;completed bulk 5;started bulk 37" },
	{ "v670_resp3_10_stalled_job_recovered", "stalled st 1;started st 1" },
	{ "v5815_resp2_04_worker_lifecycle",
	  "started emails 12;"
	  "completed emails custom-42;started emails 7;"
	  "retried emails 7;started emails 10;"
	  "completed emails 10;started emails 6;"
	  "retried emails 6;started emails 3;"
	  "completed emails 3;started emails 7;"
	  "failed emails 7;started emails 5;"
	  "completed emails 5;started emails 6;"
	  "completed emails 6;started emails 4;"
	  "completed emails 4" },
	{ "v5815_resp2_06_blocking_bzpopmin", "" },
	{ "v5815_resp2_07_queueevents_xread", "" },
	{ "v4183_resp2_04_worker_multi_exec",
	  "started emails 8;retried emails 7;started emails 9;failed emails 8;failed emails 9" },
	{ "v4183_resp2_06_blocking_rpoplpush", "" },
};

static const char *expected_ops(const char *name)
{
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (!strcmp(expect[i].name, name))
			return expect[i].ops;
	return NULL;
}

/* Every fixture, three ways, same ops; and the expected list is complete. */
static void test_fixture_ops_all_replays(void)
{
	static struct sink s;
	static const size_t steps[] = { 0 /* syscalls */, 1, 7, 1000 };

	CHECK_EQ_INT(sizeof(expect) / sizeof(expect[0]), FX_COUNT);
	for (size_t i = 0; i < FX_COUNT; i++) {
		struct fx fx;
		const char *want = expected_ops(fx_names[i]);

		CHECK_MSG(fx_load(&fx, fx_names[i]), "load %s", fx_names[i]);
		if (!fx.n || !want)
			continue;
		for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct redisconn *c;

			sink_init(&s);
			c = redisconn__new(on_conn, &s, false);
			if (steps[k])
				fx_replay_split(&fx, c, steps[k]);
			else
				fx_replay_syscalls(&fx, c);
			CHECK_MSG(strcmp(s.ops, want) == 0, "%s step %zu:\n got  %s\n want %s",
				  fx_names[i], steps[k], s.ops, want);
			CHECK_MSG(redisconn__stats(c)->unpaired_replies == 0 &&
					  redisconn__stats(c)->refuted == 0 &&
					  redisconn__stats(c)->proto_errors == 0,
				  "%s step %zu: unpaired/refuted/errors", fx_names[i], steps[k]);
			redisconn__free(c);
			bullmq__free(s.b);
		}
		fx_free(&fx);
	}
}

/* Shape classification names every script as the SHA1 tables do. */
static void test_fixture_script_identity(void)
{
	static struct sink s;
	static char want[4096];

	for (size_t i = 0; i < FX_COUNT; i++) {
		struct fx fx;
		struct redisconn *c;

		if (!fx_load(&fx, fx_names[i]))
			continue;
		sink_init(&s);
		c = redisconn__new(on_conn, &s, false);
		fx_replay_syscalls(&fx, c);
		transcript_scripts(fx.txt, want, sizeof(want));
		/* The last BZPOPMIN of 06 has no reply: the transcript lists one more. */
		if (strstr(fx.txt, "no reply in capture"))
			CHECK_MSG(strncmp(want, s.scripts, strlen(s.scripts)) == 0 &&
					  strlen(want) == strlen(s.scripts) + 2,
				  "%s:\n got  %s\n want %s", fx_names[i], s.scripts, want);
		else
			CHECK_MSG(strcmp(want, s.scripts) == 0, "%s:\n got  %s\n want %s",
				  fx_names[i], s.scripts, want);
		/* Only saveStacktrace (4.x) is named from the SHA table, not the shape. */
		CHECK_EQ_INT(s.by_sha, strstr(fx_names[i], "multi_exec") ? 3 : 0);
		redisconn__free(c);
		bullmq__free(s.b);
		fx_free(&fx);
	}
}

static const struct ev_copy *find_ev(const struct sink *s, enum bullmq_op op, const char *job,
				     int nth)
{
	for (int i = 0; i < s->n; i++)
		if (s->ev[i].op == op && !strcmp(s->ev[i].job, job) && nth-- == 0)
			return &s->ev[i];
	return NULL;
}

static struct ev_copy none = { .wait_ms = -99, .duration_ms = -99, .delay_ms = -99 };

static const struct ev_copy *ev_or_none(const struct ev_copy *e)
{
	return e ? e : &none;
}

/* Wait and duration from the app's own timestamps (fixture 04, bullmq 6.7). */
static void test_fixture_timings(void)
{
	static struct sink s;
	struct fx fx;
	struct redisconn *c;
	struct bullmq_queue_info qi;

	if (!fx_load(&fx, "v670_resp3_04_worker_lifecycle")) {
		CHECK(0);
		return;
	}
	sink_init(&s);
	c = redisconn__new(on_conn, &s, false);
	fx_replay_syscalls(&fx, c);
	/* custom-42: processedOn 977494 - timestamp 977348 = 146; finished 977511 = 17 ms. */
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_STARTED, "custom-42", 0))->wait_ms, 146);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_STARTED, "custom-42", 0))->attempt, 1);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_COMPLETED, "custom-42", 0))->duration_ms, 17);
	/* A finish carries the attempt of the start it ends (the trace matches on it). */
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_COMPLETED, "custom-42", 0))->attempt, 1);
	CHECK(ev_or_none(find_ev(&s, BULLMQ_OP_COMPLETED, "custom-42", 0))->duration_ns > 0);
	/* Job 3 was delayed 300 ms: 977642 - 977331 - 300 = 11; done at 977692 = 50 ms. */
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_STARTED, "3", 0))->wait_ms, 11);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_COMPLETED, "3", 0))->duration_ms, 50);
	/* Job 9 failed (timeout) without a start in this slice: no duration. */
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_FAILED, "9", 0))->duration_ms, -1);
	CHECK_EQ_STR(ev_or_none(find_ev(&s, BULLMQ_OP_FAILED, "9", 0))->reason, "timeout");
	/* Job 7: started 977554, retried at 977574 with backoff 100 -> due 977674; */
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_RETRIED, "7", 0))->duration_ms, 20);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_RETRIED, "7", 0))->delay_ms, 100);
	/* A retry's reason is in the msgpack of the fields to update. */
	CHECK_EQ_STR(ev_or_none(find_ev(&s, BULLMQ_OP_RETRIED, "7", 0))->reason,
		     "deterministic failure of e-fail-always");
	/* restarted (ats 3) at 977692: waited 18 ms since due; failed for good at 977722. */
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_STARTED, "7", 1))->attempt, 3);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_STARTED, "7", 1))->wait_ms, 18);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_FAILED, "7", 0))->duration_ms, 30);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_FAILED, "7", 0))->attempt, 3);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_RETRIED, "7", 0))->attempt,
		     ev_or_none(find_ev(&s, BULLMQ_OP_STARTED, "7", 0))->attempt);
	CHECK(ev_or_none(find_ev(&s, BULLMQ_OP_RETRIED, "7", 0))->attempt > 0);
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_FAILED, "9", 0))->attempt, 0);
	CHECK_EQ_STR(ev_or_none(find_ev(&s, BULLMQ_OP_FAILED, "7", 0))->reason,
		     "deterministic failure of e-fail-always");
	/* Job 10 restarted after an immediate-retry we did not see: wait unknown. */
	CHECK_EQ_INT(ev_or_none(find_ev(&s, BULLMQ_OP_STARTED, "10", 0))->wait_ms, -1);
	/* Gauges: job 12 still running; the empty fetches anchor depth at 0. */
	CHECK(bullmq__queue_info(s.b, 0, &qi));
	CHECK_EQ_STR(qi.queue, "emails");
	CHECK_EQ_STR(qi.prefix, "bull");
	CHECK_EQ_INT(qi.active, 1);
	CHECK_EQ_INT(qi.depth, 0);
	CHECK(qi.depth_anchored);
	CHECK_EQ_INT(bullmq__stats(s.b)->finish_unseen_start, 1);
	CHECK_EQ_INT(bullmq__stats(s.b)->ops[BULLMQ_OP_STARTED], 10);
	redisconn__free(c);
	bullmq__free(s.b);
	fx_free(&fx);
}

static void test_fixture_counts_and_meta(void)
{
	static struct sink s;
	struct fx fx;
	struct redisconn *c;
	struct bullmq_queue_info qi;

	CHECK(fx_load(&fx, "v670_resp3_03_eval_then_evalsha_getCounts"));
	sink_init(&s);
	c = redisconn__new(on_conn, &s, false);
	fx_replay_syscalls(&fx, c);
	CHECK_EQ_INT(s.n, 2);
	/* ARGV active completed delayed failed prioritized wait waiting-children */
	CHECK_EQ_INT(s.ev[0].counts[BULLMQ_ST_DELAYED], 1);
	CHECK_EQ_INT(s.ev[0].counts[BULLMQ_ST_PRIORITIZED], 2);
	CHECK_EQ_INT(s.ev[0].counts[BULLMQ_ST_WAIT], 9);
	CHECK_EQ_INT(s.ev[0].counts[BULLMQ_ST_PAUSED], -1);
	CHECK_EQ_INT(s.ev[0].depth, 11);
	CHECK_EQ_INT(s.ev[1].counts[BULLMQ_ST_ACTIVE], 1);
	CHECK_EQ_INT(s.ev[1].counts[BULLMQ_ST_COMPLETED], 7);
	CHECK_EQ_INT(s.ev[1].counts[BULLMQ_ST_FAILED], 2);
	CHECK_EQ_INT(s.ev[1].depth, 0);
	redisconn__free(c);
	bullmq__free(s.b);
	fx_free(&fx);

	CHECK(fx_load(&fx, "v670_resp3_01_handshake_queue"));
	sink_init(&s);
	c = redisconn__new(on_conn, &s, false);
	fx_replay_syscalls(&fx, c);
	CHECK(bullmq__queue_info(s.b, 0, &qi));
	CHECK_EQ_STR(qi.version, "bullmq:6.7.0");
	CHECK_EQ_STR(qi.queue, "emails");
	redisconn__free(c);
	bullmq__free(s.b);
	fx_free(&fx);

	/* Fixture 02: 4 adds to wait, 1 delayed: depth 4, one delayed tracked. */
	CHECK(fx_load(&fx, "v670_resp3_02_producer_add"));
	sink_init(&s);
	c = redisconn__new(on_conn, &s, false);
	fx_replay_syscalls(&fx, c);
	CHECK_EQ_INT(s.n, 5);
	CHECK_EQ_INT(s.ev[3].depth, 4);
	CHECK_EQ_INT(s.ev[4].depth, 4);
	CHECK_EQ_INT(s.ev[4].delay_ms, 60000);	/* opts msgpack delay: 0xcd 0xea60 */
	redisconn__free(c);
	bullmq__free(s.b);
	fx_free(&fx);
}

/* ---- classification of synthetic commands ---- */

static struct resp_parser CP;

static bool classify_str(const char *cmd, struct bullmq_call *call)
{
	size_t used;
	struct resp_view v;

	resp_parser__init(&CP, RESP_MODE_COMMANDS, 128);
	if (resp_parser__feed(&CP, (const uint8_t *)cmd, strlen(cmd), &used) != RESP_FRAME)
		return false;
	resp_view_top(&CP.frame, &v);
	return bullmq_classify(&v, call);
}

/* Build "*N\r\n$..\r\n.." from space-separated words ('~' stands for a space in a word). */
static const char *mk(const char *words)
{
	static char out[4096];
	char tmp[2048], *w, *save = NULL;
	const char *argv[64];
	int n = 0;
	size_t o;

	snprintf(tmp, sizeof(tmp), "%s", words);
	for (w = strtok_r(tmp, " ", &save); w && n < 64; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	o = (size_t)snprintf(out, sizeof(out), "*%d\r\n", n);
	for (int i = 0; i < n; i++) {
		char a[256];

		snprintf(a, sizeof(a), "%s", argv[i]);
		for (char *p = a; *p; p++)
			if (*p == '~')
				*p = ' ';
		o += (size_t)snprintf(out + o, sizeof(out) - o, "$%zu\r\n%s\r\n", strlen(a), a);
	}
	return out;
}

struct cls_case {
	const char *words;
	enum bullmq_script want;
	const char *base;
	const char *job;
};

static void test_classify_shapes(void)
{
	static const struct cls_case cases[] = {
		/* Custom prefix with a colon, and a cluster hash tag. */
		{ "EVALSHA 0000000000000000000000000000000000000000 3 my:app:q1:wait my:app:q1:active "
		  "my:app:q1:prioritized my:app:q1: 1795318977494 x",
		  BULLMQ_S_MOVE_TO_ACTIVE, "my:app:q1:", "" },
		{ "evalsha 0000000000000000000000000000000000000001 2 {bull}:jobs:42 {bull}:jobs:repeat 42 1 "
		  "{bull}:jobs:",
		  BULLMQ_S_REMOVE_JOB, "{bull}:jobs:", "42" },
		/* A queue named like a suffix: the base most keys agree on wins. */
		{ "EVALSHA 00 4 bull:metrics:wait bull:metrics:active bull:metrics:prioritized "
		  "bull:metrics:events bull:metrics: 1 x",
		  BULLMQ_S_MOVE_TO_ACTIVE, "bull:metrics:", "" },
		{ "EVALSHA 00 2 bull:q:active bull:q:9 bull:q: 1795 LPUSH 9 tok",
		  BULLMQ_S_RETRY_JOB, "bull:q:", "9" },
		{ "EVALSHA 00 1 bull:q:stalled bull:q: x y 1000", BULLMQ_S_EXTEND_LOCKS, "bull:q:", "" },
		{ "EVALSHA 00 2 bull:q:7:lock bull:q:stalled tok 3000 7", BULLMQ_S_EXTEND_LOCK, "bull:q:",
		  "7" },
		{ "EVALSHA 00 1 bull:q: 1795 wait paused", BULLMQ_S_GET_COUNTS, "bull:q:", "" },
		{ "EVALSHA 00 1 bull:q: 7 1", BULLMQ_S_REMOVE_JOB, "bull:q:", "7" },
		{ "EVALSHA 00 1 bull:q: frozen", BULLMQ_S_UNKNOWN, "bull:q:", "" },
		/* Not BullMQ: one-colon keys, or no keys. */
		{ "EVALSHA 00 2 user:wait user:active x", BULLMQ_S_NONE, "", "" },
		{ "EVAL return~1 0", BULLMQ_S_NONE, "", "" },
		{ "GET bull:q:wait", BULLMQ_S_NONE, "", "" },
		{ "HSET bull:q:meta opts.maxLenEvents 10000 version bullmq:5.0.0", BULLMQ_S_META,
		  "bull:q:", "" },
		{ "EVALSHA 00 999 a b", BULLMQ_S_NONE, "", "" },
	};
	struct bullmq_call call;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		classify_str(mk(cases[i].words), &call);
		CHECK_MSG(call.script == cases[i].want, "case %zu: script %d want %d", i, call.script,
			  cases[i].want);
		CHECK_MSG(!strcmp(call.base, cases[i].base), "case %zu: base '%s'", i, call.base);
		CHECK_MSG(!strcmp(call.job_id, cases[i].job), "case %zu: job '%s'", i, call.job_id);
	}
	classify_str(mk("HSET bull:q:meta opts.maxLenEvents 10000 version bullmq:5.0.0"), &call);
	CHECK_EQ_STR(call.reason, "bullmq:5.0.0");
	classify_str(mk("EVALSHA 00 1 bull:q: 1795 wait paused"), &call);
	CHECK_EQ_INT(call.nstates, 2);
	CHECK_EQ_INT(call.states[1], BULLMQ_ST_PAUSED);
	/* A known SHA1 names a script the shape rules do not derive from. */
	classify_str(mk("EVALSHA ab2818154a3f405adad5e01b769e79c50fb9e615 1 bull:emails:7 x y"),
		     &call);
	CHECK_EQ_STR(call.name ? call.name : "", "saveStacktrace");
	CHECK_EQ_INT(call.script, BULLMQ_S_UNKNOWN);
	/* A SHA1 hint never overrides the shape. */
	classify_str(mk("EVALSHA ab2818154a3f405adad5e01b769e79c50fb9e615 1 bull:q: 1795 wait"),
		     &call);
	CHECK_EQ_INT(call.script, BULLMQ_S_GET_COUNTS);
	CHECK(bullmq_sha_name("69666E69DD5621DF59067A03DE685E55A486560D", 40) != NULL);
	CHECK(bullmq_sha_name("69666e69dd5621df59067a03de685e55a486560e", 40) == NULL);
}

/* ---- stateful behaviour with hand-made replies ---- */

static struct resp_parser RP;

/* Feeds b the reply to cmd_words: the command written at req_ns, the reply
 * read at reply_ns, in the given epoch. */
static void reply_full(struct bullmq *b, const char *cmd_words, const char *reply,
		       uint64_t req_ns, uint64_t reply_ns, uint64_t epoch)
{
	struct bullmq_call call;
	struct resp_view v;
	size_t used;

	classify_str(mk(cmd_words), &call);
	resp_parser__init(&RP, RESP_MODE_REPLIES, 192);
	CHECK(resp_parser__feed(&RP, (const uint8_t *)reply, strlen(reply), &used) == RESP_FRAME);
	resp_view_top(&RP.frame, &v);
	bullmq__on_reply(b, &call, &v, req_ns, reply_ns, epoch);
}

static void reply_to(struct bullmq *b, const char *cmd_words, const char *reply, uint64_t ts,
		     uint64_t epoch)
{
	reply_full(b, cmd_words, reply, ts, ts + 1000, epoch);
}

#define ADD "EVALSHA 00 3 bull:q:wait bull:q:id bull:q:events "

static void test_staging_and_dedup(void)
{
	static struct sink s;
	char add[512];

	sink_init(&s);
	/* msgpack [ "bull:q:", "", "n", 1 ] as ARGV[1]: built with raw bytes. */
	snprintf(add, sizeof(add), "*7\r\n$7\r\nEVALSHA\r\n$2\r\n00\r\n$1\r\n2\r\n$11\r\nbull:q:wait\r\n"
				   "$9\r\nbull:q:id\r\n$13\r\n\x94\xa7" "bull:q:\xa0\xa1n\x01\r\n$2\r\n{}\r\n");
	{
		struct bullmq_call call;
		size_t used;
		struct resp_view rv;

		resp_parser__init(&CP, RESP_MODE_COMMANDS, 128);
		CHECK_EQ_INT(resp_parser__feed(&CP, (const uint8_t *)add, strlen(add), &used),
			     RESP_FRAME);
		resp_view_top(&CP.frame, &rv);
		CHECK(bullmq_classify(&rv, &call));
		CHECK_EQ_INT(call.script, BULLMQ_S_ADD_STANDARD);
		CHECK_EQ_INT(call.created_ms, 1);

		/* Unsure epoch 7: nothing until confirmed. */
		resp_parser__init(&RP, RESP_MODE_REPLIES, 192);
		resp_parser__feed(&RP, (const uint8_t *)"$1\r\n5\r\n", 7, &used);
		resp_view_top(&RP.frame, &rv);
		bullmq__on_reply(s.b, &call, &rv, 1, 2, 7);
		CHECK_EQ_STR(s.ops, "");
		bullmq__on_reply(s.b, &call, &rv, 1, 2, 8);	/* another epoch, refuted below */
		bullmq__confirm(s.b, 7);
		CHECK_EQ_STR(s.ops, "added q 5");
		bullmq__refute(s.b, 8);
		CHECK_EQ_STR(s.ops, "added q 5");
		CHECK_EQ_INT(bullmq__stats(s.b)->refuted_ops, 1);
		/* Auto id 3 after 5, no deduplication id: another producer's
		 * add, its reply read later. New. */
		resp_parser__init(&RP, RESP_MODE_REPLIES, 192);
		resp_parser__feed(&RP, (const uint8_t *)"$1\r\n3\r\n", 7, &used);
		resp_view_top(&RP.frame, &rv);
		bullmq__on_reply(s.b, &call, &rv, 3, 4, 0);
		CHECK_EQ_STR(s.ops, "added q 5;added q 3");
		CHECK_EQ_INT(bullmq__stats(s.b)->duplicates, 0);
		/* The same with opts {de: {id: "x"}}: a deduplication hit
		 * returning an existing job's id, not new. */
		snprintf(add, sizeof(add),
			 "*8\r\n$7\r\nEVALSHA\r\n$2\r\n00\r\n$1\r\n2\r\n$11\r\nbull:q:wait\r\n"
			 "$9\r\nbull:q:id\r\n$13\r\n\x94\xa7" "bull:q:\xa0\xa1n\x01\r\n$2\r\n{}\r\n"
			 "$10\r\n\x81\xa2" "de\x81\xa2" "id\xa1x\r\n");
		resp_parser__init(&CP, RESP_MODE_COMMANDS, 128);
		CHECK_EQ_INT(resp_parser__feed(&CP, (const uint8_t *)add, strlen(add), &used),
			     RESP_FRAME);
		resp_view_top(&CP.frame, &rv);
		CHECK(bullmq_classify(&rv, &call));
		CHECK(call.flags & BULLMQ_CF_DEDUP);
		resp_parser__init(&RP, RESP_MODE_REPLIES, 192);
		resp_parser__feed(&RP, (const uint8_t *)"$1\r\n4\r\n", 7, &used);
		resp_view_top(&RP.frame, &rv);
		bullmq__on_reply(s.b, &call, &rv, 3, 4, 0);
		CHECK_EQ_STR(s.ops, "added q 5;added q 3");
		CHECK_EQ_INT(bullmq__stats(s.b)->duplicates, 1);
		/* Error replies and negative ids are not adds. */
		resp_parser__init(&RP, RESP_MODE_REPLIES, 192);
		resp_parser__feed(&RP, (const uint8_t *)":-5\r\n", 5, &used);
		resp_view_top(&RP.frame, &rv);
		bullmq__on_reply(s.b, &call, &rv, 3, 4, 0);
		CHECK_EQ_STR(s.ops, "added q 5;added q 3");
	}
	bullmq__free(s.b);
}

#define MTF(id, kind) \
	"EVALSHA 00 4 bull:a:wait bull:a:active bull:a:" id " bull:a:" kind " " id \
	" 1000 returnvalue {} " kind " 0"

static void test_limits(void)
{
	static struct sink s;
	struct bullmq_limits lim = { .max_queues = 2, .max_jobs = 2, .max_staged = 1 };

	memset(&s, 0, sizeof(s));
	s.b = bullmq__new(&lim, on_bullmq, &s);
	reply_to(s.b, "EVALSHA 00 1 bull:a: wait", "*1\r\n:1\r\n", 1, 0);
	reply_to(s.b, "EVALSHA 00 1 bull:b: wait", "*1\r\n:1\r\n", 1, 0);
	reply_to(s.b, "EVALSHA 00 1 bull:c: wait", "*1\r\n:1\r\n", 1, 0);
	CHECK_EQ_INT(bullmq__queue_count(s.b), 2);
	CHECK_EQ_INT(bullmq__stats(s.b)->queues_dropped, 1);
	/* Three starts with room for two: the oldest is evicted. */
	reply_to(s.b, "EVALSHA 00 3 bull:a:wait bull:a:active bull:a:prioritized bull:a: 10 x",
		 "*4\r\n*2\r\n$11\r\nprocessedOn\r\n$2\r\n10\r\n$1\r\n1\r\n:0\r\n:0\r\n", 10, 0);
	reply_to(s.b, "EVALSHA 00 3 bull:a:wait bull:a:active bull:a:prioritized bull:a: 10 x",
		 "*4\r\n*2\r\n$11\r\nprocessedOn\r\n$2\r\n11\r\n$1\r\n2\r\n:0\r\n:0\r\n", 20, 0);
	reply_to(s.b, "EVALSHA 00 3 bull:a:wait bull:a:active bull:a:prioritized bull:a: 10 x",
		 "*4\r\n*2\r\n$11\r\nprocessedOn\r\n$2\r\n12\r\n$1\r\n3\r\n:0\r\n:0\r\n", 30, 0);
	CHECK_EQ_INT(bullmq__stats(s.b)->jobs_evicted, 1);
	reply_to(s.b, MTF("1", "completed"), ":0\r\n", 40, 0);
	reply_to(s.b, MTF("3", "completed"), ":0\r\n", 50, 0);
	CHECK_EQ_INT(s.ev[s.n - 2].duration_ms, -1);	/* job 1 was evicted */
	CHECK_EQ_INT(s.ev[s.n - 1].duration_ms, 1000 - 12);
	CHECK_EQ_INT(s.ev[s.n - 1].active, 1);
	/* Staging cap. */
	reply_to(s.b, "EVALSHA 00 1 bull:a: wait", "*1\r\n:1\r\n", 1, 9);
	reply_to(s.b, "EVALSHA 00 1 bull:a: wait", "*1\r\n:1\r\n", 1, 9);
	CHECK_EQ_INT(bullmq__stats(s.b)->staged_dropped, 1);
	bullmq__free(s.b);
}

/* Stalled recovery and depth inference from getCounts, adds and starts. */
static void test_depth_inference(void)
{
	static struct sink s;
	const char *mta = "EVALSHA 00 3 bull:q:wait bull:q:active bull:q:prioritized bull:q: 100 x";

	sink_init(&s);
	reply_to(s.b, "EVALSHA 00 1 bull:q: wait prioritized paused", "*3\r\n:2\r\n:1\r\n:0\r\n", 1,
		 0);
	CHECK_EQ_INT(s.ev[0].depth, 3);
	reply_to(s.b, mta, "*4\r\n*2\r\n$3\r\nats\r\n$1\r\n1\r\n$1\r\n1\r\n:0\r\n:0\r\n", 2, 0);
	CHECK_EQ_INT(s.ev[1].depth, 2);
	CHECK_EQ_INT(s.ev[1].active, 1);
	/* The stalled-checker hands job 1 back to wait (4.x nested reply: [[failed],[stalled]]). */
	reply_to(s.b,
		 "EVALSHA 00 2 bull:q:stalled bull:q:stalled-check 1 bull:q: 150 1000",
		 "*2\r\n*1\r\n$1\r\n9\r\n*1\r\n$1\r\n1\r\n", 3, 0);
	CHECK_EQ_STR(s.ops, "counts q ;started q 1;failed q 9;stalled q 1");
	CHECK_EQ_INT(s.ev[3].depth, 3);
	CHECK_EQ_INT(s.ev[3].active, 0);
	/* Empty fetch: nothing waiting any more. */
	reply_to(s.b, mta, "*4\r\n:0\r\n:0\r\n:0\r\n:0\r\n", 4, 0);
	reply_to(s.b, mta, "*4\r\n*2\r\n$3\r\nats\r\n$1\r\n2\r\n$1\r\n1\r\n:0\r\n:0\r\n", 5, 0);
	CHECK_EQ_INT(s.ev[4].depth, 0);
	/* Restart after a stall: waited since the check (150 ms), processedOn unknown here. */
	CHECK_EQ_INT(s.ev[4].attempt, 2);
	bullmq__free(s.b);
}

/* A reply whose command was written at req_ns and whose reply was read at reply_ns. */
static void reply_at(struct bullmq *b, const char *cmd_words, const char *reply, uint64_t req_ns,
		     uint64_t reply_ns)
{
	reply_full(b, cmd_words, reply, req_ns, reply_ns, 0);
}

/* A reply handing a job out (moveToActive, fetchNext): [hash, id, 0, 0]. */
static const char *start_reply(const char *id, int ats, long long processed_on)
{
	static char out[256];
	char pon[24], at[12];

	snprintf(pon, sizeof(pon), "%lld", processed_on);
	snprintf(at, sizeof(at), "%d", ats);
	snprintf(out, sizeof(out),
		 "*4\r\n*4\r\n$11\r\nprocessedOn\r\n$%zu\r\n%s\r\n$3\r\nats\r\n$%zu\r\n%s\r\n"
		 "$%zu\r\n%s\r\n:0\r\n:0\r\n",
		 strlen(pon), pon, strlen(at), at, strlen(id), id);
	return out;
}

#define MS 1000000ull
#define MTA_R "EVALSHA 00 3 bull:r:wait bull:r:active bull:r:prioritized bull:r: 1000 x"

static const struct ev_copy *nth_ev(const struct sink *s, enum bullmq_op op, int nth)
{
	for (int i = 0; i < s->n; i++)
		if (s->ev[i].op == op && nth-- == 0)
			return &s->ev[i];
	return &none;
}

/*
 * Replies are applied in the order of their read syscalls, across
 * connections. A job retried (at once: retryJob; or with a backoff:
 * moveToDelayed) can be fetched again by another worker, and that start
 * read, before the first worker reads the reply of its retry:
 *   worker A  start 7/1 (11 ms) .. retry written (60 ms) ........ its reply read (75 ms)
 *   worker B                     fetch: start 7/2 read (70 ms) .. finish written (150 ms)
 * The early start of attempt 2 waits for the retry's end, then takes over:
 * the retried attempt keeps its own start (11 -> 60 ms), the completed one
 * gets the second start (70 -> 150 ms); no finish without a start, and the
 * gauges end at 0.
 */
static void retry_fetched_early(const char *retry_cmd)
{
	static struct sink s;
	const struct ev_copy *r, *c;

	sink_init(&s);
	reply_at(s.b, MTA_R, start_reply("7", 1, 1000), 10 * MS, 11 * MS);
	reply_at(s.b, MTA_R, start_reply("7", 2, 1065), 65 * MS, 70 * MS);
	reply_at(s.b, retry_cmd, ":0\r\n", 60 * MS, 75 * MS);
	reply_at(s.b,
		 "EVALSHA 00 4 bull:r:wait bull:r:active bull:r:7 bull:r:completed 7 1145 "
		 "returnvalue {} completed 0",
		 ":0\r\n", 150 * MS, 151 * MS);
	CHECK_EQ_STR(s.ops, "started r 7;started r 7;retried r 7;completed r 7");
	r = nth_ev(&s, BULLMQ_OP_RETRIED, 0);
	c = nth_ev(&s, BULLMQ_OP_COMPLETED, 0);
	CHECK_EQ_INT(r->attempt, 1);
	CHECK_EQ_INT(r->duration_ns, (int64_t)(49 * MS));
	CHECK_EQ_INT(r->duration_ms, 1055 - 1000);
	CHECK_EQ_INT(r->active, 1);	/* attempt 2 runs */
	CHECK_EQ_INT(r->depth, 0);	/* and is not waiting */
	CHECK_EQ_INT(c->attempt, 2);
	CHECK_EQ_INT(c->duration_ns, (int64_t)(80 * MS));
	CHECK_EQ_INT(c->duration_ms, 1145 - 1065);
	CHECK_EQ_INT(c->active, 0);
	CHECK_EQ_INT(c->depth, 0);
	CHECK_EQ_INT(bullmq__stats(s.b)->finish_unseen_start, 0);
	CHECK_EQ_INT(bullmq__stats(s.b)->ops[BULLMQ_OP_STARTED], 2);
	CHECK_EQ_INT(bullmq__stats(s.b)->ops[BULLMQ_OP_RETRIED], 1);
	CHECK_EQ_INT(bullmq__stats(s.b)->ops[BULLMQ_OP_COMPLETED], 1);
	bullmq__free(s.b);
}

static void test_retry_fetched_before_its_reply(void)
{
	/* retryJob: [1] base, [2] now, [3] LPUSH, [4] job id */
	retry_fetched_early("EVALSHA 00 2 bull:r:active bull:r:7 bull:r: 1055 LPUSH 7 tok");
	/* moveToDelayed with a 0 ms backoff: [1] base, [2] now, [3] id, [4] token, [5] delay */
	retry_fetched_early("EVALSHA 00 4 bull:r:marker bull:r:active bull:r:delayed bull:r:7 "
			    "bull:r: 1055 7 tok 0 0");
}

/* An add of job ID on queue r as bullmq sends it: ARGV[1] msgpack [base,
 * "", name, created 1], ARGV[2] data, ARGV[3] msgpack opts {delay: DELAY}
 * (to the delayed set when DELAY > 0). */
static void add_reply(struct bullmq *b, const char *id, uint8_t delay, uint64_t req_ns,
		      uint64_t reply_ns)
{
	char cmd[512], rep[64];
	struct bullmq_call call;
	struct resp_view v;
	size_t used, n;

	n = (size_t)snprintf(cmd, sizeof(cmd),
			     "*8\r\n$7\r\nEVALSHA\r\n$2\r\n00\r\n$1\r\n2\r\n%s\r\n"
			     "$9\r\nbull:r:id\r\n$13\r\n\x94\xa7" "bull:r:\xa0\xa1n\x01\r\n$2\r\n{}\r\n"
			     "$8\r\n\x81\xa5" "delay",
			     delay ? "$14\r\nbull:r:delayed" : "$11\r\nbull:r:wait");
	cmd[n++] = (char)(delay & 0x7f);	/* positive fixint */
	memcpy(cmd + n, "\r\n", 3);
	resp_parser__init(&CP, RESP_MODE_COMMANDS, 128);
	CHECK_EQ_INT(resp_parser__feed(&CP, (const uint8_t *)cmd, n + 2, &used), RESP_FRAME);
	resp_view_top(&CP.frame, &v);
	CHECK(bullmq_classify(&v, &call));
	CHECK_EQ_INT(call.script, delay ? BULLMQ_S_ADD_DELAYED : BULLMQ_S_ADD_STANDARD);
	CHECK_EQ_INT(call.delay_ms, delay);
	snprintf(rep, sizeof(rep), "$%zu\r\n%s\r\n", strlen(id), id);
	resp_parser__init(&RP, RESP_MODE_REPLIES, 192);
	CHECK(resp_parser__feed(&RP, (const uint8_t *)rep, strlen(rep), &used) == RESP_FRAME);
	resp_view_top(&RP.frame, &v);
	bullmq__on_reply(b, &call, &v, req_ns, reply_ns, 0);
}

static void finish(struct bullmq *b, const char *id, uint64_t ns)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "EVALSHA 00 4 bull:r:wait bull:r:active bull:r:%s bull:r:completed %s 2000 "
		 "returnvalue {} completed 0", id, id);
	reply_at(b, cmd, ":0\r\n", ns, ns + MS);
}

static struct bullmq_queue_info qinfo(const struct bullmq *b)
{
	struct bullmq_queue_info qi = { 0 };

	CHECK(bullmq__queue_info(b, 0, &qi));
	return qi;
}

/*
 * The producer reads the reply of its add after a worker read the start of
 * that job (the worker's fetch went out when the add's marker woke it; the
 * producer was preempted): seen in most e2e runs. The job never waited as
 * far as depth is concerned, whatever comes between.
 */
static void test_add_read_after_its_start(void)
{
	static struct sink s;
	struct bullmq_queue_info qi;

	/* add 1, then the start of 2 read before the add of 2: depth 1 -> 0 -> 0 */
	sink_init(&s);
	add_reply(s.b, "1", 0, 1 * MS, 2 * MS);
	reply_at(s.b, MTA_R, start_reply("2", 1, 1000), 3 * MS, 4 * MS);
	add_reply(s.b, "2", 0, 2 * MS, 5 * MS);
	qi = qinfo(s.b);
	CHECK_EQ_INT(qi.depth, 1);	/* job 1 still waits */
	CHECK_EQ_INT(qi.active, 1);
	bullmq__free(s.b);

	/* nothing waiting: the start cannot take it off depth; nor can the add
	 * put it on, even after an empty fetch anchored 0 in between, and even
	 * when the job finished before the add's reply was read */
	sink_init(&s);
	reply_at(s.b, MTA_R, start_reply("1", 1, 1000), 3 * MS, 4 * MS);
	reply_at(s.b, MTA_R, start_reply("2", 1, 1000), 3 * MS, 4 * MS);
	reply_at(s.b, MTA_R, "*4\r\n:0\r\n:0\r\n:0\r\n:0\r\n", 5 * MS, 6 * MS);
	finish(s.b, "2", 7 * MS);
	add_reply(s.b, "1", 0, 1 * MS, 9 * MS);
	add_reply(s.b, "2", 0, 2 * MS, 9 * MS);
	qi = qinfo(s.b);
	CHECK_EQ_INT(qi.depth, 0);
	CHECK_EQ_INT(qi.active, 1);
	finish(s.b, "1", 10 * MS);
	CHECK_EQ_INT(s.ev[s.n - 1].duration_ns, (int64_t)(6 * MS));
	CHECK_EQ_INT(s.ev[s.n - 1].active, 0);
	CHECK_EQ_INT(s.ev[s.n - 1].depth, 0);
	CHECK_EQ_INT(bullmq__stats(s.b)->ops[BULLMQ_OP_ADDED], 2);
	bullmq__free(s.b);

	/* a delayed add read after its (promoted) start: the job stays active
	 * and its finish has its duration */
	sink_init(&s);
	reply_at(s.b, MTA_R, start_reply("1", 1, 1000), 3 * MS, 4 * MS);
	add_reply(s.b, "1", 50, 1 * MS, 5 * MS);
	qi = qinfo(s.b);
	CHECK_EQ_INT(qi.active, 1);
	CHECK_EQ_INT(qi.depth, 0);
	finish(s.b, "1", 10 * MS);
	CHECK_EQ_INT(s.ev[s.n - 1].duration_ns, (int64_t)(6 * MS));
	CHECK_EQ_INT(s.ev[s.n - 1].active, 0);
	CHECK_EQ_INT(s.ev[s.n - 1].depth, 0);
	CHECK_EQ_INT(bullmq__stats(s.b)->finish_unseen_start, 0);
	bullmq__free(s.b);
}

int main(void)
{
	RUN(test_fixture_ops_all_replays);
	RUN(test_fixture_script_identity);
	RUN(test_fixture_timings);
	RUN(test_fixture_counts_and_meta);
	RUN(test_classify_shapes);
	RUN(test_staging_and_dedup);
	RUN(test_limits);
	RUN(test_depth_inference);
	RUN(test_retry_fetched_before_its_reply);
	RUN(test_add_read_after_its_start);
	return check_summary();
}
