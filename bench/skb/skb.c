// SPDX-License-Identifier: Apache-2.0
/*
 * skb.c - loader of the cgroup_skb capture prototype (skb.bpf.c).
 *
 * Attaches handle_ingress/handle_egress to the cgroup v2 root, drains the
 * ring every 10 ms and counts what it got. It speaks just enough of
 * sba-observer's command line for bench/run.sh: "ready" on stderr once
 * attached, a stats line on stdout at SIGUSR1 and at exit; unknown flags
 * are ignored.
 *
 *   skb [--port N] [--cgroup DIR] [--dump N]   capture (--dump: print N records)
 *   skb --port 0                                no target: every packet rejected
 *   skb --empty                                 programs that return at once
 *   skb --port-only                             verdict by port on every packet, no sk storage
 *   skb --no-ts                                 no timestamp per record
 *   skb --probe                                 which helpers the verifier allows
 *
 * Checks on the data, in the stats line: ingress records that start with
 * "GET /", egress ones with "HTTP/1.1 200", and per connection and
 * direction whether each record's seq follows the previous one (in_order)
 * or not (seq_gap: loss, reordering or a retransmit userspace must resolve).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "skb.h"
#include "skb.skel.h"
#include "probe.skel.h"

static volatile sig_atomic_t stop, want_stats;

static struct {
	unsigned long long records[2], ring_bytes, payload_bytes, captured_bytes;
	unsigned long long get, http200, other, in_order, seq_gap, socks, socks_node;
	unsigned long long on_cpu[2][2];	/* [dir][cpu 0 / other] */
} st;
static long dump_left;

/* Next expected seq per (cookie, direction): open addressing, no deletes. */
#define FLOWS 8192
static struct flow { __u64 key; __u32 next; } flows[FLOWS];

static struct flow *flow_of(__u64 cookie, int dir)
{
	__u64 key = cookie << 1 | dir;
	unsigned i = (unsigned)(key * 0x9e3779b97f4a7c15ull >> 51) % FLOWS;

	for (int n = 0; n < FLOWS; n++, i = (i + 1) % FLOWS) {
		if (flows[i].key == key || !flows[i].key) {
			flows[i].key = key;
			return &flows[i];
		}
	}
	return NULL;
}

static void dump(const struct skb_rec *r)
{
	fprintf(stderr, "skb: %s %s cpu %u cookie %llu seq %u len %u tgid %u: \"",
		r->kind == SKB_REC_SOCK ? "SOCK" : "DATA", r->dir ? "egress " : "ingress", r->cpu,
		(unsigned long long)r->cookie, r->seq, r->len, r->tgid);
	for (int i = 0; i < r->cap && i < 48 && (r->kind == SKB_REC_DATA || r->data[i]); i++)
		fputs(r->data[i] >= ' ' && r->data[i] < 127 ? (char[]){ r->data[i], 0 }
			: r->data[i] == '\r' ? "\\r" : r->data[i] == '\n' ? "\\n" : ".", stderr);
	fputs("\"\n", stderr);
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct skb_rec *r = data;
	struct flow *f;

	(void)ctx;
	st.ring_bytes += size + 8;	/* + the ring's own record header */
	if (dump_left > 0 && dump_left--)
		dump(r);
	if (r->kind == SKB_REC_SOCK) {
		st.socks++;
		st.socks_node += !strncmp(r->data, "node", 16);
		return 0;
	}
	st.records[r->dir & 1]++;
	st.on_cpu[r->dir & 1][r->cpu != 0]++;
	st.payload_bytes += r->len;
	st.captured_bytes += r->cap;
	if (r->dir == SKB_INGRESS && r->cap >= 5 && !memcmp(r->data, "GET /", 5))
		st.get++;
	else if (r->dir == SKB_EGRESS && r->cap >= 12 && !memcmp(r->data, "HTTP/1.1 200", 12))
		st.http200++;
	else
		st.other++;
	f = flow_of(r->cookie, r->dir & 1);
	if (f) {
		if (f->next && f->next == r->seq)
			st.in_order++;
		else if (f->next)
			st.seq_gap++;
		f->next = r->seq + r->len;
	}
	return 0;
}

