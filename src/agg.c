// SPDX-License-Identifier: Apache-2.0
/*
 * agg.c - the series store (see agg.h for the contract).
 *
 * Per family: an arena of fixed-stride slots (header, key, value words), a
 * free list, an open-addressing index (linear probing, backward-shift
 * deletion, so no tombstones) over slot numbers, and the sorted order array
 * that readers copy. The index, the free list and the per-slot hashes are
 * the writer's alone; readers touch only the arena, the order array and the
 * stats, always through seqcount.h accessors.
 *
 * Hot path (the label set exists): build the key on the stack, hash it,
 * probe, compare, update under the series' sequence count. Everything else
 * (validation, caps, folding, insertion) is the slow path of a key that was
 * not found.
 *
 * Tricky: a key is the label values each followed by a NUL. Comparing keys
 * bytewise then orders them label by label, since NUL sorts first.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "hash.h"
#include "seqcount.h"

#define NONE UINT32_MAX
#define MAX_SERIES_LIMIT 1000000u
#define KEY_WORDS (AGG_KEY_MAX / 8)

/* Slot header; the value words follow. Readers copy it under `seq`. */
struct series {
	uint64_t seq;
	uint64_t gen;		/* 0: free */
	uint64_t created_ns;
	uint64_t last_ns;
	uint64_t key_len;	/* bytes, the last NUL included */
	uint64_t key[KEY_WORDS];
	uint64_t v[];
};

struct layout {
	uint32_t off_gauge, off_hist, off_wr, off_ex, off_wq;	/* word offsets in v[] */
	uint32_t plain_words;	/* words before the wquant: all uint64_t */
	uint32_t words;
};

/* An entry keeps the high half of its hash as a tag, so a probe rejects a
 * wrong slot without touching it (one cache miss less per lookup). */
struct oentry {
	uint32_t id;
	uint32_t tag;
};

struct oindex {
	struct oentry *tab;
	uint32_t mask;
};

struct fam {
	const struct agg_family_info *info;
	struct layout lay;
	size_t stride;
	uint32_t cap, svc_cap, nslots;
	uint8_t *arena;
	uint64_t *hash;		/* per slot */
	uint32_t *svc_of;	/* per slot: service index or NONE */
	bool *svc_over;		/* per slot: the service's own overflow (not capped) */
	/* HTTP_SERVER only, per slot: the quantile window series of the same
	 * service and route, as (slot, generation); generation 0: not known */
	uint32_t *wq_slot;
	uint64_t *wq_gen;
	uint32_t *free;
	uint32_t nfree;
	struct oindex idx;
	uint32_t n_regular;	/* live series other than the reserved overflow */
	uint32_t overflow;	/* slot of the overflow series, or NONE */
	uint64_t next_gen;
	/* shared with readers */
	uint64_t oseq;		/* order sequence count */
	uint64_t n_order;
	uint64_t *order;	/* gen << 32 | slot, sorted by key */
	struct agg_family_stats st;
};

struct svc {
	uint64_t hash;
	uint32_t count[AGG_FAMILY__MAX];	/* series under the cap, per family */
	uint32_t total;				/* all series naming it */
	uint32_t len;
	char name[AGG_LABEL_MAX + 1];
};

struct agg {
	struct fam fam[AGG_FAMILY__MAX];
	struct svc *svc;
	uint32_t svc_cap;
	uint32_t *svc_free;
	uint32_t svc_nfree;
	struct oindex svc_idx;
	uint64_t n_svc;		/* shared */
	uint64_t ttl_ns, slot_ns, seed;
	struct hist_bounds bounds;
	char batch_keys[AGG_BATCH_MAX * 256];	/* the writer's: keys of a batch */
};

static const struct agg_family_info families[AGG_FAMILY__MAX] = {
	[AGG_HTTP_SERVER] = {
		.name = "http_server", .n_labels = 5,
		.label = { "service", "method", "route", "status_code", "tenant" },
		.service_label = 0, .n_fold = 4, .fold = { 4, 2, 1, 3 },
		.n_counters = 1, .n_hists = 2, .exemplar = true,
		.max_series = 10000, .max_per_service = 2000,
	},
	[AGG_HTTP_CLIENT] = {
		.name = "http_client", .n_labels = 6,
		.label = { "service", "method", "peer", "route", "status_code", "tenant" },
		.service_label = 0, .n_fold = 5, .fold = { 5, 3, 2, 1, 4 },
		.n_counters = 1, .n_hists = 1, .exemplar = true,
		.max_series = 5000, .max_per_service = 1000,
	},
	[AGG_HTTP_ACTIVE] = {
		.name = "http_active", .n_labels = 1, .label = { "service" },
		.service_label = 0, .n_gauges = 1,
		.max_series = 256, .max_per_service = 1,
	},
	[AGG_HTTP_QUANTILE] = {
		.name = "http_quantile", .n_labels = 2, .label = { "service", "route" },
		.service_label = 0, .n_fold = 1, .fold = { 1 }, .wquant = true,
		.max_series = 2000, .max_per_service = 500,
	},
	[AGG_REDIS] = {
		.name = "redis", .n_labels = 3, .label = { "service", "command", "status" },
		.service_label = 0, .n_fold = 2, .fold = { 1, 2 },
		.n_counters = 1,
		.max_series = 2000, .max_per_service = 500,
	},
	[AGG_REDIS_DURATION] = {
		.name = "redis_duration", .n_labels = 2, .label = { "service", "command" },
		.service_label = 0, .n_fold = 1, .fold = { 1 },
		.n_hists = 1,
		.max_series = 1000, .max_per_service = 250,
	},
	[AGG_WORKER] = {
		.name = "worker", .n_labels = 1, .label = { "queue_name" },
		.service_label = -1,
		.n_counters = AGG_W__COUNTERS, .n_gauges = 2, .n_hists = 2, .wrate = true,
		.max_series = 256, .max_per_service = 256,
	},
};

static const char *const drop_names[AGG_DROP__MAX] = {
	[AGG_DROP_SERIES_LIMIT] = "series_limit",
	[AGG_DROP_SERVICE_LIMIT] = "service_limit",
	[AGG_DROP_SERVICES_LIMIT] = "services_limit",
	[AGG_DROP_LABEL_TOO_LONG] = "label_too_long",
	[AGG_DROP_LABEL_INVALID] = "label_invalid",
};

