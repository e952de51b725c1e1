// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * observer.bpf.c - every BPF program of sba-observer; each one is thin.
 *
 * Two flavours of syscall hooks carry the same logic (capture.bpf.h); the
 * loader autoloads one of them. Both hook only the exit of syscalls:
 *  - raw:  raw_tp/sys_exit, one dispatcher that sees every syscall exit of
 *          the host and turns down other processes with one map lookup;
 *  - tp:   one tp/syscalls/sys_exit_<name> program per syscall, which fires
 *          only for those syscalls but pays the perf-event trampoline of
 *          syscall tracepoints on every hit.
 * bench/ measures both; docs/ARCHITECTURE.md says which is the default and why.
 * Process lifecycle (exec, fork, exit) always uses raw tracepoints.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sba_abi.h"
#include "maps.bpf.h"
#include "filter.bpf.h"
#include "sock.bpf.h"
#include "syscalls.bpf.h"
#include "capture.bpf.h"
#include "skb.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- raw flavour -------------------------------------------------------- */

/* Every syscall exit on the host: filter by process, then by syscall number. */
SEC("raw_tp/sys_exit")
int handle_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u8 tag = target_tag(pid_tgid >> 32);
	struct sys_call a;
	struct sys_regs r;

	if (!tag)
		return 0;
	if (bpf_probe_read_kernel(&r, sizeof(r), (void *)ctx->args[0] + SYS_REGS_OFFSET))
		return 0;
	a.sys = sba_sys_of(SYS_REGS_NR(&r));
	if (!a.sys)
		return 0;
	a.a0 = SYS_REGS_ARG0(&r);
	a.a1 = SYS_REGS_ARG1(&r);
	a.a2 = SYS_REGS_ARG2(&r);
	a.ret = (long)ctx->args[1];
	return on_exit(&a, tag, pid_tgid);
}

/* ---- tp flavour --------------------------------------------------------- */

/* Only the hooked syscalls fire; the arguments come from the task's saved
 * user registers, since sys_exit_* tracepoints carry only the result.
 * bpf_task_pt_regs() returns a BTF pointer, so they are plain loads (the JIT
 * guards them with an exception table entry): ~90 ns less per syscall on
 * this host than a bpf_probe_read_kernel() of the same words. */
static __always_inline int tp_exit(__u8 sys, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u8 tag = target_tag(pid_tgid >> 32);
	struct sys_call a = { .sys = sys, .ret = ret };
	struct pt_regs *regs;

	if (!tag)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	a.a0 = PT_REGS_SYSCALL_ARG0(regs);
	a.a1 = PT_REGS_SYSCALL_ARG1(regs);
	a.a2 = PT_REGS_SYSCALL_ARG2(regs);
	return on_exit(&a, tag, pid_tgid);
}

#define TP_EXIT(name, SYS)                                               \
	SEC("tp/syscalls/sys_exit_" #name)                               \
	int handle_exit_##name(struct trace_event_raw_sys_exit *ctx)     \
	{                                                                \
		return tp_exit(SYS, ctx->ret);                           \
	}

TP_EXIT(read, SBA_SYS_READ)
TP_EXIT(readv, SBA_SYS_READV)
TP_EXIT(recvfrom, SBA_SYS_RECVFROM)
TP_EXIT(recvmsg, SBA_SYS_RECVMSG)
TP_EXIT(write, SBA_SYS_WRITE)
TP_EXIT(writev, SBA_SYS_WRITEV)
TP_EXIT(sendto, SBA_SYS_SENDTO)
TP_EXIT(sendmsg, SBA_SYS_SENDMSG)
TP_EXIT(sendfile64, SBA_SYS_SENDFILE)
TP_EXIT(accept, SBA_SYS_ACCEPT)
TP_EXIT(accept4, SBA_SYS_ACCEPT4)
TP_EXIT(connect, SBA_SYS_CONNECT)
TP_EXIT(close, SBA_SYS_CLOSE)
TP_EXIT(dup2, SBA_SYS_DUP2)
TP_EXIT(dup3, SBA_SYS_DUP3)

/* ---- process lifecycle -------------------------------------------------- */

/* A process image was replaced: decide afresh whether it is a target. */
SEC("raw_tp/sched_process_exec")
int handle_exec(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	bool was_target = target_of(tgid) != NULL;
	bool match;

	if (targ_pid_mode)
		match = was_target;
	else
		match = exe_matches((struct task_struct *)bpf_get_current_task()) &&
			cgroup_matches();
	/* The old image is gone: its generation ends here (userspace drops its
	 * connections; sockets that survive exec are joined again if used). */
	if (was_target)
		target_remove(tgid);
	if (match)
		target_add(tgid, SBA_EV_PROC_EXEC, 0);
	return 0;
}

/* A target forked: the child process is a target too (threads are not new). */
SEC("raw_tp/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 ptgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 pid, tgid;

	if (!target_of(ptgid))
		return 0;
	pid = BPF_CORE_READ(child, pid);
	tgid = BPF_CORE_READ(child, tgid);
	if (pid != tgid)
		return 0;
	target_add(tgid, SBA_EV_PROC_FORK, ptgid);
	return 0;
}

/* A thread exits; the last one out removes the target. (Its stash, on the
 * task, is freed by the kernel.) */
SEC("raw_tp/sched_process_exit")
int handle_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task;

	if (!target_of(tgid))
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	/* signal->live is decremented before this tracepoint fires. */
	if (BPF_CORE_READ(task, signal, live.counter) == 0)
		target_remove(tgid);
	return 0;
}
