/*
 * Process life under the shim: fork, vfork, clone, exec, the exit paths,
 * signals and descriptors the program takes away from the shim.
 *
 * Each test runs a small real program (tests/progs) as a child under the
 * shim and checks what a user sees: no hang (every run has a deadline), the
 * program's own output and exit status, one dump per process image with the
 * right pid, reason and figures (SPEC 3, 7; TRAPS 12, 14, 18, 19, 22).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "json.h"
#include "shimrun.h"

static char *dir;
static char data_file[PATH_MAX];

static void
setup(void)
{
	dir = tmpdir_make();
	path_in(data_file, dir, "data.txt");
	cr_assert(file_write(data_file, "0123456789abcdefghijklmnopqrstuvwxyz\n", 37));
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(processes, .init = setup, .fini = teardown, .timeout = 90);

static void
expect_exit(const struct shim_run *s, int code)
{
	cr_assert_not(s->r.timed_out, "the program hung (deadlock?)");
	cr_assert_eq(run_exit_code(&s->r), code, "exit %d, want %d; stderr: %s",
	             run_exit_code(&s->r), code, s->r.err);
}

static void
expect_valid_dumps(const struct shim_run *s)
{
	for (size_t i = 0; i < s->dumps.n; i++)
		cr_assert(s->dumps.d[i].valid, "malformed dump: %s", s->dumps.d[i].json);
}

/* Run with the text dump on stderr; returns stderr.  stdout never holds a
 * dump, and holds nothing at all for a silent program. */
