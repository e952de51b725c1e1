// SPDX-License-Identifier: Apache-2.0
/*
 * drainreq.c - a scrape asks the event loop for a drain (see drainreq.h).
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "drainreq.h"

int drainreq_init(struct drainreq *d)
{
	pthread_condattr_t ca;
	int err;

	*d = (struct drainreq){ .fd = -1 };
	d->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	err = pthread_mutex_init(&d->lock, NULL);
	if (!err) {
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		err = pthread_cond_init(&d->done_cv, &ca);
		pthread_condattr_destroy(&ca);
		if (err)
			pthread_mutex_destroy(&d->lock);
	}
	if (err) {
		close(d->fd);
		d->fd = -1;
		return -err;
	}
	return 0;
}

void drainreq_destroy(struct drainreq *d)
{
	if (d->fd < 0)
		return;
	pthread_cond_destroy(&d->done_cv);
	pthread_mutex_destroy(&d->lock);
	close(d->fd);
	d->fd = -1;
}

bool drainreq_wait(struct drainreq *d, uint32_t timeout_ms)
{
	struct timespec until;
	uint64_t ticket, one = 1;
	bool ok = true;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->lock);
	if (d->closed) {
		pthread_mutex_unlock(&d->lock);
		return true;
	}
	ticket = ++d->asked;
	/* EAGAIN only when the counter is near 2^64: it is readable then anyway */
	if ((write(d->fd, &one, sizeof(one)) < 0 && errno != EAGAIN) || d->stuck)
		ok = false;
	while (ok && d->done < ticket)
		if (pthread_cond_timedwait(&d->done_cv, &d->lock, &until) == ETIMEDOUT) {
			ok = d->done >= ticket;
			d->stuck = !ok;
		}
	if (!ok)
		d->misses++;
	pthread_mutex_unlock(&d->lock);
	return ok;
}

uint64_t drainreq_begin(struct drainreq *d)
{
	uint64_t ticket, v;

	pthread_mutex_lock(&d->lock);
	/* cleared under the lock: a request after this point writes again */
	while (read(d->fd, &v, sizeof(v)) > 0)
		;
	ticket = d->asked;
	pthread_mutex_unlock(&d->lock);
	return ticket;
}

void drainreq_done(struct drainreq *d, uint64_t ticket)
{
	pthread_mutex_lock(&d->lock);
	d->stuck = false;	/* the loop answers again */
	if (ticket > d->done) {
		d->done = ticket;
		pthread_cond_broadcast(&d->done_cv);
	}
	pthread_mutex_unlock(&d->lock);
}

void drainreq_close(struct drainreq *d)
{
	pthread_mutex_lock(&d->lock);
	d->closed = true;
	d->done = d->asked;
	pthread_cond_broadcast(&d->done_cv);
	pthread_mutex_unlock(&d->lock);
}

uint64_t drainreq_misses(struct drainreq *d)
{
	uint64_t n;

	pthread_mutex_lock(&d->lock);
	n = d->misses;
	pthread_mutex_unlock(&d->lock);
	return n;
}
