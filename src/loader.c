// SPDX-License-Identifier: Apache-2.0
/*
 * loader.c - open -> configure -> load -> attach the BPF object, with one
 * clear message for each way that can fail on a real host:
 *   no kernel BTF, missing capabilities, tracefs/bpffs not mounted (we mount
 *   them and say so), and a verifier rejection (we print the log's tail).
 * libbpf's own output is kept in a small ring and demoted one level, so a
 * normal start is quiet and a failure still shows what the kernel said.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "loader.h"
#include "log.h"
#include "observer.skel.h"
#include "skbscope.h"

#define TRACEFS_DIR "/sys/kernel/tracing"
#define DEBUGFS_TRACING_DIR "/sys/kernel/debug/tracing"
#define BPFFS_DIR "/sys/fs/bpf"
#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"
#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* ---- libbpf output: demoted, and the last lines kept for error reports ---- */

#define LOG_TAIL_LINES 40
#define LOG_LINE_LEN 240

static char log_tail[LOG_TAIL_LINES][LOG_LINE_LEN];
static unsigned int log_tail_next;

static void log_tail_add(const char *line, size_t len)
{
	char *slot = log_tail[log_tail_next++ % LOG_TAIL_LINES];

	if (len >= LOG_LINE_LEN)
		len = LOG_LINE_LEN - 1;
	memcpy(slot, line, len);
	slot[len] = 0;
}

/* libbpf hands over the whole verifier log in one call: keep it line by line. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Demoted: a failed load prints the tail of this log itself. */
	enum log_level ours = LOG_DEBUG;
	char *msg = NULL;
	const char *p;

	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	for (p = msg; *p;) {
		size_t len = strcspn(p, "\n");

		log_tail_add(p, len);
		p += len + (p[len] == '\n');
	}
	/* libbpf's debug output only with -vv: it is very long. */
	if ((int)log_get_level() > (int)LOG_DEBUG || (level != LIBBPF_DEBUG && ours <= log_get_level()))
		fprintf(stderr, "sba-observer: libbpf: %s", msg);
	free(msg);
	return 0;
}

static void print_log_tail(unsigned int lines)
{
	unsigned int n = log_tail_next < LOG_TAIL_LINES ? log_tail_next : LOG_TAIL_LINES;

	if (lines < n)
		n = lines;
	for (unsigned int i = log_tail_next - n; i != log_tail_next; i++) {
		const char *s = log_tail[i % LOG_TAIL_LINES];

		fprintf(stderr, "    %s\n", s);
	}
}

/* ---- host checks --------------------------------------------------------- */

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

static int check_capabilities(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	bool bpf, perfmon;

	if (syscall(SYS_capget, &hdr, data))
		return 0; /* cannot tell: let the kernel decide */
	bpf = has_cap(data, CAP_BPF) || has_cap(data, CAP_SYS_ADMIN);
	perfmon = has_cap(data, CAP_PERFMON) || has_cap(data, CAP_SYS_ADMIN);
	if (!bpf || !perfmon) {
		pr_err("missing capabilities: %s%s%s; loading the probes needs CAP_BPF and "
		       "CAP_PERFMON (or CAP_SYS_ADMIN); run as root or grant them "
		       "(docs/OPERATIONS.md)\n",
		       bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "",
		       perfmon ? "" : "CAP_PERFMON");
		return -EPERM;
	}
	/* Not fatal: the probes load, but other users' processes stay unknown. */
	if (!has_cap(data, CAP_SYS_PTRACE))
		pr_warn("no CAP_SYS_PTRACE: Node processes of other users cannot be recognised "
			"(/proc/PID/exe is unreadable); grant it to observe them (docs/OPERATIONS.md)\n");
	if (!has_cap(data, CAP_DAC_READ_SEARCH))
		pr_warn("no CAP_DAC_READ_SEARCH: service names cannot be read from other users' "
			"environments (OTEL_SERVICE_NAME) and fall back to the script name; grant it "
			"(docs/OPERATIONS.md)\n");
	return 0;
}

static int check_btf(const struct sba_config *cfg)
{
	const char *path = cfg->btf_path ? cfg->btf_path : BTF_VMLINUX;

	if (access(path, R_OK) == 0)
		return 0;
	if (cfg->btf_path)
		pr_err("cannot read BTF file %s: %s\n", path, strerror(errno));
	else
		pr_err("kernel BTF not found at %s: this kernel was built without "
			"CONFIG_DEBUG_INFO_BTF; use a kernel with BTF, or pass --btf FILE with "
			"this kernel's BTF (docs/OPERATIONS.md)\n",
			BTF_VMLINUX);
	return -ENOENT;
}

