// SPDX-License-Identifier: Apache-2.0
/*
 * main.c - sba-observer: config -> loader -> metrics endpoint -> drain loop ->
 * clean exit. The endpoint runs on its own thread and reads what the loop
 * publishes after each drain (selfmetrics.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "drainreq.h"
#include "events.h"
#include "httpd.h"
#include "loader.h"
#include "log.h"
#include "pipeline.h"
#include "procscan.h"
#include "selfmetrics.h"
#include "trace.h"

static volatile sig_atomic_t exiting;
static volatile sig_atomic_t stats_requested;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		stats_requested = 1;
	else
		exiting = 1;
}

static void install_signals(void)
{
	/* SA_RESTART: a write to a slow stdout reader must not fail with EINTR and
	 * make stdio drop what it buffered; the loop checks the flags anyway. */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Drops the map entries of processes that exited since the last call,
 * hands the kernel the owners of pending sockets the drain learnt, and puts
 * the packet programs where new targets' packets pass. */
static void update_maps(struct loader *l, struct events *ev, const struct sba_config *cfg)
{
	events__take_born(ev, loader__cover_process, loader__cover_targets, l);
	for (int i = 0; i < ev->n_exits; i++)
		loader__forget_process(l, ev->exits[i].tgid, ev->exits[i].gen,
				       cfg->trace & SBA_TRACE_CONN ? trace_closed_by_exit : NULL, stdout);
	ev->n_exits = 0;
	events__take_owned(ev, loader__own_socket, l);
}

/* What the per-target attach of --hooks skb has covered, for /metrics. */
static void publish_scope(struct selfmetrics_shared *s, const struct loader *l)
{
	uint32_t cgroups;
	uint64_t uncovered;

	if (!loader__skb_scope(l, &cgroups, &uncovered))
		return;
	__atomic_store_n(&s->skb_cgroups, cgroups, __ATOMIC_RELAXED);
	__atomic_store_n(&s->skb_uncovered, uncovered, __ATOMIC_RELAXED);
	__atomic_store_n(&s->skb_scoped, true, __ATOMIC_RELAXED);
}

static void print_stats(struct loader *l, const struct events *ev)
{
	struct sba_counters c;
	int err = loader__counters(l, &c);

	if (err) {
		pr_warn("cannot read the counters map: %s\n", strerror(-err));
		return;
	}
	events__add_stats(ev, &c);
	trace_stats(stdout, &c, ev);
}

/* Starts the metrics endpoint; the env token is wiped once hashed. */
static int start_exporter(struct sba_config *cfg, struct loader *l,
			  struct selfmetrics_shared *shared, struct selfmetrics **sm,
			  struct pipeline *pipe, struct drainreq *fresh, struct httpd **httpd)
{
	char *env_token = (char *)cfg->http.auth.env_token;
	struct httpd_renderer r[2];
	struct httpd_debug dbg = { pipeline__slow_json, pipe };
	int err = 0;

	*sm = selfmetrics__new(l, shared);
	if (!*sm) {
		err = -errno;
		pr_err("cannot set up the metrics: %s\n", strerror(errno));
		goto out;
	}
	r[0] = (struct httpd_renderer){ selfmetrics__render, *sm };
	r[1] = (struct httpd_renderer){ pipeline__render, pipe };
	*httpd = httpd__start(&cfg->http, shared, r, 2, &dbg, fresh);
	if (!*httpd)
		err = errno ? -errno : -EINVAL;
out:
	/* the copy in the environment block would show in /proc/PID/environ */
	if (env_token)
		explicit_bzero(env_token, strlen(env_token));
	cfg->http.auth.env_token = NULL;
	return err;
}

