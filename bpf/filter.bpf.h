/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filter.bpf.h - which processes are targets, and the helpers every program
 * shares (ids, counters).
 *
 * The per-syscall filter is one hash lookup: targets[tgid]. Deciding who goes
 * into `targets` happens only at exec and fork, where we can afford to look at
 * the executable: its file name (default "node"/"nodejs": process.title
 * renames `comm`, not the executable), or its inode, optionally restricted to
 * a cgroup subtree. With --pid the user seeds targets and exec never adds.
 */
#ifndef SBA_FILTER_BPF_H
#define SBA_FILTER_BPF_H

/* Knobs, set by the loader before load (rodata). */
const volatile __u32 targ_pid_mode = 0;		/* 1: only seeded pids and their forks */
const volatile __u32 targ_n_names = 0;
const volatile char targ_names[SBA_MAX_EXE_NAMES][SBA_EXE_NAME_LEN] = {};
const volatile __u32 targ_n_inodes = 0;
const volatile __u64 targ_ino[SBA_MAX_EXE_INODES] = {};
const volatile __u32 targ_dev[SBA_MAX_EXE_INODES] = {};	/* kernel dev_t encoding */
const volatile __u64 targ_cgroup_id = 0;		/* 0: any cgroup */
const volatile __u32 targ_cgroup_level = 0;

static const __u32 zero_key = 0;

static __always_inline struct sba_counters *counters_get(void)
{
	return bpf_map_lookup_elem(&counters, &zero_key);
}

static __always_inline void count_drop(enum sba_drop reason)
{
	struct sba_counters *c = counters_get();

	if (c && reason < SBA_DROP__MAX)
		c->drops[reason]++;
}

static __always_inline void count_stat(enum sba_stat stat, __u64 n)
{
	struct sba_counters *c = counters_get();

	if (c && stat < SBA_STAT__MAX)
		c->stats[stat] += n;
}

/* A run-unique id without atomics: (cpu + 1) << 40 | per-CPU sequence.
 * Below 2^53 for up to 8190 CPUs, so JSON readers keep it exact. */
static __always_inline __u64 next_id(void)
{
	__u64 *seq = bpf_map_lookup_elem(&idgen, &zero_key);

	if (!seq)
		return 0;
	*seq += 1;
	return ((__u64)(bpf_get_smp_processor_id() + 1) << 40) | (*seq & ((1ULL << 40) - 1));
}

/*
 * The filter of every syscall: one byte per possible tgid (sba_abi.h), read
 * inline with no helper call. It replaces a `targets` lookup on the data
 * path, which cost ~110 ns a syscall here: between two syscalls Node runs
 * enough JavaScript to push the hash bucket and element out of the cache.
 * `targets` keeps the generation that events carry; the rare paths (a new
 * connection, exec, fork, exit) still look it up.
 */
__u8 target_tags[SBA_TGID_MAX];

static __always_inline __u8 target_tag(__u32 tgid)
{
	__u8 tag = target_tags[tgid & (SBA_TGID_MAX - 1)];

	return tag & SBA_TAG_TARGET ? tag : 0;
}

static __always_inline struct sba_target *target_of(__u32 tgid)
{
	if (!target_tag(tgid))
		return NULL;
	return bpf_map_lookup_elem(&targets, &tgid);
}

static __always_inline bool name_eq(const char *a, const volatile char *b)
{
	for (int i = 0; i < SBA_EXE_NAME_LEN; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

/* Does the executable of task match the exe rule (name or inode)? */
static __always_inline bool exe_matches(struct task_struct *task)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	char name[SBA_EXE_NAME_LEN] = {};
	const unsigned char *dname;

	if (!exe)
		return false;
	if (targ_n_inodes) {
		__u64 ino = BPF_CORE_READ(exe, f_inode, i_ino);
		__u32 dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);

		for (int i = 0; i < SBA_MAX_EXE_INODES; i++)
			if (i < targ_n_inodes && targ_ino[i] == ino && targ_dev[i] == dev)
				return true;
	}
	if (targ_n_names) {
		dname = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
		/* A longer name is cut at 15 bytes and will not match. */
		if (bpf_probe_read_kernel_str(name, sizeof(name), dname) < 0)
			return false;
		for (int i = 0; i < SBA_MAX_EXE_NAMES; i++)
			if (i < targ_n_names && name_eq(name, targ_names[i]))
				return true;
	}
	return false;
}

static __always_inline bool cgroup_matches(void)
{
	if (!targ_cgroup_id)
		return true;
	return bpf_get_current_ancestor_cgroup_id(targ_cgroup_level) == targ_cgroup_id;
}

static __always_inline void emit_proc(__u8 kind, __u32 tgid, __u32 ppid, __u64 gen)
{
	struct sba_proc_ev *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		count_drop(SBA_DROP_RINGBUF_FULL);
		return;
	}
	ev->hdr.kind = kind;
	ev->hdr.flags = 0;
	ev->hdr.size = sizeof(*ev);
	ev->hdr.tgid = tgid;
	ev->hdr.ts_ns = bpf_ktime_get_ns();
	ev->gen = gen;
	ev->ppid = ppid;
	ev->__pad = 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	/* Process events are rare: wake the reader so it learns of them at once,
	 * even with data records of other targets waiting (flag 0 would wake it
	 * only when it has read everything): a short-lived process is
	 * identified from /proc while it still lives. */
	bpf_ringbuf_submit(ev, BPF_RB_FORCE_WAKEUP);
}

/* Makes tgid a target with a fresh generation; returns false if the map is full. */
static __always_inline bool target_add(__u32 tgid, __u8 kind, __u32 ppid)
{
	struct sba_target t = { .gen = next_id() };

	if (bpf_map_update_elem(&targets, &tgid, &t, BPF_ANY)) {
		count_drop(SBA_DROP_TARGET_MAP_FULL);
		return false;
	}
	/* One byte, written by the lifecycle of this tgid only. */
	target_tags[tgid & (SBA_TGID_MAX - 1)] = sba_tag_next(target_tags[tgid & (SBA_TGID_MAX - 1)]);
	emit_proc(kind, tgid, ppid, t.gen);
	return true;
}

static __always_inline void target_remove(__u32 tgid)
{
	struct sba_target *t = target_of(tgid);

	if (!t)
		return;
	emit_proc(SBA_EV_PROC_EXIT, tgid, 0, t->gen);
	bpf_map_delete_elem(&targets, &tgid);
	target_tags[tgid & (SBA_TGID_MAX - 1)] &= SBA_TAG_SEQ;
}

#endif /* SBA_FILTER_BPF_H */