static bool is_fs(const char *dir, long magic)
{
	struct statfs st;

	return statfs(dir, &st) == 0 && st.f_type == magic;
}

/* tp/syscalls programs need tracefs: libbpf reads tracepoint ids there. */
static int ensure_tracefs(void)
{
	if (is_fs(TRACEFS_DIR, TRACEFS_MAGIC) || access(DEBUGFS_TRACING_DIR "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS_DIR, "tracefs", 0, NULL)) {
		int err = -errno;

		pr_err("tracefs is not mounted and mounting it at %s failed: %s; mount it "
			"(mount -t tracefs tracefs %s) or use --hooks raw\n",
			TRACEFS_DIR, strerror(-err), TRACEFS_DIR);
		return err;
	}
	pr_info("mounted tracefs at %s (needed by --hooks tp)\n", TRACEFS_DIR);
	return 0;
}

/* --pin-maps DIR needs DIR on bpffs: mount /sys/fs/bpf if that is where it goes. */
static int ensure_bpffs(const char *dir)
{
	if (strncmp(dir, BPFFS_DIR, strlen(BPFFS_DIR)) != 0) {
		if (!is_fs(dir, BPF_FS_MAGIC)) {
			pr_err("--pin-maps %s: not on a bpf filesystem; use a directory under %s\n",
				dir, BPFFS_DIR);
			return -EINVAL;
		}
		return 0;
	}
	if (!is_fs(BPFFS_DIR, BPF_FS_MAGIC)) {
		if (mount("bpf", BPFFS_DIR, "bpf", 0, "mode=0700")) {
			int err = -errno;

			pr_err("bpffs is not mounted and mounting it at %s failed: %s\n",
				BPFFS_DIR, strerror(-err));
			return err;
		}
		pr_info("mounted bpffs at %s (needed by --pin-maps)\n", BPFFS_DIR);
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		int err = -errno;

		pr_err("--pin-maps: cannot create %s: %s\n", dir, strerror(-err));
		return err;
	}
	return 0;
}

/* ---- configuration of the object before load ------------------------------ */

static int set_exe_targets(struct observer_bpf *skel, const struct sba_config *cfg)
{
	struct stat st;

	for (int i = 0; i < cfg->n_exe_names; i++)
		snprintf((char *)skel->rodata->targ_names[i], SBA_EXE_NAME_LEN, "%s",
			 cfg->exe_names[i]);
	skel->rodata->targ_n_names = cfg->n_exe_names;
	for (int i = 0; i < cfg->n_exe_paths; i++) {
		if (stat(cfg->exe_paths[i], &st)) {
			int err = -errno;

			pr_err("--exe %s: %s\n", cfg->exe_paths[i], strerror(-err));
			return err;
		}
		skel->rodata->targ_ino[i] = st.st_ino;
		/* The kernel's s_dev is MAJOR << 20 | MINOR, not the stat encoding. */
		skel->rodata->targ_dev[i] = (major(st.st_dev) << 20) | minor(st.st_dev);
	}
	skel->rodata->targ_n_inodes = cfg->n_exe_paths;
	skel->rodata->targ_pid_mode = cfg->n_pids > 0;
	return 0;
}

static int set_cgroup_target(struct observer_bpf *skel, const char *path)
{
	struct cgroup_ref ref;
	int err = cgroup_resolve(path, &ref);

	if (err) {
		pr_err("--cgroup %s: %s\n", path,
			err == -EINVAL ? "not a cgroup v2 directory" : strerror(-err));
		return err;
	}
	skel->rodata->targ_cgroup_id = ref.id;
	skel->rodata->targ_cgroup_level = ref.level;
	return 0;
}

static bool prog_is_raw_syscall(const struct bpf_program *p)
{
	return !strncmp(bpf_program__section_name(p), "raw_tp/sys_", 11);
}

static bool prog_is_tp_syscall(const struct bpf_program *p)
{
	return !strncmp(bpf_program__section_name(p), "tp/syscalls/", 12);
}

/* The packet-layer programs (bpf/skb.bpf.h): cgroup_skb and two tcp/sock
 * raw tracepoints, all named handle_skb_*. */
static bool prog_is_skb(const struct bpf_program *p)
{
	return !strncmp(bpf_program__name(p), "handle_skb_", 11);
}

/* Is there a tracepoint for this tp/syscalls/<name> program on this kernel? */
static bool tracepoint_exists(const struct bpf_program *p)
{
	const char *name = bpf_program__section_name(p) + strlen("tp/syscalls/");
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/events/syscalls/%s",
		 stat(DEBUGFS_TRACING_DIR "/events", &st) == 0 ? DEBUGFS_TRACING_DIR
								  : TRACEFS_DIR,
		 name);
	/* stat, not access: access() checks the real uid and ignores the
	 * capabilities a non-root observer runs with. */
	if (stat(path, &st) == 0)
		return true;
	pr_warn("no tracepoint %s (%s): its program is not attached\n", path, strerror(errno));
	return false;
}

