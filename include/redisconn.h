/* SPDX-License-Identifier: Apache-2.0 */
/*
 * redisconn.h - one observed client connection to Redis: commands paired
 * with their replies, one record per completed command.
 *
 * Feed it every syscall chunk of the connection in order (OUT = what the
 * client wrote = commands, IN = what it read = replies). It pairs replies with
 * commands first-in-first-out, including pipelines, MULTI/EXEC (the +QUEUED
 * replies are set aside; each queued command completes with its element of
 * the EXEC array), pub/sub (pushes pop nothing; subscribe confirmations
 * complete the SUBSCRIBE), HELLO 3 and CLIENT SETNAME. Blocking commands are
 * flagged so their latency stays out of the normal histogram.
 *
 * Lost bytes: a gap, a capture cut over a header, or a mid-stream join make
 * the pairing uncertain. The connection then resynchronises on a chunk that
 * starts a frame, drops commands whose replies may have been lost, and opens
 * an "unsure epoch": records carry its id (epoch != 0) and are only to be
 * trusted after REDISCONN_EV_CONFIRM for that epoch, which is sent at the
 * next quiet point (every command answered, then the client writes again).
 * Evidence of a shift (a reply with nothing pending, a reply whose shape
 * does not fit its BullMQ script, a causally impossible reply) sends
 * REDISCONN_EV_REFUTE instead. Nothing is ever invented: a record is emitted
 * only for a command that was seen, with the reply it was paired with.
 */
#ifndef SBA_REDISCONN_H
#define SBA_REDISCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bullmq.h"
#include "resp.h"

/* Same values as enum sba_dir in sba_abi.h. */
enum redis_dir {
	REDIS_DIR_IN = 1,	/* bytes the client read: replies */
	REDIS_DIR_OUT = 2,	/* bytes the client wrote: commands */
};

#define REDISCONN_NAME_MAX	24	/* command name kept (uppercased) */
#define REDISCONN_MAX_PENDING	1024	/* commands awaiting a reply; beyond: treated as loss */
#define REDISCONN_MAX_TX	128	/* commands queued in one MULTI */
#define REDISCONN_UNSURE_MAX	4096	/* records in one unsure epoch before giving it up */

/* redisconn_rec.flags */
#define REDISCONN_R_BLOCKING	0x1	/* BLPOP, BZPOPMIN, XREAD BLOCK, WAIT... */
#define REDISCONN_R_TX		0x2	/* executed by EXEC; reply is its EXEC element */
#define REDISCONN_R_CMD_CUT	0x4	/* the command's tail was not captured */
#define REDISCONN_R_REPLY_CUT	0x8	/* the reply's tail was not captured */
#define REDISCONN_R_NO_REPLY	0x10	/* completed without a reply of its own (DISCARD, EXECABORT) */

struct redisconn_rec {
	const char *cmd;		/* "GET", "EVALSHA", ... (uppercased, bounded) */
	const char *script;		/* EVAL/EVALSHA: BullMQ script name if known, else NULL */
	const char *status;		/* "ok", or the error prefix: "ERR", "NOSCRIPT", "WRONGTYPE" */
	uint32_t flags;			/* REDISCONN_R_* */
	uint64_t epoch;			/* 0 = sure; else wait for CONFIRM/REFUTE of this epoch */
	uint64_t ts_start_ns;		/* entry of the write that carried the first byte */
	uint64_t ts_end_ns;		/* exit of the read that carried the last reply byte */
	const struct bullmq_call *call;	/* classification (script NONE for plain commands) */
	const struct resp_view *reply;	/* the reply (NULL with R_NO_REPLY); valid in the callback */
};

enum redisconn_ev_kind {
	REDISCONN_EV_CMD = 1,		/* rec is set */
	REDISCONN_EV_CONFIRM = 2,	/* records of `epoch` were paired right */
	REDISCONN_EV_REFUTE = 3,	/* records of `epoch` may be wrong: drop what came from them */
};

struct redisconn_ev {
	enum redisconn_ev_kind kind;
	uint64_t epoch;
	const struct redisconn_rec *rec;
};

typedef void (*redisconn_cb)(void *ctx, const struct redisconn_ev *ev);

struct redisconn_stats {
	uint64_t commands;		/* command frames parsed */
	uint64_t records;		/* records emitted */
	uint64_t pushes;		/* out-of-band frames (RESP3 push, pub/sub messages) */
	uint64_t unpaired_replies;	/* replies with no command to pair (dropped) */
	uint64_t absorbed_replies;	/* replies of commands lost before a resync (dropped) */
	uint64_t lost_commands;		/* pending commands dropped after a loss */
	uint64_t gaps;			/* chunks announcing lost bytes */
	uint64_t proto_errors;		/* parser errors (stream not RESP here) */
	uint64_t cuts;			/* frames closed without their tail */
	uint64_t skipped_chunks;	/* chunks dropped while looking for a frame start */
	uint64_t confirmed;		/* epochs confirmed */
	uint64_t refuted;		/* epochs refuted */
	uint64_t pending_at_close;	/* commands still unanswered at close */
};

struct redisconn;

/*
 * New connection state. joined = first seen mid-stream (start unsure and
 * look for a frame start). cb gets every record and epoch verdict.
 * Returns NULL and sets errno on failure.
 */
struct redisconn *redisconn__new(redisconn_cb cb, void *ctx, bool joined);
void redisconn__free(struct redisconn *c);

/*
 * One syscall chunk: `cap_len` captured bytes out of `bytes` moved, `gap`
 * bytes lost just before it. Timestamps: CLOCK_MONOTONIC ns at syscall entry
 * and exit. Records are emitted through the callback before it returns.
 * Returns 0, or -EINVAL for a bad direction or cap_len > bytes.
 */
int redisconn__feed(struct redisconn *c, enum redis_dir dir, const uint8_t *data, size_t cap_len,
		    uint64_t bytes, uint64_t gap, uint64_t ts_enter, uint64_t ts_exit);

/*
 * The connection closed: commands still pending are dropped (a blocking one
 * waiting is normal). A quiet close confirms an open epoch, otherwise refutes it.
 */
void redisconn__close(struct redisconn *c);

const struct redisconn_stats *redisconn__stats(const struct redisconn *c);
bool redisconn__resp3(const struct redisconn *c);	/* HELLO 3 succeeded */
const char *redisconn__client_name(const struct redisconn *c);	/* CLIENT SETNAME, "" */
size_t redisconn__pending(const struct redisconn *c);	/* commands awaiting a reply */

#endif /* SBA_REDISCONN_H */
