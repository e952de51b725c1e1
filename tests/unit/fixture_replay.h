/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fixture_replay.h - load the BullMQ wire fixtures (tests/fixtures/bullmq) and
 * replay them into a struct redisconn, for test_redisconn.c and test_bullmq.c.
 *
 * NAME.chunks.jsonl has one syscall per line: {"seq","t","dir","call","len",
 * "trimmed","hex"}; a dozen lines of strstr and hex decoding read it, no JSON
 * library. NAME.c2s.bin / NAME.s2c.bin hold the same bytes per direction.
 * Fixtures are found relative to the repo root (tests run with cwd = root),
 * or under $SBA_FIXTURES.
 */
#ifndef SBA_FIXTURE_REPLAY_H
#define SBA_FIXTURE_REPLAY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redisconn.h"

static const char *const fx_names[] = {
	"v670_resp3_01_handshake_queue",
	"v670_resp3_02_producer_add",
	"v670_resp3_03_eval_then_evalsha_getCounts",
	"v670_resp3_04_worker_lifecycle",
	"v670_resp3_05_worker_extendLocks_stalled",
	"v670_resp3_06_blocking_bzpopmin",
	"v670_resp3_07_queueevents_xread",
	"v670_resp3_08_burst_adds_one_read",
	"v670_resp3_09_reply_split_across_reads",
	"v670_resp3_10_stalled_job_recovered",
	"v5815_resp2_04_worker_lifecycle",
	"v5815_resp2_06_blocking_bzpopmin",
	"v5815_resp2_07_queueevents_xread",
	"v4183_resp2_04_worker_multi_exec",
	"v4183_resp2_06_blocking_rpoplpush",
};
#define FX_COUNT (sizeof(fx_names) / sizeof(fx_names[0]))

struct fx_chunk {
	enum redis_dir dir;
	uint64_t ts_ns;
	uint8_t *data;
	size_t len;
};

struct fx {
	struct fx_chunk *chunks;
	size_t n;
	uint8_t *c2s, *s2c;
	size_t c2s_len, s2c_len;
	char *txt;		/* the transcript */
};

static const char *fx_dir(void)
{
	const char *d = getenv("SBA_FIXTURES");

	return d && *d ? d : "tests/fixtures/bullmq";
}

static char *fx_read(const char *name, const char *ext, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s%s", fx_dir(), name, ext);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s (run from the repo root or set SBA_FIXTURES)\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* The string value of "key": "..." in line, copied to out; false if absent. */
static bool fx_field(const char *line, const char *key, const char **val, size_t *vlen)
{
	char pat[32];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(line, pat);
	if (!p)
		return false;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e)
		return false;
	*val = p;
	*vlen = (size_t)(e - p);
	return true;
}

static int fx_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void fx_free(struct fx *fx)
{
	for (size_t i = 0; i < fx->n; i++)
		free(fx->chunks[i].data);
	free(fx->chunks);
	free(fx->c2s);
	free(fx->s2c);
	free(fx->txt);
	memset(fx, 0, sizeof(*fx));
}

static bool fx_load(struct fx *fx, const char *name)
{
	size_t len, cap = 64;
	char *jl, *line, *save = NULL;

	memset(fx, 0, sizeof(*fx));
	fx->c2s = (uint8_t *)fx_read(name, ".c2s.bin", &fx->c2s_len);
	fx->s2c = (uint8_t *)fx_read(name, ".s2c.bin", &fx->s2c_len);
	fx->txt = fx_read(name, ".txt", &len);
	jl = fx_read(name, ".chunks.jsonl", &len);
	if (!fx->c2s || !fx->s2c || !fx->txt || !jl) {
		free(jl);
		fx_free(fx);
		return false;
	}
	fx->chunks = calloc(cap, sizeof(*fx->chunks));
	for (line = strtok_r(jl, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *t, *dir, *hex;
		size_t tl, dl, hl;
		struct fx_chunk *c;
		unsigned hh, mm, ss, us;

		if (!fx_field(line, "t", &t, &tl) || !fx_field(line, "dir", &dir, &dl) ||
		    !fx_field(line, "hex", &hex, &hl) || hl % 2)
			continue;
		if (fx->n == cap) {
			cap *= 2;
			fx->chunks = realloc(fx->chunks, cap * sizeof(*fx->chunks));
		}
		c = &fx->chunks[fx->n++];
		c->dir = dl == 3 && memcmp(dir, "C>S", 3) == 0 ? REDIS_DIR_OUT : REDIS_DIR_IN;
		if (sscanf(t, "%u:%u:%u.%u", &hh, &mm, &ss, &us) == 4)
			c->ts_ns = (((uint64_t)hh * 60 + mm) * 60 + ss) * 1000000000ull + us * 1000ull;
		c->len = hl / 2;
		c->data = malloc(c->len ? c->len : 1);
		for (size_t i = 0; i < c->len; i++)
			c->data[i] = (uint8_t)(fx_hex(hex[2 * i]) << 4 | fx_hex(hex[2 * i + 1]));
	}
	free(jl);
	return fx->n > 0;
}

/* At the real syscall boundaries, fully captured. */
static void fx_replay_syscalls(const struct fx *fx, struct redisconn *c)
{
	for (size_t i = 0; i < fx->n; i++)
		redisconn__feed(c, fx->chunks[i].dir, fx->chunks[i].data, fx->chunks[i].len,
				fx->chunks[i].len, 0, fx->chunks[i].ts_ns, fx->chunks[i].ts_ns);
}

/*
 * Every command byte as its own write, then every reply byte as its own read
 * (all commands are pipelined before any reply: FIFO pairing must hold).
 * step > 1 uses pieces of `step` bytes instead.
 */
static void fx_replay_split(const struct fx *fx, struct redisconn *c, size_t step)
{
	uint64_t ts = 1000;

	for (size_t i = 0; i < fx->c2s_len; i += step, ts += 10) {
		size_t n = fx->c2s_len - i < step ? fx->c2s_len - i : step;

		redisconn__feed(c, REDIS_DIR_OUT, fx->c2s + i, n, n, 0, ts, ts + 1);
	}
	for (size_t i = 0; i < fx->s2c_len; i += step, ts += 10) {
		size_t n = fx->s2c_len - i < step ? fx->s2c_len - i : step;

		redisconn__feed(c, REDIS_DIR_IN, fx->s2c + i, n, n, 0, ts, ts + 1);
	}
}

#endif /* SBA_FIXTURE_REPLAY_H */