static int configure(struct observer_bpf *skel, const struct sba_config *cfg)
{
	struct bpf_program *p;
	int err;

	skel->rodata->cap_head = cfg->cap_head;
	skel->rodata->cap_body = cfg->cap_body;
	skel->rodata->tail_bytes = cfg->cap_tail;
	/* The Redis server ports (conntab's default when none is given):
	 * writes to them get their tail captured. */
	_Static_assert(CONNTAB_MAX_REDIS_PORTS <= SBA_TAIL_PORTS_MAX, "every Redis port fits");
	for (int i = 0; i < SBA_TAIL_PORTS_MAX; i++)
		skel->rodata->tail_ports[i] = i < cfg->pipe.n_redis_ports ? cfg->pipe.redis_ports[i] : 0;
	if (!cfg->pipe.n_redis_ports)
		skel->rodata->tail_ports[0] = 6379;
	skel->rodata->wakeup_bytes = cfg->ringbuf_bytes / 4;
	err = set_exe_targets(skel, cfg);
	if (!err && cfg->cgroup_path)
		err = set_cgroup_target(skel, cfg->cgroup_path);
	if (err)
		return err;
	bpf_map__set_max_entries(skel->maps.events, cfg->ringbuf_bytes);
	bpf_map__set_max_entries(skel->maps.targets, cfg->max_targets);
	bpf_map__set_max_entries(skel->maps.scratch, libbpf_num_possible_cpus());
	/* --max-conns sizes the connection map of the hooks in use; the other
	 * flavour's maps are never written, and take one entry (preallocated
	 * at 65536, they were kernel memory for nothing: 7.5 MiB for conns). */
	if (cfg->hooks == SBA_HOOKS_SKB) {
		bpf_map__set_max_entries(skel->maps.skb_socks, cfg->max_conns);
		bpf_map__set_max_entries(skel->maps.conns, 1);
	} else {
		bpf_map__set_max_entries(skel->maps.conns, cfg->max_conns);
		bpf_map__set_max_entries(skel->maps.skb_socks, 1);
		bpf_map__set_max_entries(skel->maps.skb_fast, 1);
	}

	bpf_object__for_each_program(p, skel->obj) {
		if (prog_is_skb(p))
			bpf_program__set_autoload(p, cfg->hooks == SBA_HOOKS_SKB);
		else if (prog_is_raw_syscall(p))
			bpf_program__set_autoload(p, cfg->hooks == SBA_HOOKS_RAW);
		else if (prog_is_tp_syscall(p))
			bpf_program__set_autoload(p, cfg->hooks == SBA_HOOKS_TP &&
							    tracepoint_exists(p));
	}
	return 0;
}

/* The cgroup v2 hierarchy's root, from a mountinfo: the longest-lived
 * answer on hybrid hosts (/sys/fs/cgroup/unified) and on pure v2 ones
 * (/sys/fs/cgroup). Mounts one at SKB_CGROUP_DIR when there is none. */
#define SKB_CGROUP_DIR "/run/sba-observer/cgroup2"

/* The first cgroup2 mount of its hierarchy's root in mountinfo, prefixed.
 * Mount roots are shown relative to the reader's cgroup namespace: another
 * namespace's mounts (any_root) show as "/.." and are taken as they are. */
