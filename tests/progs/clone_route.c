/*
 * clone_route: a child that shares the descriptor table, as a program in
 * the tree might make one.
 *   clone_route libc      clone(fn, stack, CLONE_FILES | SIGCHLD): the table
 *                         shared, the memory copied
 *   clone_route syscall   the same through syscall(SYS_clone)
 *   clone_route clone3    the same through syscall(SYS_clone3)
 *   clone_route vm        clone(CLONE_VM | CLONE_FILES | SIGCHLD): both shared
 *   clone_route fork      clone(SIGCHLD): a process of its own
 * The child closes a descriptor of the parent's and exits 7; the parent
 * waits and prints "MODE: result R errno E" (R 0: the child ran and
 * exited 7, the parent's descriptor was closed by it when the table is
 * shared; -1: clone failed with errno E).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char stack[65536] __attribute__((aligned(16)));
static int fd;

static int
child(void *unused)
{
	(void)unused;
	close(fd);
	return 7;
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *mode = argv[1];
	fd = open("/dev/null", O_RDONLY);
	bool shared = strcmp(mode, "fork") != 0;
	long pid;
	if (strcmp(mode, "libc") == 0) {
		pid = clone(child, stack + sizeof(stack), CLONE_FILES | SIGCHLD, NULL);
	} else if (strcmp(mode, "vm") == 0) {
		pid = clone(child, stack + sizeof(stack), CLONE_VM | CLONE_FILES | SIGCHLD, NULL);
	} else if (strcmp(mode, "fork") == 0) {
		pid = clone(child, stack + sizeof(stack), SIGCHLD, NULL);
	} else if (strcmp(mode, "syscall") == 0) {
		pid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0L, 0L, 0L, 0L);
		if (pid == 0)
			_exit(child(NULL));
	} else if (strcmp(mode, "clone3") == 0) {
		struct clone_args args;
		memset(&args, 0, sizeof(args));
		args.flags = CLONE_FILES;
		args.exit_signal = SIGCHLD;
		pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid == 0)
			_exit(child(NULL));
	} else {
		return 2;
	}
	int err = errno;
	long result = -1;
	if (pid > 0) {
		int status;
		result = waitpid((pid_t)pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7 &&
		                         (fcntl(fd, F_GETFD) < 0) == shared
		                 ? 0
		                 : -2;
		err = 0;
	}
	printf("%s: result %ld errno %d\n", mode, result, err);
	return 0;
}
