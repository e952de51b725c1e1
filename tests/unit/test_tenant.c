// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of tenant.c: validation (length, charset), the fixed labels
 * none/invalid/other, and the top-K tracker: the busiest tenants keep their
 * labels, one-off tenants never steal one, a tenant that becomes busier does
 * (with decay), memory stays fixed under millions of distinct tenants.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "tenant.h"

struct valid_case {
	const char *v;
	bool ok;
};

static const struct valid_case valid_cases[] = {
	{ "acme", true },
	{ "ACME-corp_1.eu", true },
	{ "a", true },
	{ "0123456789012345678901234567890123456789012345678901234567890123", true },	/* 64 */
	{ "01234567890123456789012345678901234567890123456789012345678901234", false },	/* 65 */
	{ "", false },
	{ "acme corp", false },
	{ "acme/x", false },
	{ "t\"x", false },
	{ "a\nb", false },
	{ "caf\xc3\xa9", false },
	{ "{tenant}", false },
	{ "a:b", false },
};

static void test_valid(void)
{
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++)
		CHECK_MSG(tenant_is_valid(valid_cases[i].v, strlen(valid_cases[i].v)) ==
				  valid_cases[i].ok,
			  "\"%s\"", valid_cases[i].v);
	CHECK(!tenant_is_valid(NULL, 3));
	CHECK(tenant_is_valid("abc\0def", 3));	/* the length is what counts */
	CHECK(!tenant_is_valid("abc\0def", 7));
}

static void test_fixed_labels(void)
{
	struct tenant_topk *t = tenant_topk__new(2);

	CHECK_EQ_STR(tenant_topk__label(t, NULL, 0, false), TENANT_NONE);
	CHECK_EQ_STR(tenant_topk__label(t, "", 0, true), TENANT_NONE);
	CHECK_EQ_STR(tenant_topk__label(t, "acme", 4, false), TENANT_NONE);
	CHECK_EQ_STR(tenant_topk__label(t, "bad value", 9, true), TENANT_INVALID);
	CHECK_EQ_STR(tenant_topk__label(t, "acme", 4, true), "acme");
	CHECK_EQ_STR(tenant_topk__label(t, "beta", 4, true), "beta");
	CHECK_EQ_STR(tenant_topk__label(t, "gamma", 5, true), TENANT_OTHER);
	CHECK_EQ_INT(tenant_topk__labelled(t), 2);
	CHECK_EQ_INT(tenant_topk__folded(t), 1);
	/* none and invalid never take a slot or count as folded */
	CHECK_EQ_INT(tenant_topk__estimate(t, "acme", 4), 1);
	tenant_topk__free(t);
	tenant_topk__free(NULL);
}

/* With at most K tenants, all keep their label. */
static void test_fewer_than_k(void)
{
	struct tenant_topk *t = tenant_topk__new(TENANT_MAX_TENANTS_DEFAULT);
	char name[16];

	for (int r = 0; r < 100; r++)
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "tenant-%d", i);
			CHECK_EQ_STR(tenant_topk__label(t, name, strlen(name), true), name);
		}
	CHECK_EQ_INT(tenant_topk__folded(t), 0);
	CHECK_EQ_INT(tenant_topk__estimate(t, "tenant-3", 8), 100);
	tenant_topk__free(t);
}

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 5 heavy tenants among a long tail of one-off ones: the heavy keep labels. */
static void test_heavy_hitters_survive_a_long_tail(void)
{
	struct tenant_topk *t = tenant_topk__new(5);
	char name[32];
	int heavy_other = 0;

	/* the tail arrives first and takes every label */
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "early-%d", i);
		tenant_topk__label(t, name, strlen(name), true);
	}
	for (int i = 0; i < 200000; i++) {
		const char *l;

		if (rnd() % 2) {
			snprintf(name, sizeof(name), "heavy-%d", (int)(rnd() % 5));
			l = tenant_topk__label(t, name, strlen(name), true);
			if (i > 20000)	/* after warm-up the heavy ones are labelled */
				heavy_other += strcmp(l, name) != 0;
		} else {
			snprintf(name, sizeof(name), "tail-%llu", (unsigned long long)rnd());
			l = tenant_topk__label(t, name, strlen(name), true);
			if (i > 20000)
				CHECK_MSG(strcmp(l, TENANT_OTHER) == 0, "tail tenant got label %s", l);
		}
	}
	CHECK_EQ_INT(heavy_other, 0);
	CHECK_EQ_INT(tenant_topk__labelled(t), 5);
	CHECK_EQ_INT(tenant_topk__evictions(t), 5);	/* each early one lost its label once */
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "heavy-%d", i);
		CHECK_EQ_STR(tenant_topk__label(t, name, strlen(name), true), name);
	}
	tenant_topk__free(t);
}

/* A newly busy tenant takes over the label of one that went quiet, once
 * decay has aged the old traffic. */
static void test_shift_with_decay(void)
{
	struct tenant_topk *t = tenant_topk__new(1);

	for (int i = 0; i < 1000; i++)
		tenant_topk__label(t, "old", 3, true);
	for (int i = 0; i < 500; i++)
		CHECK_EQ_STR(tenant_topk__label(t, "new", 3, true), TENANT_OTHER);
	for (int d = 0; d < 4; d++)
		tenant_topk__decay(t);	/* old: 62, new: 31 */
	CHECK_EQ_INT(tenant_topk__estimate(t, "old", 3), 62);
	/* it takes more than 62 + 62/4 + 1 = 78 */
	for (int i = 0; i < 47; i++)
		CHECK_EQ_STR(tenant_topk__label(t, "new", 3, true), TENANT_OTHER);	/* up to 78 */
	CHECK_EQ_STR(tenant_topk__label(t, "new", 3, true), "new");		/* 79 */
	CHECK_EQ_STR(tenant_topk__label(t, "old", 3, true), TENANT_OTHER);
	CHECK_EQ_INT(tenant_topk__evictions(t), 1);
	tenant_topk__free(t);
}

/* Memory is fixed: a million distinct tenants go through a 4K table. */
static void test_bounded(void)
{
	struct tenant_topk *t = tenant_topk__new(3);
	char name[32];

	for (int i = 0; i < 1000000; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		tenant_topk__label(t, name, strlen(name), true);
	}
	CHECK_EQ_INT(tenant_topk__labelled(t), 3);
	CHECK_EQ_INT(tenant_topk__folded(t), 1000000 - 3);
	CHECK_EQ_STR(tenant_topk__label(t, "t0", 2, true), "t0");	/* pinned */
	CHECK(tenant_topk__new(TENANT_MAX_TENANTS_LIMIT + 1) == NULL);
	CHECK_EQ_INT(errno, EINVAL);
	tenant_topk__free(t);
}

int main(void)
{
	RUN(test_valid);
	RUN(test_fixed_labels);
	RUN(test_fewer_than_k);
	RUN(test_heavy_hitters_survive_a_long_tail);
	RUN(test_shift_with_decay);
	RUN(test_bounded);
	return check_summary();
}
