// SPDX-License-Identifier: Apache-2.0
/*
 * fuzz_resp.c - libFuzzer harness for the RESP parser. The first input byte
 * picks the mode (commands/replies) and seeds the chunking; the rest is fed
 * in pseudo-random pieces, sometimes declared uncaptured (skip) or cut, as
 * the observer does with real syscalls. Checks the frame summary invariants
 * and walks every view, so an out-of-bounds item or arena offset trips ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

static struct resp_parser P;

static void check_frame(const struct resp_frame *f)
{
	struct resp_view top, c;
	uint32_t used = 0;

	if (f->nitems > RESP_MAX_ITEMS || f->arena_used > RESP_ARENA)
		abort();
	for (uint32_t i = 0; i < f->nitems; i++) {
		const struct resp_item *it = &f->items[i];
		size_t n;
		const uint8_t *d = resp_item_data(f, it, &n);
		volatile uint8_t sink = 0;

		if ((uint64_t)it->off + it->kept > f->arena_used || it->depth > RESP_MAX_DEPTH)
			abort();
		for (size_t k = 0; k < n; k++)
			sink ^= d[k];
		(void)sink;
		used += it->kept;
	}
	if (used > f->arena_used)
		abort();
	if (resp_view_top(f, &top))
		for (uint32_t i = 0; i < 8 && resp_view_child(&top, i, &c); i++) {
			struct resp_view cc;
			int64_t v;
			char buf[16];

			resp_item_int(f, resp_view_item(&c), &v);
			resp_item_copy(f, resp_view_item(&c), buf, sizeof(buf));
			resp_view_child(&c, 0, &cc);
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t rng;
	size_t off = 1;

	if (size < 1)
		return 0;
	rng = data[0] * 2654435761u + 1;
	resp_parser__init(&P, (data[0] & 1) ? RESP_MODE_COMMANDS : RESP_MODE_REPLIES,
			  (data[0] >> 1) & 1 ? 8 : 0);
	while (off < size) {
		size_t piece, used = 0;
		enum resp_status r;

		rng = rng * 1103515245u + 12345u;
		piece = 1 + (rng >> 16) % 64;
		if (piece > size - off)
			piece = size - off;
		if ((rng >> 8) % 23 == 0) {
			/* These bytes "moved but were not captured". */
			uint64_t u = 0;

			r = resp_parser__skip(&P, piece, &u);
			if (r == RESP_FRAME)
				check_frame(&P.frame);
			if (r == RESP_ERR_LOST && resp_parser__cut(&P))
				check_frame(&P.frame);
			if (r < 0)
				resp_parser__reset(&P);
			off += piece;
			continue;
		}
		while (piece) {
			r = resp_parser__feed(&P, data + off, piece, &used);
			if (used > piece)
				abort();
			off += used;
			piece -= used;
			if (r == RESP_FRAME) {
				check_frame(&P.frame);
				continue;
			}
			if (r < 0) {
				resp_parser__reset(&P);
				if (used == 0) {	/* the failing byte itself */
					off++;
					piece--;
				}
			}
			if (r == RESP_NEED_MORE && piece)
				abort();	/* NEED_MORE must consume everything */
		}
	}
	if (resp_parser__cut(&P))
		check_frame(&P.frame);
	return 0;
}
