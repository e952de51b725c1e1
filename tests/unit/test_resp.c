// SPDX-License-Identifier: Apache-2.0
/*
 * test_resp.c - the RESP2/RESP3 parser: every type, every split point, many
 * frames per chunk, hostile lengths, skipped (uncaptured) bytes, views.
 * A frame is rendered as a compact string so each case asserts exact items:
 * pre-order, one '.' per depth level, e.g. "*2 .$GET .$k".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "resp.h"

static struct resp_parser P;

/* Render p->frame: items in pre-order. */
static const char *render(const struct resp_frame *f)
{
	static char out[4096];
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < f->nitems && o < sizeof(out) - 300; i++) {
		const struct resp_item *it = &f->items[i];
		size_t n;
		const uint8_t *d = resp_item_data(f, it, &n);

		if (i)
			out[o++] = ' ';
		for (int k = 0; k < it->depth; k++)
			out[o++] = '.';
		if (it->flags & RESP_IF_NULL) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%cnull", it->type);
			continue;
		}
		switch (it->type) {
		case ':':
			o += (size_t)snprintf(out + o, sizeof(out) - o, ":%lld", (long long)it->ival);
			break;
		case '#':
			o += (size_t)snprintf(out + o, sizeof(out) - o, "#%lld", (long long)it->ival);
			break;
		case '*':
		case '%':
		case '~':
		case '>':
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%c%lld", it->type,
					      (long long)it->len);
			break;
		default:
			o += (size_t)snprintf(out + o, sizeof(out) - o, "%c%.*s", it->type, (int)n,
					      (const char *)d);
			if ((int64_t)n != it->len)
				o += (size_t)snprintf(out + o, sizeof(out) - o, "/%lld",
						      (long long)it->len);
		}
	}
	if (f->flags & RESP_FF_PUSH)
		o += (size_t)snprintf(out + o, sizeof(out) - o, " [push]");
	return out;
}

struct frame_case {
	const char *in;
	const char *want;
};

