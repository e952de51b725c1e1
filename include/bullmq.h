/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bullmq.h - BullMQ job operations inferred from Redis commands and replies.
 *
 * Two layers:
 *  - bullmq_classify(): pure. Looks at one command (EVAL/EVALSHA and a few
 *    plain ones) and names the BullMQ script by the SHAPE of its keys
 *    (`<prefix>:<queue>:<suffix>`, job keys, ARGV markers), robust across
 *    bullmq 4.x-6.x; known SHA1s are only a hint. It extracts the few values
 *    the inference needs (queue base, job id, timestamps, reason) into a small
 *    fixed-size struct bullmq_call that a connection keeps per pending command.
 *  - struct bullmq: stateful, one per observer. bullmq__on_reply() takes a
 *    classified call with its reply and emits operations (added, started,
 *    completed, failed, retried, stalled, counts, removed) per queue, with job
 *    ids, wait time and processing duration where they can be known. Memory is
 *    bounded: a cap on queues, on tracked jobs and on staged operations.
 *
 * Operations derived from a reply the connection is not sure it paired right
 * (an "unsure epoch", see redisconn.h) are staged and applied only when the
 * epoch is confirmed; a refuted epoch's operations are dropped. So a lost
 * byte never invents a job.
 */
#ifndef SBA_BULLMQ_H
#define SBA_BULLMQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp.h"

#define BULLMQ_BASE_MAX		96	/* "<prefix>:<queue>:" */
#define BULLMQ_ID_MAX		64	/* job id */
#define BULLMQ_REASON_MAX	96	/* failed reason prefix */
#define BULLMQ_MAX_STATES	12	/* getCounts states kept */

enum bullmq_script {
	BULLMQ_S_NONE = 0,		/* not a BullMQ call */
	BULLMQ_S_UNKNOWN,		/* a script on BullMQ keys we derive nothing from */
	BULLMQ_S_ADD_STANDARD,
	BULLMQ_S_ADD_DELAYED,
	BULLMQ_S_ADD_PRIORITIZED,
	BULLMQ_S_ADD_PARENT,
	BULLMQ_S_MOVE_TO_ACTIVE,
	BULLMQ_S_MOVE_TO_FINISHED,
	BULLMQ_S_MOVE_TO_DELAYED,
	BULLMQ_S_RETRY_JOB,
	BULLMQ_S_MOVE_STALLED,
	BULLMQ_S_EXTEND_LOCKS,
	BULLMQ_S_EXTEND_LOCK,
	BULLMQ_S_GET_COUNTS,
	BULLMQ_S_REMOVE_JOB,
	BULLMQ_S_META,			/* HSET/HMSET <q>:meta ... version bullmq:x (not a script) */
	BULLMQ_S__MAX,
};

/* How the script was recognised. */
enum bullmq_by {
	BULLMQ_BY_NONE = 0,
	BULLMQ_BY_SHAPE = 1,		/* keys and ARGV markers */
	BULLMQ_BY_SHA = 2,		/* named from the SHA1 table only: script stays UNKNOWN */
};

/* Job states as getCounts names them ("waiting" is an alias of wait). */
enum bullmq_state {
	BULLMQ_ST_WAIT = 0,
	BULLMQ_ST_PAUSED,
	BULLMQ_ST_ACTIVE,
	BULLMQ_ST_DELAYED,
	BULLMQ_ST_PRIORITIZED,
	BULLMQ_ST_COMPLETED,
	BULLMQ_ST_FAILED,
	BULLMQ_ST_WAITING_CHILDREN,
	BULLMQ_ST__MAX,
	BULLMQ_ST_OTHER = 0xff,
};

/* bullmq_call.flags */
#define BULLMQ_CF_FAILED	0x1	/* moveToFinished to failed */
#define BULLMQ_CF_SKIP_ATTEMPT	0x2	/* moveToDelayed that is not a retry */
#define BULLMQ_CF_CUSTOM_ID	0x4	/* add with a caller-chosen job id */
#define BULLMQ_CF_EVAL		0x8	/* sent as EVAL (body), not EVALSHA */
#define BULLMQ_CF_DEDUP		0x10	/* add with a deduplication id (opts "de") */

/* What a pending command needs to remember; fixed size, no pointers into frames. */
struct bullmq_call {
	uint8_t script;			/* enum bullmq_script */
	uint8_t by;			/* enum bullmq_by */
	uint8_t flags;			/* BULLMQ_CF_* */
	uint8_t nstates;		/* getCounts: states asked */
	uint8_t states[BULLMQ_MAX_STATES];	/* enum bullmq_state per ARGV */
	const char *name;		/* script name (static string) or NULL */
	int64_t ts_ms;			/* app clock: finishedOn / now of the call, -1 */
	int64_t delay_ms;		/* add: opts.delay; moveToDelayed: backoff; -1 */
	int64_t created_ms;		/* add: job timestamp, -1 */
	char base[BULLMQ_BASE_MAX];	/* "<prefix>:<queue>:" */
	char job_id[BULLMQ_ID_MAX];	/* job the call is about, "" if none/unknown */
	char reason[BULLMQ_REASON_MAX];	/* failed reason; META: version */
};

