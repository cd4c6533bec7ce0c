/*
 * small_stack: a clone() child on an 8 KiB stack (with a guard page below
 * it) making intercepted calls, as gtest death tests do (TRAPS 12: PATH_MAX
 * buffers on a wrapper's stack overflowed such stacks).
 *
 *   small_stack FILE fork   clone(SIGCHLD): a separate process
 *   small_stack FILE vm     clone(CLONE_VM | CLONE_VFORK): shares our memory
 *   small_stack FILE exec   clone(SIGCHLD), then execs /bin/true
 *
 * The child opens, fstats, stats, lstats, accesses and closes FILE.  Prints
 * "child status S" (128+N when killed by signal N) and exits with S.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK 8192
#define GUARD 4096

static const char *file;
static int do_exec;

static int
child(void *unused)
{
	(void)unused;
	struct stat st;
	int fd = open(file, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0 || stat(file, &st) != 0 || lstat(file, &st) != 0 ||
	    access(file, R_OK) != 0 || close(fd) != 0)
		return 10;
	if (do_exec) {
		execl("/bin/true", "true", (char *)NULL);
		return 11;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	file = argv[1];
	int flags = SIGCHLD;
	if (strcmp(argv[2], "vm") == 0)
		flags |= CLONE_VM | CLONE_VFORK;
	do_exec = strcmp(argv[2], "exec") == 0;
	char *area = mmap(NULL, GUARD + STACK, PROT_READ | PROT_WRITE,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (area == MAP_FAILED || mprotect(area, GUARD, PROT_NONE) != 0)
		return 3;
	pid_t pid = clone(child, area + GUARD + STACK, flags, NULL);
	if (pid < 0)
		return 4;
	int status;
	if (waitpid(pid, &status, __WALL) != pid)
		return 5;
	int code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	printf("child status %d\n", code);
	return code;
}
