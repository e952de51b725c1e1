/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h - writing JSON string values for --trace and /debug endpoints.
 */
#ifndef SBA_JSON_H
#define SBA_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Writes n bytes as the body of a JSON string (no quotes) in which every byte
 * is one code point U+0000..U+00FF: printable ASCII as itself, '"' and '\\'
 * and control bytes as JSON escapes, bytes >= 0x7f as \u00XX. A reader maps
 * code points back to bytes (latin1). Returns the number of characters
 * written into out, which must hold json_bytes_max(n) characters.
 */
size_t json_escape_bytes(char *out, const uint8_t *in, size_t n);

static inline size_t json_bytes_max(size_t n)
{
	return n * 6;
}

/* json_escape_bytes() straight to a stream, in bounded pieces. */
void json_write_bytes(FILE *f, const uint8_t *in, size_t n);

#endif /* SBA_JSON_H */
