/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace.h - the --trace sink: one JSON line per event (docs/TRACE.md).
 */
#ifndef SBA_TRACE_H
#define SBA_TRACE_H

#include <stdio.h>

#include "events.h"
#include "sba_abi.h"

/* A sink writing to f; f is flushed by trace_flush() after each drain. */
struct event_sink trace_sink(FILE *f);

void trace_ready(FILE *f, const char *hooks, int targets);
void trace_closed_by_exit(void *f, uint32_t tgid, uint64_t conn_id, int fd);
void trace_stats(FILE *f, const struct sba_counters *c, const struct events *e);

#endif /* SBA_TRACE_H */
