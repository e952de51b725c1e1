/* SPDX-License-Identifier: Apache-2.0 */
/*
 * drainreq.h - a scrape asks the event loop for a drain and waits for it.
 *
 * The event loop drains the ring rarely (--poll-ms, 1 s by default): a drain
 * costs a wakeup and a cache that the other processes on its CPU have made
 * cold, whatever it brings, so fewer, larger drains cost less per request.
 * What must not wait a second is a reader: a scrape (or /debug/slow) calls
 * drainreq_wait(), which wakes the loop through an eventfd and returns once
 * a drain that started after the call has been handed to the pipeline. So
 * what a scrape shows includes every record the probes wrote before it
 * arrived, however long the poll interval.
 *
 * Generations, under one mutex: `asked` counts the requests, `done` is the
 * value of `asked` that the last completed drain had seen before it began.
 * A waiter asking as request g is served once done >= g; waiters that ask
 * while a drain is pending share it. If the loop does not answer within the
 * waiter's timeout (it is stuck, or gone), the scrape goes on with what
 * there is and the miss is counted (drainreq_misses()); until the loop
 * finishes a drain again, later waiters do not wait at all (they still ask,
 * and are counted): one thread serves the endpoint, and a stalled loop must
 * not hold /healthz behind a queue of one-second waits. Once the loop has
 * ended (drainreq_close()), waiters get the final figures at once.
 */
#ifndef SBA_DRAINREQ_H
#define SBA_DRAINREQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct drainreq {
	pthread_mutex_t lock;
	pthread_cond_t done_cv;	/* CLOCK_MONOTONIC */
	uint64_t asked;		/* requests so far */
	uint64_t done;		/* `asked` as seen by the start of the last finished drain */
	uint64_t misses;	/* waits that timed out, or skipped while stuck */
	bool stuck;		/* a wait timed out, and no drain finished since */
	bool closed;		/* the loop has ended: nothing more will be drained */
	int fd;			/* eventfd: readable while a request waits */
};

/* Sets up d; returns 0 or -errno. */
int drainreq_init(struct drainreq *d);
void drainreq_destroy(struct drainreq *d);

/* The fd the event loop waits on, with the ring. */
static inline int drainreq_fd(const struct drainreq *d)
{
	return d->fd;
}

/* Reader side: asks for a drain and waits for it, up to timeout_ms.
 * Returns true when one was done, false on a timeout (counted). */
bool drainreq_wait(struct drainreq *d, uint32_t timeout_ms);

/* Loop side, before it reads the ring: takes the pending requests (and
 * clears the fd). Returns the ticket to hand to drainreq_done(). */
uint64_t drainreq_begin(struct drainreq *d);

/* Loop side, once what it read is visible to the renderers: serves every
 * request up to ticket. */
void drainreq_done(struct drainreq *d, uint64_t ticket);

/* Loop side, after its last drain: every wait from now on returns at once. */
void drainreq_close(struct drainreq *d);

uint64_t drainreq_misses(struct drainreq *d);

#endif /* SBA_DRAINREQ_H */
