/*
 * reach_route: reach into another process, as a program in the tree might.
 *   reach_route attach|seize          ptrace a child of its own that is not traced
 *   reach_route traceme               a child asks to be traced, the parent continues it
 *   reach_route syscall-attach        attach through syscall(SYS_ptrace)
 *   reach_route vm-read PID ADDR N    process_vm_readv N bytes at ADDR (hex) of PID
 *   reach_route vm-write PID ADDR     process_vm_writev "x" at ADDR of PID
 *   reach_route getfd PID FD          pidfd_getfd of PID's FD, then read it
 *   reach_route raw-attach-parent     the kernel's own ptrace attach to the parent (no libc)
 * Prints "MODE: result R errno E" (and what it read, "got: ...").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static void
show(const char *mode, long r)
{
	printf("%s: result %ld errno %d\n", mode, r < 0 ? -1L : r, r < 0 ? errno : 0);
	fflush(stdout);
}

static long
raw4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return r;
}

static pid_t
sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void
end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	if (strcmp(mode, "attach") == 0 || strcmp(mode, "seize") == 0 || strcmp(mode, "syscall-attach") == 0) {
		pid_t pid = sleeper();
		long r = mode[1] == 'y' ? syscall(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0)
		         : ptrace(mode[0] == 'a' ? PTRACE_ATTACH : PTRACE_SEIZE, pid, 0, 0);
		show(mode, r);
		end(pid);
		return 0;
	}
	if (strcmp(mode, "traceme") == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
				_exit(1);
			raise(SIGSTOP);
			_exit(7);
		}
		int status;
		waitpid(pid, &status, 0);
		show("stopped", WIFSTOPPED(status) ? 0 : -1);
		show("cont", ptrace(PTRACE_CONT, pid, 0, 0));
		waitpid(pid, &status, 0);
		printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return 0;
	}
	if (strcmp(mode, "vm-read") == 0 && argc == 5) {
		char buf[256] = { 0 };
		size_t n = strtoul(argv[4], NULL, 10);
		struct iovec local = { buf, n < sizeof(buf) ? n : sizeof(buf) - 1 };
		struct iovec remote = { (void *)strtoul(argv[3], NULL, 16), local.iov_len };
		long r = process_vm_readv(atoi(argv[2]), &local, 1, &remote, 1, 0);
		show(mode, r);
		if (r > 0)
			printf("got: %s", buf);
		return 0;
	}
	if (strcmp(mode, "vm-write") == 0 && argc == 4) {
		struct iovec local = { "x", 1 }, remote = { (void *)strtoul(argv[3], NULL, 16), 1 };
		show(mode, process_vm_writev(atoi(argv[2]), &local, 1, &remote, 1, 0));
		return 0;
	}
	if (strcmp(mode, "getfd") == 0 && argc == 4) {
		int pidfd = pidfd_open(atoi(argv[2]), 0);
		if (pidfd < 0) {
			show("pidfd_open", -1);
			return 1;
		}
		long fd = pidfd_getfd(pidfd, atoi(argv[3]), 0);
		show(mode, fd);
		char buf[256] = { 0 };
		if (fd >= 0 && pread((int)fd, buf, sizeof(buf) - 1, 0) > 0)
			printf("got: %s", buf);
		return 0;
	}
	if (strcmp(mode, "raw-attach-parent") == 0) {
		printf("dumpable %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
		pid_t parent = getppid();
		long r = raw4(SYS_ptrace, PTRACE_ATTACH, parent, 0, 0);
		if (r == 0) {
			waitpid(parent, NULL, __WALL);
			raw4(SYS_ptrace, PTRACE_DETACH, parent, 0, 0);
		}
		errno = r < 0 ? (int)-r : 0;
		show(mode, r < 0 ? -1 : r);
		return 0;
	}
	return 2;
}
