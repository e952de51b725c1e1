// SPDX-License-Identifier: Apache-2.0
/*
 * selfmetrics.c - the sba_observer_* families (see selfmetrics.h and
 * docs/METRICS.md for what each one means).
 *
 * The ring-buffer fill comes from the ring's consumer and producer position
 * pages, mapped read-only here: libbpf 1.1 has no ring__avail_data_size()
 * (added in 1.3), and the kernel allows any number of read-only mappings of
 * a BPF ring buffer. BPF run time is what the kernel accounts per program
 * while kernel.bpf_stats_enabled is 1; the observer does not turn it on.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "observer.skel.h"
#include "pktconv.h"
#include "selfmetrics.h"

struct selfmetrics {
	struct loader *l;
	const struct selfmetrics_shared *s;
	const unsigned long *consumer_pos;	/* read-only mappings, or NULL */
	const unsigned long *producer_pos;
	size_t page;
	uint64_t ring_size;
	double start_time;			/* Unix seconds */
};

uint64_t selfmetrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What the packet decoder counts as lost, by reason (the metric's label). */
static const char *const pkt_losses[] = {
	"gap_bytes", "buffer_cut_bytes", "unread_bytes", "queue_full", "table_full",
	"pending_dropped", "pending_expired", "bad_records",
};

static void publish_packets(struct selfmetrics_shared *s, const struct pktconv_stats *st)
{
	const uint64_t v[] = { st->gap_bytes, st->buffer_cut_bytes, st->unread_bytes,
			       st->queue_full, st->table_full, st->pending_dropped,
			       st->pending_expired, st->bad_records };

	_Static_assert(sizeof(v) / sizeof(v[0]) == sizeof(pkt_losses) / sizeof(pkt_losses[0]),
		       "one value per label");
	_Static_assert(sizeof(v) == sizeof(s->pkt_lost), "pkt_lost fits");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		__atomic_store_n(&s->pkt_lost[i], v[i], __ATOMIC_RELAXED);
	__atomic_store_n(&s->packets, true, __ATOMIC_RELAXED);
}

void selfmetrics_publish(struct selfmetrics_shared *s, const struct events *ev, uint64_t now_ns)
{
	if (ev->pc) {
		publish_packets(s, pktconv__stats(ev->pc));
		__atomic_store_n(&s->pkt_socks, pktconv__count(ev->pc), __ATOMIC_RELAXED);
	}
	__atomic_store_n(&s->records, ev->records, __ATOMIC_RELAXED);
	__atomic_store_n(&s->bad_records, ev->bad_records, __ATOMIC_RELAXED);
	__atomic_store_n(&s->exits_overflow, ev->exits_overflow, __ATOMIC_RELAXED);
	for (int i = 0; i < SBA_STAT__MAX; i++)
		__atomic_store_n(&s->stats[i], ev->stats[i], __ATOMIC_RELAXED);
	__atomic_store_n(&s->loop_ns, now_ns, __ATOMIC_RELAXED);
}

bool selfmetrics_is_ready(const struct selfmetrics_shared *s, uint64_t now_ns, uint32_t stale_ms)
{
	uint64_t loop = __atomic_load_n(&s->loop_ns, __ATOMIC_RELAXED);

	return __atomic_load_n(&s->attached, __ATOMIC_RELAXED) > 0 && loop &&
	       now_ns - loop <= (uint64_t)stale_ms * 1000000ULL;
}

struct selfmetrics *selfmetrics__new(struct loader *l, const struct selfmetrics_shared *s)
{
	struct selfmetrics *sm = calloc(1, sizeof(*sm));
	struct timespec now;
	void *p;
	int fd;

	if (!sm)
		return NULL;
	sm->l = l;
	sm->s = s;
	sm->page = (size_t)sysconf(_SC_PAGESIZE);
	clock_gettime(CLOCK_REALTIME, &now);
	sm->start_time = (double)now.tv_sec + now.tv_nsec / 1e9;
	if (l && l->skel) {
		fd = bpf_map__fd(l->skel->maps.events);
		sm->ring_size = bpf_map__max_entries(l->skel->maps.events);
		p = fd >= 0 ? mmap(NULL, sm->page, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
		if (p != MAP_FAILED)
			sm->consumer_pos = p;
		p = fd >= 0 ? mmap(NULL, sm->page, PROT_READ, MAP_SHARED, fd, (off_t)sm->page)
			    : MAP_FAILED;
		if (p != MAP_FAILED)
			sm->producer_pos = p;
	}
	return sm;
}

void selfmetrics__free(struct selfmetrics *sm)
{
	if (!sm)
		return;
	if (sm->consumer_pos)
		munmap((void *)sm->consumer_pos, sm->page);
	if (sm->producer_pos)
		munmap((void *)sm->producer_pos, sm->page);
	free(sm);
}

/* ---- helpers ---- */

static void counter1(struct expo *e, const char *name, const char *help, uint64_t v)
{
	expo_family(e, name, EXPO_COUNTER, help);
	expo_counter(e, NULL, 0, v);
}

static void gauge1(struct expo *e, const char *name, const char *help, double v)
{
	expo_family(e, name, EXPO_GAUGE, help);
	expo_gauge(e, NULL, 0, v);
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Resident set size in bytes, from /proc/self/statm; -1 if unreadable. */
static double rss_bytes(size_t page)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	return n == 2 ? (double)resident * (double)page : -1;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static int bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* ---- the families, in a fixed order ---- */

static void render_capture(struct selfmetrics *sm, struct expo *e)
{
	static const struct {
		int stat;
		const char *name, *help;
	} stats[] = {
		{ SBA_STAT_DATA_EVENTS, "sba_observer_data_events",
		  "Data events (one per captured read or write syscall) written to the ring buffer." },
		{ SBA_STAT_BYTES_SEEN, "sba_observer_bytes_seen",
		  "Bytes moved by the observed syscalls on target TCP sockets, copied or not." },
		{ SBA_STAT_BYTES_CAPTURED, "sba_observer_bytes_captured",
		  "Payload bytes copied into the ring buffer (within the capture caps)." },
		{ SBA_STAT_RING_BYTES, "sba_observer_ringbuf_written_bytes",
		  "Ring buffer room taken by data records, headers and padding included." },
		{ SBA_STAT_DATA_LOST_BYTES, "sba_observer_lost_bytes",
		  "Bytes of data events lost because the ring buffer was full." },
		{ SBA_STAT_FDS_IGNORED, "sba_observer_fds_ignored",
		  "File descriptors of targets found not to be TCP sockets (never copied)." },
		{ SBA_STAT_WAKEUPS, "sba_observer_ringbuf_wakeups",
		  "Wakeups forced because the ring buffer was more than a quarter full." },
	};
	static const struct {
		int stat;
		const char *event;
	} conns[] = {
		{ SBA_STAT_CONNS_OPENED, "opened" },
		{ SBA_STAT_CONNS_JOINED, "joined" },
		{ SBA_STAT_CONNS_CLOSED, "closed" },
	};
	struct sba_counters c;
	bool ok = sm->l && sm->l->skel && !loader__counters(sm->l, &c);

	for (int i = 0; ok && i < SBA_STAT__MAX; i++)
		c.stats[i] += __atomic_load_n(&sm->s->stats[i], __ATOMIC_RELAXED);

	for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		expo_family(e, stats[i].name, EXPO_COUNTER, stats[i].help);
		if (ok)
			expo_counter(e, NULL, 0, c.stats[stats[i].stat]);
	}
	expo_family(e, "sba_observer_connections", EXPO_COUNTER,
		    "TCP connections of targets: opened (accept/connect seen), joined (first seen "
		    "mid-stream), closed.");
	for (size_t i = 0; ok && i < sizeof(conns) / sizeof(conns[0]); i++)
		expo_counter(e, (struct expo_label[]){ { "event", conns[i].event } }, 1,
			     c.stats[conns[i].stat]);
	expo_family(e, "sba_observer_dropped_events", EXPO_COUNTER,
		    "Events lost in the kernel, by reason (docs/ARCHITECTURE.md, Nothing lost "
		    "silently).");
	for (int r = 0; ok && r < SBA_DROP__MAX; r++)
		expo_counter(e, (struct expo_label[]){ { "reason", sba_drop_name(r) } }, 1,
			     c.drops[r]);
}

static void render_ring(struct selfmetrics *sm, struct expo *e)
{
	gauge1(e, "sba_observer_ringbuf_size_bytes", "Size of the kernel-to-user ring buffer.",
	       (double)sm->ring_size);
	expo_family(e, "sba_observer_ringbuf_used_bytes", EXPO_GAUGE,
		    "Bytes written by the kernel and not yet consumed by the observer, at scrape "
		    "time.");
	if (sm->consumer_pos && sm->producer_pos) {
		unsigned long cons = __atomic_load_n(sm->consumer_pos, __ATOMIC_ACQUIRE);
		unsigned long prod = __atomic_load_n(sm->producer_pos, __ATOMIC_ACQUIRE);

		expo_gauge(e, NULL, 0, prod >= cons ? (double)(prod - cons) : 0);
	}
}

static void render_bpf(struct selfmetrics *sm, struct expo *e)
{
	struct {
		const char *name;
		uint64_t ns, cnt;
	} progs[64];
	struct bpf_program *p;
	int n = 0;

	gauge1(e, "sba_observer_bpf_stats_enabled",
	       "1 when kernel.bpf_stats_enabled is on (BPF run time is then accounted), 0 when "
	       "off, -1 when unknown.",
	       bpf_stats_enabled());
	if (sm->l && sm->l->skel) {
		bpf_object__for_each_program(p, sm->l->skel->obj) {
			struct bpf_prog_info info;
			__u32 len = sizeof(info);
			int fd = bpf_program__fd(p);

			if (fd < 0 || n == (int)(sizeof(progs) / sizeof(progs[0])))
				continue;
			memset(&info, 0, sizeof(info));
			if (bpf_obj_get_info_by_fd(fd, &info, &len))
				continue;
			progs[n].name = bpf_program__name(p);
			progs[n].ns = info.run_time_ns;
			progs[n].cnt = info.run_cnt;
			n++;
		}
	}
	expo_family(e, "sba_observer_bpf_run_seconds", EXPO_COUNTER,
		    "Time spent in each BPF program, while kernel.bpf_stats_enabled is 1.");
	for (int i = 0; i < n; i++)
		expo_counter_double(e, (struct expo_label[]){ { "program", progs[i].name } }, 1,
				    (double)progs[i].ns / 1e9);
	expo_family(e, "sba_observer_bpf_runs", EXPO_COUNTER,
		    "Runs of each BPF program, while kernel.bpf_stats_enabled is 1.");
	for (int i = 0; i < n; i++)
		expo_counter(e, (struct expo_label[]){ { "program", progs[i].name } }, 1,
			     progs[i].cnt);
}

static void render_process(struct selfmetrics *sm, struct expo *e)
{
	struct rusage ru;
	double rss = rss_bytes(sm->page);
	int fds = open_fds();

	expo_family(e, "sba_observer_cpu_seconds", EXPO_COUNTER,
		    "CPU time of the observer process (user and system, all threads).");
	if (!getrusage(RUSAGE_SELF, &ru))
		expo_counter_double(e, NULL, 0,
				    (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
					    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	expo_family(e, "sba_observer_resident_memory_bytes", EXPO_GAUGE,
		    "Resident memory of the observer process.");
	if (rss >= 0)
		expo_gauge(e, NULL, 0, rss);
	expo_family(e, "sba_observer_open_fds", EXPO_GAUGE,
		    "File descriptors open in the observer process.");
	if (fds >= 0)
		expo_gauge(e, NULL, 0, fds);
}

void selfmetrics__render(void *ctx, struct expo *e)
{
	struct selfmetrics *sm = ctx;
	const struct selfmetrics_shared *s = sm->s;
	uint64_t loop = load(&s->loop_ns), now = selfmetrics_now_ns();

	expo_family(e, "sba_observer_build_info", EXPO_GAUGE,
		    "Always 1; the version of the running observer is the label.");
	expo_gauge(e, (struct expo_label[]){ { "version", SBA_VERSION } }, 1, 1);
	gauge1(e, "sba_observer_start_time_seconds", "When the observer started, in Unix seconds.",
	       sm->start_time);
	gauge1(e, "sba_observer_programs_attached", "BPF programs attached.",
	       __atomic_load_n(&s->attached, __ATOMIC_RELAXED));
	expo_family(e, "sba_observer_event_loop_age_seconds", EXPO_GAUGE,
		    "Time since the event loop last drained the ring buffer (/readyz fails past "
		    "5 s).");
	if (loop)
		expo_gauge(e, NULL, 0, (double)(now - loop) / 1e9);
	counter1(e, "sba_observer_events", "Ring-buffer records decoded by the observer.",
		 load(&s->records));
	counter1(e, "sba_observer_malformed_records",
		 "Ring-buffer records whose size disagreed with their kind (a bug; never expected).",
		 load(&s->bad_records));
	counter1(e, "sba_observer_exit_queue_overflows",
		 "Process exits not queued for cleanup between two drains (their map entries "
		 "linger until reused).",
		 load(&s->exits_overflow));
	if (__atomic_load_n(&s->packets, __ATOMIC_RELAXED)) {
		expo_family(e, "sba_observer_packet_losses", EXPO_COUNTER,
			    "--hooks skb: what turning packets into streams lost, by reason: bytes "
			    "never seen (gap_bytes), captured bytes dropped over the per-socket "
			    "buffer (buffer_cut_bytes), bytes received but never read "
			    "(unread_bytes), packets over the per-socket queue (queue_full), "
			    "records of sockets over the table size (table_full), sockets closed or "
			    "expired before their owner was known (pending_dropped, "
			    "pending_expired), malformed records (bad_records).");
		for (size_t i = 0; i < sizeof(pkt_losses) / sizeof(pkt_losses[0]); i++)
			expo_counter(e, (struct expo_label[]){ { "reason", pkt_losses[i] } }, 1,
				     load(&s->pkt_lost[i]));
		gauge1(e, "sba_observer_packet_sockets",
		       "--hooks skb: sockets the packet decoder holds (owned or pending), at most "
		       "--max-conns.",
		       __atomic_load_n(&s->pkt_socks, __ATOMIC_RELAXED));
	}
	if (__atomic_load_n(&s->skb_scoped, __ATOMIC_RELAXED)) {
		gauge1(e, "sba_observer_skb_cgroups",
		       "--hooks skb: cgroup v2 directories the packet programs are attached to "
		       "(the target processes' own).",
		       __atomic_load_n(&s->skb_cgroups, __ATOMIC_RELAXED));
		counter1(e, "sba_observer_skb_uncovered_targets",
			 "--hooks skb: target processes whose cgroup the packet programs could not "
			 "be attached to (out of sight, or refused): their traffic is not captured.",
			 load(&s->skb_uncovered));
	}
	render_capture(sm, e);
	render_ring(sm, e);
	render_bpf(sm, e);
	render_process(sm, e);
}