const struct agg_family_info *agg_family_info(enum agg_family f)
{
	return (unsigned int)f < AGG_FAMILY__MAX ? &families[f] : NULL;
}

const char *agg_drop_reason_name(enum agg_drop_reason r)
{
	return (unsigned int)r < AGG_DROP__MAX ? drop_names[r] : "unknown";
}

/* Stats are written by the writer only (relaxed), except read_retries. */
static void stat_add(uint64_t *p, uint64_t k)
{
	__atomic_store_n(p, *p + k, __ATOMIC_RELAXED);
}

static uint64_t stat_get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* ---- hashing and the open-addressing index ---- */

/* 64x64 -> 128-bit multiply, folded (the wyhash mixer). */
static uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * One multiply per 16 bytes. Both operands of every multiply carry a value
 * derived from the seed, so an input cannot zero one without knowing the
 * seed (which would make later words irrelevant): with a random seed the
 * collisions cannot be planned from outside.
 */
static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *s = p;
	uint64_t s1 = seed, h = seed ^ (n * 0x9e3779b97f4a7c15ull) ^ 0x8ebc6af09c88c6e3ull;
	uint64_t w0, w1;

	for (; n >= 16; n -= 16, s += 16) {
		memcpy(&w0, s, 8);
		memcpy(&w1, s + 8, 8);
		h = mum(w0 ^ s1, w1 ^ h);
	}
	w0 = w1 = 0;
	memcpy(&w0, s, n < 8 ? n : 8);
	if (n > 8)
		memcpy(&w1, s + 8, n - 8);
	h = mum(w0 ^ s1, w1 ^ h ^ 0xe7037ed1a0b428dbull);
	return fmix64(h);
}

static int oindex_init(struct oindex *ix, uint32_t items)
{
	uint32_t size = 16;

	while (size < 2 * items)	/* load factor at most 1/2 */
		size <<= 1;
	ix->tab = malloc(size * sizeof(*ix->tab));
	if (!ix->tab)
		return -ENOMEM;
	memset(ix->tab, 0xff, size * sizeof(*ix->tab));
	ix->mask = size - 1;
	return 0;
}

static void oindex_put(struct oindex *ix, uint64_t hash, uint32_t id)
{
	uint32_t i = (uint32_t)hash & ix->mask;

	while (ix->tab[i].id != NONE)
		i = (i + 1) & ix->mask;
	ix->tab[i].id = id;
	ix->tab[i].tag = (uint32_t)(hash >> 32);
}

/* Position of id, which must be in the index. */
static uint32_t oindex_pos(const struct oindex *ix, uint64_t hash, uint32_t id)
{
	uint32_t i = (uint32_t)hash & ix->mask;

	while (ix->tab[i].id != id)
		i = (i + 1) & ix->mask;
	return i;
}

/* Removes the entry at position i; hash_of(ctx, id) gives each id's hash. */
static void oindex_del_at(struct oindex *ix, uint32_t i,
			  uint64_t (*hash_of)(const void *ctx, uint32_t id), const void *ctx)
{
	uint32_t j = i;

	for (;;) {
		uint32_t k;

		j = (j + 1) & ix->mask;
		if (ix->tab[j].id == NONE)
			break;
		k = (uint32_t)hash_of(ctx, ix->tab[j].id) & ix->mask;
		/* move tab[j] back to i unless its home k lies cyclically in (i, j] */
		if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
			ix->tab[i] = ix->tab[j];
			i = j;
		}
	}
	ix->tab[i].id = NONE;
}

/* ---- series slots ---- */

static struct series *slot_at(const struct fam *fm, uint32_t slot)
{
	return (struct series *)(fm->arena + (size_t)slot * fm->stride);
}

static const char *key_of(const struct series *s)
{
	return (const char *)s->key;
}

static int key_cmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	return c ? c : (na > nb) - (na < nb);
}

/* Position of the slot holding key, in the index, or NONE. */
static uint32_t find(const struct fam *fm, const char *key, size_t len, uint64_t h)
{
	uint32_t i = (uint32_t)h & fm->idx.mask, tag = (uint32_t)(h >> 32);

	for (;;) {
		uint32_t slot = fm->idx.tab[i].id;
		const struct series *s;

		if (slot == NONE)
			return NONE;
		s = slot_at(fm, slot);
		if (fm->idx.tab[i].tag == tag && s->key_len == len &&
		    memcmp(key_of(s), key, len) == 0)
			return i;
		i = (i + 1) & fm->idx.mask;
	}
}

_Static_assert(sizeof(struct agg_exemplar) % 8 == 0, "exemplars are copied in words");

static void layout_init(struct layout *l, const struct agg_family_info *in)
{
	l->off_gauge = in->n_counters;
	l->off_hist = l->off_gauge + in->n_gauges;
	l->off_wr = l->off_hist + in->n_hists * HIST_WORDS;
	l->off_ex = l->off_wr + (in->wrate ? sizeof(struct wrate) / 8 : 0);
	l->off_wq = l->off_ex + (in->exemplar ? sizeof(struct agg_exemplar) / 8 : 0);
	l->plain_words = l->off_wq;
	l->words = l->off_wq + (in->wquant ? sizeof(struct wquant) / 8 : 0);
}

/* Writer: zero a slot's value, honouring the access size of every field. */
static void value_zero(const struct fam *fm, struct series *s)
{
	for (uint32_t i = 0; i < fm->lay.plain_words; i++)
		if (s->v[i])
			st64(&s->v[i], 0);
	if (fm->info->wquant) {
		struct wquant *wq = (struct wquant *)&s->v[fm->lay.off_wq];

		for (uint32_t k = 0; k < WINDOW_RING; k++) {
			st64(&wq->s[k].epoch, 0);
			st64(&wq->s[k].count, 0);
			for (uint32_t j = 0; j < WQ_BUCKETS; j++)
				if (wq->s[k].n[j])
					st32(&wq->s[k].n[j], 0);
		}
	}
}

/* ---- services ---- */

static uint32_t svc_find(const struct agg *a, const char *name, size_t len, uint64_t h)
{
	uint32_t i = (uint32_t)h & a->svc_idx.mask;

	for (;;) {
		uint32_t id = a->svc_idx.tab[i].id;

		if (id == NONE)
			return NONE;
		if (a->svc_idx.tab[i].tag == (uint32_t)(h >> 32) && a->svc[id].hash == h && a->svc[id].len == len &&
		    memcmp(a->svc[id].name, name, len) == 0)
			return id;
		i = (i + 1) & a->svc_idx.mask;
	}
}

