/*
 * run: start a real program as a child process and collect what a user sees.
 *
 * The tests never preload the shim into themselves (Criterion re-runs the
 * test binary; TRAPS 25): LD_PRELOAD and WARD_* exist only in the child's
 * environment, built here from a clean copy of ours.  stdout and stderr are
 * captured separately, stdin is fed from memory (or /dev/null), and a child
 * that does not finish in time is killed with its whole process group, so a
 * deadlock in the shim is a failed test, not a hung suite.
 */
#ifndef WARD_TESTS_RUN_H
#define WARD_TESTS_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct run_opts {
	const char *const *env;  /* extra "NAME=value" entries, NULL-terminated */
	bool shim;               /* preload WARD_LIB into the child */
	const char *input;       /* stdin bytes; NULL: /dev/null */
	size_t input_len;
	const char *cwd;         /* working directory of the child; NULL: ours */
	int timeout_ms;          /* 0: 30 s */
	int extra_fd;            /* > 2: open extra_fd_path (append) on this fd */
	const char *extra_fd_path;
};

struct run_result {
	long pid;          /* the child's pid */
	int status;        /* raw wait status */
	bool timed_out;
	char *out;         /* NUL-terminated captures */
	size_t out_len;
	char *err;
	size_t err_len;
};

/* Run argv (PATH is searched); false if it could not be started at all. */
bool run_argv(const char *const argv[], const struct run_opts *opts, struct run_result *r);
void run_free(struct run_result *r);

/* Exit status as a shell shows it: code, 128+signal, -1 on timeout. */
int run_exit_code(const struct run_result *r);

#endif