static int find_cgroup2(const char *mountinfo, const char *prefix, bool any_root, char *out,
			size_t len)
{
	char line[4096], root[PATH_MAX], mnt[PATH_MAX];
	FILE *f = fopen(mountinfo, "re");
	int err = -ENOENT;

	while (f && fgets(line, sizeof(line), f)) {
		if (!cgroup2_mount_line(line, root, mnt) || (!any_root && strcmp(root, "/")))
			continue;
		snprintf(out, len, "%s%s", prefix, mnt);
		err = 0;
		break;
	}
	if (f)
		fclose(f);
	return err;
}

/* A cgroup v2 directory without cgroup.type: the real root has none, a
 * namespace's "root" does. */
static bool is_hierarchy_root(const char *dir)
{
	char file[PATH_MAX + 16];

	snprintf(file, sizeof(file), "%s/cgroup.procs", dir);
	if (access(file, F_OK))
		return false;
	snprintf(file, sizeof(file), "%s/cgroup.type", dir);
	return access(file, F_OK) != 0;
}

/*
 * In a cgroup namespace of our own (a container's, by default on cgroup
 * v2) the hierarchy we see is rooted at our own cgroup. With the host's PID
 * namespace (hostPID), the host's init (/proc/1; its root is the real one
 * after an initramfs) or else kthreadd (/proc/2, where /proc/1 may not be
 * read) is in the first cgroup namespace, and its mount of the hierarchy,
 * reached through its root, is the whole of it.
 */
static bool host_cgroup2(char *out, size_t len, char *ns, size_t ns_len)
{
	static const char *const host[] = { "/proc/1", "/proc/2" };
	char path[64], prefix[64];
	struct stat self, st;

	if (stat("/proc/self/ns/cgroup", &self))
		return false;
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		snprintf(path, sizeof(path), "%s/ns/cgroup", host[i]);
		if (stat(path, &st))
			continue;
		if (st.st_ino == self.st_ino)
			return false;	/* the host's namespace is ours */
		snprintf(path, sizeof(path), "%s/mountinfo", host[i]);
		snprintf(prefix, sizeof(prefix), "%s/root", host[i]);
		if (!find_cgroup2(path, prefix, true, out, len) && is_hierarchy_root(out)) {
			snprintf(ns, ns_len, "%s/ns/cgroup", host[i]);
			return true;
		}
	}
	return false;
}

/* Where the whole cgroup v2 hierarchy is mounted, into out. join: also
 * enter the host's cgroup namespace when it is not ours, so that
 * /proc/PID/cgroup names directories below that root (skbscope.h). */
static int cgroup2_root(char *out, size_t len, bool join)
{
	char ns[64];

	if (host_cgroup2(out, len, ns, sizeof(ns))) {
		int fd = join ? open(ns, O_RDONLY | O_CLOEXEC) : -1;

		if (join && (fd < 0 || setns(fd, CLONE_NEWCGROUP))) {
			int err = -errno;

			pr_err("--hooks skb: cannot enter the host's cgroup namespace (%s): %s; "
			       "run privileged, or give --skb-scope root\n", ns, strerror(-err));
			if (fd >= 0)
				close(fd);
			return err;
		}
		if (fd >= 0)
			close(fd);
		pr_info("in a cgroup namespace of our own: --hooks skb attaches below the host's "
			"cgroup v2 root, %s%s\n", out, join ? ", in the host's cgroup namespace" : "");
		return 0;
	}
	if (!find_cgroup2("/proc/self/mountinfo", "", false, out, len)) {
		if (!is_hierarchy_root(out))
			pr_warn("%s is a cgroup namespace's root, not the host's: --hooks skb sees "
				"only the sockets of processes under it; run in the host's PID "
				"namespace (hostPID: /proc/1 is then the host's init), or give "
				"--cgroup\n", out);
		return 0;
	}
	if ((mkdir("/run/sba-observer", 0700) && errno != EEXIST) ||
	    (mkdir(SKB_CGROUP_DIR, 0700) && errno != EEXIST) ||
	    mount("cgroup2", SKB_CGROUP_DIR, "cgroup2", 0, NULL)) {
		int err = -errno;

		pr_err("--hooks skb needs cgroup v2, which is not mounted, and mounting it at %s "
			"failed: %s; mount it (mount -t cgroup2 none DIR) or use --hooks tp\n",
			SKB_CGROUP_DIR, strerror(-err));
		return err;
	}
	pr_info("mounted cgroup2 at %s (needed by --hooks skb)\n", SKB_CGROUP_DIR);
	snprintf(out, len, "%s", SKB_CGROUP_DIR);
	return 0;
}

