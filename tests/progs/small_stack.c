/*
 * small_stack: a clone() child on an 8 KiB stack (with a guard page below
 * it) making intercepted calls, as gtest death tests do (TRAPS 12: PATH_MAX
 * buffers on a wrapper's stack overflowed such stacks).
 *
 *   small_stack FILE fork   clone(SIGCHLD): a separate process
 *   small_stack FILE vm     clone(CLONE_VM | CLONE_VFORK): shares our memory
 *   small_stack FILE exec   clone(SIGCHLD), then execs /bin/true
 *   small_stack FILE thread a thread of PTHREAD_STACK_MIN (16 KiB, of which
 *                           glibc takes the static TLS of every library)
 *   small_stack FILE bigenv        clone(SIGCHLD), then execve of /bin/sh with an
 *                           environment of BIG entries (far more than 8 KiB
 *                           of pointers), which checks that the last one
 *                           arrived
 *   small_stack FILE bigenv-vfork  the same from clone(CLONE_VM | CLONE_VFORK)
 *   small_stack FILE bigenv-thread a thread of PTHREAD_STACK_MIN: posix_spawn of
 *                           that shell with that environment, waited for
 *                           ("spawn status S"), then execve of it ("exec ok")
 *   small_stack FILE MODE DENIED   also tries DENIED, which the policy
 *                                  refuses: open, fopen, stat, mkdir under it
 *                                  and an exec of it must fail with EACCES
 *                                  (each refusal writes a record) and the
 *                                  child goes on
 *
 * The child opens, fstats, stats, lstats, accesses and closes FILE.  Prints
 * "child status S" (128+N when killed by signal N) and exits with S.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK 8192
#define GUARD 4096

static const char *file, *denied;
static int do_exec;

/* The big environment: static, never on the small stack. */
#define BIG 6000
static char *big_env[BIG + 2];
static char big_text[BIG][16];
static char *const big_argv[] = { "sh", "-c", "test \"$BIG_LAST\" = yes && echo exec ok", NULL };
static bool big;

static void
make_big_env(void)
{
	for (int i = 0; i < BIG; i++) {
		snprintf(big_text[i], sizeof(big_text[i]), "BIG_%d=x", i);
		big_env[i] = big_text[i];
	}
	big_env[BIG] = "BIG_LAST=yes";
	big_env[BIG + 1] = NULL;
}

/* Every refused call must fail with EACCES; 12 + which one did not. */
static int
try_denied(void)
{
	struct stat st;
	static char sub[4096 + 8]; /* not on the 8 KiB stack */
	snprintf(sub, sizeof(sub), "%s.d", denied);
	if (open(denied, O_RDONLY) != -1 || errno != EACCES)
		return 12;
	if (fopen(denied, "r") != NULL || errno != EACCES)
		return 13;
	if (stat(denied, &st) != -1 || errno != EACCES)
		return 14;
	if (mkdir(sub, 0755) != -1 || errno != EACCES)
		return 15;
	if (execl(denied, "denied", (char *)NULL) != -1 || errno != EACCES)
		return 16;
	return 0;
}

static int
child(void *unused)
{
	(void)unused;
	struct stat st;
	int fd = open(file, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0 || stat(file, &st) != 0 || lstat(file, &st) != 0 ||
	    access(file, R_OK) != 0 || close(fd) != 0)
		return 10;
	if (denied != NULL) {
		int r = try_denied();
		if (r != 0)
			return r;
	}
	if (do_exec && big) {
		execve("/bin/sh", big_argv, big_env);
		return 11;
	}
	if (do_exec) {
		execl("/bin/true", "true", (char *)NULL);
		return 11;
	}
	return 0;
}

/* bigenv-thread: a spawn, then an exec, with the big environment. */
static void *
big_thread_main(void *unused)
{
	(void)unused;
	pid_t pid;
	int status;
	char *const argv[] = { "sh", "-c", "test \"$BIG_LAST\" = yes", NULL };
	int err = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, big_env);
	if (err != 0 || waitpid(pid, &status, 0) != pid)
		return (void *)20L;
	printf("spawn status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	fflush(stdout);
	execve("/bin/sh", big_argv, big_env);
	return (void *)21L;
}

static void *
thread_main(void *unused)
{
	return (void *)(long)child(unused);
}

static int
in_a_thread(void *(*fn)(void *))
{
	pthread_attr_t attr;
	pthread_t t;
	void *r;
	if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN) != 0)
		return 6;
	int err = pthread_create(&t, &attr, fn, NULL);
	if (err != 0) {
		printf("pthread_create %d\n", err);
		return 7;
	}
	pthread_join(t, &r);
	printf("child status %ld\n", (long)r);
	return (int)(long)r;
}

int
main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return 2;
	file = argv[1];
	denied = argc == 4 ? argv[3] : NULL;
	int flags = SIGCHLD;
	if (strcmp(argv[2], "vm") == 0 || strcmp(argv[2], "bigenv-vfork") == 0)
		flags |= CLONE_VM | CLONE_VFORK;
	big = strncmp(argv[2], "bigenv", 6) == 0;
	if (big)
		make_big_env();
	do_exec = strcmp(argv[2], "exec") == 0 || strcmp(argv[2], "bigenv") == 0 || strcmp(argv[2], "bigenv-vfork") == 0;
	if (strcmp(argv[2], "thread") == 0)
		return in_a_thread(thread_main);
	if (strcmp(argv[2], "bigenv-thread") == 0)
		return in_a_thread(big_thread_main);
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
