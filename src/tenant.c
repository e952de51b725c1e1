// SPDX-License-Identifier: Apache-2.0
/*
 * tenant.c - tenant validation and top-K labelling (see tenant.h).
 *
 * Space-saving (Metwally et al. 2005): m counters; a tenant not in the table
 * takes the slot of the smallest unlabelled counter and inherits its count
 * (recorded as `err`, the overestimate). count - err is a guaranteed lower
 * bound of a tenant's traffic, and that lower bound is what must beat the
 * least busy labelled tenant (by 25%) before a label changes hands, so a burst
 * of distinct one-off tenants can never steal a label.
 *
 * Labelled entries are never replaced by the sketch (they are pinned), so a
 * label is only lost through that comparison. Lookups use a chained hash over
 * slot indices; the min searches are linear in m or k and run only for
 * tenants that are not labelled.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tenant.h"

#define NIL UINT32_MAX

struct entry {
	uint64_t count;
	uint64_t err;
	uint32_t next;		/* hash chain */
	uint8_t len;
	bool used;
	bool labelled;
	char name[TENANT_MAX_LEN + 1];
};

struct tenant_topk {
	struct entry *e;
	uint32_t *bucket;
	uint32_t m;		/* entries */
	uint32_t nbuckets;	/* power of two */
	uint32_t used;
	uint32_t k;
	uint32_t labelled;
	uint64_t folded;
	uint64_t evictions;
};

/* [A-Za-z0-9._-] */
static const uint8_t tenant_char[256] = {
	['-'] = 1, ['.'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
#define R(c) [c] = 1, [c + 32] = 1
	R('A'), R('B'), R('C'), R('D'), R('E'), R('F'), R('G'), R('H'), R('I'), R('J'),
	R('K'), R('L'), R('M'), R('N'), R('O'), R('P'), R('Q'), R('R'), R('S'), R('T'),
	R('U'), R('V'), R('W'), R('X'), R('Y'), R('Z'),
#undef R
};

bool tenant_is_valid(const char *v, size_t len)
{
	uint8_t ok = 1;

	if (!v || len == 0 || len > TENANT_MAX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		ok &= tenant_char[(uint8_t)v[i]];
	return ok;
}

struct tenant_topk *tenant_topk__new(uint32_t k)
{
	struct tenant_topk *t;

	if (k == 0)
		k = TENANT_MAX_TENANTS_DEFAULT;
	if (k > TENANT_MAX_TENANTS_LIMIT) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->k = k;
	t->m = 4 * k < 64 ? 64 : 4 * k;
	t->nbuckets = 64;
	while (t->nbuckets < t->m)
		t->nbuckets *= 2;
	t->e = calloc(t->m, sizeof(*t->e));
	t->bucket = malloc(sizeof(*t->bucket) * t->nbuckets);
	if (!t->e || !t->bucket) {
		tenant_topk__free(t);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < t->nbuckets; i++)
		t->bucket[i] = NIL;
	return t;
}

void tenant_topk__free(struct tenant_topk *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

static uint32_t hash(const struct tenant_topk *t, const char *v, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)v[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32)) & (t->nbuckets - 1);
}

static uint32_t find(const struct tenant_topk *t, const char *v, size_t len, uint32_t b)
{
	for (uint32_t i = t->bucket[b], n = 0; i != NIL && n < t->m; i = t->e[i].next, n++)
		if (t->e[i].len == len && memcmp(t->e[i].name, v, len) == 0)
			return i;
	return NIL;
}

static void unlink_entry(struct tenant_topk *t, uint32_t idx)
{
	struct entry *x = &t->e[idx];
	uint32_t b = hash(t, x->name, x->len);
	uint32_t *pp = &t->bucket[b];

	for (uint32_t n = 0; *pp != NIL && n < t->m; n++) {
		if (*pp == idx) {
			*pp = x->next;
			return;
		}
		pp = &t->e[*pp].next;
	}
}

static void link_entry(struct tenant_topk *t, uint32_t idx, uint32_t b)
{
	t->e[idx].next = t->bucket[b];
	t->bucket[b] = idx;
}

/* The entry for v, created or taken over from the smallest unlabelled one. */
static uint32_t observe(struct tenant_topk *t, const char *v, size_t len)
{
	uint32_t b = hash(t, v, len);
	uint32_t idx = find(t, v, len, b);
	uint64_t base = 0;
	struct entry *x;

	if (idx != NIL) {
		t->e[idx].count++;
		return idx;
	}
	if (t->used < t->m) {
		idx = t->used++;
	} else {
		for (uint32_t i = 0; i < t->m; i++)
			if (!t->e[i].labelled && (idx == NIL || t->e[i].count < t->e[idx].count))
				idx = i;
		/* m >= 4k > k: there is always an unlabelled entry */
		base = t->e[idx].count;
		unlink_entry(t, idx);
	}
	x = &t->e[idx];
	memcpy(x->name, v, len);
	x->name[len] = 0;
	x->len = (uint8_t)len;
	x->used = true;
	x->labelled = false;
	x->count = base + 1;
	x->err = base;
	link_entry(t, idx, b);
	return idx;
}

const char *tenant_topk__label(struct tenant_topk *t, const char *v, size_t len, bool present)
{
	struct entry *x;
	uint32_t idx, min = NIL;

	if (!present || len == 0)
		return TENANT_NONE;
	if (!tenant_is_valid(v, len))
		return TENANT_INVALID;
	idx = observe(t, v, len);
	x = &t->e[idx];
	if (x->labelled)
		return x->name;
	if (t->labelled < t->k) {
		x->labelled = true;
		t->labelled++;
		return x->name;
	}
	for (uint32_t i = 0; i < t->used; i++)
		if (t->e[i].labelled && (min == NIL || t->e[i].count < t->e[min].count))
			min = i;
	if (min != NIL && x->count - x->err > t->e[min].count + t->e[min].count / 4 + 1) {
		t->e[min].labelled = false;
		x->labelled = true;
		t->evictions++;
		return x->name;
	}
	t->folded++;
	return TENANT_OTHER;
}

void tenant_topk__decay(struct tenant_topk *t)
{
	for (uint32_t i = 0; i < t->used; i++) {
		t->e[i].count /= 2;
		t->e[i].err /= 2;
	}
}

uint64_t tenant_topk__folded(const struct tenant_topk *t)
{
	return t->folded;
}

uint64_t tenant_topk__evictions(const struct tenant_topk *t)
{
	return t->evictions;
}

uint32_t tenant_topk__labelled(const struct tenant_topk *t)
{
	return t->labelled;
}

uint64_t tenant_topk__estimate(const struct tenant_topk *t, const char *v, size_t len)
{
	uint32_t idx;

	if (!tenant_is_valid(v, len))
		return 0;
	idx = find(t, v, len, hash(t, v, len));
	return idx == NIL ? 0 : t->e[idx].count;
}