/*
 * --hooks skb: the cgroup_skb programs go on each target's cgroup v2
 * directory as targets appear (skbscope.h), or with --skb-scope root on
 * the hierarchy's root, or on --cgroup when one is given (only its
 * sockets' packets then pay for them). Links, not legacy attaches: they
 * stack with whatever else is attached there (a CNI, systemd) and vanish
 * with the observer.
 */
static int attach_skb(struct loader *l, const struct sba_config *cfg)
{
	char root[PATH_MAX];
	int err = 0;

	if (cfg->cgroup_path && cfg->skb_scope_root)
		snprintf(root, sizeof(root), "%s", cfg->cgroup_path);
	else if ((err = cgroup2_root(root, sizeof(root), !cfg->skb_scope_root)))
		return err;
	l->scope = calloc(1, sizeof(*l->scope));
	if (!l->scope)
		return -ENOMEM;
	return skbscope__init(l->scope, root, l->skel->progs.handle_skb_ingress,
			      l->skel->progs.handle_skb_egress, !cfg->skb_scope_root);
}

void loader__cover_process(void *ctx, uint32_t tgid)
{
	struct loader *l = ctx;

	if (l->scope && l->scope->per_target)
		skbscope__cover(l->scope, (pid_t)tgid);
}

void loader__cover_targets(void *ctx)
{
	struct loader *l = ctx;
	uint32_t key, next;
	void *prev = NULL;

	if (!l->scope || !l->scope->per_target)
		return;
	while (!bpf_map__get_next_key(l->skel->maps.targets, prev, &next, sizeof(next))) {
		skbscope__cover(l->scope, (pid_t)next);
		key = next;
		prev = &key;
	}
}

bool loader__skb_scope(const struct loader *l, uint32_t *cgroups, uint64_t *uncovered)
{
	if (!l->scope || !l->scope->per_target)
		return false;
	*cgroups = (uint32_t)skbscope__count(l->scope);
	*uncovered = l->scope->uncovered;
	return true;
}

void loader__tick(struct loader *l)
{
	if (l->scope)
		skbscope__tick(l->scope);
}

/* ---- start / stop ----------------------------------------------------------- */

int loader__start(struct loader *l, const struct sba_config *cfg, ring_buffer_sample_fn fn,
		  void *ctx)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = cfg->btf_path);
	struct bpf_program *p;
	int err;

	memset(l, 0, sizeof(*l));
	libbpf_set_print(libbpf_print);

	err = check_capabilities();
	if (!err)
		err = check_btf(cfg);
	if (!err && cfg->hooks == SBA_HOOKS_TP)
		err = ensure_tracefs();
	if (!err && cfg->pin_dir)
		err = ensure_bpffs(cfg->pin_dir);
	if (err)
		return err;

	l->skel = observer_bpf__open_opts(&open_opts);
	if (!l->skel) {
		err = -errno;
		pr_err("failed to open the BPF object: %s\n", strerror(-err));
		print_log_tail(10);
		return err;
	}
	err = configure(l->skel, cfg);
	if (err)
		goto out_stop;

	err = observer_bpf__load(l->skel);
	if (err) {
		if (err == -EPERM || err == -EACCES) {
			bpf_object__for_each_program(p, l->skel->obj)
				if (bpf_program__autoload(p) && bpf_program__fd(p) < 0)
					break;
		}
		pr_err("failed to load the BPF programs: %s. The kernel said (last lines of the "
			"libbpf and verifier log):\n",
			strerror(-err));
		print_log_tail(25);
		if (err == -EPERM)
			pr_err("EPERM usually means missing capabilities (CAP_BPF, CAP_PERFMON) "
				"or a locked-down kernel\n");
		goto out_stop;
	}

	err = observer_bpf__attach(l->skel);
	if (err) {
		pr_err("failed to attach the BPF programs: %s. Last lines of the libbpf log:\n",
			strerror(-err));
		print_log_tail(10);
		goto out_stop;
	}
	if (cfg->hooks == SBA_HOOKS_SKB) {
		err = attach_skb(l, cfg);
		if (err)
			goto out_stop;
	}
	bpf_object__for_each_program(p, l->skel->obj)
		l->n_attached += bpf_program__autoload(p);

	if (cfg->pin_dir) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/sba_counters", cfg->pin_dir);
		err = bpf_map__pin(l->skel->maps.counters, path);
		if (err) {
			pr_err("failed to pin the counters map at %s: %s\n", path,
				strerror(-err));
			goto out_stop;
		}
	}

	/* our reader (ringbuf.h): hands space back per batch, not per record */
	err = ringbuf__open(&l->ring, bpf_map__fd(l->skel->maps.events),
			    bpf_map__max_entries(l->skel->maps.events));
	if (err) {
		pr_err("failed to map the ring buffer: %s\n", strerror(-err));
		goto out_stop;
	}
	l->fn = fn;
	l->fn_ctx = ctx;
	/* Edge-triggered: level-triggered, the ring's fd reads as ready while
	 * any record waits, so under steady traffic the loop would wake for a
	 * few records at a time instead of batching poll_ms worth of them. An
	 * edge comes only from a wakeup, and the probes write without one
	 * unless the ring is filling up. */
	l->wake_fd = epoll_create1(EPOLL_CLOEXEC);
	if (l->wake_fd < 0 ||
	    epoll_ctl(l->wake_fd, EPOLL_CTL_ADD, bpf_map__fd(l->skel->maps.events),
		      &(struct epoll_event){ .events = EPOLLIN | EPOLLET })) {
		err = -errno;
		pr_err("failed to watch the ring buffer: %s\n", strerror(-err));
		goto out_stop;
	}
	return 0;

