/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ringbuf.h - the reader's side of the BPF ring buffer (BPF_MAP_TYPE_RINGBUF),
 * publishing how far it has read once per batch of records.
 *
 * libbpf's ring_buffer__consume() stores the consumer position after every
 * record. The probes read that position at every reservation, on the CPU of
 * the traced thread, so under load its cache line moves between the two
 * CPUs once per record, and the reader pays a cache miss for each store.
 * Here the position is published every RINGBUF_PUBLISH_BYTES of records (an
 * eighth of the ring if that is less) and at the end of a drain: the space
 * is handed back a little later (at most 256 KiB of an 8 MiB ring, 8 KiB of
 * a 64 KiB one), the probes see the same records.
 *
 * The layout is the kernel's (uapi: BPF_RINGBUF_*): a page with the consumer
 * position (read-write), a page with the producer position, then the data
 * pages mapped twice in a row, so a record that wraps is contiguous. Each
 * record is an 8-byte header (length, busy and discard bits) and its data,
 * rounded up to 8 bytes.
 */
#ifndef SBA_RINGBUF_H
#define SBA_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

#define RINGBUF_PUBLISH_BYTES (256u << 10)

/* Called for each record: its data and length. Return 0 to go on; anything
 * else stops the drain after this record (its position is published). */
typedef int (*ringbuf_fn)(void *ctx, void *data, size_t size);

struct ringbuf {
	unsigned long *consumer_pos;	/* shared with the kernel */
	const unsigned long *producer_pos;
	uint8_t *data;			/* 2 * (mask + 1) bytes, the second half a mirror */
	size_t mask;			/* data size - 1, a power of two */
	/* what ringbuf__open() mapped, for ringbuf__close() */
	void *map_cons, *map_prod;
	size_t page, len_prod;
};

/* Maps the ring of map_fd (size: its max_entries). Returns 0 or -errno. */
int ringbuf__open(struct ringbuf *rb, int map_fd, size_t size);
void ringbuf__close(struct ringbuf *rb);

/*
 * Hands every committed record to fn, in order, until a record still being
 * written (busy) or the producer position; publishes the position every
 * RINGBUF_PUBLISH_BYTES and at the end. Returns the number of records
 * handed over (discarded ones are skipped), or a negative fn result.
 */
int64_t ringbuf__consume(struct ringbuf *rb, ringbuf_fn fn, void *ctx);

#endif /* SBA_RINGBUF_H */
