/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.h - a growable byte buffer for exposition and other text output.
 *
 * Appends never fail loudly: on allocation failure the buffer keeps what it
 * had, sets `oom`, and ignores further appends; the caller checks `oom` once
 * at the end. `max` (0 = none) caps the size the same way, so a renderer can
 * never grow memory without bound.
 */
#ifndef SBA_BUF_H
#define SBA_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;	/* not NUL-terminated unless buf_cstr() was called */
	size_t len;
	size_t cap;
	size_t max;	/* 0: no limit */
	bool oom;	/* an append failed (no memory, or over max) */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
/* Empties b, keeping its memory and its max; clears oom. */
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminates (not counted in len) and returns data; "" when empty. */
const char *buf_cstr(struct buf *b);

#endif /* SBA_BUF_H */