static uint32_t svc_add(struct agg *a, const char *name, size_t len, uint64_t h)
{
	uint32_t id;

	if (!a->svc_nfree)
		return NONE;
	id = a->svc_free[--a->svc_nfree];
	memset(&a->svc[id], 0, sizeof(a->svc[id]));
	a->svc[id].hash = h;
	a->svc[id].len = (uint32_t)len;
	memcpy(a->svc[id].name, name, len);
	oindex_put(&a->svc_idx, h, id);
	stat_add(&a->n_svc, 1);
	return id;
}

static uint64_t svc_hash_of(const void *ctx, uint32_t id)
{
	return ((const struct agg *)ctx)->svc[id].hash;
}

static void svc_release(struct agg *a, uint32_t id, enum agg_family f, bool over)
{
	struct svc *sv = &a->svc[id];
	uint32_t i;

	if (!over)
		sv->count[f]--;
	if (--sv->total)
		return;
	i = oindex_pos(&a->svc_idx, sv->hash, id);
	oindex_del_at(&a->svc_idx, i, svc_hash_of, a);
	a->svc_free[a->svc_nfree++] = id;
	stat_add(&a->n_svc, (uint64_t)-1);
}

/* ---- create, free ---- */

void agg_config_init(struct agg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void agg_update_init(struct agg_update *u)
{
	memset(u, 0, sizeof(*u));
	for (int i = 0; i < AGG_MAX_HISTS; i++)
		u->obs_ns[i] = AGG_NO_VALUE;
	u->wq_ns = AGG_NO_VALUE;
}

static int fam_init(struct fam *fm, const struct agg_family_info *in, uint32_t cap,
		    uint32_t svc_cap)
{
	fm->info = in;
	layout_init(&fm->lay, in);
	fm->stride = sizeof(struct series) + (size_t)fm->lay.words * 8;
	fm->cap = cap;
	fm->svc_cap = svc_cap;
	fm->nslots = cap + 1;
	fm->overflow = NONE;
	fm->next_gen = 1;
	/* calloc: pages of slots never used are never touched */
	fm->arena = calloc(fm->nslots, fm->stride);
	fm->hash = calloc(fm->nslots, sizeof(*fm->hash));
	fm->svc_of = calloc(fm->nslots, sizeof(*fm->svc_of));
	fm->svc_over = calloc(fm->nslots, sizeof(*fm->svc_over));
	if (in == &families[AGG_HTTP_SERVER]) {
		fm->wq_slot = calloc(fm->nslots, sizeof(*fm->wq_slot));
		fm->wq_gen = calloc(fm->nslots, sizeof(*fm->wq_gen));
		if (!fm->wq_slot || !fm->wq_gen)
			return -ENOMEM;
	}
	fm->free = calloc(fm->nslots, sizeof(*fm->free));
	fm->order = calloc(fm->nslots, sizeof(*fm->order));
	if (!fm->arena || !fm->hash || !fm->svc_of || !fm->svc_over || !fm->free || !fm->order)
		return -ENOMEM;
	for (uint32_t i = 0; i < fm->nslots; i++)	/* slot 0 is handed out first */
		fm->free[i] = fm->nslots - 1 - i;
	fm->nfree = fm->nslots;
	fm->st.max_series = cap;
	return oindex_init(&fm->idx, fm->nslots);
}

struct agg *agg__new(const struct agg_config *cfg)
{
	struct agg_config def;
	struct agg *a;
	int err = -ENOMEM;

	if (!cfg) {
		agg_config_init(&def);
		cfg = &def;
	}
	for (int f = 0; f < AGG_FAMILY__MAX; f++) {
		if (cfg->max_series[f] > MAX_SERIES_LIMIT) {
			errno = EINVAL;
			return NULL;
		}
	}
	if (cfg->max_services > MAX_SERIES_LIMIT) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->ttl_ns = cfg->ttl_ns ? cfg->ttl_ns : AGG_TTL_NS_DEFAULT;
	a->slot_ns = window_slot_ns(cfg->window_ns);
	/* mixed once here, so that every bit of the seed counts in hash_bytes() */
	a->seed = fmix64((cfg->seed ? cfg->seed : 0x5ba0b5e7e5eedull) ^ 0xa0761d6478bd642full);
	a->bounds = cfg->bounds ? *cfg->bounds : *hist_bounds_default();
	a->svc_cap = cfg->max_services ? cfg->max_services : AGG_MAX_SERVICES_DEFAULT;
	a->svc = calloc(a->svc_cap, sizeof(*a->svc));
	a->svc_free = calloc(a->svc_cap, sizeof(*a->svc_free));
	if (!a->svc || !a->svc_free || oindex_init(&a->svc_idx, a->svc_cap))
		goto out_free;
	for (uint32_t i = 0; i < a->svc_cap; i++)
		a->svc_free[i] = a->svc_cap - 1 - i;
	a->svc_nfree = a->svc_cap;
	for (int f = 0; f < AGG_FAMILY__MAX; f++) {
		const struct agg_family_info *in = &families[f];
		uint32_t cap = cfg->max_series[f] ? cfg->max_series[f] : in->max_series;
		uint32_t sc = cfg->max_per_service[f] ? cfg->max_per_service[f]
						      : in->max_per_service;

		err = fam_init(&a->fam[f], in, cap, sc);
		if (err)
			goto out_free;
	}
	return a;
out_free:
	agg__free(a);
	errno = -err;
	return NULL;
}

void agg__free(struct agg *a)
{
	if (!a)
		return;
	for (int f = 0; f < AGG_FAMILY__MAX; f++) {
		struct fam *fm = &a->fam[f];

		free(fm->arena);
		free(fm->hash);
		free(fm->svc_of);
		free(fm->svc_over);
		free(fm->wq_slot);
		free(fm->wq_gen);
		free(fm->free);
		free(fm->order);
		free(fm->idx.tab);
	}
	free(a->svc);
	free(a->svc_free);
	free(a->svc_idx.tab);
	free(a);
}

/* ---- the writer ---- */

struct key {
	const char *val[AGG_MAX_LABELS];
	size_t len[AGG_MAX_LABELS];
	uint32_t n;
	size_t klen;
	uint64_t hash;
	char buf[AGG_KEY_MAX];
};

static void key_pack(struct key *k)
{
	size_t o = 0;

	for (uint32_t i = 0; i < k->n; i++) {
		memcpy(k->buf + o, k->val[i], k->len[i]);
		o += k->len[i];
		k->buf[o++] = '\0';
	}
	k->klen = o;
}

static void key_build(struct key *k, uint64_t seed)
{
	key_pack(k);
	k->hash = hash_bytes(k->buf, k->klen, seed);
}

static void key_set_other(struct key *k, uint32_t i)
{
	k->val[i] = AGG_OTHER;
	k->len[i] = sizeof(AGG_OTHER) - 1;
}

static bool is_other(const struct key *k, uint32_t i)
{
	return k->len[i] == sizeof(AGG_OTHER) - 1 && memcmp(k->val[i], AGG_OTHER, k->len[i]) == 0;
}

/* Valid UTF-8 (no overlongs, surrogates or > U+10FFFF) without control bytes. */
static bool is_clean_utf8(const char *p, size_t n)
{
	const uint8_t *s = (const uint8_t *)p;

	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t len;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t j = 1; j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f))
			return false;
		i += len;
	}
	return true;
}

