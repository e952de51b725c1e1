/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tenant.h - tenant label from the tenant header value, with bounded
 * cardinality.
 *
 * A value is valid if it is 1..TENANT_MAX_LEN bytes of [A-Za-z0-9._-];
 * otherwise the label is TENANT_INVALID; a request without the header (or
 * with an empty value) gets TENANT_NONE. Valid values go through a top-K
 * tracker (`--max-tenants`): the K busiest tenants keep their own label, the
 * rest fold into TENANT_OTHER, counted.
 *
 * The tracker is the space-saving algorithm over a fixed table of 4K
 * counters (at least 64): memory is fixed at creation, whatever the number of
 * distinct tenants. A labelled tenant stays labelled until an unlabelled one
 * is clearly busier (25% margin), so series do not flap; call
 * tenant_topk__decay() periodically (e.g. every minute) so that "busiest"
 * means recently busiest.
 */
#ifndef SBA_TENANT_H
#define SBA_TENANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TENANT_MAX_LEN		64
#define TENANT_NONE		"none"
#define TENANT_INVALID		"invalid"
#define TENANT_OTHER		"other"
#define TENANT_MAX_TENANTS_DEFAULT 50
#define TENANT_MAX_TENANTS_LIMIT 10000

/* True if v[0..len) is 1..TENANT_MAX_LEN bytes of [A-Za-z0-9._-]. */
bool tenant_is_valid(const char *v, size_t len);

struct tenant_topk;

/* k 0 = TENANT_MAX_TENANTS_DEFAULT; k > TENANT_MAX_TENANTS_LIMIT: NULL, EINVAL. */
struct tenant_topk *tenant_topk__new(uint32_t k);
void tenant_topk__free(struct tenant_topk *t);

/*
 * Counts one request and returns its label: TENANT_NONE if !present or
 * len == 0, TENANT_INVALID if not valid, the tenant itself if it is among the
 * labelled ones, else TENANT_OTHER. The returned string is valid until the
 * next call on t; copy it to keep it.
 */
const char *tenant_topk__label(struct tenant_topk *t, const char *v, size_t len, bool present);

/* Halves every count, so old traffic weighs less than recent traffic. */
void tenant_topk__decay(struct tenant_topk *t);

uint64_t tenant_topk__folded(const struct tenant_topk *t);	/* requests labelled other */
uint64_t tenant_topk__evictions(const struct tenant_topk *t);	/* labels handed to a busier tenant */
uint32_t tenant_topk__labelled(const struct tenant_topk *t);	/* tenants with their own label */
/* Estimated count of a tenant (0 if not tracked): an upper bound. */
uint64_t tenant_topk__estimate(const struct tenant_topk *t, const char *v, size_t len);

#endif /* SBA_TENANT_H */