static const struct frame_case reply_cases[] = {
	{ "+OK\r\n", "+OK" },
	{ "-ERR unknown command\r\n", "-ERR unknown command" },
	{ ":42\r\n", ":42" },
	{ ":-9223372036854775808\r\n", ":-9223372036854775808" },
	{ "$3\r\nfoo\r\n", "$foo" },
	{ "$0\r\n\r\n", "$" },
	{ "$-1\r\n", "$null" },
	{ "*-1\r\n", "*null" },
	{ "*0\r\n", "*0" },
	{ "_\r\n", "_null" },
	{ ",3.14\r\n", ",3.14" },
	{ ",1795318977856\r\n", ",1795318977856" },
	{ "#t\r\n", "#1" },
	{ "#f\r\n", "#0" },
	{ "(3492890328409238509324850943850943825024385\r\n",
	  "(3492890328409238509324850943850943825024385" },
	{ "!21\r\nSYNTAX invalid syntax\r\n", "!SYNTAX invalid syntax" },
	{ "=15\r\ntxt:Some string\r\n", "=txt:Some string" },
	{ "*3\r\n$3\r\nSET\r\n:1\r\n$-1\r\n", "*3 .$SET .:1 .$null" },
	{ "%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", "%4 .+first .:1 .+second .:2" },
	{ "~2\r\n+a\r\n+b\r\n", "~2 .+a .+b" },
	{ ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", ">3 .$message .$ch .$hi [push]" },
	{ "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:7\r\n", ":7" },
	{ "*2\r\n|1\r\n+ttl\r\n:3600\r\n:1\r\n:2\r\n", "*2 .:1 .:2" },
	{ "$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;0\r\n", "$Hello wor" },
	{ "*?\r\n:1\r\n*1\r\n:2\r\n.\r\n", "*2 .:1 .*1 ..:2" },
	{ "%?\r\n+a\r\n:1\r\n.\r\n", "%2 .+a .:1" },
	{ "*2\r\n*2\r\n:1\r\n*0\r\n%0\r\n", "*2 .*2 ..:1 ..*0 .%0" },
	/* RESP3 BZPOPMIN and moveToActive "nothing" replies, as bullmq sees them. */
	{ "*3\r\n$19\r\nbull:reports:marker\r\n$1\r\n0\r\n,0\r\n",
	  "*3 .$bull:reports:marker .$0 .,0" },
	{ "*4\r\n:0\r\n:0\r\n:0\r\n:0\r\n", "*4 .:0 .:0 .:0 .:0" },
};

static const struct frame_case cmd_cases[] = {
	{ "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "*2 .$GET .$k" },
	{ "*1\r\n$0\r\n\r\n", "*1 .$" },
	{ "*0\r\n", "*0" },
	{ "PING\r\n", "*1 .$PING" },
	{ "set  a\tb\n", "*3 .$set .$a .$b" },
};

static int feed_all(struct resp_parser *p, const uint8_t *d, size_t n, char frames[][512],
		    int max)
{
	int nf = 0;

	while (n) {
		size_t used = 0;
		enum resp_status r = resp_parser__feed(p, d, n, &used);

		d += used;
		n -= used;
		if (r == RESP_FRAME) {
			if (nf < max)
				snprintf(frames[nf], 512, "%s", render(&p->frame));
			nf++;
			continue;
		}
		if (r != RESP_NEED_MORE)
			return -1000 + r;
	}
	return nf;
}

static void run_cases(const struct frame_case *c, size_t nc, enum resp_mode mode)
{
	static char frames[4][512];

	for (size_t i = 0; i < nc; i++) {
		size_t n = strlen(c[i].in);

		/* Whole, then split at every byte (two pieces), then byte by byte. */
		resp_parser__init(&P, mode, 0);
		CHECK_EQ_INT(feed_all(&P, (const uint8_t *)c[i].in, n, frames, 4), 1);
		CHECK_EQ_STR(frames[0], c[i].want);
		CHECK_EQ_INT(P.frame.nbytes, n);
		for (size_t cut = 1; cut < n; cut++) {
			int a, b;

			resp_parser__init(&P, mode, 0);
			a = feed_all(&P, (const uint8_t *)c[i].in, cut, frames, 4);
			CHECK_MSG(a == 0, "case %zu cut %zu: %d frames early", i, cut, a);
			b = feed_all(&P, (const uint8_t *)c[i].in + cut, n - cut, frames, 4);
			CHECK_MSG(b == 1 && strcmp(frames[0], c[i].want) == 0,
				  "case %zu cut %zu: got %d '%s'", i, cut, b, frames[0]);
		}
		resp_parser__init(&P, mode, 0);
		int total = 0;

		for (size_t k = 0; k < n; k++)
			total += feed_all(&P, (const uint8_t *)c[i].in + k, 1, frames, 4);
		CHECK_MSG(total == 1 && strcmp(frames[0], c[i].want) == 0, "case %zu bytewise", i);
	}
}

static void test_reply_types(void)
{
	run_cases(reply_cases, sizeof(reply_cases) / sizeof(reply_cases[0]), RESP_MODE_REPLIES);
}

static void test_command_forms(void)
{
	run_cases(cmd_cases, sizeof(cmd_cases) / sizeof(cmd_cases[0]), RESP_MODE_COMMANDS);
}

/* Dozens of frames in one chunk come out one by one, in order. */
static void test_many_frames_one_chunk(void)
{
	static char frames[64][512];
	char buf[4096] = "";
	size_t nc = sizeof(reply_cases) / sizeof(reply_cases[0]);
	int n;

	for (size_t i = 0; i < nc; i++)
		strcat(buf, reply_cases[i].in);
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	n = feed_all(&P, (const uint8_t *)buf, strlen(buf), frames, 64);
	CHECK_EQ_INT(n, (int)nc);
	for (size_t i = 0; i < nc && (int)i < n; i++)
		CHECK_EQ_STR(frames[i], reply_cases[i].want);
	/* Blank inline lines between commands are ignored like redis does. */
	resp_parser__init(&P, RESP_MODE_COMMANDS, 0);
	{
		const char *in = "\r\nPING\r\n\n*1\r\n$4\r\nPING\r\n";

		n = feed_all(&P, (const uint8_t *)in, strlen(in), frames, 64);
	}
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(frames[0], "*1 .$PING");
	CHECK_EQ_STR(frames[1], "*1 .$PING");
}

struct err_case {
	enum resp_mode mode;
	const char *in;
	enum resp_status want;
};

static void test_hostile_input(void)
{
	static const struct err_case cases[] = {
		{ RESP_MODE_REPLIES, "*999999999\r\n", RESP_ERR_LIMIT },
		{ RESP_MODE_COMMANDS, "*999999999\r\n", RESP_ERR_LIMIT },
		{ RESP_MODE_REPLIES, "$-5\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "*-2\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "$600000000\r\n", RESP_ERR_LIMIT },
		{ RESP_MODE_REPLIES, "$99999999999999999999\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, ":12a\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, ":\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "?\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "+OK\rX", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "$3\r\nfooX\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "_x\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "#x\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, ".\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "*1\r\n.\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, ";3\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_REPLIES, "$?\r\n+x\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_COMMANDS, "*2\r\n:1\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_COMMANDS, "*1\r\n*1\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_COMMANDS, "*1\r\n$-1\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_COMMANDS, "*?\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_COMMANDS, "\x01\x02\r\n", RESP_ERR_PROTO },
		{ RESP_MODE_COMMANDS, "$3\r\nfoo\r\n", RESP_ERR_PROTO },
	};
	size_t used;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum resp_status r;

		resp_parser__init(&P, cases[i].mode, 0);
		r = resp_parser__feed(&P, (const uint8_t *)cases[i].in, strlen(cases[i].in), &used);
		CHECK_MSG(r == cases[i].want, "case %zu '%s': %d", i, cases[i].in, r);
		CHECK_EQ_INT(P.errors, 1);
		/* Sticky until reset; reset recovers. */
		r = resp_parser__feed(&P, (const uint8_t *)"+OK\r\n", 5, &used);
		CHECK(r < 0);
		resp_parser__reset(&P);
		resp_parser__init(&P, RESP_MODE_REPLIES, 0);
		r = resp_parser__feed(&P, (const uint8_t *)"+OK\r\n", 5, &used);
		CHECK_EQ_INT(r, RESP_FRAME);
	}
}

static void test_nesting_and_line_limits(void)
{
	static uint8_t buf[RESP_MAX_LINE + 64];
	size_t used, n = 0;
	enum resp_status r;

	/* 40 nested arrays: beyond RESP_MAX_DEPTH. */
	for (int i = 0; i < 40; i++) {
		memcpy(buf + n, "*1\r\n", 4);
		n += 4;
	}
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	r = resp_parser__feed(&P, buf, n, &used);
	CHECK_EQ_INT(r, RESP_ERR_LIMIT);
	CHECK_EQ_INT(used, 4 * (RESP_MAX_DEPTH + 1));

	/* Exactly RESP_MAX_DEPTH levels is fine. */
	n = 0;
	for (int i = 0; i < RESP_MAX_DEPTH; i++) {
		memcpy(buf + n, "*1\r\n", 4);
		n += 4;
	}
	memcpy(buf + n, ":1\r\n", 4);
	n += 4;
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, buf, n, &used), RESP_FRAME);

	/* A simple string line longer than RESP_MAX_LINE. */
	buf[0] = '+';
	memset(buf + 1, 'a', sizeof(buf) - 1);
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, buf, sizeof(buf), &used), RESP_ERR_LIMIT);
	/* Same for an inline command with no newline. */
	memset(buf, 'a', sizeof(buf));
	resp_parser__init(&P, RESP_MODE_COMMANDS, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, buf, sizeof(buf), &used), RESP_ERR_LIMIT);
}

