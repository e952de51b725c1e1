// SPDX-License-Identifier: Apache-2.0
/*
 * json.c - JSON string escaping of arbitrary bytes (see json.h for the
 * byte <-> code point convention).
 */
#include "json.h"

size_t json_escape_bytes(char *out, const uint8_t *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o = out;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];

		switch (b) {
		case '"': *o++ = '\\'; *o++ = '"'; continue;
		case '\\': *o++ = '\\'; *o++ = '\\'; continue;
		case '\n': *o++ = '\\'; *o++ = 'n'; continue;
		case '\r': *o++ = '\\'; *o++ = 'r'; continue;
		case '\t': *o++ = '\\'; *o++ = 't'; continue;
		default: break;
		}
		if (b >= 0x20 && b < 0x7f) {
			*o++ = (char)b;
		} else {
			*o++ = '\\';
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[b >> 4];
			*o++ = hex[b & 0xf];
		}
	}
	return (size_t)(o - out);
}

void json_write_bytes(FILE *f, const uint8_t *in, size_t n)
{
	char buf[6 * 1024];

	while (n) {
		size_t piece = n < 1024 ? n : 1024;

		fwrite(buf, 1, json_escape_bytes(buf, in, piece), f);
		in += piece;
		n -= piece;
	}
}
