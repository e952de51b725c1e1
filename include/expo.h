/* SPDX-License-Identifier: Apache-2.0 */
/*
 * expo.h - Prometheus exposition writer: text format 0.0.4 and OpenMetrics
 * 1.0 into a struct buf, plus the HTTP negotiation helpers (Accept,
 * Accept-Encoding) and gzip.
 *
 * Usage: expo_init(), then for each family expo_family() followed by all of
 * its series (expo_counter/expo_gauge/expo_histogram), then expo_finish().
 * HELP and TYPE are written once, by expo_family(); a family name given twice
 * is refused (-EEXIST) so the output can never hold a duplicate family. The
 * output order is the call order, so a caller that walks its data in a stable
 * order gets a stable exposition.
 *
 * Counters are named without "_total": the writer adds it to every sample in
 * both formats and to the HELP/TYPE lines in text 0.0.4 (OpenMetrics names
 * the family without it). A name given with "_total" is accepted and trimmed.
 *
 * Label values are escaped (\\, \", \n) and invalid UTF-8 is replaced by
 * U+FFFD, so bytes seen on the wire can never break the exposition. A series
 * with an invalid label name or bucket layout is skipped and counted in
 * `skipped`; the exposition stays valid.
 */
#ifndef SBA_EXPO_H
#define SBA_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum expo_format {
	EXPO_FMT_TEXT = 0,		/* text/plain; version=0.0.4 */
	EXPO_FMT_OPENMETRICS = 1,	/* application/openmetrics-text; version=1.0.0 */
};

enum expo_type {
	EXPO_COUNTER = 0,
	EXPO_GAUGE = 1,
	EXPO_HISTOGRAM = 2,
	EXPO_SUMMARY = 3,	/* quantile samples only (expo_quantile); no _sum/_count */
};

struct expo_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value;	/* any bytes; escaped and UTF-8-sanitised on output */
};

/* An exemplar (OpenMetrics only; ignored in text 0.0.4). The label names and
 * values together must stay within 128 bytes, or it is dropped. */
struct expo_exemplar {
	const struct expo_label *labels;	/* e.g. {"trace_id", "4bf92f35..."} */
	unsigned int n_labels;
	double value;				/* the observed value */
	double ts;				/* Unix seconds; 0: no timestamp */
};

#define EXPO_NAME_MAX 128		/* longest family name, without suffixes */
#define EXPO_MAX_BUCKETS 64		/* finite bucket bounds per histogram */
#define EXPO_MAX_FAMILIES 512		/* families checked for duplicates */
#define EXPO_MAX_LABELS 15		/* labels of one expo_quantile() sample, quantile aside */

struct expo {
	struct buf *out;
	enum expo_format fmt;
	const char *only_prefix;	/* NULL: every family */
	/* the current family */
	char name[EXPO_NAME_MAX + 8];
	size_t name_len;
	enum expo_type type;
	bool active;			/* samples of the current family are written */
	/* per-series scratch, reused */
	char *scratch;
	size_t scratch_cap;
	/* "le" strings of the last bounds seen */
	const double *le_bounds;
	unsigned int le_n;
	uint8_t le_len[EXPO_MAX_BUCKETS];
	char le_str[EXPO_MAX_BUCKETS][40];	/* `<le>"} ` */
	/* families written so far (hashes) */
	uint64_t fam_hash[EXPO_MAX_FAMILIES];
	unsigned int n_fam;
	/* results */
	uint64_t series;		/* series written */
	uint64_t skipped;		/* series or families refused */
	bool scratch_oom;
};

/* Starts an exposition into out (appended; out keeps its max). When
 * only_prefix is set, families whose name does not start with it are
 * skipped silently. The caller keeps out and only_prefix alive until
 * expo_finish(). */
void expo_init(struct expo *e, struct buf *out, enum expo_format fmt, const char *only_prefix);

/*
 * Starts family `name` and writes its HELP and TYPE lines. help may be NULL.
 * Returns 0, 1 when the family is filtered out by only_prefix (its samples
 * are then ignored), -EINVAL for an invalid name, -EEXIST when the family
 * was already written (its samples are ignored).
 */
int expo_family(struct expo *e, const char *name, enum expo_type type, const char *help);

/* One series of the current family. labels may be NULL when n is 0. */
void expo_counter(struct expo *e, const struct expo_label *labels, unsigned int n, uint64_t value);
void expo_gauge(struct expo *e, const struct expo_label *labels, unsigned int n, double value);
/* A counter whose value is not a whole number (CPU seconds). */
void expo_counter_double(struct expo *e, const struct expo_label *labels, unsigned int n,
			 double value);
/* One quantile sample of the current EXPO_SUMMARY family: labels plus
 * quantile="q" (q written as given). */
void expo_quantile(struct expo *e, const struct expo_label *labels, unsigned int n,
		   const char *q, double value);

/* One histogram series, as the caller holds it. */
struct expo_hist {
	const double *bounds;		/* finite upper bounds, strictly increasing */
	unsigned int n_bounds;		/* 0..EXPO_MAX_BUCKETS */
	const uint64_t *counts;		/* n_bounds + 1 values; [n_bounds] is +Inf */
	bool cumulative;		/* counts are already cumulative (hist_export) */
	double sum;
	const struct expo_exemplar *const *ex;	/* NULL, or n_bounds + 1 pointers (each
						 * NULL or valid) for the bucket lines */
};

/*
 * One histogram series: cumulative _bucket lines with le="+Inf" last, then
 * _sum and _count (= the +Inf bucket). Counts that are not cumulative are
 * summed; cumulative ones must not decrease, or the series is skipped.
 * Exemplars are written in OpenMetrics only. Bounds are formatted once and
 * reused while the same bounds pointer and count are passed.
 */
void expo_histogram(struct expo *e, const struct expo_label *labels, unsigned int n,
		    const struct expo_hist *h);

/* Ends the exposition ("# EOF" in OpenMetrics) and frees the scratch.
 * Returns 0, or -ENOMEM when out ran out of memory or hit its max (the
 * output is then incomplete and must not be served). */
int expo_finish(struct expo *e);

/* The format to answer an Accept header with (NULL: text 0.0.4).
 * OpenMetrics 1.0.0 is chosen when offered with a q at least that of
 * text/plain. */
enum expo_format expo_negotiate(const char *accept);

/* The Content-Type of a format, charset included. */
const char *expo_content_type(enum expo_format fmt);

/* True when an Accept-Encoding header accepts gzip (q > 0). */
bool expo_accepts_gzip(const char *accept_encoding);

/* Appends the gzip of in[0..n) to out. Returns 0, -ENOMEM, or -EIO. */
int expo_gzip(const void *in, size_t n, struct buf *out);

/* Writes v the way the exposition does (shortest form that reads back
 * as v; "+Inf", "-Inf", "NaN"). Returns the length, at most 31. */
size_t expo_format_double(char dst[32], double v);

#endif /* SBA_EXPO_H */
