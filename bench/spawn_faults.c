/*
 * spawn_faults: the page faults of one process start, from its execve to its
 * exit, for bench/instructions.sh.
 *
 *   bench_spawn_faults COUNT COMMAND [ARG...]
 *
 * Starts COMMAND COUNT times, one after the other, with this process's
 * environment, and prints the median and the smallest minor and major fault
 * counts of one run (wait4's rusage of each child alone):
 *
 *   spawn_faults runs=COUNT minflt_median=.. minflt_min=.. majflt_median=..
 *
 * The child is started with libc's own posix_spawn, taken from libc.so.6
 * by dlsym: glibc's shares the parent's memory until the execve (no
 * copy-on-write faults before it) and runs no fork handlers, and a wrapper
 * of a library preloaded into this program (under `ward run` it is) is
 * bypassed.  So the figure is the exec and the command's own start-up and
 * exit, whatever this program runs under, and the command inherits the
 * environment `ward run` (or the caller) set.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

extern char **environ;

typedef int spawn_function(pid_t *, const char *, const posix_spawn_file_actions_t *,
                           const posix_spawnattr_t *, char *const[], char *const[]);

static int
compare_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

static spawn_function *
libc_posix_spawn(void)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	/* Through a union: ISO C has no cast from void * to a function pointer. */
	union {
		void *object;
		spawn_function *function;
	} symbol = { .object = libc != NULL ? dlsym(libc, "posix_spawn") : NULL };
	if (symbol.object == NULL) {
		fprintf(stderr, "spawn_faults: cannot find libc's posix_spawn: %s\n", dlerror());
		exit(1);
	}
	return symbol.function;
}

int
main(int argc, char **argv)
{
	char *end;
	long count = argc >= 3 ? strtol(argv[1], &end, 10) : 0;
	if (argc < 3 || *end != '\0' || count < 1 || count > 1000) {
		fputs("usage: bench_spawn_faults COUNT(1-1000) COMMAND [ARG...]\n", stderr);
		return 2;
	}
	spawn_function *spawn = libc_posix_spawn();
	long *minor = calloc((size_t)count, sizeof(long)), *major = calloc((size_t)count, sizeof(long));
	if (minor == NULL || major == NULL)
		return 1;
	for (long i = 0; i < count; i++) {
		pid_t pid;
		int err = spawn(&pid, argv[2], NULL, NULL, argv + 2, environ);
		if (err != 0) {
			fprintf(stderr, "spawn_faults: %s: %s\n", argv[2], strerror(err));
			return 1;
		}
		int status;
		struct rusage usage;
		if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "spawn_faults: %s did not exit with status 0\n", argv[2]);
			return 1;
		}
		minor[i] = usage.ru_minflt;
		major[i] = usage.ru_majflt;
	}
	qsort(minor, (size_t)count, sizeof(long), compare_long);
	qsort(major, (size_t)count, sizeof(long), compare_long);
	printf("spawn_faults runs=%ld minflt_median=%ld minflt_min=%ld majflt_median=%ld\n", count,
	       minor[count / 2], minor[0], major[count / 2]);
	free(minor);
	free(major);
	return 0;
}
