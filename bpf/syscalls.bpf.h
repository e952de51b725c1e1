/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syscalls.bpf.h - syscall numbers the raw_tp dispatcher switches on.
 *
 * raw_tp/sys_enter sees the native syscall number; it differs per
 * architecture (x86-64 has its own table, arm64 uses asm-generic), so the
 * numbers are spelled out here rather than taken from a header that the BPF
 * target does not have. 32-bit compat tasks (ia32) are not decoded: Node on
 * 64-bit hosts is 64-bit.
 */
#ifndef SBA_SYSCALLS_BPF_H
#define SBA_SYSCALLS_BPF_H

#if defined(__TARGET_ARCH_x86)
#define NR_read		0
#define NR_write	1
#define NR_close	3
#define NR_readv	19
#define NR_writev	20
#define NR_dup2		33
#define NR_sendfile	40
#define NR_connect	42
#define NR_accept	43
#define NR_sendto	44
#define NR_recvfrom	45
#define NR_sendmsg	46
#define NR_recvmsg	47
#define NR_accept4	288
#define NR_dup3		292
#elif defined(__TARGET_ARCH_arm64)
#define NR_dup3		24
#define NR_close	57
#define NR_read		63
#define NR_write	64
#define NR_readv	65
#define NR_writev	66
#define NR_sendfile	71
#define NR_accept	202
#define NR_connect	203
#define NR_sendto	206
#define NR_recvfrom	207
#define NR_sendmsg	211
#define NR_recvmsg	212
#define NR_accept4	242
#define NR_dup2		(-1) /* arm64 has no dup2 */
#else
#error "syscall numbers for this architecture are missing"
#endif

/*
 * The part of the saved user registers a sys_exit needs: the syscall number
 * and the first three arguments. On x86-64 they are four adjacent words of
 * struct pt_regs (dx, si, di, orig_ax), so one 32-byte read gets them all;
 * a kernel read costs tens of nanoseconds whatever its size up to ~64 bytes.
 * The raw flavour needs this copy: raw_tp/sys_exit hands over the pt_regs
 * pointer as a plain integer. The tp flavour gets a BTF pointer from
 * bpf_task_pt_regs() and loads the words directly (PT_REGS_SYSCALL_ARG*).
 */
#if defined(__TARGET_ARCH_x86)
struct sys_regs {
	__u64 dx, si, di, orig_ax;
};
#define SYS_REGS_OFFSET __builtin_offsetof(struct pt_regs, dx)
#define SYS_REGS_NR(r) ((r)->orig_ax)
#define SYS_REGS_ARG0(r) ((r)->di)
#define SYS_REGS_ARG1(r) ((r)->si)
#define SYS_REGS_ARG2(r) ((r)->dx)
/* The same three arguments read straight from a BTF struct pt_regs pointer. */
#define PT_REGS_SYSCALL_ARG0(p) ((p)->di)
#define PT_REGS_SYSCALL_ARG1(p) ((p)->si)
#define PT_REGS_SYSCALL_ARG2(p) ((p)->dx)
#else
/* arm64: x0 holds the return value at exit; the first argument is orig_x0. */
struct sys_regs {
	struct pt_regs r;
};
#define SYS_REGS_OFFSET 0
#define SYS_REGS_NR(r) ((r)->r.syscallno)
#define SYS_REGS_ARG0(r) ((r)->r.orig_x0)
#define SYS_REGS_ARG1(r) ((r)->r.regs[1])
#define SYS_REGS_ARG2(r) ((r)->r.regs[2])
#define PT_REGS_SYSCALL_ARG0(p) ((p)->orig_x0)
#define PT_REGS_SYSCALL_ARG1(p) ((p)->regs[1])
#define PT_REGS_SYSCALL_ARG2(p) ((p)->regs[2])
#endif

/* Native syscall number -> enum sba_sys, 0 for every syscall we ignore.
 * Compiles to a jump table; runs before anything else on each syscall. */
static __always_inline int sba_sys_of(long nr)
{
	switch (nr) {
	case NR_read: return SBA_SYS_READ;
	case NR_write: return SBA_SYS_WRITE;
	case NR_close: return SBA_SYS_CLOSE;
	case NR_readv: return SBA_SYS_READV;
	case NR_writev: return SBA_SYS_WRITEV;
	case NR_sendfile: return SBA_SYS_SENDFILE;
	case NR_connect: return SBA_SYS_CONNECT;
	case NR_accept: return SBA_SYS_ACCEPT;
	case NR_sendto: return SBA_SYS_SENDTO;
	case NR_recvfrom: return SBA_SYS_RECVFROM;
	case NR_sendmsg: return SBA_SYS_SENDMSG;
	case NR_recvmsg: return SBA_SYS_RECVMSG;
	case NR_accept4: return SBA_SYS_ACCEPT4;
	case NR_dup3: return SBA_SYS_DUP3;
#if defined(__TARGET_ARCH_x86)
	case NR_dup2: return SBA_SYS_DUP2;
#endif
	default: return 0;
	}
}

#endif /* SBA_SYSCALLS_BPF_H */