/*
 * Classify a command frame (a view of an array of bulk strings, as the
 * command-mode parser produces). Always fills *call; returns true if the
 * command touches BullMQ (script != BULLMQ_S_NONE).
 */
bool bullmq_classify(const struct resp_view *cmd, struct bullmq_call *call);

/* Static name of a script kind ("moveToFinished"...). */
const char *bullmq_script_name(enum bullmq_script s);

/* Script name for a known SHA1 (40 hex chars), NULL if unknown. */
const char *bullmq_sha_name(const char *sha, size_t len);

/*
 * Does the reply have the shape this call's script returns? Used by a
 * connection that is unsure of its pairing: a misfit is evidence of a shift.
 * Error replies fit anything. Calls we derive nothing from always fit.
 */
bool bullmq_reply_fits(const struct bullmq_call *call, const struct resp_view *reply);

enum bullmq_op {
	BULLMQ_OP_ADDED = 1,
	BULLMQ_OP_STARTED,
	BULLMQ_OP_COMPLETED,
	BULLMQ_OP_FAILED,
	BULLMQ_OP_RETRIED,
	BULLMQ_OP_STALLED,
	BULLMQ_OP_COUNTS,		/* getCounts reply: counts[] */
	BULLMQ_OP_REMOVED,
	BULLMQ_OP__MAX,
};

struct bullmq_event {
	enum bullmq_op op;
	const char *queue;		/* queue name */
	const char *prefix;		/* key prefix, "bull" by default */
	const char *job_id;		/* "" when not known */
	uint64_t ts_ns;			/* capture clock of the reply that proved it */
	uint32_t attempt;		/* STARTED: attempt number (ats); COMPLETED/FAILED/RETRIED:
					 * that of the start seen; 0 unknown */
	int64_t wait_ms;		/* STARTED: added (or retry due) -> started, -1 unknown */
	int64_t duration_ms;		/* COMPLETED/FAILED/RETRIED: start -> finish, app clock, -1 */
	int64_t duration_ns;		/* same on the capture clock, -1 */
	int64_t delay_ms;		/* ADDED: opts.delay; RETRIED: backoff; -1 */
	const char *reason;		/* FAILED/RETRIED: failed reason prefix, "" */
	const int64_t *counts;		/* COUNTS: [BULLMQ_ST__MAX], -1 = not asked; else NULL */
	int64_t active;			/* gauges after the op: jobs started and not finished */
	int64_t depth;			/* waiting jobs (wait+prioritized+paused), inferred */
};

typedef void (*bullmq_cb)(void *ctx, const struct bullmq_event *ev);

struct bullmq_limits {
	uint32_t max_queues;		/* default 256 */
	uint32_t max_jobs;		/* tracked jobs (active, delayed, retrying), default 8192 */
	uint32_t max_staged;		/* operations waiting for an epoch verdict, default 1024 */
};

struct bullmq_stats {
	uint64_t ops[BULLMQ_OP__MAX];	/* emitted, by op */
	uint64_t queues_dropped;	/* ops for queues beyond max_queues */
	uint64_t jobs_untracked;	/* starts not tracked: table full */
	uint64_t jobs_evicted;		/* oldest tracked job dropped to make room */
	uint64_t staged_dropped;	/* staged ops dropped: cap reached */
	uint64_t refuted_ops;		/* staged ops dropped by a refuted epoch */
	uint64_t duplicates;		/* adds that returned an existing id */
	uint64_t finish_unseen_start;	/* finished jobs whose start was not seen */
};

struct bullmq_queue_info {
	const char *queue;
	const char *prefix;
	const char *version;		/* "bullmq:6.7.0" when the meta HSET was seen, else "" */
	int64_t active;
	int64_t depth;
	bool depth_anchored;		/* depth was set from getCounts or an empty fetch */
	int64_t counts[BULLMQ_ST__MAX];	/* last getCounts reply, -1 = never asked */
};

struct bullmq;

/* NULL limits = defaults. Returns NULL and sets errno on failure. */
struct bullmq *bullmq__new(const struct bullmq_limits *lim, bullmq_cb cb, void *ctx);
void bullmq__free(struct bullmq *b);

/*
 * One completed call: the classified command, its reply (NULL: none), the
 * capture time of the request's first byte and of the reply's last byte.
 * epoch 0 applies now; otherwise the ops are staged until confirm/refute.
 */
void bullmq__on_reply(struct bullmq *b, const struct bullmq_call *call,
		      const struct resp_view *reply, uint64_t ts_req_ns, uint64_t ts_reply_ns,
		      uint64_t epoch);
void bullmq__confirm(struct bullmq *b, uint64_t epoch);
void bullmq__refute(struct bullmq *b, uint64_t epoch);

const struct bullmq_stats *bullmq__stats(const struct bullmq *b);
/* Queues seen so far, 0..n-1; false past the end. Pointers valid until the next call. */
size_t bullmq__queue_count(const struct bullmq *b);
bool bullmq__queue_info(const struct bullmq *b, size_t idx, struct bullmq_queue_info *out);

/* Static name of an op ("added", "started"...). */
const char *bullmq_op_name(enum bullmq_op op);

#endif /* SBA_BULLMQ_H */