int main(int argc, char **argv)
{
	static struct events ev;
	static struct selfmetrics_shared shared;
	static struct drainreq fresh = { .fd = -1 };
	struct selfmetrics *sm = NULL;
	struct httpd *httpd = NULL;
	struct pipeline *pipe;
	struct sba_config cfg;
	struct loader l = {};
	struct event_sink sink;
	uint64_t last_tick = 0, now, ticket;
	int err, targets, wait_ms, bad_line = 0;

	err = config_parse(&cfg, argc, argv);
	if (err)
		return err > 0 ? 0 : 2;
	install_signals();

	if (cfg.trace) {
		sink = trace_sink(stdout, cfg.trace);
		events__add_sink(&ev, &sink);
		cfg.pipe.tap = trace_tap(stdout, cfg.trace);
	}
	pipe = pipeline__new(&cfg.pipe, &bad_line);
	if (!pipe) {
		if (errno == EINVAL && bad_line)
			pr_err("--routes %s: line %d is not a route pattern (/users/:id)\n",
			       cfg.pipe.routes_file, bad_line);
		else if (errno == EINVAL)
			pr_err("--tenant-header %s: not a header name we may read\n",
			       cfg.pipe.tenant_header ? cfg.pipe.tenant_header : "");
		else
			pr_err("cannot set up the parsers: %s\n", strerror(errno));
		return 2;
	}
	sink = pipeline__sink(pipe);
	events__add_sink(&ev, &sink);
	if (cfg.hooks == SBA_HOOKS_SKB && events__use_packets(&ev, cfg.max_conns)) {
		pr_err("cannot set up the packet decoder: %s\n", strerror(errno));
		pipeline__free(pipe);
		return 2;
	}
	/* Load and attach first, then scan /proc: nothing falls between the two. */
	err = loader__start(&l, &cfg, events__handle, &ev);
	if (err)
		return 1;
	targets = procscan_seed(&l, &cfg);
	if (targets < 0) {
		err = targets;
		goto out;
	}
	__atomic_store_n(&shared.attached, (uint32_t)l.n_attached, __ATOMIC_RELAXED);
	publish_scope(&shared, &l);
	selfmetrics_publish(&shared, &ev, selfmetrics_now_ns());
	if (!httpd_is_disabled(&cfg.http)) {
		err = drainreq_init(&fresh);
		if (!err)
			err = loader__watch(&l, drainreq_fd(&fresh));
		if (err) {
			pr_err("cannot set up scrape-driven drains: %s\n", strerror(-err));
			goto out;
		}
		err = start_exporter(&cfg, &l, &shared, &sm, pipe, &fresh, &httpd);
		if (err)
			goto out;
	}
	pr_info("ready: %d programs attached (%s hooks), %d target processes running\n",
		l.n_attached, sba_hooks_name(cfg.hooks), targets);
	if (cfg.trace)
		trace_ready(stdout, sba_hooks_name(cfg.hooks), targets);

	/* Records are written without wakeups: drain every poll_ms, sooner
	 * when the kernel forces a wakeup because the ring is filling up, and
	 * whenever a scrape asks (drainreq.h): the ticket is taken before the
	 * ring is read, so the drain holds whatever came before the request. */
	while (!exiting) {
		/* no later than the next per-second tick: its gauges stay ~1 s fresh */
		now = selfmetrics_now_ns();
		wait_ms = now - last_tick >= 1000000000ull ? 0
			  : (int)((1000000000ull - (now - last_tick)) / 1000000ull) + 1;
		err = loader__wait(&l, wait_ms < (int)cfg.poll_ms ? wait_ms : (int)cfg.poll_ms);
		ticket = fresh.fd >= 0 ? drainreq_begin(&fresh) : 0;
		if (!err)
			err = loader__drain(&l);
		if (err < 0 && err != -EINTR) {
			pr_err("reading the ring buffer failed: %s\n", strerror(-err));
			goto out;
		}
		err = 0;
		events__flush(&ev);
		pipeline__flush(pipe);
		update_maps(&l, &ev, &cfg);
		now = selfmetrics_now_ns();
		publish_scope(&shared, &l);
		selfmetrics_publish(&shared, &ev, now);
		if (now - last_tick >= 1000000000ull) {
			pipeline__tick(pipe, now);
			events__tick(&ev, now);
			loader__tick(&l);
			last_tick = now;
		}
		if (fresh.fd >= 0)	/* after the tick: a scrape sees its samples */
			drainreq_done(&fresh, ticket);
		if (stats_requested) {
			stats_requested = 0;
			print_stats(&l, &ev);
		}
		fflush(stdout);
	}
	/* Whatever is still in the ring was seen: deliver it before leaving. */
	loader__drain(&l);
	events__flush(&ev);
	pipeline__flush(pipe);
	update_maps(&l, &ev, &cfg);
	if (fresh.fd >= 0)	/* a scrape from now on gets these final figures */
		drainreq_close(&fresh);
	if (cfg.trace || cfg.stats)
		print_stats(&l, &ev);
out:
	fflush(stdout);
	httpd__stop(httpd);
	drainreq_destroy(&fresh);
	selfmetrics__free(sm);
	pipeline__free(pipe);
	events__free(&ev);
	loader__stop(&l);
	pr_info("detached, exiting\n");
	return err ? 1 : 0;
}
