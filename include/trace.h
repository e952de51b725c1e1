/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace.h - the --trace sink: one JSON line per event (docs/TRACE.md).
 */
#ifndef SBA_TRACE_H
#define SBA_TRACE_H

#include <stdio.h>

#include "events.h"
#include "pipeline.h"
#include "sba_abi.h"

/* A sink writing the SBA_TRACE_PROC/CONN/DATA kinds of `kinds` to f. */
struct event_sink trace_sink(FILE *f, uint32_t kinds);
/* The pipeline's side output: SBA_TRACE_HTTP/JOB kinds of `kinds`. */
struct pipeline_tap trace_tap(FILE *f, uint32_t kinds);

void trace_ready(FILE *f, const char *hooks, int targets);
void trace_closed_by_exit(void *f, uint32_t tgid, uint64_t conn_id, int fd);
void trace_stats(FILE *f, const struct sba_counters *c, const struct events *e);

#endif /* SBA_TRACE_H */
