// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_bullmq.c - libFuzzer harness for the whole Redis/BullMQ path:
 * redisconn (pairing, transactions, pub/sub, gaps, cuts, epochs) feeding
 * bullmq (classification, staging, job table, queues). Input = a sequence
 * of chunks, each: flags byte (bit0 IN, bit1 gap, bit2 partially captured),
 * 2-byte length, bytes. Small limits make the caps and evictions reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bullmq.h"
#include "redisconn.h"

static void on_bullmq(void *ctx, const struct bullmq_event *ev)
{
	(void)ctx;
	if (!ev->queue || !ev->job_id || !ev->prefix || strlen(ev->job_id) >= BULLMQ_ID_MAX)
		abort();
}

static void on_conn(void *ctx, const struct redisconn_ev *ev)
{
	struct bullmq *b = ctx;

	if (ev->kind == REDISCONN_EV_CMD) {
		if (!ev->rec->cmd || !ev->rec->status || !ev->rec->call)
			abort();
		bullmq__on_reply(b, ev->rec->call, ev->rec->reply, ev->rec->ts_start_ns,
				 ev->rec->ts_end_ns, ev->epoch);
	} else if (ev->kind == REDISCONN_EV_CONFIRM) {
		bullmq__confirm(b, ev->epoch);
	} else {
		bullmq__refute(b, ev->epoch);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bullmq_limits lim = { .max_queues = 4, .max_jobs = 8, .max_staged = 16 };
	struct bullmq *b = bullmq__new(&lim, on_bullmq, NULL);
	struct redisconn *c;
	struct bullmq_queue_info qi;
	uint64_t ts = 1000;
	size_t off = 0;

	if (!b)
		return 0;
	c = redisconn__new(on_conn, b, size && (data[0] & 0x80));
	while (off + 3 <= size && c) {
		uint8_t fl = data[off];
		size_t len = (size_t)(data[off + 1] | data[off + 2] << 8) % 8192;
		uint64_t bytes, gap = 0;
		size_t cap;

		off += 3;
		if (len > size - off)
			len = size - off;
		cap = len;
		bytes = len;
		if (fl & 2)
			gap = 1 + (fl >> 3);
		if (fl & 4) {
			cap = len / 2;
			bytes = len + (fl >> 3) * 97;
		}
		redisconn__feed(c, (fl & 1) ? REDIS_DIR_IN : REDIS_DIR_OUT, data + off, cap, bytes,
				gap, ts, ts + 3);
		off += len;
		ts += 10;
	}
	if (c) {
		redisconn__close(c);
		redisconn__free(c);
	}
	for (size_t i = 0; bullmq__queue_info(b, i, &qi); i++)
		if (qi.active < 0 || qi.depth < 0)
			abort();
	bullmq__free(b);
	return 0;
}