/* Writer: keeps u's exemplar per the policy in agg.h. Word stores, so a
 * reader's copy under the series' seqcount is whole. */
static void exemplar_offer(struct agg_exemplar *ex, const struct agg_update *u, uint64_t now)
{
	uint64_t id[sizeof(ex->id) / 8] = { 0 };
	uint64_t *dst = (uint64_t *)ex->id;
	size_t n;

	if (ex->kind && u->obs_ns[0] < ex->value_ns && now - ex->ts_ns <= AGG_EXEMPLAR_HOLD_NS)
		return;
	n = strnlen(u->ex_id, AGG_EXEMPLAR_ID_MAX);
	memcpy(id, u->ex_id, n);
	st64(&ex->value_ns, u->obs_ns[0]);
	st64(&ex->ts_ns, now);
	st64(&ex->kind, u->ex_kind);
	for (size_t i = 0; i < sizeof(id) / 8; i++)
		st64(&dst[i], id[i]);
}

/* Writer: applies u to the series in slot. */
static void apply(struct agg *a, struct fam *fm, uint32_t slot, const struct agg_update *u,
		  uint64_t now)
{
	const struct agg_family_info *in = fm->info;
	struct series *s = slot_at(fm, slot);
	uint64_t *v = s->v;

	seq_write_begin(&s->seq);
	if (now > s->last_ns)
		st64(&s->last_ns, now);
	for (uint32_t c = 0; c < in->n_counters; c++)
		if (u->add[c])
			st64(&v[c], v[c] + u->add[c]);
	for (uint32_t g = 0; g < in->n_gauges; g++) {
		uint64_t *p = &v[fm->lay.off_gauge + g];

		if (u->gauge_set & (1u << g))
			st64(p, (uint64_t)u->gauge[g]);
		else if (u->gauge_add & (1u << g))
			st64(p, *p + (uint64_t)u->gauge[g]);
	}
	for (uint32_t h = 0; h < in->n_hists; h++)
		if (u->obs_ns[h] != AGG_NO_VALUE)
			hist_observe((struct hist *)&v[fm->lay.off_hist + h * HIST_WORDS], &a->bounds,
				     u->obs_ns[h]);
	if (in->wrate) {
		struct wrate *wr = (struct wrate *)&v[fm->lay.off_wr];

		for (uint32_t i = 0; i < WRATE_MAX; i++)
			if (u->wr_add[i] && !wrate_add(wr, a->slot_ns, now, i, u->wr_add[i]))
				stat_add(&fm->st.late, 1);
	}
	if (in->exemplar && u->ex_kind && u->ex_id && u->obs_ns[0] != AGG_NO_VALUE)
		exemplar_offer((struct agg_exemplar *)&v[fm->lay.off_ex], u, now);
	if (in->wquant && u->wq_ns != AGG_NO_VALUE &&
	    !wquant_observe((struct wquant *)&v[fm->lay.off_wq], a->slot_ns, now, u->wq_ns))
		stat_add(&fm->st.late, 1);
	seq_write_end(&s->seq);
}

/* Writer: a new series for k in a free slot, with u applied before it is
 * published in the order readers walk, so no reader ever sees it empty.
 * overflow: the family's reserved one; svc_over: the service's own beyond
 * its cap. */
