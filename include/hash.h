/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash.h - the 64-bit finalizer of MurmurHash3 (fmix64): spreads every input
 * bit over the output, for open-addressing tables keyed by integers.
 */
#ifndef SBA_HASH_H
#define SBA_HASH_H

#include <stdint.h>

static inline uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

#endif /* SBA_HASH_H */
