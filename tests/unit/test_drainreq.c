// SPDX-License-Identifier: Apache-2.0
/*
 * Unit tests of drainreq.c: a scrape is served only by a drain that began
 * after it asked, concurrent scrapes share one drain, the eventfd says when
 * a request waits, and a loop that does not answer gives a counted miss.
 */
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "drainreq.h"

struct waiter {
	struct drainreq *d;
	uint32_t timeout_ms;
	bool ok;
	int returned;		/* atomic */
	pthread_t t;
};

static void *wait_main(void *arg)
{
	struct waiter *w = arg;

	w->ok = drainreq_wait(w->d, w->timeout_ms);
	__atomic_store_n(&w->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void start(struct waiter *w, struct drainreq *d, uint32_t timeout_ms)
{
	*w = (struct waiter){ .d = d, .timeout_ms = timeout_ms };
	pthread_create(&w->t, NULL, wait_main, w);
}

static bool returned(struct waiter *w)
{
	return __atomic_load_n(&w->returned, __ATOMIC_ACQUIRE);
}

static bool fd_readable(struct drainreq *d, int timeout_ms)
{
	struct pollfd p = { .fd = drainreq_fd(d), .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1;
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){ .tv_nsec = ms * 1000000L }, NULL);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A drain that took its ticket before the request does not serve it. */
static void test_only_a_later_drain_serves(void)
{
	struct drainreq d;
	struct waiter w;
	uint64_t early, late;

	CHECK_EQ_INT(drainreq_init(&d), 0);
	CHECK(!fd_readable(&d, 0));
	early = drainreq_begin(&d);	/* a drain is under way... */
	start(&w, &d, 5000);
	CHECK(fd_readable(&d, 2000));	/* ...when a scrape asks */
	drainreq_done(&d, early);
	sleep_ms(50);
	CHECK_MSG(!returned(&w), "served by a drain that began before the request");
	late = drainreq_begin(&d);
	CHECK(!fd_readable(&d, 0));	/* taken: the fd is clear */
	CHECK(late > early);
	drainreq_done(&d, late);
	pthread_join(w.t, NULL);
	CHECK(w.ok);
	CHECK_EQ_INT(drainreq_misses(&d), 0);
	drainreq_destroy(&d);
}

/* Scrapes that ask during the same wait share one drain. */
static void test_waiters_share_a_drain(void)
{
	struct drainreq d;
	struct waiter w[4];

	CHECK_EQ_INT(drainreq_init(&d), 0);
	for (int i = 0; i < 4; i++)
		start(&w[i], &d, 5000);
	while (__atomic_load_n(&d.asked, __ATOMIC_RELAXED) < 4)	/* all asked */
		sleep_ms(1);
	drainreq_done(&d, drainreq_begin(&d));
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].t, NULL);
		CHECK(w[i].ok);
	}
	drainreq_destroy(&d);
}

/* Nobody drains: the scrape goes on after its timeout, and it is counted. */
static void test_no_loop_is_a_counted_miss(void)
{
	struct drainreq d;
	struct timespec t0;
	long ms;

	CHECK_EQ_INT(drainreq_init(&d), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(!drainreq_wait(&d, 100));
	ms = ms_since(&t0);
	CHECK_MSG(ms >= 99 && ms < 2000, "waited %ld ms for a 100 ms timeout", ms);
	CHECK_EQ_INT(drainreq_misses(&d), 1);
	/* the request stays pending: the next drain clears it */
	CHECK(fd_readable(&d, 0));
	drainreq_done(&d, drainreq_begin(&d));
	CHECK(!fd_readable(&d, 0));
	drainreq_destroy(&d);
}

/* After one timed-out wait, later ones do not wait (one thread serves the
 * endpoint: /healthz must not queue behind them) until a drain finishes. */
static void test_stuck_loop_no_queue(void)
{
	struct drainreq d;
	struct timespec t0;
	struct waiter w;

	CHECK_EQ_INT(drainreq_init(&d), 0);
	CHECK(!drainreq_wait(&d, 100));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(!drainreq_wait(&d, 5000));
	CHECK(!drainreq_wait(&d, 5000));
	CHECK_MSG(ms_since(&t0) < 1000, "two waits on a stuck loop took %ld ms", ms_since(&t0));
	CHECK_EQ_INT(drainreq_misses(&d), 3);
	CHECK(fd_readable(&d, 0));		/* they still ask */
	drainreq_done(&d, drainreq_begin(&d));	/* the loop is back */
	start(&w, &d, 5000);
	CHECK(fd_readable(&d, 2000));
	sleep_ms(50);
	CHECK_MSG(!returned(&w), "a wait after the loop came back did not wait for its drain");
	drainreq_done(&d, drainreq_begin(&d));
	pthread_join(w.t, NULL);
	CHECK(w.ok);
	CHECK_EQ_INT(drainreq_misses(&d), 3);
	drainreq_destroy(&d);
}

/* After the loop's last drain, a scrape gets the final figures at once. */
static void test_closed_answers_at_once(void)
{
	struct drainreq d;
	struct timespec t0;
	struct waiter w;

	CHECK_EQ_INT(drainreq_init(&d), 0);
	start(&w, &d, 5000);		/* waiting when the loop ends */
	CHECK(fd_readable(&d, 2000));
	drainreq_close(&d);
	pthread_join(w.t, NULL);
	CHECK(w.ok);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(drainreq_wait(&d, 5000));
	CHECK(ms_since(&t0) < 1000);
	CHECK_EQ_INT(drainreq_misses(&d), 0);
	drainreq_destroy(&d);
}

/* A loop thread as main.c runs it, and scrapes that each check the drain
 * they got held what was written before they asked. */
struct loop {
	struct drainreq *d;
	uint64_t written;	/* "records in the ring" (atomic) */
	uint64_t drained;	/* what the last finished drain read (atomic) */
	int stop;		/* atomic */
};

static void *loop_main(void *arg)
{
	struct loop *l = arg;
	struct pollfd p = { .fd = drainreq_fd(l->d), .events = POLLIN };
	uint64_t ticket;

	while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
		poll(&p, 1, 20);
		ticket = drainreq_begin(l->d);
		__atomic_store_n(&l->drained, __atomic_load_n(&l->written, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
		drainreq_done(l->d, ticket);
	}
	return NULL;
}

static void test_a_scrape_sees_what_came_before_it(void)
{
	struct drainreq d;
	struct loop l = { .d = &d };
	pthread_t t;
	int stale = 0;

	CHECK_EQ_INT(drainreq_init(&d), 0);
	pthread_create(&t, NULL, loop_main, &l);
	for (uint64_t i = 1; i <= 2000; i++) {
		__atomic_store_n(&l.written, i, __ATOMIC_RELEASE);
		CHECK(drainreq_wait(&d, 5000));
		stale += __atomic_load_n(&l.drained, __ATOMIC_ACQUIRE) < i;
	}
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK_EQ_INT(stale, 0);
	CHECK_EQ_INT(drainreq_misses(&d), 0);
	drainreq_destroy(&d);
}

int main(void)
{
	RUN(test_only_a_later_drain_serves);
	RUN(test_waiters_share_a_drain);
	RUN(test_no_loop_is_a_counted_miss);
	RUN(test_stuck_loop_no_queue);
	RUN(test_closed_answers_at_once);
	RUN(test_a_scrape_sees_what_came_before_it);
	return check_summary();
}