static void print_stats(const struct skb_bpf *skel)
{
	printf("{\"ev\":\"stats\",\"drops\":{\"ringbuf_full\":%llu,\"skipped_nonlinear\":%llu},"
	       "\"stats\":{\"ring_bytes\":%llu,\"data_events\":%llu,\"bytes_captured\":%llu,"
	       "\"payload_bytes\":%llu,\"records_ingress\":%llu,\"records_egress\":%llu,"
	       "\"get\":%llu,\"http200\":%llu,\"other\":%llu,\"in_order\":%llu,\"seq_gap\":%llu,"
	       "\"socks\":%llu,\"socks_first_seen_in_node\":%llu,"
	       "\"ingress_cpu0\":%llu,\"ingress_cpu_other\":%llu,"
	       "\"egress_cpu0\":%llu,\"egress_cpu_other\":%llu}}\n",
	       (unsigned long long)skel->bss->drops_ringbuf_full,
	       (unsigned long long)skel->bss->skipped_nonlinear, st.ring_bytes,
	       st.records[0] + st.records[1], st.captured_bytes, st.payload_bytes, st.records[0],
	       st.records[1], st.get, st.http200, st.other, st.in_order, st.seq_gap, st.socks,
	       st.socks_node, st.on_cpu[0][0], st.on_cpu[0][1], st.on_cpu[1][0], st.on_cpu[1][1]);
	fflush(stdout);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		stop = 1;
}

/* Loads each program of probe.bpf.c alone and says whether the verifier
 * took it: which helpers a packet-layer design may use on this kernel. */
static int probe(void)
{
	struct probe_bpf *p = probe_bpf__open();
	struct bpf_program *prog, *only;
	int n = 0;

	if (!p)
		return 1;
	bpf_object__for_each_program(prog, p->obj)
		n++;
	probe_bpf__destroy(p);
	libbpf_set_print(NULL);
	for (int i = 0; i < n; i++) {
		int k = 0, err;

		p = probe_bpf__open();
		only = NULL;
		bpf_object__for_each_program(prog, p->obj) {
			bpf_program__set_autoload(prog, k == i);
			if (k++ == i)
				only = prog;
		}
		err = probe_bpf__load(p);
		printf("%-24s %-22s %s\n", bpf_program__name(only), bpf_program__section_name(only),
		       err ? "REJECTED" : "loads");
		probe_bpf__destroy(p);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cgroup = "/sys/fs/cgroup/unified";
	struct bpf_link *in = NULL, *out = NULL;
	struct ring_buffer *ring = NULL;
	struct skb_bpf *skel;
	int port = 18080, empty = 0, port_only = 0, no_ts = 0, cg, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			puts("usage: skb [--port N] [--cgroup DIR] [--dump N] [--empty] [--port-only] [--no-ts] | --probe\n"
			     "SIGUSR1 prints a stats line; SIGINT stops.");
			return 0;
		} else if (!strcmp(argv[i], "--probe")) {
			return probe();
		} else if (!strcmp(argv[i], "--empty")) {
			empty = 1;
		} else if (!strcmp(argv[i], "--port-only")) {
			port_only = 1;
		} else if (!strcmp(argv[i], "--no-ts")) {
			no_ts = 1;
		} else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
			port = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--cgroup") && i + 1 < argc) {
			cgroup = argv[++i];
		} else if (!strcmp(argv[i], "--dump") && i + 1 < argc) {
			dump_left = atol(argv[++i]);
		}
	}
	skel = skb_bpf__open();
	if (!skel)
		return 1;
	skel->rodata->target_port = port;
	skel->rodata->empty = empty;
	skel->rodata->port_only = port_only;
	skel->rodata->no_ts = no_ts;
	if (skb_bpf__load(skel)) {
		fprintf(stderr, "skb: cannot load (root?)\n");
		goto out;
	}
	cg = open(cgroup, O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		fprintf(stderr, "skb: %s: %s\n", cgroup, strerror(errno));
		goto out;
	}
	in = bpf_program__attach_cgroup(skel->progs.handle_ingress, cg);
	out = bpf_program__attach_cgroup(skel->progs.handle_egress, cg);
	close(cg);
	ring = ring_buffer__new(bpf_map__fd(skel->maps.rb_in), on_record, NULL, NULL);
	if (!in || !out || !ring || ring_buffer__add(ring, bpf_map__fd(skel->maps.rb_out), on_record, NULL)) {
		fprintf(stderr, "skb: cannot attach to %s\n", cgroup);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_signal);
	fprintf(stderr, "skb: ready: cgroup_skb ingress+egress on %s, target port %d%s%s%s\n", cgroup,
		port, empty ? ", empty programs" : "", port_only ? ", port only" : "", no_ts ? ", no ts" : "");
	while (!stop) {
		/* records are submitted without wakeup: poll the ring on a clock */
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
		ring_buffer__consume(ring);
		if (want_stats) {
			want_stats = 0;
			print_stats(skel);
		}
	}
	ring_buffer__consume(ring);
	print_stats(skel);
	rc = 0;
out:
	ring_buffer__free(ring);
	bpf_link__destroy(in);
	bpf_link__destroy(out);
	skb_bpf__destroy(skel);
	return rc;
}