/* Only RESP_MAX_ITEMS items and RESP_ARENA bytes are kept; parsing goes on. */
static void test_capture_bounds(void)
{
	static uint8_t buf[64 * 1024];
	size_t n = 0, used;
	char *s = (char *)buf;

	n += (size_t)sprintf(s + n, "*200\r\n");
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(s + n, ":%d\r\n", i);
	n += (size_t)sprintf(s + n, "+after\r\n");
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, buf, n, &used), RESP_FRAME);
	CHECK_EQ_INT(P.frame.nitems, RESP_MAX_ITEMS);
	CHECK(P.frame.flags & RESP_FF_ITEMS);
	CHECK_EQ_INT(P.frame.items[0].len, 200);
	CHECK_EQ_INT(P.frame.items[RESP_MAX_ITEMS - 1].ival, RESP_MAX_ITEMS - 2);
	CHECK_EQ_INT(resp_parser__feed(&P, buf + used, n - used, &used), RESP_FRAME);
	CHECK_EQ_STR(render(&P.frame), "+after");

	/* 50 strings of 300 bytes: each keeps str_cap, the arena caps the total. */
	n = (size_t)sprintf(s, "*50\r\n");
	for (int i = 0; i < 50; i++) {
		n += (size_t)sprintf(s + n, "$300\r\n");
		memset(s + n, 'a' + i % 26, 300);
		n += 300;
		n += (size_t)sprintf(s + n, "\r\n");
	}
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, buf, n, &used), RESP_FRAME);
	CHECK_EQ_INT(used, n);
	CHECK_EQ_INT(P.frame.arena_used, RESP_ARENA);
	CHECK_EQ_INT(P.frame.items[1].kept, RESP_STR_CAP);
	CHECK_EQ_INT(P.frame.items[1].len, 300);
	CHECK(P.frame.items[1].flags & RESP_IF_PART);
	CHECK_EQ_INT(P.frame.items[50].kept, 0);
}