out_stop:
	loader__stop(l);
	return err;
}

int loader__watch(struct loader *l, int fd)
{
	if (epoll_ctl(l->wake_fd, EPOLL_CTL_ADD, fd, &(struct epoll_event){ .events = EPOLLIN }))
		return -errno;
	return 0;
}

int loader__wait(struct loader *l, int timeout_ms)
{
	struct epoll_event ev[2];

	if (epoll_wait(l->wake_fd, ev, 2, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

int loader__drain(struct loader *l)
{
	int64_t n = ringbuf__consume(&l->ring, l->fn, l->fn_ctx);

	return n > INT32_MAX ? INT32_MAX : (int)n;
}

void loader__stop(struct loader *l)
{
	if (l->scope)
		skbscope__free(l->scope);
	free(l->scope);
	ringbuf__close(&l->ring);
	if (l->wake_fd > 0)
		close(l->wake_fd);
	if (l->skel) {
		if (bpf_map__is_pinned(l->skel->maps.counters))
			bpf_map__unpin(l->skel->maps.counters, NULL);
		observer_bpf__destroy(l->skel);
	}
	memset(l, 0, sizeof(*l));
}

/* ---- maps ------------------------------------------------------------------- */

int loader__counters(struct loader *l, struct sba_counters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sba_counters *per_cpu;
	__u32 key = 0;
	int err;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	per_cpu = calloc(ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	err = bpf_map__lookup_elem(l->skel->maps.counters, &key, sizeof(key), per_cpu,
				   sizeof(*per_cpu) * ncpu, 0);
	if (!err) {
		memset(out, 0, sizeof(*out));
		for (int c = 0; c < ncpu; c++) {
			for (int i = 0; i < SBA_DROP__MAX; i++)
				out->drops[i] += per_cpu[c].drops[i];
			for (int i = 0; i < SBA_STAT__MAX; i++)
				out->stats[i] += per_cpu[c].stats[i];
		}
	}
	free(per_cpu);
	return err;
}

int loader__add_target(struct loader *l, uint32_t tgid, uint64_t gen)
{
	struct sba_target t = { .gen = gen };
	int err = bpf_map__update_elem(l->skel->maps.targets, &tgid, sizeof(tgid), &t, sizeof(t),
				       BPF_NOEXIST);
	/* The filter byte every syscall reads (filter.bpf.h; .bss is mapped
	 * here). On -EEXIST the kernel added the process first and set it. */
	__u8 *tag = &l->skel->bss->target_tags[tgid & (SBA_TGID_MAX - 1)];

	if (!err)
		__atomic_store_n(tag, sba_tag_next(__atomic_load_n(tag, __ATOMIC_RELAXED)),
				 __ATOMIC_RELEASE);
	if (!err || err == -EEXIST)
		loader__cover_process(l, tgid);
	return err;
}

/* Deletes key if it belongs to generation gen of tgid; reports TCP closes. */
static int forget_one(struct bpf_map *map, const struct sba_conn_key *key, uint32_t tgid,
		      uint64_t gen, void (*closed)(void *, uint32_t, uint64_t, int), void *ctx)
{
	struct sba_conn val;

	if (key->tgid != tgid ||
	    bpf_map__lookup_elem(map, key, sizeof(*key), &val, sizeof(val), 0) ||
	    val.proc_gen != gen)
		return 0;
	if (val.kind == SBA_FD_TCP && closed)
		closed(ctx, tgid, val.conn_id, key->fd);
	bpf_map__delete_elem(map, key, sizeof(*key), 0);
	return 1;
}

int loader__forget_process(struct loader *l, uint32_t tgid, uint64_t gen,
			   void (*closed)(void *ctx, uint32_t tgid, uint64_t conn_id, int fd),
			   void *ctx)
{
	struct bpf_map *map = l->skel->maps.conns;
	struct sba_conn_key key, next, *prev = NULL;
	int removed = 0;

	/* Deleting the current key would restart the walk: decide on each key
	 * only once its successor is known. */
	while (!bpf_map__get_next_key(map, prev, &next, sizeof(next))) {
		if (prev)
			removed += forget_one(map, prev, tgid, gen, closed, ctx);
		key = next;
		prev = &key;
	}
	if (prev)
		removed += forget_one(map, prev, tgid, gen, closed, ctx);
	return removed;
}

void loader__own_socket(void *ctx, uint64_t cookie, uint32_t tgid)
{
	struct loader *l = ctx;
	struct sba_skb_sock v = { .tgid = tgid, .state = SBA_SK_TARGET };

	/* BPF_EXIST: a socket closed meanwhile must not come back. Failing,
	 * the programs keep asking the map: slower, not wrong. */
	bpf_map__update_elem(l->skel->maps.skb_socks, &cookie, sizeof(cookie), &v, sizeof(v),
			     BPF_EXIST);
}

/* ---- names -------------------------------------------------------------------- */

const char *sba_drop_name(int reason)
{
	static const char *const names[SBA_DROP__MAX] = {
		[SBA_DROP_RINGBUF_FULL] = "ringbuf_full",
		[SBA_DROP_CONN_MAP_FULL] = "conn_map_full",
		[SBA_DROP_TARGET_MAP_FULL] = "target_map_full",
		[SBA_DROP_COPY_FAULT] = "copy_fault",
		[SBA_DROP_IOV_LIMIT] = "iov_limit",
	};

	return reason >= 0 && reason < SBA_DROP__MAX && names[reason] ? names[reason] : "unknown";
}

const char *sba_stat_name(int stat)
{
	static const char *const names[SBA_STAT__MAX] = {
		[SBA_STAT_DATA_EVENTS] = "data_events",
		[SBA_STAT_BYTES_SEEN] = "bytes_seen",
		[SBA_STAT_BYTES_CAPTURED] = "bytes_captured",
		[SBA_STAT_RING_BYTES] = "ring_bytes",
		[SBA_STAT_CONNS_OPENED] = "conns_opened",
		[SBA_STAT_CONNS_JOINED] = "conns_joined",
		[SBA_STAT_CONNS_CLOSED] = "conns_closed",
		[SBA_STAT_FDS_IGNORED] = "fds_ignored",
		[SBA_STAT_DATA_LOST_BYTES] = "data_lost_bytes",
		[SBA_STAT_WAKEUPS] = "wakeups",
	};

	return stat >= 0 && stat < SBA_STAT__MAX && names[stat] ? names[stat] : "unknown";
}

const char *sba_sys_name(int sys)
{
	static const char *const names[SBA_SYS__MAX] = {
		[SBA_SYS_READ] = "read",	 [SBA_SYS_READV] = "readv",
		[SBA_SYS_RECVFROM] = "recvfrom", [SBA_SYS_RECVMSG] = "recvmsg",
		[SBA_SYS_WRITE] = "write",	 [SBA_SYS_WRITEV] = "writev",
		[SBA_SYS_SENDTO] = "sendto",	 [SBA_SYS_SENDMSG] = "sendmsg",
		[SBA_SYS_SENDFILE] = "sendfile", [SBA_SYS_ACCEPT] = "accept",
		[SBA_SYS_ACCEPT4] = "accept4",	 [SBA_SYS_CONNECT] = "connect",
		[SBA_SYS_CLOSE] = "close",	 [SBA_SYS_DUP2] = "dup2",
		[SBA_SYS_DUP3] = "dup3",
	};

	return sys > 0 && sys < SBA_SYS__MAX && names[sys] ? names[sys] : "unknown";
}
