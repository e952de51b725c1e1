/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recorder.h - the sink the BPF tests hand to events.c: every connection
 * and data record the pipeline would get, in order, with the captured
 * bytes kept side by side. Static: one copy per test program.
 */
#ifndef SBA_TEST_RECORDER_H
#define SBA_TEST_RECORDER_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#include "sba_abi.h"

#define MAX_EVS 8192
#define MAX_CAPTURE (4 << 20)

struct rec {
	uint8_t kind, flags, role, dir, sys;
	int fd;
	uint64_t conn_id, bytes, gap, ts;
	uint32_t cap_len;
	uint32_t data_off;	/* into captured[] */
	uint32_t tgid;
	uint16_t lport, rport;
};

static struct rec recs[MAX_EVS];
static int n_recs;
static uint8_t captured[MAX_CAPTURE];
static size_t captured_len;

static void on_conn(void *ctx, const struct sba_conn_ev *ev)
{
	(void)ctx;
	if (n_recs == MAX_EVS)
		return;
	recs[n_recs++] = (struct rec){ .kind = ev->hdr.kind, .flags = ev->hdr.flags,
				       .role = ev->role, .fd = ev->fd, .conn_id = ev->conn_id,
				       .tgid = ev->hdr.tgid, .lport = ev->lport,
				       .rport = ev->rport, .ts = ev->hdr.ts_ns };
}

static void on_data(void *ctx, const struct sba_data_ev *ev, const uint8_t *data)
{
	(void)ctx;
	if (n_recs == MAX_EVS || captured_len + ev->cap_len > MAX_CAPTURE)
		return;
	recs[n_recs++] = (struct rec){ .kind = SBA_EV_DATA, .flags = ev->hdr.flags,
				       .dir = ev->dir, .sys = ev->sys, .fd = ev->fd,
				       .conn_id = ev->conn_id, .bytes = ev->bytes,
				       .gap = ev->gap_bytes, .cap_len = ev->cap_len,
				       .data_off = (uint32_t)captured_len, .tgid = ev->hdr.tgid,
				       .ts = ev->hdr.ts_ns };
	memcpy(captured + captured_len, data, ev->cap_len);
	captured_len += ev->cap_len;
}

/* Forgets everything recorded. */
static void recorder_reset(void)
{
	n_recs = 0;
	captured_len = 0;
}

/* Now on the records' clock (CLOCK_MONOTONIC, as bpf_ktime_get_ns). */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Data records of conn in dir, in order. */
static int data_of(uint64_t conn, uint8_t dir, struct rec **out, int max)
{
	int n = 0;

	for (int i = 0; i < n_recs && n < max; i++)
		if (recs[i].kind == SBA_EV_DATA && recs[i].conn_id == conn && recs[i].dir == dir)
			out[n++] = &recs[i];
	return n;
}

#endif /* SBA_TEST_RECORDER_H */
