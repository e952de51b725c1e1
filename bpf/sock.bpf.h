/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sock.bpf.h - from a file descriptor of the current task to its TCP socket.
 *
 * Tracepoints give us an fd, not a socket, and Node accepts with
 * accept4(fd, NULL, NULL), so neither the socket kind nor the peer address is
 * in the syscall arguments. We walk current->files->fdt->fd[fd] to the
 * struct file, check that its inode is a socket, and read the struct sock
 * behind it (the technique DeepFlow uses on tracepoint-only kernels). The
 * walk costs a handful of kernel reads, so callers do it once per fd and
 * remember the answer in `conns`.
 */
#ifndef SBA_SOCK_BPF_H
#define SBA_SOCK_BPF_H

#define SBA_AF_INET	2
#define SBA_AF_INET6	10
#define SBA_SOCK_STREAM	1
#define SBA_IPPROTO_TCP	6
#define SBA_S_IFMT	00170000
#define SBA_S_IFSOCK	0140000

enum sock_kind {
	SOCK_KIND_NONE = 0,	/* no such fd (closed already, or a race) */
	SOCK_KIND_TCP = 1,
	SOCK_KIND_OTHER = 2,	/* a file, pipe, eventfd, unix or UDP socket... */
};

/* Classifies fd of the current task; on SOCK_KIND_TCP stores its sock. */
static __always_inline enum sock_kind fd_to_tcp_sock(int fd, struct sock **skp)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt;
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;
	struct sock *sk;
	unsigned int max_fds;
	umode_t mode;
	short type;
	__u16 family, proto;

	if (fd < 0)
		return SOCK_KIND_NONE;
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt)
		return SOCK_KIND_NONE;
	max_fds = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max_fds)
		return SOCK_KIND_NONE;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return SOCK_KIND_NONE;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & SBA_S_IFMT) != SBA_S_IFSOCK)
		return SOCK_KIND_OTHER;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock)
		return SOCK_KIND_OTHER;
	type = BPF_CORE_READ(sock, type);
	sk = BPF_CORE_READ(sock, sk);
	if (type != SBA_SOCK_STREAM || !sk)
		return SOCK_KIND_OTHER;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != SBA_AF_INET && family != SBA_AF_INET6)
		return SOCK_KIND_OTHER;
	/* sk_protocol is a u16 since v5.6 (bf9765145b85 "sock: make sk_protocol a
	 * 16-bit value") and a bitfield before; the PROBED read handles both. */
	proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (proto != SBA_IPPROTO_TCP)
		return SOCK_KIND_OTHER;
	*skp = sk;
	return SOCK_KIND_TCP;
}

/* Fills family, ports and addresses of ev from sk. */
static __always_inline void read_sock_addrs(struct sock *sk, struct sba_conn_ev *ev)
{
	struct sock_common *skc = &sk->__sk_common;

	ev->family = BPF_CORE_READ(skc, skc_family);
	ev->lport = BPF_CORE_READ(skc, skc_num);
	ev->rport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	if (ev->family == SBA_AF_INET) {
		bpf_probe_read_kernel(ev->laddr, 4, &skc->skc_rcv_saddr);
		bpf_probe_read_kernel(ev->raddr, 4, &skc->skc_daddr);
	} else {
		bpf_probe_read_kernel(ev->laddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_probe_read_kernel(ev->raddr, 16, &skc->skc_v6_daddr);
	}
}

#endif /* SBA_SOCK_BPF_H */
