// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of ringbuf.c's walk, on a ring laid out in memory as the kernel
 * maps it (positions, then the data twice): records in order, discarded
 * ones skipped, a record being written stops the walk, a record that wraps
 * reads whole, the position is published per batch and at the end, and a
 * callback's error stops the walk with the position after that record.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ringbuf.h"

#define SIZE (1u << 20)		/* data bytes: the ring wraps in the tests */
#define BUSY (1u << 31)
#define DISCARD (1u << 30)

static unsigned long cons, prod;
static uint8_t *mem;		/* 2 * SIZE: the second half mirrors the first */

static struct ringbuf fake_ring(void)
{
	return (struct ringbuf){ .consumer_pos = &cons, .producer_pos = &prod, .data = mem,
				 .mask = SIZE - 1 };
}

/* Writes one record at the producer position (header, then n bytes of
 * value v), mirrored, and moves the producer on. */
static void put(uint32_t n, uint8_t v, uint32_t flags)
{
	uint32_t hdr = n | flags;
	size_t at = prod & (SIZE - 1), total = (n + 8 + 7) & ~7u;

	for (size_t i = 0; i < total; i++) {
		uint8_t b = i < 4 ? ((uint8_t *)&hdr)[i] : i < 8 ? 0 : v;
		size_t k = (at + i) & (SIZE - 1);

		mem[k] = b;
		mem[SIZE + k] = b;
	}
	prod += total;
}

struct seen {
	int n;
	uint32_t len[4096];
	uint8_t first[4096], last[4096];
	unsigned long cons_at[4096];	/* the published position when handed over */
	int fail_at;
};

static int on_rec(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	const uint8_t *d = data;

	if (s->n < 4096) {
		s->len[s->n] = (uint32_t)size;
		s->first[s->n] = size ? d[0] : 0;
		s->last[s->n] = size ? d[size - 1] : 0;
		s->cons_at[s->n] = cons;
	}
	s->n++;
	return s->fail_at && s->n == s->fail_at ? -5 : 0;
}

static void test_order_discard_busy(void)
{
	struct ringbuf rb = fake_ring();
	static struct seen s;
	unsigned long end;

	cons = prod = 0;
	memset(&s, 0, sizeof(s));
	put(10, 1, 0);
	put(3, 2, DISCARD);
	put(64, 3, 0);
	end = prod;
	put(20, 4, BUSY);	/* reserved, not committed */
	put(5, 5, 0);
	CHECK_EQ_INT(ringbuf__consume(&rb, on_rec, &s), 2);
	CHECK_EQ_INT(s.n, 2);
	CHECK(s.len[0] == 10 && s.first[0] == 1 && s.last[0] == 1);
	CHECK(s.len[1] == 64 && s.first[1] == 3 && s.last[1] == 3);
	CHECK_EQ_INT(cons, end);	/* stopped before the busy one, published */
	/* committed now: the next drain goes on from there */
	{
		size_t at = end & (SIZE - 1);
		uint32_t hdr = 20;

		memcpy(mem + at, &hdr, 4);
		memcpy(mem + SIZE + at, &hdr, 4);
	}
	CHECK_EQ_INT(ringbuf__consume(&rb, on_rec, &s), 2);
	CHECK(s.len[2] == 20 && s.first[2] == 4 && s.len[3] == 5 && s.last[3] == 5);
	CHECK_EQ_INT(cons, prod);
	CHECK_EQ_INT(ringbuf__consume(&rb, on_rec, &s), 0);	/* nothing new */
}

static void test_wrap_and_batches(void)
{
	struct ringbuf rb = fake_ring();
	static struct seen s;
	int n = 0;

	/* start near the end, so records cross it */
	cons = prod = SIZE - 40;
	memset(&s, 0, sizeof(s));
	put(100, 7, 0);		/* wraps: read through the mirror */
	while (prod - cons < 3 * RINGBUF_PUBLISH_BYTES / 2)
		put(1000, (uint8_t)(n++ & 0x7f), 0);
	CHECK_EQ_INT(ringbuf__consume(&rb, on_rec, &s), n + 1);
	CHECK(s.len[0] == 100 && s.first[0] == 7 && s.last[0] == 7);
	CHECK_EQ_INT(s.last[n], (n - 1) & 0x7f);
	CHECK_EQ_INT(cons, prod);
	/* the position moved once a batch had been read, not before */
	CHECK_EQ_INT(s.cons_at[1], SIZE - 40);
	CHECK(s.cons_at[n] > SIZE - 40 && s.cons_at[n] < prod);
	CHECK(s.cons_at[n] - (SIZE - 40) >= RINGBUF_PUBLISH_BYTES);
}

static void test_error_stops(void)
{
	struct ringbuf rb = fake_ring();
	static struct seen s;
	unsigned long after2;

	cons = prod = 0;
	memset(&s, 0, sizeof(s));
	s.fail_at = 2;
	put(8, 1, 0);
	put(8, 2, 0);
	after2 = prod;
	put(8, 3, 0);
	CHECK_EQ_INT(ringbuf__consume(&rb, on_rec, &s), -5);
	CHECK_EQ_INT(s.n, 2);
	CHECK_EQ_INT(cons, after2);
}

/* A small ring (--ringbuf-size 64 KiB, the least allowed) half full, and the
 * probes writing as fast as the drain reads: they reserve against the
 * published position, as the kernel does (new_prod - cons > mask: full). The
 * reader must hand space back often enough that they never find it full. */
#define SMALL (64u << 10)
static unsigned long small_drops;

static void put_small(uint32_t n)
{
	size_t total = (n + 8 + 7) & ~7u;

	if (prod + total - __atomic_load_n(&cons, __ATOMIC_RELAXED) > SMALL - 1) {
		small_drops++;
		return;
	}
	for (size_t i = 0; i < total; i++) {
		size_t k = (prod + i) & (SMALL - 1);
		uint8_t b = i < 4 ? ((uint8_t *)&n)[i] : 0;

		mem[k] = b;
		mem[SMALL + k] = b;
	}
	prod += total;
}

static int produce_one(void *ctx, void *data, size_t size)
{
	int *left = ctx;

	(void)data;
	if ((*left)-- > 0)
		put_small((uint32_t)size);
	return 0;
}

static void test_small_ring_keeps_pace(void)
{
	struct ringbuf rb = { .consumer_pos = &cons, .producer_pos = &prod, .data = mem,
			      .mask = SMALL - 1 };
	int left = 1000;

	cons = prod = 0;
	small_drops = 0;
	while (prod < SMALL / 2)
		put_small(1000);
	CHECK(ringbuf__consume(&rb, produce_one, &left) > 1000);
	CHECK_EQ_INT(small_drops, 0);
	CHECK_EQ_INT(cons, prod);
}

int main(void)
{
	mem = calloc(2, SIZE);
	if (!mem)
		return 1;
	RUN(test_order_discard_busy);
	RUN(test_wrap_and_batches);
	RUN(test_error_stops);
	RUN(test_small_ring_keeps_pace);
	free(mem);
	return check_summary();
}
