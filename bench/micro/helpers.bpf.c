// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * helpers.bpf.c - what one BPF helper call costs on this host.
 *
 * Attached to raw_tp/sys_exit and filtered to the benchmark's own pid, the
 * program performs one operation (chosen by `op`) ten times per run; the
 * loader reads run_time_ns/run_cnt from the kernel's BPF stats. Subtracting
 * op 0 and dividing by ten gives the cost of one call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
const volatile int target_pid = 0;
const volatile int op = 0;
struct big { char d[32768]; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, struct big); } bigarr SEC(".maps");
struct small { char d[256]; };
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct small); } pc SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024); __type(key, __u64); __type(value, __u64); } h SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1<<24); } rb SEC(".maps");
static long cb(__u32 i, void *c) { return 0; }
SEC("raw_tp/sys_exit")
int handle_bench(struct bpf_raw_tracepoint_args *ctx) {
	if ((bpf_get_current_pid_tgid() >> 32) != target_pid) return 0;
	__u32 z = 0; char buf[200]; __u64 k = 1;
	void *ubuf = (void *)0; 
	struct pt_regs *regs = (void *)ctx->args[0];
	__u64 si = 0; bpf_probe_read_kernel(&si, 8, &regs->si);  /* read(fd, buf...) -> buf */
	ubuf = (void *)si;
	for (int i = 0; i < 10; i++) {
		switch (op) {
		case 1: bpf_probe_read_user(buf, 32, ubuf); break;
		case 2: { struct big *b = bpf_map_lookup_elem(&bigarr, &z); if (b) bpf_probe_read_user(b->d, 32, ubuf); break; }
		case 3: { struct small *s = bpf_map_lookup_elem(&pc, &z); if (s) bpf_probe_read_user(s->d, 32, ubuf); break; }
		case 4: bpf_probe_read_kernel(buf, 168, regs); break;
		case 5: k += bpf_ktime_get_ns(); break;
		case 6: bpf_map_lookup_elem(&h, &k); break;
		case 7: bpf_loop(1, cb, NULL, 0); break;
		case 8: bpf_ringbuf_output(&rb, buf, 100, BPF_RB_NO_WAKEUP); break;
		case 9: k += bpf_get_smp_processor_id(); break;
		case 10: k += bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA); break;
		case 11: k += bpf_get_current_pid_tgid(); break;
		case 12: bpf_probe_read_kernel(buf, 8, regs); break;
		case 13: { struct big *b = bpf_map_lookup_elem(&bigarr, &z); if (b) bpf_probe_read_user(b->d, 200, ubuf); break; }
		case 14: { void *p = bpf_ringbuf_reserve(&rb, 100, 0); if (p) bpf_ringbuf_submit(p, BPF_RB_NO_WAKEUP); break; }
		}
	}
	return k == 12345;
}
char LICENSE[] SEC("license") = "GPL";