static char *
text_dump_run_out(const char *const argv[], int code, bool silent)
{
	const char *env[] = { "WARD_STATS=stderr", NULL };
	struct run_opts o = { .env = env, .shim = true, .timeout_ms = 30000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out);
	cr_assert_eq(run_exit_code(&r), code, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_assert_null(strstr(r.out, "ward: pid"), "a dump on stdout: %s", r.out);
	if (silent)
		cr_assert_eq(r.out_len, 0, "stdout: %s", r.out);
	char *err = strdup(r.err);
	run_free(&r);
	return err;
}

static char *
text_dump_run(const char *const argv[], int code)
{
	return text_dump_run_out(argv, code, true);
}

static void
expect_text_dump(const char *err, const char *exe)
{
	char header[128];
	snprintf(header, sizeof(header), "(%s), at exit\n", exe);
	cr_assert_not_null(strstr(err, "ward: pid "), "no dump on the original stderr: [%s]", err);
	cr_assert_not_null(strstr(err, header), "%s", err);
	cr_assert_not_null(strstr(err, " bytes written\n"), "the dump was cut: %s", err);
}

/* ---- fork ---- */

Test(processes, fork_in_a_threaded_program)
{
	const char *argv[] = { PROG_FORK_THREADS, "4", "20", "25", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	expect_valid_dumps(&s);
	cr_assert_eq(dumps_count(&s.dumps, s.r.pid), 1, "the parent dumps once:\n%s", s.stats);
	size_t children = 0;
	for (const char *line = s.r.out; (line = strstr(line, "child ")) != NULL; line++) {
		long pid = strtol(line + 6, NULL, 10);
		cr_assert_eq(dumps_count(&s.dumps, pid), 1, "child %ld: want one dump", pid);
		const struct dump *d = dumps_find(&s.dumps, pid, "exit");
		cr_assert_not_null(d, "child %ld did not dump at exit", pid);
		cr_assert_str_eq(d->exe, "fork_threads");
		/* its own figures, from zero: none of the parent's threads' calls */
		cr_assert_eq(dump_calls(d, "open"), 25, "%s", d->json);
		cr_assert_eq(dump_calls(d, "close"), 25, "%s", d->json);
		cr_assert_eq(json_count_members(d->json, "calls"), 2, "%s", d->json);
		children++;
	}
	cr_assert_eq(children, 20);
	cr_assert_eq(s.dumps.n, 21);
	shim_run_free(&s);
}

/* ---- vfork ---- */

Test(processes, vfork_exec_dumps_once_per_image)
{
	const char *argv[] = { PROG_VFORK_EXEC, "exec", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	expect_valid_dumps(&s);
	long child = 0;
	cr_assert_eq(sscanf(s.r.out, "parent %*d child %ld", &child), 1, "%s", s.r.out);
	cr_assert_not_null(strstr(s.r.out, " got hi"), "the pipeline broke: %s", s.r.out);
	cr_assert_eq(dumps_count(&s.dumps, s.r.pid), 1, "parent dumped %zu times:\n%s",
	             dumps_count(&s.dumps, s.r.pid), s.stats);
	cr_assert_eq(dumps_count(&s.dumps, child), 1, "the vfork child: only echo's dump:\n%s",
	             s.stats);
	const struct dump *echo = dumps_find(&s.dumps, child, "exit");
	cr_assert_not_null(echo, "%s", s.stats);
	cr_assert_str_eq(echo->exe, "echo");
	cr_assert_eq(s.dumps.n, 2, "%s", s.stats);
	shim_run_free(&s);
}

/* The vfork child runs in the parent's memory: what it does before exec must
 * not be charged to the parent (TRAPS 14).  The parent itself made pipe 1,
 * close 2 and read R; dup2, the child's closes and its execl are not its. */
Test(processes, vfork_child_calls_are_not_the_parents)
{
	const char *argv[] = { PROG_VFORK_EXEC, "exec", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	int reads = 0;
	cr_assert_eq(sscanf(s.r.out, "parent %*d child %*d reads %d", &reads), 1, "%s", s.r.out);
	const struct dump *d = dumps_find(&s.dumps, s.r.pid, "exit");
	cr_assert_not_null(d, "%s", s.stats);
	cr_assert_eq(dump_calls(d, "pipe"), 1, "%s", d->json);
	cr_assert_eq(dump_calls(d, "read"), (uint64_t)reads, "%s", d->json);
	cr_assert_eq(dump_calls(d, "dup2"), 0, "the child's dup2 is in the parent's dump: %s", d->json);
	cr_assert_eq(dump_calls(d, "execl"), 0, "the child's execl is in the parent's dump: %s",
	             d->json);
	cr_assert_eq(dump_calls(d, "close"), 2, "the child's closes are in the parent's dump: %s",
	             d->json);
	shim_run_free(&s);
}

Test(processes, vfork_child_that_fails_to_exec)
{
	const char *argv[] = { PROG_VFORK_EXEC, "fail", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	long child = 0;
	cr_assert_eq(sscanf(s.r.out, "parent %*d child %ld status 7", &child), 1, "%s", s.r.out);
	cr_assert_eq(dumps_count(&s.dumps, s.r.pid), 1, "%s", s.stats);
	cr_assert_eq(dumps_count(&s.dumps, child), 0,
	             "a vfork child must not dump the parent's figures as its own:\n%s", s.stats);
	shim_run_free(&s);
}

/* A vfork child that points its own stderr elsewhere before exec (python's
 * subprocess with stderr=DEVNULL does exactly this) must not take the
 * parent's stderr dump with it: the parent's dump still arrives. */
Test(processes, vfork_child_redirecting_stderr_keeps_the_parents_dump)
{
	const char *argv[] = { PROG_VFORK_EXEC, "quiet", NULL };
	char *err = text_dump_run_out(argv, 0, false);
	expect_text_dump(err, "vfork_exec");
	free(err);
}

/* ---- clone on a small stack ---- */

static void
check_small_stack(const char *mode, size_t dumps)
{
	const char *argv[] = { PROG_SMALL_STACK, data_file, mode, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	cr_assert_str_eq(s.r.out, "child status 0\n", "the clone child failed (%s mode): %s", mode,
	                 s.r.out);
	expect_exit(&s, 0);
	expect_valid_dumps(&s);
	cr_assert_eq(dumps_count(&s.dumps, s.r.pid), 1, "%s", s.stats);
	cr_assert_eq(s.dumps.n, dumps, "%s", s.stats);
	shim_run_free(&s);
}

Test(processes, clone_child_on_8k_stack)
{
	check_small_stack("fork", 1);
}

Test(processes, clone_vm_child_on_8k_stack)
{
	check_small_stack("vm", 1);
}

Test(processes, clone_child_on_8k_stack_execs)
{
	check_small_stack("exec", 2); /* ours and /bin/true's */
}

/* glibc carves a thread's static TLS (libward.so's included) out of its
 * stack: PTHREAD_STACK_MIN must still be enough. */
Test(processes, a_thread_on_a_16k_stack)
{
	check_small_stack("thread", 1);
}

/* The same children under a policy whose refusals write records (TRAPS 12:
 * the record path once put 8 KiB on the caller's stack), with and without
 * a backtrace in each record. */
static void
check_small_stack_denied(const char *mode, bool backtrace)
{
	char denied[PATH_MAX], policy[PATH_MAX + 16], policy_env[PATH_MAX + 32], text[3 * PATH_MAX];
	snprintf(denied, sizeof(denied), "%s/secret", dir);
	snprintf(policy, sizeof(policy), "%s/deny.ward", dir);
	cr_assert(file_write(denied, "s3cret\n", 7));
	chmod(denied, 0755);
	snprintf(text, sizeof(text), "default allow\ndeny all %s %s.d\n", denied, denied);
	cr_assert(file_write(policy, text, strlen(text)));
	snprintf(policy_env, sizeof(policy_env), "WARD_POLICY=%s", policy);
	const char *env[] = { policy_env, backtrace ? "WARD_BACKTRACE=1" : "WARD_BACKTRACE=0", NULL };
	const char *argv[] = { PROG_SMALL_STACK, data_file, mode, denied, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, env, &s));
	cr_assert_str_eq(s.r.out, "child status 0\n", "the clone child failed (%s mode, backtrace %d): %s %s", mode,
	                 backtrace, s.r.out, s.r.err);
	expect_exit(&s, 0);
	const char *record = strstr(s.r.err, "ward: denied read ");
	cr_assert_not_null(record, "no record of the refused open: %s", s.r.err);
	if (backtrace)
		cr_assert_not_null(strstr(record, " at "), "no backtrace in the record: %s", record);
	cr_assert_not_null(strstr(s.r.err, "ward: denied create "), "no record of the refused mkdir: %s", s.r.err);
	cr_assert_not_null(strstr(s.r.err, "ward: denied exec "), "no record of the refused exec: %s", s.r.err);
	struct stat st;
	cr_assert_neq(stat(denied + 0, &st), -1);
	char sub[PATH_MAX + 8];
	snprintf(sub, sizeof(sub), "%s.d", denied);
	cr_assert_eq(stat(sub, &st), -1, "the refused mkdir made %s", sub);
	shim_run_free(&s);
}

Test(processes, clone_child_on_8k_stack_denied_with_records)
{
	check_small_stack_denied("fork", false);
	check_small_stack_denied("vm", false);
	check_small_stack_denied("exec", false);
	check_small_stack_denied("thread", false);
}

Test(processes, clone_child_on_8k_stack_denied_with_backtraces)
{
	check_small_stack_denied("fork", true);
	check_small_stack_denied("vm", true);
	check_small_stack_denied("exec", true);
}

/* An exec with an environment of 6,000 entries from an 8 KiB clone stack
 * (a process of its own, and a vfork-like child sharing our memory) and
 * from a thread of PTHREAD_STACK_MIN (posix_spawn, then execve): the
 * environment the shim passes on is as big as the program's, and it was
 * built on the caller's stack (a SIGSEGV in all three); observed and under
 * a policy alike. */
static void
check_big_env(const char *mode, const char *expected, bool policy)
{
	char path[PATH_MAX], policy_env[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/allow.ward", dir);
	const char *text = "default allow\ndeny write /etc/**\n";
	cr_assert(file_write(path, text, strlen(text)));
	snprintf(policy_env, sizeof(policy_env), "WARD_POLICY=%s", path);
	const char *env[] = { policy_env, NULL };
	const char *argv[] = { PROG_SMALL_STACK, data_file, mode, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, policy ? env : NULL, &s));
	cr_assert_str_eq(s.r.out, expected, "%s (policy %d): %s %s", mode, policy, s.r.out, s.r.err);
	expect_exit(&s, 0);
	shim_run_free(&s);
}

Test(processes, exec_with_a_big_environment_from_small_stacks)
{
	for (int policy = 0; policy < 2; policy++) {
		check_big_env("bigenv", "exec ok\nchild status 0\n", policy);
		check_big_env("bigenv-vfork", "exec ok\nchild status 0\n", policy);
		check_big_env("bigenv-thread", "spawn status 0\nexec ok\n", policy);
	}
}

/* ---- signals ---- */

Test(processes, signal_handler_calls_during_intercepted_calls)
{
	const char *argv[] = { PROG_SIGNAL_STORM, data_file, "20000", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	long handled = 0, iterations = 0;
	cr_assert_eq(sscanf(s.r.out, "handled %ld iterations %ld", &handled, &iterations), 2);
	cr_assert_gt(handled, 10, "too few signals to mean anything: %ld", handled);
	const struct dump *d = shim_run_main(&s);
	cr_assert_not_null(d, "%s", s.stats);
	/* every call counted once, main loop and handler alike */
	cr_assert_eq(dump_calls(d, "open"), (uint64_t)(iterations + handled), "%s", d->json);
	cr_assert_eq(dump_calls(d, "close"), (uint64_t)(iterations + handled), "%s", d->json);
	cr_assert_eq(dump_calls(d, "write"), (uint64_t)handled, "%s", d->json);
	cr_assert_eq(dump_calls(d, "stat"), (uint64_t)iterations, "%s", d->json);
	cr_assert_eq(dump_calls(d, "read"), (uint64_t)iterations, "%s", d->json);
	cr_assert_eq(dump_errors(d, "open"), 0);
	cr_assert_eq(dump_files(d, "bytes_read"), (uint64_t)iterations * 16);
	cr_assert_eq(dump_files(d, "bytes_written"), (uint64_t)handled);
	cr_assert_eq(dump_files(d, "open_now"), 3, "%s", d->json);
	shim_run_free(&s);
}

/* ---- the ends of an image ---- */

static void
check_exit_path(const char *mode, int code, const char *reason, const char *call)
{
	const char *argv[] = { PROG_EXIT_PATHS, mode, data_file, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, code);
	cr_assert_eq(s.dumps.n, 1, "%s", s.stats);
	const struct dump *d = shim_run_main(&s);
	cr_assert_not_null(d, "%s", s.stats);
	cr_assert(d->valid);
	cr_assert_str_eq(d->reason, reason);
	cr_assert_eq(dump_calls(d, "open"), 1, "%s", d->json);
	cr_assert_eq(dump_calls(d, "close"), 1, "%s", d->json);
	if (call != NULL)
		cr_assert_eq(dump_calls(d, call), 1, "%s", d->json);
	shim_run_free(&s);
}

Test(processes, exit_dumps_with_reason_exit)
{
	check_exit_path("exit", 0, "exit", NULL);
}

Test(processes, _exit_dumps_with_reason__exit)
{
	check_exit_path("_exit", 3, "_exit", "_exit");
}

Test(processes, _Exit_dumps_with_reason__Exit)
{
	check_exit_path("_Exit", 4, "_Exit", "_Exit");
}

Test(processes, exec_dumps_before_the_new_image)
{
	const char *argv[] = { PROG_EXIT_PATHS, "exec", data_file, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	expect_valid_dumps(&s);
	cr_assert_eq(s.dumps.n, 2, "%s", s.stats);
	const struct dump *old = &s.dumps.d[0], *new = &s.dumps.d[1];
	cr_assert_eq(old->pid, s.r.pid);
	cr_assert_eq(new->pid, s.r.pid, "exec keeps the pid");
	cr_assert_str_eq(old->reason, "exec", "the old image's dump comes first");
	cr_assert_str_eq(new->reason, "exit");
	cr_assert_eq(dump_calls(old, "open"), 1, "%s", old->json);
	cr_assert_eq(dump_calls(old, "execl"), 1, "%s", old->json);
	cr_assert_eq(dump_calls(new, "open"), 2, "the new image starts from zero: %s", new->json);
	cr_assert_eq(dump_calls(new, "execl"), 0, "%s", new->json);
	shim_run_free(&s);
}

Test(processes, failed_exec_is_counted_once)
{
	const char *argv[] = { PROG_EXIT_PATHS, "exec-missing", data_file, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	cr_assert_eq(s.dumps.n, 1, "%s", s.stats);
	const struct dump *d = shim_run_main(&s);
	cr_assert_not_null(d);
	cr_assert_str_eq(d->reason, "exit");
	cr_assert_eq(dump_calls(d, "open"), 2, "the image went on: %s", d->json);
	cr_assert_eq(dump_calls(d, "execl"), 1, "one execl call was made: %s", d->json);
	cr_assert_eq(dump_errors(d, "execl"), 1, "and it failed: %s", d->json);
	shim_run_free(&s);
}

/* The first exec of a process builds the environment in the process's
 * static first room; one that fails gives it back, and the next exec of
 * the same image (bash's exec builtin under execfail) builds it there
 * again: the new image still gets the tree's LD_PRELOAD and WARD_CHILD.
 * A fork child of that shell (the room free in it) does the same. */
Test(processes, exec_after_a_failed_exec_carries_the_environment)
{
	const char *argv[] = { "bash", "-c",
		               "shopt -s execfail; exec /nonexistent/program; /usr/bin/env; exec /usr/bin/env",
		               NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	const char *out = s.r.out;
	for (int copy = 0; copy < 2; copy++) {
		const char *preload = strstr(out, "LD_PRELOAD=");
		cr_assert_not_null(preload, "env #%d sees no LD_PRELOAD:\n%s", copy + 1, s.r.out);
		cr_assert(strncmp(strchr(preload, '=') + 1, "/", 1) == 0 && strstr(preload, "libward.so") != NULL,
		          "%s", s.r.out);
		const char *child = strstr(out, "WARD_CHILD=1");
		cr_assert_not_null(child, "env #%d sees no WARD_CHILD:\n%s", copy + 1, s.r.out);
		out = (preload > child ? preload : child) + 1;
	}
	shim_run_free(&s);
}

/* exec of an executable file that is not a program: the shim's "will it
 * work" guess says yes, the kernel says ENOEXEC.  Across the image's dumps the
 * one execv must still appear once, as a failure. */
Test(processes, exec_failing_with_enoexec_is_counted_once)
{
	char bad[PATH_MAX];
	path_in(bad, dir, "not-a-program");
	cr_assert(file_write(bad, "\x01\x02garbage", 9));
	cr_assert_eq(chmod(bad, 0755), 0);
	const char *argv[] = { PROG_EXIT_PATHS, "exec-noexec", data_file, bad, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	expect_valid_dumps(&s);
	uint64_t calls = 0, errors = 0, opens = 0;
	for (size_t i = 0; i < s.dumps.n; i++) {
		cr_assert_eq(s.dumps.d[i].pid, s.r.pid);
		calls += dump_calls(&s.dumps.d[i], "execv");
		errors += dump_errors(&s.dumps.d[i], "execv");
		opens += dump_calls(&s.dumps.d[i], "open");
	}
	cr_assert_eq(opens, 2, "%s", s.stats);
	cr_assert_eq(calls, 1, "one execv was made, the dumps count %llu:\n%s",
	             (unsigned long long)calls, s.stats);
	cr_assert_eq(errors, 1, "%s", s.stats);
	shim_run_free(&s);
}

/* ---- descriptors taken from under the shim ---- */

Test(processes, program_closes_stderr_then_opens_a_file)
{
	char file[PATH_MAX];
	path_in(file, dir, "out.txt");
	const char *argv[] = { PROG_FD_GAMES, "close-stderr", file, NULL };
	char *err = text_dump_run(argv, 0);
	expect_text_dump(err, "fd_games");
	size_t len;
	char *content = file_read(file, &len);
	cr_assert_str_eq(content, "program data\n", "the dump went into the program's file");
	free(content);
	free(err);
}

Test(processes, program_dup2s_a_file_over_stderr)
{
	char file[PATH_MAX];
	path_in(file, dir, "out.txt");
	const char *argv[] = { PROG_FD_GAMES, "dup2-stderr", file, NULL };
	char *err = text_dump_run(argv, 0);
	expect_text_dump(err, "fd_games");
	char *content = file_read(file, NULL);
	cr_assert_str_eq(content, "program data\n", "the dump went into the program's file");
	free(content);
	free(err);
}

Test(processes, program_freopens_stderr)
{
	char file[PATH_MAX];
	path_in(file, dir, "out.txt");
	const char *argv[] = { PROG_FD_GAMES, "freopen-stderr", file, NULL };
	char *err = text_dump_run(argv, 0);
	expect_text_dump(err, "fd_games");
	char *content = file_read(file, NULL);
	cr_assert_str_eq(content, "program data\n", "the dump went into the program's file");
	free(content);
	free(err);
}

Test(processes, program_closes_every_descriptor)
{
	const char *argv[] = { PROG_FD_GAMES, "close-range", NULL };
	char *err = text_dump_run(argv, 0);
	expect_text_dump(err, "fd_games");
	free(err);
}

Test(processes, dup2_over_a_tracked_fd)
{
	char a[PATH_MAX], b[PATH_MAX];
	path_in(a, dir, "a.txt");
	path_in(b, dir, "b.txt");
	cr_assert(file_write(a, "original\n", 9));
	const char *argv[] = { PROG_FD_GAMES, "dup2-tracked", a, b, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	char *ca = file_read(a, NULL), *cb = file_read(b, NULL);
	cr_assert_str_eq(ca, "original\n");
	cr_assert_str_eq(cb, "program data\n");
	free(ca);
	free(cb);
	const struct dump *d = shim_run_main(&s);
	cr_assert_not_null(d, "%s", s.stats);
	cr_assert_eq(dump_calls(d, "dup2"), 1, "%s", d->json);
	cr_assert_eq(dump_calls(d, "open"), 2, "%s", d->json);
	cr_assert_eq(dump_calls(d, "close"), 2, "%s", d->json);
	cr_assert_eq(dump_files(d, "bytes_written"), 13, "%s", d->json);
	cr_assert_eq(dump_files(d, "open_now"), 3, "both closed again: %s", d->json);
	cr_assert_eq(dump_files(d, "open_peak"), 5, "0-2 and two files: %s", d->json);
	shim_run_free(&s);
}

/* The file figures must add up: open now = open at start (0-2) + opened -
 * closed.  dup2 over an open descriptor closes it implicitly. */
Test(processes, file_figures_add_up_after_dup2)
{
	char a[PATH_MAX], b[PATH_MAX];
	path_in(a, dir, "a.txt");
	path_in(b, dir, "b.txt");
	cr_assert(file_write(a, "original\n", 9));
	const char *argv[] = { PROG_FD_GAMES, "dup2-tracked", a, b, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	expect_exit(&s, 0);
	const struct dump *d = shim_run_main(&s);
	cr_assert_not_null(d, "%s", s.stats);
	uint64_t opened = dump_files(d, "opened"), closed = dump_files(d, "closed");
	cr_assert_eq(3 + opened - closed, dump_files(d, "open_now"),
	             "3 at start + %llu opened - %llu closed != %llu open now: %s",
	             (unsigned long long)opened, (unsigned long long)closed,
	             (unsigned long long)dump_files(d, "open_now"), d->json);
	shim_run_free(&s);
}
