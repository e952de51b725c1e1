// SPDX-License-Identifier: Apache-2.0
// Global-tax probe for bench/workloads/tax-syscall.sh: a process that is not
// a target of the observer and does nothing but syscalls, forever. One
// iteration = getppid() (hooked by no `tp` program) + read(/dev/zero, 1 byte)
// (hooked by the `tp` read programs, which must reject it). On SIGUSR1 it
// prints the number of iterations done so far, so the caller can count over
// any window. Build: cc -O2 -o syscall-loop syscall-loop.c
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile unsigned long long iters;

static void on_usr1(int sig)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu\n", iters); /* fine here: no locale, no malloc */

	(void)sig;
	if (write(STDOUT_FILENO, buf, n) < 0)
		_exit(1);
}

int main(void)
{
	struct sigaction sa;
	char c;
	int fd = open("/dev/zero", O_RDONLY);

	if (fd < 0) {
		perror("open /dev/zero");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	for (;;) {
		syscall(SYS_getppid);
		if (read(fd, &c, 1) != 1)
			return 1;
		iters++;
	}
}