/* Bytes that moved but were not captured: inside a body fine, over a header lost. */
static void test_skip_uncaptured(void)
{
	const char *a = "*2\r\n$10\r\n0123";
	uint64_t used64;
	size_t used;

	/* Skip the rest of the body plus CRLF: the next element parses normally. */
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)a, strlen(a), &used), RESP_NEED_MORE);
	CHECK_EQ_INT(resp_parser__skip(&P, 8, &used64), RESP_NEED_MORE);
	CHECK_EQ_INT(used64, 8);
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)":5\r\n", 4, &used), RESP_FRAME);
	CHECK_EQ_STR(render(&P.frame), "*2 .$0123/10 .:5");
	CHECK(P.frame.flags & RESP_FF_LOST);
	CHECK(P.frame.items[1].flags & RESP_IF_LOST);
	CHECK_EQ_INT(P.frame.nbytes, strlen(a) + 8 + 4);

	/* A skip that ends the frame stops there and says so. */
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)"$10\r\n01", 7, &used), RESP_NEED_MORE);
	CHECK_EQ_INT(resp_parser__skip(&P, 100, &used64), RESP_FRAME);
	CHECK_EQ_INT(used64, 10);
	CHECK(resp_parser__at_boundary(&P));
	/* More skipped bytes at a boundary would hide a header. */
	CHECK_EQ_INT(resp_parser__skip(&P, 90, &used64), RESP_ERR_LOST);
	CHECK_EQ_INT(used64, 0);
	CHECK(!resp_parser__cut(&P));
	CHECK(resp_parser__at_boundary(&P));

	/* Skipping past the body into the next header: lost, then cut the frame. */
	resp_parser__init(&P, RESP_MODE_COMMANDS, 0);
	a = "*3\r\n$7\r\nEVALSHA\r\n$40\r\nabc";
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)a, strlen(a), &used), RESP_NEED_MORE);
	CHECK_EQ_INT(resp_parser__skip(&P, 60, &used64), RESP_ERR_LOST);
	CHECK_EQ_INT(used64, 39);
	CHECK(resp_parser__cut(&P));
	CHECK(P.frame.flags & RESP_FF_CUT);
	CHECK_EQ_STR(render(&P.frame), "*3 .$EVALSHA .$abc/40");
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)"PING\r\n", 6, &used), RESP_FRAME);

	/* Skipped bytes inside a streamed string chunk. */
	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	a = "$?\r\n;6\r\nab";
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)a, strlen(a), &used), RESP_NEED_MORE);
	CHECK_EQ_INT(resp_parser__skip(&P, 6, &used64), RESP_NEED_MORE);
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)";0\r\n", 4, &used), RESP_FRAME);
	CHECK_EQ_STR(render(&P.frame), "$ab/6");
}

