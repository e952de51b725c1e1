// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * observer.bpf.c - every BPF program of sba-observer; each one is thin.
 *
 * Two flavours of syscall hooks carry the same logic (capture.bpf.h); the
 * loader autoloads one of them:
 *  - raw:  raw_tp/sys_enter + raw_tp/sys_exit, one dispatcher pair that sees
 *          every syscall of the host and turns down the rest with a switch on
 *          the syscall number and an array read;
 *  - tp:   one tp/syscalls/sys_{enter,exit}_<name> program per syscall, which
 *          fire only for those syscalls but pay the perf-event trampoline of
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

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- raw flavour -------------------------------------------------------- */

SEC("raw_tp/sys_enter")
int handle_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	int sys = sba_sys_of((long)ctx->args[1]);
	struct sba_target *t;
	struct pt_regs regs;
	__u64 pid_tgid;

	if (!sys)
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	t = target_of(pid_tgid >> 32);
	if (!t)
		return 0;
	/* One read of the saved user registers instead of one per argument. */
	if (bpf_probe_read_kernel(&regs, sizeof(regs), (void *)ctx->args[0]))
		return 0;
	return on_enter(sys, pid_tgid, t, PT_REGS_PARM1_SYSCALL(&regs),
			PT_REGS_PARM2_SYSCALL(&regs), PT_REGS_PARM3_SYSCALL(&regs));
}

SEC("raw_tp/sys_exit")
int handle_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	return on_exit(bpf_get_current_pid_tgid(), (long)ctx->args[1]);
}

/* ---- tp flavour --------------------------------------------------------- */

#define TP_ENTER(name, SYS)                                                             \
	SEC("tp/syscalls/sys_enter_" #name)                                             \
	int handle_enter_##name(struct trace_event_raw_sys_enter *ctx)                  \
	{                                                                               \
		__u64 pid_tgid = bpf_get_current_pid_tgid();                            \
		struct sba_target *t = target_of(pid_tgid >> 32);                       \
                                                                                        \
		if (!t)                                                                 \
			return 0;                                                       \
		return on_enter(SYS, pid_tgid, t, ctx->args[0], ctx->args[1],           \
				ctx->args[2]);                                          \
	}

#define TP_EXIT(name)                                                    \
	SEC("tp/syscalls/sys_exit_" #name)                               \
	int handle_exit_##name(struct trace_event_raw_sys_exit *ctx)     \
	{                                                                \
		return on_exit(bpf_get_current_pid_tgid(), ctx->ret);    \
	}

#define TP_PAIR(name, SYS) TP_ENTER(name, SYS) TP_EXIT(name)

TP_PAIR(read, SBA_SYS_READ)
TP_PAIR(readv, SBA_SYS_READV)
TP_PAIR(recvfrom, SBA_SYS_RECVFROM)
TP_PAIR(recvmsg, SBA_SYS_RECVMSG)
TP_PAIR(write, SBA_SYS_WRITE)
TP_PAIR(writev, SBA_SYS_WRITEV)
TP_PAIR(sendto, SBA_SYS_SENDTO)
TP_PAIR(sendmsg, SBA_SYS_SENDMSG)
TP_PAIR(sendfile64, SBA_SYS_SENDFILE)
TP_PAIR(accept, SBA_SYS_ACCEPT)
TP_PAIR(accept4, SBA_SYS_ACCEPT4)
TP_PAIR(connect, SBA_SYS_CONNECT)
TP_ENTER(close, SBA_SYS_CLOSE)
TP_ENTER(dup2, SBA_SYS_DUP2)
TP_ENTER(dup3, SBA_SYS_DUP3)

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
	if (match)
		target_add(tgid, SBA_EV_PROC_EXEC, 0); /* new gen: CLOEXEC fds are gone */
	else if (was_target)
		target_remove(tgid);
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
