// SPDX-License-Identifier: Apache-2.0
/* Unit tests of json.c: every byte value survives the escape, and the
 * escaped text is valid JSON string content. */
#include <stdlib.h>

#include "check.h"
#include "json.h"

static void test_printable_ascii_is_kept(void)
{
	char out[64];
	size_t n = json_escape_bytes(out, (const uint8_t *)"GET / HTTP/1.1", 14);

	CHECK_EQ_INT(n, 14);
	CHECK(memcmp(out, "GET / HTTP/1.1", 14) == 0);
}

static void test_specials_are_escaped(void)
{
	const uint8_t in[] = { '"', '\\', '\n', '\r', '\t', 0x00, 0x1f, 0x7f, 0x80, 0xff };
	char out[128];
	size_t n = json_escape_bytes(out, in, sizeof(in));

	out[n] = 0;
	CHECK_EQ_STR(out, "\\\"\\\\\\n\\r\\t\\u0000\\u001f\\u007f\\u0080\\u00ff");
}

/* Decodes our own escapes back and compares, for all 256 byte values. */
static void test_every_byte_round_trips(void)
{
	uint8_t in[256], back[256];
	char out[256 * 6];
	size_t n, j = 0, k = 0;

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = json_escape_bytes(out, in, sizeof(in));
	CHECK(n <= json_bytes_max(sizeof(in)));
	while (j < n && k < sizeof(back)) {
		if (out[j] != '\\') {
			back[k++] = (uint8_t)out[j++];
			continue;
		}
		switch (out[j + 1]) {
		case 'n': back[k++] = '\n'; j += 2; break;
		case 'r': back[k++] = '\r'; j += 2; break;
		case 't': back[k++] = '\t'; j += 2; break;
		case 'u': {
			char h[3] = { out[j + 4], out[j + 5], 0 };

			back[k++] = (uint8_t)strtol(h, NULL, 16);
			j += 6;
			break;
		}
		default: back[k++] = (uint8_t)out[j + 1]; j += 2; break;
		}
	}
	CHECK_EQ_INT(k, 256);
	CHECK(memcmp(in, back, sizeof(in)) == 0);
}

int main(void)
{
	RUN(test_printable_ascii_is_kept);
	RUN(test_specials_are_escaped);
	RUN(test_every_byte_round_trips);
	return check_summary();
}
