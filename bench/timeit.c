/*
 * timeit: run a command REPEAT times in a row and print what one run cost.
 *
 *   timeit [-n REPEAT] [-p LIBRARY] -- CMD [ARG...]
 *   -> timeit wall_us=W cpu_us=C
 *
 * W is wall-clock time, C is user+system CPU time of the command and every
 * descendant it waited for (wait4's figures), both per run.  With -p the
 * library is put in LD_PRELOAD of the command only; without it LD_PRELOAD is
 * removed, so a stray value in the caller's environment cannot leak into the
 * bare side of a comparison.  timeit itself never runs under the shim.
 *
 * The command's standard output goes to /dev/null (the workloads' output is
 * not what is measured, and a terminal would time the terminal); its standard
 * error is kept.  A run that fails makes timeit fail: a workload broken by the
 * shim must not pass for a fast one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static uint64_t
timeval_us(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static int
usage(void)
{
	fprintf(stderr, "usage: timeit [-n REPEAT] [-p LIBRARY] -- CMD [ARG...]\n");
	return 2;
}

/* One run: the CPU time it used, or -1 if the command did not succeed. */
static int64_t
run_once(char **command, const char *preload)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("timeit: fork");
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0 && null != STDOUT_FILENO) {
			dup2(null, STDOUT_FILENO);
			close(null);
		}
		if (preload != NULL)
			setenv("LD_PRELOAD", preload, 1);
		else
			unsetenv("LD_PRELOAD");
		execvp(command[0], command);
		fprintf(stderr, "timeit: %s: %s\n", command[0], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage usage;
	while (wait4(pid, &status, 0, &usage) < 0) {
		if (errno != EINTR) {
			perror("timeit: wait4");
			return -1;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "timeit: %s %s (status 0x%x)\n", command[0],
		        preload != NULL ? "failed under the preload" : "failed", status);
		return -1;
	}
	return (int64_t)(timeval_us(usage.ru_utime) + timeval_us(usage.ru_stime));
}

int
main(int argc, char **argv)
{
	long repeat = 1;
	const char *preload = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "+n:p:")) != -1) {
		switch (opt) {
		case 'n':
			repeat = strtol(optarg, NULL, 10);
			break;
		case 'p':
			preload = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc || repeat < 1)
		return usage();

	uint64_t cpu_us = 0;
	uint64_t start = now_ns();
	for (long i = 0; i < repeat; i++) {
		int64_t used = run_once(argv + optind, preload);
		if (used < 0)
			return 1;
		cpu_us += (uint64_t)used;
	}
	uint64_t wall_ns = now_ns() - start;
	printf("timeit wall_us=%.1f cpu_us=%.1f\n", (double)wall_ns / 1000.0 / (double)repeat,
	       (double)cpu_us / (double)repeat);
	return 0;
}