static uint32_t insert(struct agg *a, struct fam *fm, enum agg_family f, const struct key *k,
		       uint32_t svc, bool overflow, bool svc_over, const struct agg_update *u,
		       uint64_t now)
{
	uint32_t slot = fm->free[--fm->nfree], lo = 0, hi;
	struct series *s = slot_at(fm, slot);
	uint64_t gen = fm->next_gen++;
	uint64_t kw[KEY_WORDS] = { 0 };

	memcpy(kw, k->buf, k->klen);
	seq_write_begin(&s->seq);
	st64(&s->gen, gen);
	st64(&s->created_ns, now);
	st64(&s->last_ns, now);
	st64(&s->key_len, k->klen);
	for (uint32_t i = 0; i < (k->klen + 7) / 8; i++)
		st64(&s->key[i], kw[i]);
	value_zero(fm, s);
	seq_write_end(&s->seq);
	apply(a, fm, slot, u, now);

	fm->hash[slot] = k->hash;
	fm->svc_of[slot] = svc;
	fm->svc_over[slot] = svc_over;
	if (fm->wq_gen)
		fm->wq_gen[slot] = 0;	/* a new series: its window is not known yet */
	oindex_put(&fm->idx, k->hash, slot);
	if (svc != NONE) {
		a->svc[svc].count[f] += !svc_over;
		a->svc[svc].total++;
	}
	if (overflow)
		fm->overflow = slot;
	else
		fm->n_regular++;

	/* sorted insert into the order array, under the order count */
	hi = (uint32_t)fm->n_order;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct series *m = slot_at(fm, (uint32_t)fm->order[mid]);

		if (key_cmp(key_of(m), m->key_len, k->buf, k->klen) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	seq_write_begin(&fm->oseq);
	for (uint32_t i = (uint32_t)fm->n_order; i > lo; i--)
		st64(&fm->order[i], fm->order[i - 1]);
	st64(&fm->order[lo], (gen << 32) | slot);
	st64(&fm->n_order, fm->n_order + 1);
	seq_write_end(&fm->oseq);

	stat_add(&fm->st.created, 1);
	stat_add(&fm->st.series, 1);
	return slot;
}

/* Writer: the slow path, for a key that does not exist. */
static int insert_or_fold(struct agg *a, struct fam *fm, enum agg_family f, struct key *k,
			  const struct agg_update *u, uint64_t now, bool folded)
{
	const struct agg_family_info *in = fm->info;
	int sl = in->service_label;
	uint32_t svc = NONE, pos;
	bool fam_room = fm->n_regular < fm->cap, svc_room = true, svc_known = true;
	enum agg_drop_reason why;

	if (sl >= 0) {
		uint64_t sh = hash_bytes(k->val[sl], k->len[sl], a->seed);

		svc = svc_find(a, k->val[sl], k->len[sl], sh);
		if (svc == NONE && fam_room)
			svc = svc_add(a, k->val[sl], k->len[sl], sh);
		svc_known = svc != NONE;
		svc_room = svc_known && a->svc[svc].count[f] < fm->svc_cap;
	}
	if (fam_room && svc_room) {
		insert(a, fm, f, k, svc, false, false, u, now);
		return folded ? AGG_FOLDED : 0;
	}
	why = !fam_room ? AGG_DROP_SERIES_LIMIT
	      : !svc_known ? AGG_DROP_SERVICES_LIMIT : AGG_DROP_SERVICE_LIMIT;
	stat_add(&fm->st.dropped[why], 1);

	for (uint32_t lvl = 0; lvl < in->n_fold; lvl++) {
		uint32_t li = in->fold[lvl];
		bool last = lvl + 1 == in->n_fold;

		if (is_other(k, li) && !last)
			continue;
		key_set_other(k, li);
		key_build(k, a->seed);
		pos = find(fm, k->buf, k->klen, k->hash);
		if (pos != NONE) {
			apply(a, fm, fm->idx.tab[pos].id, u, now);
			return AGG_FOLDED;
		}
		/* the service's own all-`other` series may exceed its cap */
		if (fam_room && svc_known && (svc_room || last)) {
			insert(a, fm, f, k, svc, false, !svc_room, u, now);
			return AGG_FOLDED;
		}
	}
	/* the family's overflow series: every label `other` */
	for (uint32_t i = 0; i < k->n; i++)
		key_set_other(k, i);
	key_build(k, a->seed);
	pos = find(fm, k->buf, k->klen, k->hash);
	if (pos != NONE)
		apply(a, fm, fm->idx.tab[pos].id, u, now);
	else if (fm->overflow == NONE && fm->nfree)
		insert(a, fm, f, k, NONE, true, false, u, now);
	/* else impossible: the reserved slot is the overflow series */
	return AGG_FOLDED;
}

/* agg__update(); hash: the key's hash when the caller has it (0: no). */
static int update(struct agg *a, enum agg_family f, const char *const label[],
		  const struct agg_update *u, uint64_t now, uint64_t hash)
{
	const struct agg_family_info *in;
	struct fam *fm;
	struct key k;
	uint32_t pos;
	bool folded = false;

	if (!a || (unsigned int)f >= AGG_FAMILY__MAX || !label || !u)
		return -EINVAL;
	fm = &a->fam[f];
	in = fm->info;
	k.n = in->n_labels;
	for (uint32_t i = 0; i < k.n; i++) {
		if (!label[i])
			return -EINVAL;
		k.val[i] = label[i];
		k.len[i] = strnlen(label[i], AGG_LABEL_MAX + 1);
		if (k.len[i] > AGG_LABEL_MAX) {
			key_set_other(&k, i);
			stat_add(&fm->st.dropped[AGG_DROP_LABEL_TOO_LONG], 1);
			folded = true;
		}
	}
	for (;;) {	/* the key too long as a whole: fold its longest value */
		size_t total = 0, longest = 0;
		uint32_t li = 0;

		for (uint32_t i = 0; i < k.n; i++) {
			total += k.len[i] + 1;
			if (k.len[i] > longest) {
				longest = k.len[i];
				li = i;
			}
		}
		if (total <= AGG_KEY_MAX)
			break;
		key_set_other(&k, li);
		stat_add(&fm->st.dropped[AGG_DROP_LABEL_TOO_LONG], 1);
		folded = true;
	}
	if (hash && !folded) {
		key_pack(&k);
		k.hash = hash;
	} else {
		key_build(&k, a->seed);
	}
	pos = find(fm, k.buf, k.klen, k.hash);
	if (pos != NONE) {
		apply(a, fm, fm->idx.tab[pos].id, u, now);
		return folded ? AGG_FOLDED : 0;
	}

	/* slow path: not seen before; check the values, then caps */
	for (uint32_t i = 0; i < k.n; i++) {
		if (!is_clean_utf8(k.val[i], k.len[i])) {
			key_set_other(&k, i);
			stat_add(&fm->st.dropped[AGG_DROP_LABEL_INVALID], 1);
			folded = true;
			key_build(&k, a->seed);
			pos = find(fm, k.buf, k.klen, k.hash);
		}
	}
	if (folded && pos != NONE) {
		apply(a, fm, fm->idx.tab[pos].id, u, now);
		return AGG_FOLDED;
	}
	return insert_or_fold(a, fm, f, &k, u, now, folded);
}

int agg__update(struct agg *a, enum agg_family f, const char *const label[],
		const struct agg_update *u, uint64_t now)
{
	return update(a, f, label, u, now, 0);
}

static uint64_t slot_hash_of(const void *ctx, uint32_t slot)
{
	return ((const struct fam *)ctx)->hash[slot];
}

uint32_t agg__expire(struct agg *a, uint64_t now)
{
	uint32_t removed = 0;

	if (!a)
		return 0;
	for (int f = 0; f < AGG_FAMILY__MAX; f++) {
		struct fam *fm = &a->fam[f];
		uint32_t n = (uint32_t)fm->n_order, w = 0, gone = 0;
		bool open = false;

		for (uint32_t r = 0; r < n; r++) {
			uint64_t e = fm->order[r];
			uint32_t slot = (uint32_t)e, pos;
			struct series *s = slot_at(fm, slot);

			if (now < a->ttl_ns || s->last_ns > now - a->ttl_ns) {
				if (open)
					st64(&fm->order[w], e);
				w++;
				continue;
			}
			if (!open) {
				seq_write_begin(&fm->oseq);
				open = true;
			}
			seq_write_begin(&s->seq);
			st64(&s->gen, 0);
			seq_write_end(&s->seq);
			pos = oindex_pos(&fm->idx, fm->hash[slot], slot);
			oindex_del_at(&fm->idx, pos, slot_hash_of, fm);
			if (fm->svc_of[slot] != NONE)
				svc_release(a, fm->svc_of[slot], (enum agg_family)f,
					    fm->svc_over[slot]);
			if (slot == fm->overflow)
				fm->overflow = NONE;
			else
				fm->n_regular--;
			fm->free[fm->nfree++] = slot;
			gone++;
		}
		if (open) {
			st64(&fm->n_order, w);
			seq_write_end(&fm->oseq);
			stat_add(&fm->st.expired, gone);
			stat_add(&fm->st.series, (uint64_t)-(int64_t)gone);
		}
		removed += gone;
	}
	return removed;
}

/* ---- helpers for the parsers' callers ---- */

/* The three digits of an HTTP status code. */
static void status_code_str(uint16_t code, char out[8])
{
	out[0] = (char)('0' + code / 100 % 10);
	out[1] = (char)('0' + code / 10 % 10);
	out[2] = (char)('0' + code % 10);
	out[3] = '\0';
}

/* The labels of an HTTP_SERVER series, and of its quantile window (q). */
static void http_server_labels(const struct agg_http *h, char status[8], const char *l[5],
			       const char *q[2])
{
	status_code_str(h->status, status);
	l[0] = h->service;
	l[1] = h->method;
	l[2] = h->route;
	l[3] = status;
	l[4] = h->tenant;
	q[0] = h->service;
	q[1] = h->route;
}

/* What an exchange adds to its series, and to its window. */
static void http_server_update(const struct agg_http *h, struct agg_update *u)
{
	agg_update_init(u);
	u->add[AGG_HTTP_REQUESTS] = 1;
	u->obs_ns[AGG_HTTP_DURATION] = h->duration_ns;
	u->obs_ns[AGG_HTTP_TTFB] = h->ttfb_ns;
	u->ex_kind = h->ex_kind;
	u->ex_id = h->ex_id;
}

static void window_update(const struct agg_http *h, struct agg_update *u)
{
	agg_update_init(u);
	u->wq_ns = h->duration_ns;
}

/* hash: the keys' hashes of the series and of its window, when known (0: no). */
static int http_server(struct agg *a, const struct agg_http *h, uint64_t now,
		       const uint64_t hash[2])
{
	char status[8];
	const char *l[5], *q[2];
	struct agg_update u;
	int ret;

	http_server_labels(h, status, l, q);
	http_server_update(h, &u);
	ret = update(a, AGG_HTTP_SERVER, l, &u, now, hash[0]);
	if (ret < 0)
		return ret;
	window_update(h, &u);
	update(a, AGG_HTTP_QUANTILE, q, &u, now, hash[1]);
	return ret;
}

int agg__http_server(struct agg *a, const struct agg_http *h, uint64_t now)
{
	static const uint64_t none[2];

	if (!a || !h)
		return -EINVAL;
	return http_server(a, h, now, none);
}

/* ---- batches: fetch first, then update ---- */

static void prefetch_w(const void *p)
{
	__builtin_prefetch(p, 1, 3);
}

/* The series the index holds for hash h, if any: its slot, or NONE. The
 * first slot whose tag matches: a hint, the update compares the key. */
static uint32_t hint_slot(const struct fam *fm, uint64_t h)
{
	uint32_t i = (uint32_t)h & fm->idx.mask, tag = (uint32_t)(h >> 32);

	for (int probes = 0; probes < 8; probes++, i = (i + 1) & fm->idx.mask) {
		if (fm->idx.tab[i].id == NONE)
			return NONE;
		if (fm->idx.tab[i].tag == tag)
			return fm->idx.tab[i].id;
	}
	return NONE;
}

/* The lines an update of hist h (word offset off in v) with v_ns touches. */
static void prefetch_hist(const struct agg *a, uint64_t *v, uint32_t off, uint64_t v_ns)
{
	struct hist *hs = (struct hist *)&v[off];

	prefetch_w(&hs->count);
	if (v_ns != AGG_NO_VALUE)
		prefetch_w(&hs->bucket[hist_bucket(&a->bounds, v_ns)]);
}

/* Header and key of a series, and its first value words. */
static uint64_t *prefetch_series(const struct fam *fm, uint32_t slot)
{
	struct series *s = slot_at(fm, slot);

	prefetch_w(s);
	prefetch_w((const uint8_t *)s + 64);	/* the rest of a short key */
	prefetch_w(s->v);
	return s->v;
}

/* The key of an HTTP_SERVER update's series, packed and hashed as
 * agg__update() would. */
struct prekey {
	uint64_t hash;		/* 0: none (a label to fold: the update decides) */
	uint32_t slot;		/* the series the index names for it, a hint; NONE */
	uint16_t off, len;	/* in the batch's key buffer */
};

#define BATCH_KEYS sizeof(((struct agg *)0)->batch_keys)	/* bytes of packed keys per batch */

static void http_server_key(const struct agg *a, const struct agg_http *h, char *buf,
			    size_t *used, struct prekey *pk)
{
	char status[8];
	const char *val[5] = { h->service, h->method, h->route, status, h->tenant };
	size_t len[5], klen = 5, o = 0;
	char *dst;

	status_code_str(h->status, status);
	pk->hash = 0;
	pk->slot = NONE;
	for (uint32_t i = 0; i < 5; i++) {
		if (!val[i])
			return;	/* refused by the update */
		len[i] = strnlen(val[i], AGG_LABEL_MAX + 1);
		if (len[i] > AGG_LABEL_MAX)
			return;	/* folded by the update: no key for it */
		klen += len[i];
	}
	if (klen > AGG_KEY_MAX || *used + klen > BATCH_KEYS)
		return;
	dst = buf + *used;
	for (uint32_t i = 0; i < 5; i++) {
		memcpy(dst + o, val[i], len[i]);
		o += len[i];
		dst[o++] = '\0';
	}
	pk->off = (uint16_t)*used;
	pk->len = (uint16_t)o;
	pk->hash = hash_bytes(dst, o, a->seed);
	*used += o;
}

/* The window series of (service, route) when it exists as such (not
 * folded), or NONE. */
static uint32_t window_slot(struct agg *a, const struct agg_http *h)
{
	struct fam *fq = &a->fam[AGG_HTTP_QUANTILE];
	struct key k = { .n = 2, .val = { h->service, h->route } };
	uint32_t pos;

	for (uint32_t i = 0; i < 2; i++) {
		k.len[i] = strnlen(k.val[i], AGG_LABEL_MAX + 1);
		if (k.len[i] > AGG_LABEL_MAX)
			return NONE;
	}
	key_build(&k, a->seed);
	pos = find(fq, k.buf, k.klen, k.hash);
	return pos == NONE ? NONE : fq->idx.tab[pos].id;
}

void agg__http_server_batch(struct agg *a, const struct agg_http *h, const uint64_t *now_ns,
			    size_t n)
{
	struct fam *fs = &a->fam[AGG_HTTP_SERVER], *fq = &a->fam[AGG_HTTP_QUANTILE];
	char *keys = a->batch_keys;
	struct prekey pk[AGG_BATCH_MAX];
	size_t used = 0;

	if (n > AGG_BATCH_MAX)
		n = AGG_BATCH_MAX;
	/* 1: the keys, and their index entries */
	for (size_t i = 0; i < n; i++) {
		http_server_key(a, &h[i], keys, &used, &pk[i]);
		if (pk[i].hash)
			prefetch_w(&fs->idx.tab[(uint32_t)pk[i].hash & fs->idx.mask]);
	}
	/* 2: the series, the words the update will change, and what the
	 * series knows of its window */
	for (size_t i = 0; i < n; i++) {
		uint64_t *v;

		if (!pk[i].hash || (pk[i].slot = hint_slot(fs, pk[i].hash)) == NONE)
			continue;
		v = prefetch_series(fs, pk[i].slot);
		prefetch_hist(a, v, fs->lay.off_hist, h[i].duration_ns);
		prefetch_hist(a, v, fs->lay.off_hist + HIST_WORDS, h[i].ttfb_ns);
		prefetch_w(&fs->wq_slot[pk[i].slot]);
		prefetch_w(&fs->wq_gen[pk[i].slot]);
	}
	/* 3: the windows */
	for (size_t i = 0; i < n; i++) {
		uint32_t s = pk[i].slot;
		struct wquant *wq;

		if (s == NONE || !fs->wq_gen[s])
			continue;
		wq = (struct wquant *)&prefetch_series(fq, fs->wq_slot[s])[fq->lay.off_wq];
		if (h[i].duration_ns != AGG_NO_VALUE)
			prefetch_w(&wq->s[(now_ns[i] / a->slot_ns + 1) % WINDOW_RING]
					    .n[wquant_bucket(h[i].duration_ns)]);
	}
	/* 4: the updates, as one by one: an existing series by its key, and
	 * its window by the slot it remembers; anything else (a new series, a
	 * fold, a window not known yet) as agg__http_server() */
	for (size_t i = 0; i < n; i++) {
		static const uint64_t none[2];
		struct agg_update u;
		uint32_t pos, slot, ws;

		pos = pk[i].hash ? find(fs, keys + pk[i].off, pk[i].len, pk[i].hash) : NONE;
		if (pos == NONE) {
			http_server(a, &h[i], now_ns[i], none);
			continue;
		}
		slot = fs->idx.tab[pos].id;
		http_server_update(&h[i], &u);
		apply(a, fs, slot, &u, now_ns[i]);
		window_update(&h[i], &u);
		ws = fs->wq_slot[slot];
		if (fs->wq_gen[slot] && slot_at(fq, ws)->gen == fs->wq_gen[slot]) {
			apply(a, fq, ws, &u, now_ns[i]);
			continue;
		}
		/* not known, or gone since: the update finds it, or makes it */
		{
			char status[8];
			const char *l[5], *q[2];

			http_server_labels(&h[i], status, l, q);
			update(a, AGG_HTTP_QUANTILE, q, &u, now_ns[i], 0);
		}
		ws = window_slot(a, &h[i]);
		fs->wq_slot[slot] = ws;
		fs->wq_gen[slot] = ws == NONE ? 0 : slot_at(fq, ws)->gen;
	}
}

int agg__http_client(struct agg *a, const struct agg_http *h, uint64_t now)
{
	char status[8];
	const char *l[6];
	struct agg_update u;

	if (!a || !h)
		return -EINVAL;
	status_code_str(h->status, status);
	l[0] = h->service;
	l[1] = h->method;
	l[2] = h->peer;
	l[3] = h->route;
	l[4] = status;
	l[5] = h->tenant;
	agg_update_init(&u);
	u.add[AGG_HTTP_REQUESTS] = 1;
	u.obs_ns[AGG_HTTP_DURATION] = h->duration_ns;
	u.ex_kind = h->ex_kind;
	u.ex_id = h->ex_id;
	return agg__update(a, AGG_HTTP_CLIENT, l, &u, now);
}

int agg__http_active(struct agg *a, const char *service, int64_t delta, uint64_t now)
{
	struct agg_update u;

	agg_update_init(&u);
	u.gauge[AGG_HTTP_ACTIVE_REQUESTS] = delta;
	u.gauge_add = 1u << AGG_HTTP_ACTIVE_REQUESTS;
	return agg__update(a, AGG_HTTP_ACTIVE, &service, &u, now);
}

int agg__redis(struct agg *a, const char *service, const char *command, const char *status,
	       uint64_t duration_ns, bool blocking, uint64_t now)
{
	const char *l[3] = { service, command, status };
	struct agg_update u;
	int ret;

	agg_update_init(&u);
	u.add[AGG_REDIS_COMMANDS] = 1;
	ret = agg__update(a, AGG_REDIS, l, &u, now);
	if (ret < 0 || blocking || duration_ns == AGG_NO_VALUE)
		return ret;
	agg_update_init(&u);
	u.obs_ns[AGG_REDIS_LATENCY] = duration_ns;
	agg__update(a, AGG_REDIS_DURATION, l, &u, now);
	return ret;
}

int agg__worker(struct agg *a, const struct agg_worker_ev *ev, uint64_t now)
{
	struct agg_update u;

	if (!ev || ev->counter < -1 || ev->counter >= AGG_W__COUNTERS)
		return -EINVAL;
	agg_update_init(&u);
	if (ev->counter >= 0)
		u.add[ev->counter] = 1;
	switch (ev->counter) {
	case AGG_W_STARTED:
		u.obs_ns[AGG_W_JOB_WAIT] = ev->wait_ns;
		break;
	case AGG_W_COMPLETED:
		u.obs_ns[AGG_W_JOB_DURATION] = ev->duration_ns;
		u.wr_add[AGG_WR_COMPLETED] = 1;
		u.wr_add[AGG_WR_ATTEMPTS] = 1;
		break;
	case AGG_W_FAILED:
	case AGG_W_RETRIED:
		u.obs_ns[AGG_W_JOB_DURATION] = ev->duration_ns;
		u.wr_add[AGG_WR_FAILED] = 1;
		u.wr_add[AGG_WR_ATTEMPTS] = 1;
		u.wr_add[AGG_WR_4XX] = !!(ev->fail & AGG_WF_4XX);
		u.wr_add[AGG_WR_5XX] = !!(ev->fail & AGG_WF_5XX);
		u.wr_add[AGG_WR_TIMEOUT] = !!(ev->fail & AGG_WF_TIMEOUT);
		break;
	default:
		break;
	}
	if (ev->active >= 0) {
		u.gauge[AGG_W_ACTIVE] = ev->active;
		u.gauge_set |= 1u << AGG_W_ACTIVE;
	}
	if (ev->depth >= 0) {
		u.gauge[AGG_W_DEPTH] = ev->depth;
		u.gauge_set |= 1u << AGG_W_DEPTH;
	}
	return agg__update(a, AGG_WORKER, &ev->queue, &u, now);
}

/* ---- readers ---- */

/* Reader: copies slot into hdr/value if it still holds generation gen.
 * Returns false if it does not. */
static bool read_series(const struct fam *fm, uint32_t slot, uint32_t gen, struct series *dst,
			uint64_t *retries)
{
	const struct series *s = slot_at(fm, slot);

	for (uint32_t tries = 0;; tries++) {
		uint64_t b = seq_read_begin(&s->seq), kl;

		if (b & 1)
			goto retry;
		dst->gen = ld64(&s->gen);
		if (dst->gen == 0 || (uint32_t)dst->gen != gen) {
			if (!seq_read_retry(&s->seq, b))
				return false;	/* removed, or reused for another series */
			goto retry;
		}
		dst->created_ns = ld64(&s->created_ns);
		dst->last_ns = ld64(&s->last_ns);
		kl = ld64(&s->key_len);
		if (kl == 0 || kl > AGG_KEY_MAX)
			goto retry;
		dst->key_len = kl;
		ld64_copy(dst->key, s->key, (uint32_t)(kl + 7) / 8);
		ld64_copy(dst->v, s->v, fm->lay.plain_words);
		if (fm->info->wquant)
			wquant_read((struct wquant *)&dst->v[fm->lay.off_wq],
				    (const struct wquant *)&s->v[fm->lay.off_wq]);
		if (!seq_read_retry(&s->seq, b))
			return true;
retry:
		(*retries)++;
		if (tries > 64)
			sched_yield();
	}
}

int agg__visit(const struct agg *a, enum agg_family f, agg_visit_fn fn, void *ctx)
{
	const struct fam *fm;
	uint64_t *order, retries = 0;
	struct series *cur;
	uint32_t n;
	int visited = 0;

	if (!a || (unsigned int)f >= AGG_FAMILY__MAX || !fn)
		return -EINVAL;
	fm = &a->fam[f];
	order = malloc((size_t)fm->nslots * sizeof(*order) + fm->stride);
	if (!order)
		return -ENOMEM;
	cur = (struct series *)(order + fm->nslots);
	for (uint32_t tries = 0;; tries++) {
		uint64_t b = seq_read_begin(&fm->oseq);

		if (!(b & 1)) {
			n = (uint32_t)ld64(&fm->n_order);
			if (n > fm->nslots)
				n = fm->nslots;
			ld64_copy(order, fm->order, n);
			if (!seq_read_retry(&fm->oseq, b))
				break;
		}
		retries++;
		if (tries > 16)
			sched_yield();
	}
	for (uint32_t i = 0; i < n; i++) {
		struct agg_series v = { .n_labels = fm->info->n_labels };
		const char *p, *end;

		if (!read_series(fm, (uint32_t)order[i], (uint32_t)(order[i] >> 32), cur, &retries))
			continue;
		p = key_of(cur);
		end = p + cur->key_len;
		for (uint32_t l = 0; l < v.n_labels; l++) {
			v.label[l] = p < end ? p : "";
			p = p < end ? p + strlen(p) + 1 : end;
		}
		v.created_ns = cur->created_ns;
		v.last_ns = cur->last_ns;
		v.counter = cur->v;
		v.gauge = (const int64_t *)&cur->v[fm->lay.off_gauge];
		v.hist = (const struct hist *)&cur->v[fm->lay.off_hist];
		v.wr = fm->info->wrate ? (const struct wrate *)&cur->v[fm->lay.off_wr] : NULL;
		v.wq = fm->info->wquant ? (const struct wquant *)&cur->v[fm->lay.off_wq] : NULL;
		if (fm->info->exemplar) {
			struct agg_exemplar *ex = (struct agg_exemplar *)&cur->v[fm->lay.off_ex];

			ex->id[AGG_EXEMPLAR_ID_MAX] = 0;
			v.ex = ex->kind ? ex : NULL;
		}
		visited++;
		if (fn(ctx, &v))
			break;
	}
	if (retries)
		__atomic_fetch_add((uint64_t *)&fm->st.read_retries, retries, __ATOMIC_RELAXED);
	free(order);
	return visited;
}

void agg__stats(const struct agg *a, enum agg_family f, struct agg_family_stats *out)
{
	const struct agg_family_stats *st;

	memset(out, 0, sizeof(*out));
	if (!a || (unsigned int)f >= AGG_FAMILY__MAX)
		return;
	st = &a->fam[f].st;
	out->series = stat_get(&st->series);
	out->max_series = stat_get(&st->max_series);
	out->created = stat_get(&st->created);
	out->expired = stat_get(&st->expired);
	for (int r = 0; r < AGG_DROP__MAX; r++)
		out->dropped[r] = stat_get(&st->dropped[r]);
	out->late = stat_get(&st->late);
	out->read_retries = stat_get(&st->read_retries);
}

uint32_t agg__services(const struct agg *a)
{
	return (uint32_t)stat_get(&a->n_svc);
}

const struct hist_bounds *agg__bounds(const struct agg *a)
{
	return &a->bounds;
}

uint64_t agg__slot_ns(const struct agg *a)
{
	return a->slot_ns;
}
