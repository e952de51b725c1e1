/* SPDX-License-Identifier: Apache-2.0 */
/*
 * seqcount.h - one writer, any number of readers that never block it.
 *
 * The writer makes the count odd, stores the data, makes it even again.
 * A reader loads the count, copies the data, loads the count again, and
 * retries if it was odd or changed. The writer never waits.
 *
 * Tricky: the data itself is read while it may be written, so every word of
 * it goes through an atomic access, or it would be a data race (and TSan
 * would say so). Writer data stores are release stores, so that the odd
 * count is visible before any of them; reader data loads are acquire loads,
 * so the second count load cannot move before them (Boehm, "Can seqlocks get
 * along with programming language memory models?", 2012). Both are plain
 * moves on x86-64; no fence is needed (and gcc's TSan does not model fences).
 *
 * Only the writer may call seq_write_*() and st64()/st32(); it may read its
 * own data with plain loads.
 */
#ifndef SBA_SEQCOUNT_H
#define SBA_SEQCOUNT_H

#include <stdbool.h>
#include <stdint.h>

static inline void st64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void st32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint64_t ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint32_t ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Writer: enter (count becomes odd). */
static inline void seq_write_begin(uint64_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELAXED);
}

/* Writer: leave (count becomes even); publishes every store before it. */
static inline void seq_write_end(uint64_t *seq)
{
	__atomic_store_n(seq, *seq + 1, __ATOMIC_RELEASE);
}

/* Reader: the count to pass to seq_read_retry(); odd means "retry now". */
static inline uint64_t seq_read_begin(const uint64_t *seq)
{
	return __atomic_load_n(seq, __ATOMIC_ACQUIRE);
}

/* Reader: true if the copy made since seq_read_begin() may be torn. */
static inline bool seq_read_retry(const uint64_t *seq, uint64_t begin)
{
	return (begin & 1) || __atomic_load_n(seq, __ATOMIC_RELAXED) != begin;
}

/* Reader: copies n words with acquire loads. */
static inline void ld64_copy(uint64_t *dst, const uint64_t *src, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		dst[i] = ld64(&src[i]);
}

#endif /* SBA_SEQCOUNT_H */
