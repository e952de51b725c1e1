// SPDX-License-Identifier: Apache-2.0
/* Unit tests of buf.c: growth, printf, the size cap and the oom contract. */
#include "buf.h"
#include "check.h"

static void test_grows_and_keeps_bytes(void)
{
	struct buf b;
	char big[5000];

	memset(big, 'x', sizeof(big));
	buf_init(&b, 0);
	buf_puts(&b, "abc");
	buf_append(&b, big, sizeof(big));
	buf_printf(&b, "%d-%s", 42, "z");
	CHECK_EQ_INT(b.len, 3 + 5000 + 4);
	CHECK(!b.oom);
	CHECK(memcmp(b.data, "abc", 3) == 0);
	CHECK_EQ_STR(buf_cstr(&b) + 5003, "42-z");
	buf_free(&b);
	CHECK_EQ_STR(buf_cstr(&b), "");
}

static void test_max_caps_and_sets_oom(void)
{
	struct buf b;

	buf_init(&b, 10);
	buf_puts(&b, "12345678");
	buf_puts(&b, "abc"); /* would make 11 */
	CHECK(b.oom);
	CHECK_EQ_INT(b.len, 8);
	buf_puts(&b, "a"); /* ignored once oom */
	CHECK_EQ_INT(b.len, 8);
	buf_reset(&b);
	CHECK(!b.oom && b.len == 0);
	buf_printf(&b, "%s", "0123456789");
	CHECK_EQ_INT(b.len, 10);
	buf_printf(&b, "x");
	CHECK(b.oom);
	buf_free(&b);
}

int main(void)
{
	RUN(test_grows_and_keeps_bytes);
	RUN(test_max_caps_and_sets_oom);
	return check_summary();
}
