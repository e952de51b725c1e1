/* SPDX-License-Identifier: Apache-2.0 */
/*
 * maps.bpf.h - every map of the observer, with what it holds and who cleans it.
 *
 * Sizes here are defaults; the loader resizes targets, conns and events from
 * the command line before load. Hash maps are plain HASH, not LRU: an LRU map
 * would evict a live connection silently, a full HASH fails the insert and we
 * count it (SBA_DROP_*_MAP_FULL).
 */
#ifndef SBA_MAPS_BPF_H
#define SBA_MAPS_BPF_H

/* tgid -> struct sba_target. Written at exec/fork (BPF) and by the start-up
 * /proc scan (userspace); deleted at exit. The filter every program checks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct sba_target);
} targets SEC(".maps");

/* (tgid, fd) -> struct sba_conn, for every fd a target did socket I/O on:
 * TCP sockets we capture, and other fds remembered as SBA_FD_OTHER so they
 * are classified once. Deleted at close/dup2; userspace drops the entries of
 * exited processes. Stale entries left by pid reuse fail the gen check. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sba_conn_key);
	__type(value, struct sba_conn);
} conns SEC(".maps");

/* Per-CPU counters of drops and stats (struct sba_counters), summed by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sba_counters);
} counters SEC(".maps");

/* Staging area for one data event, one slot per CPU: header then payload.
 * Twice SBA_CAP_MAX so that "offset < SBA_CAP_MAX, length <= SBA_CAP_MAX" is
 * always in bounds, which is what the verifier can prove. A plain ARRAY
 * indexed by CPU, because a PERCPU_ARRAY value is limited to 32 KiB; the
 * loader sizes it to the number of possible CPUs. Programs on a tracepoint
 * run with preemption off, so a slot has one user at a time. */
struct scratch {
	struct sba_data_ev ev;
	__u8 data[2 * SBA_CAP_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* Per-CPU id counter: conn ids and process generations without atomics. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} idgen SEC(".maps");

/* Events to userspace. Written with BPF_RB_NO_WAKEUP: userspace drains on a
 * timer, and is woken only when the ring is more than wakeup_bytes full. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

#endif /* SBA_MAPS_BPF_H */
