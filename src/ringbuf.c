// SPDX-License-Identifier: Apache-2.0
/*
 * ringbuf.c - reading the BPF ring buffer, the position published per batch
 * (see ringbuf.h). The walk is libbpf's ringbuf_process_ring(), but for
 * when the consumer position is stored.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ringbuf.h"

/* uapi/linux/bpf.h: the record header */
#define BUSY_BIT	(1u << 31)	/* reserved, not committed yet */
#define DISCARD_BIT	(1u << 30)	/* committed as discarded: skip */
#define HDR_SZ		8

int ringbuf__open(struct ringbuf *rb, int map_fd, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	*rb = (struct ringbuf){ 0 };
	if (page <= 0 || size == 0 || (size & (size - 1)))
		return -EINVAL;
	rb->page = (size_t)page;
	p = mmap(NULL, rb->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	rb->map_cons = p;
	rb->consumer_pos = p;
	/* the producer page, then the data twice: read-only for us */
	rb->len_prod = rb->page + 2 * size;
	p = mmap(NULL, rb->len_prod, PROT_READ, MAP_SHARED, map_fd, (off_t)rb->page);
	if (p == MAP_FAILED) {
		int err = -errno;

		ringbuf__close(rb);
		return err;
	}
	rb->map_prod = p;
	rb->producer_pos = p;
	rb->data = (uint8_t *)p + rb->page;
	rb->mask = size - 1;
	return 0;
}

void ringbuf__close(struct ringbuf *rb)
{
	if (rb->map_cons)
		munmap(rb->map_cons, rb->page);
	if (rb->map_prod)
		munmap(rb->map_prod, rb->len_prod);
	*rb = (struct ringbuf){ 0 };
}

int64_t ringbuf__consume(struct ringbuf *rb, ringbuf_fn fn, void *ctx)
{
	unsigned long cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE), prod;
	unsigned long published = cons;
	/* a batch is at most an eighth of the ring: a small ring (64 KiB is
	 * allowed) must not stay full for the probes for a whole drain */
	const size_t batch = (rb->mask + 1) / 8 < RINGBUF_PUBLISH_BYTES ? (rb->mask + 1) / 8
									: RINGBUF_PUBLISH_BYTES;
	int64_t n = 0;
	int err;
	bool more;

	do {
		more = false;
		prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			uint32_t *hdr = (uint32_t *)(rb->data + (cons & rb->mask));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

			if (len & BUSY_BIT)
				goto out;	/* still being written: the next drain */
			more = true;
			cons += ((len & ~DISCARD_BIT) + HDR_SZ + 7) & ~7ul;
			if (!(len & DISCARD_BIT)) {
				err = fn(ctx, (uint8_t *)hdr + HDR_SZ, len & ~DISCARD_BIT);
				n++;
				if (err < 0) {
					__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
					return err;
				}
			}
			/* the space back to the probes, a batch at a time */
			if (cons - published >= batch) {
				__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
				published = cons;
			}
		}
	} while (more);
out:
	if (cons != published)
		__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
	return n;
}