static void test_views(void)
{
	const char *in = "*4\r\n*4\r\n$4\r\nname\r\n$1\r\nx\r\n$3\r\nats\r\n$1\r\n2\r\n$2\r\n12\r\n"
			 ":0\r\n:-3\r\n";
	struct resp_view top, c, cc;
	size_t used;
	int64_t v = 0;
	char buf[8];

	resp_parser__init(&P, RESP_MODE_REPLIES, 0);
	CHECK_EQ_INT(resp_parser__feed(&P, (const uint8_t *)in, strlen(in), &used), RESP_FRAME);
	CHECK(resp_view_top(&P.frame, &top));
	CHECK(resp_view_child(&top, 1, &c));
	CHECK(resp_item_eq(&P.frame, resp_view_item(&c), "12"));
	CHECK(resp_item_int(&P.frame, resp_view_item(&c), &v));
	CHECK_EQ_INT(v, 12);
	CHECK(resp_view_child(&top, 3, &c));
	CHECK(resp_item_int(&P.frame, resp_view_item(&c), &v));
	CHECK_EQ_INT(v, -3);
	CHECK(!resp_view_child(&top, 4, &c));
	CHECK(resp_view_child(&top, 0, &c));
	CHECK_EQ_INT(c.end - c.first, 5);
	CHECK(resp_view_child(&c, 3, &cc));
	CHECK(resp_item_eq(&P.frame, resp_view_item(&cc), "2"));
	CHECK(resp_item_eq_nocase(&P.frame, P.frame.items + 2, "NAME"));
	CHECK(!resp_item_eq(&P.frame, P.frame.items + 2, "NAME"));
	CHECK_EQ_INT(resp_item_copy(&P.frame, P.frame.items + 2, buf, 3), 2);
	CHECK_EQ_STR(buf, "na");
	/* Leaves have no children. */
	CHECK(!resp_view_child(&cc, 0, &c));
}

static void test_looks_like_start(void)
{
	CHECK(resp_looks_like_start(RESP_MODE_COMMANDS, (const uint8_t *)"*3\r\n$7\r\n", 8));
	CHECK(resp_looks_like_start(RESP_MODE_COMMANDS, (const uint8_t *)"*1", 2));
	CHECK(!resp_looks_like_start(RESP_MODE_COMMANDS, (const uint8_t *)"PING\r\n", 6));
	CHECK(!resp_looks_like_start(RESP_MODE_COMMANDS, (const uint8_t *)"*3\r\n:7", 6));
	CHECK(!resp_looks_like_start(RESP_MODE_COMMANDS, (const uint8_t *)"xx\x01yy", 5));
	CHECK(!resp_looks_like_start(RESP_MODE_COMMANDS, (const uint8_t *)"*-1\r\n", 5));
	CHECK(!resp_looks_like_start(RESP_MODE_COMMANDS, (const uint8_t *)"\r\n$3", 4));
	CHECK(resp_looks_like_start(RESP_MODE_REPLIES, (const uint8_t *)"$1\r\n4", 5));
	CHECK(resp_looks_like_start(RESP_MODE_REPLIES, (const uint8_t *)"_\r\n", 3));
	CHECK(resp_looks_like_start(RESP_MODE_REPLIES, (const uint8_t *)"%7\r\n", 4));
	CHECK(!resp_looks_like_start(RESP_MODE_REPLIES, (const uint8_t *)"xyz", 3));
	CHECK(!resp_looks_like_start(RESP_MODE_REPLIES, (const uint8_t *)"$a\r\n", 4));
	CHECK(!resp_looks_like_start(RESP_MODE_REPLIES, (const uint8_t *)"", 0));
}

int main(void)
{
	RUN(test_reply_types);
	RUN(test_command_forms);
	RUN(test_many_frames_one_chunk);
	RUN(test_hostile_input);
	RUN(test_nesting_and_line_limits);
	RUN(test_capture_bounds);
	RUN(test_skip_uncaptured);
	RUN(test_views);
	RUN(test_looks_like_start);
	return check_summary();
}
