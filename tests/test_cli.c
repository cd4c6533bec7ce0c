/*
 * `ward run` as a user drives it (SPEC 4).
 *
 * Exit status is the command's own, 128+N when signal N killed it, 125 for
 * ward's own errors (bad flag, missing library: never run unwatched), 126
 * for a command that cannot run, 127 for one that does not exist, as env(1)
 * and timeout(1) do.  -s and -f choose where the figures go and how they
 * look; -s none prints nothing; the command's stdout is always its own.
 * Every descendant stays watched and confined, also one that cleared its
 * environment or was killed by SIGKILL (SPEC 4, 5.4).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumps.h"
#include "fsutil.h"
#include "pycheck.h"
#include "run.h"

static char *dir;

static void
setup(void)
{
	dir = tmpdir_make();
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

/* ward ARGS..., with extra environment entries. */
static struct run_result
ward(const char *const args[], const char *const env[])
{
	const char *argv[32] = { WARD_EXE };
	size_t n = 1;
	for (size_t i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	struct run_opts o = { .env = env, .cwd = dir, .timeout_ms = 30000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out, "ward run hung");
	return r;
}

static void
expect_status(const char *const args[], int code)
{
	char shown[512] = "ward";
	for (size_t i = 0; args[i] != NULL; i++)
		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), " %s", args[i]);
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), code, "%s: exit %d, want %d; stderr: %s", shown,
	             run_exit_code(&r), code, r.err);
	run_free(&r);
}

Test(cli, exit_status_is_the_commands)
{
	const char *three[] = { "run", "--", "sh", "-c", "exit 3", NULL };
	expect_status(three, 3);
	const char *zero[] = { "run", "--", "true", NULL };
	expect_status(zero, 0);
	const char *one[] = { "run", "--", "false", NULL };
	expect_status(one, 1);
}

Test(cli, missing_command_is_127)
{
	const char *path[] = { "run", "--", "/nonexistent/command", NULL };
	expect_status(path, 127);
	const char *search[] = { "run", "--", "no-such-command-ward-test", NULL };
	expect_status(search, 127);
}

Test(cli, command_that_cannot_run_is_126)
{
	char file[PATH_MAX];
	path_in(file, dir, "not-executable");
	cr_assert(file_write(file, "#!/bin/sh\necho ran\n", 19));
	cr_assert_eq(chmod(file, 0644), 0);
	const char *plain[] = { "run", "--", file, NULL };
	expect_status(plain, 126);
	const char *directory[] = { "run", "--", dir, NULL };
	expect_status(directory, 126);
}

Test(cli, command_killed_by_a_signal_is_128_plus_n)
{
	const char *term[] = { "run", "--", "sh", "-c", "kill -TERM $$", NULL };
	expect_status(term, 128 + 15);
	const char *kill9[] = { "run", "--", "sh", "-c", "kill -KILL $$", NULL };
	expect_status(kill9, 128 + 9);
}

Test(cli, stats_go_to_stderr_by_default)
{
	const char *args[] = { "run", "--", "sh", "-c", "echo out; echo err >&2", NULL };
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), 0);
	cr_assert_str_eq(r.out, "out\n", "the command's stdout, and nothing else");
	cr_assert_not_null(strstr(r.err, "err\n"));
	cr_assert_not_null(strstr(r.err, "ward: 1 process\n"), "no tree report on stderr: %s", r.err);
	cr_assert_not_null(strstr(r.err, "  write\n"), "no per-function rows: %s", r.err);
	cr_assert_not_null(strstr(r.err, "\nprogram "), "no per-program table: %s", r.err);
	run_free(&r);
}

Test(cli, stats_none_prints_nothing)
{
	char file[PATH_MAX];
	path_in(file, dir, "in.txt");
	cr_assert(file_write(file, "hello\n", 6));
	const char *args[] = { "run", "-s", "none", "--", "cat", file, NULL };
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), 0);
	cr_assert_str_eq(r.out, "hello\n");
	cr_assert_eq(r.err_len, 0, "-s none printed: %s", r.err);
	run_free(&r);
}

Test(cli, json_to_a_file)
{
	char in[PATH_MAX], out[PATH_MAX];
	path_in(in, dir, "in.txt");
	path_in(out, dir, "stats.json");
	cr_assert(file_write(in, "hello\n", 6));
	const char *args[] = { "run", "-f", "json", "-s", out, "--", "sh", "-c", "cat \"$1\"", "sh",
		               in, NULL };
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), 0);
	cr_assert_str_eq(r.out, "hello\n");
	cr_assert_eq(r.err_len, 0, "%s", r.err);
	char *text = file_read(out, NULL);
	cr_assert_not_null(text, "no stats file");
	cr_assert(pycheck_json_lines(text), "%s", text);
	cr_assert_eq(pycheck_json_value(out, "d['programs']['cat']['files']['bytes_read']"), 6, "%s", text);
	cr_assert_eq(pycheck_json_value(out, "d['programs']['cat']['processes']"), 1, "%s", text);
	cr_assert_eq(pycheck_json_value(out, "d['total']['processes']"), 2, "sh and cat: %s", text);
	free(text);
	run_free(&r);
}

/* SPEC 4 / issue: a program with known call counts run N times in the tree
 * gives exactly N times its figures in the totals. */
Test(cli, tree_totals_are_exact)
{
	char in[PATH_MAX], out[PATH_MAX];
	path_in(in, dir, "in.txt");
	path_in(out, dir, "tree.json");
	char data[8192];
	memset(data, 'x', sizeof(data));
	cr_assert(file_write(in, data, sizeof(data)));
	char script[PATH_MAX * 2];
	snprintf(script, sizeof(script),
	         "for i in 1 2 3 4 5; do %s \"$1\" 7 2 3 5000 & done; wait", PROG_KNOWN_CALLS);
	const char *args[] = { "run", "-s", out, "--", "sh", "-c", script, "sh", in, NULL };
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_eq(pycheck_json_value(out, "d['programs']['known_calls']['processes']"), 5);
	cr_expect_eq(pycheck_json_value(out, "d['programs']['known_calls']['calls']['open']['calls']"), 5 * (7 + 2 + 1));
	cr_expect_eq(pycheck_json_value(out, "d['programs']['known_calls']['calls']['open']['errors']"), 5 * 2);
	cr_expect_eq(pycheck_json_value(out, "d['programs']['known_calls']['calls']['stat']['calls']"), 5 * 3);
	cr_expect_eq(pycheck_json_value(out, "d['programs']['known_calls']['files']['bytes_read']"), 5 * 5000);
	run_free(&r);
}

/* SPEC 4: a descendant killed by a signal, SIGKILL included, is still in
 * the report with what it did up to that point. */
Test(cli, descendant_killed_by_sigkill_is_still_reported)
{
	char in[PATH_MAX], out[PATH_MAX];
	path_in(in, dir, "in.txt");
	path_in(out, dir, "stats.json");
	cr_assert(file_write(in, "hello\n", 6));
	const char *args[] = { "run", "-s", out, "--", "sh", "-c",
		               "/usr/bin/python3 -c 'import os, signal; open(\"'\"$1\"'\").read(); "
		               "os.kill(os.getpid(), signal.SIGKILL)'; true", "sh", in, NULL };
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	char *text = file_read(out, NULL);
	cr_assert_not_null(text);
	cr_expect_eq(pycheck_json_value(out, "d['programs']['python3']['unfinished']"), 1, "%s", text);
	cr_expect_geq(pycheck_json_value(out, "d['programs']['python3']['files']['bytes_read']"), 6, "%s", text);
	free(text);
	run_free(&r);
}

/* ward report merges dumps written with WARD_STATS=dir/. */
Test(cli, report_merges_a_dump_directory)
{
	char dumps[PATH_MAX], in[PATH_MAX];
	path_in(dumps, dir, "dumps/");
	path_in(in, dir, "in.txt");
	cr_assert(file_write(in, "hello\n", 6));
	char stats_env[PATH_MAX + 16];
	snprintf(stats_env, sizeof(stats_env), "WARD_STATS=%s", dumps);
	const char *env[] = { stats_env, NULL };
	const char *args[] = { "run", "-s", "none", "--", "sh", "-c", "cat \"$1\" \"$1\"; cat \"$1\"", "sh", in, NULL };
	struct run_result r = ward(args, env);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	const char *report[] = { "report", "-f", "json", dumps, NULL };
	r = ward(report, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	char out[PATH_MAX];
	path_in(out, dir, "merged.json");
	cr_assert(file_write(out, r.out, r.out_len));
	cr_expect_eq(pycheck_json_value(out, "d['programs']['cat']['processes']"), 2, "%s", r.out);
	cr_expect_eq(pycheck_json_value(out, "d['programs']['cat']['files']['bytes_read']"), 18, "%s", r.out);
	run_free(&r);
	const char *text[] = { "report", dumps, NULL };
	r = ward(text, NULL);
	cr_expect(strstr(r.out, "\nprogram ") != NULL && strstr(r.out, "\ncat "), "%s", r.out);
	run_free(&r);
}

/* ward report reads ward run's own JSON tree report: the same totals as
 * the run printed (its JSON again byte for byte, its text totals), and two
 * reports merge. */
Test(cli, report_reads_ward_runs_own_report)
{
	char file[PATH_MAX], report_file[PATH_MAX];
	path_in(file, dir, "main.c");
	cr_assert(file_write(file, "int main(void) { return 0; }\n", 29));
	path_in(file, dir, "Makefile");
	cr_assert(file_write(file, "main: main.c\n\tcc -o main main.c\n", 32));
	path_in(report_file, dir, "r.json");
	const char *args[] = { "run", "-s", report_file, "--", "make", NULL };
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	char *written = file_read(report_file, NULL);
	cr_assert_not_null(written);

	const char *as_json[] = { "report", "-f", "json", report_file, NULL };
	r = ward(as_json, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out, written, "ward report changed the figures");
	run_free(&r);

	long processes = pycheck_json_value(report_file, "d['total']['processes']");
	long calls = pycheck_json_value(report_file, "sum(c['calls'] for c in d['total']['calls'].values())");
	long errors = pycheck_json_value(report_file, "sum(c['errors'] for c in d['total']['calls'].values())");
	cr_assert_geq(processes, 3, "make, cc and the compiler's own programs: %s", written);
	const char *as_text[] = { "report", report_file, NULL };
	r = ward(as_text, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	char expect[256];
	snprintf(expect, sizeof(expect), "ward: %ld processes\n", processes);
	cr_expect_not_null(strstr(r.out, expect), "%s\n%s", expect, r.out);
	snprintf(expect, sizeof(expect), "%12ld %10ld %10d  total\n", calls, errors, 0);
	cr_expect_not_null(strstr(r.out, expect), "%s\n%s", expect, r.out);
	cr_expect_not_null(strstr(r.out, "\nmake "), "%s", r.out);
	run_free(&r);

	const char *twice[] = { "report", report_file, report_file, NULL };
	r = ward(twice, NULL);
	snprintf(expect, sizeof(expect), "ward: %ld processes\n", 2 * processes);
	cr_expect_not_null(strstr(r.out, expect), "%s\n%s", expect, r.out);
	run_free(&r);
	free(written);
}

Test(cli, missing_library_is_125_and_nothing_runs)
{
	const char *env[] = { "WARD_LIB=/nonexistent/libward.so", NULL };
	const char *args[] = { "run", "--", "sh", "-c", "echo ran", NULL };
	struct run_result r = ward(args, env);
	cr_assert_eq(run_exit_code(&r), 125, "exit %d: %s", run_exit_code(&r), r.err);
	cr_assert_eq(r.out_len, 0, "the command ran unwatched: %s", r.out);
	cr_assert_not_null(strstr(r.err, "ward: "), "no message");
	run_free(&r);
	const char *true_args[] = { "run", "--", "true", NULL };
	r = ward(true_args, env);
	cr_assert_eq(run_exit_code(&r), 125);
	run_free(&r);
}

Test(cli, library_that_is_not_a_library_is_125)
{
	char fake[PATH_MAX], setting[PATH_MAX + 16];
	path_in(fake, dir, "libward.so");
	cr_assert(file_write(fake, "not an ELF file\n", 16));
	snprintf(setting, sizeof(setting), "WARD_LIB=%s", fake);
	const char *env[] = { setting, NULL };
	const char *args[] = { "run", "--", "sh", "-c", "echo ran", NULL };
	struct run_result r = ward(args, env);
	cr_assert_eq(run_exit_code(&r), 125);
	cr_assert_eq(r.out_len, 0, "the command ran unwatched: %s", r.out);
	run_free(&r);
}

Test(cli, bad_usage_is_125)
{
	const char *format[] = { "run", "-f", "xml", "--", "true", NULL };
	expect_status(format, 125);
	const char *nothing[] = { "run", "--", NULL };
	expect_status(nothing, 125);
	const char *verb[] = { "frobnicate", NULL };
	expect_status(verb, 125);
}

Test(cli, help_and_version)
{
	const char *help[] = { "--help", NULL };
	struct run_result r = ward(help, NULL);
	cr_assert_eq(run_exit_code(&r), 0);
	cr_assert_not_null(strstr(r.out, "ward run"), "%s", r.out);
	run_free(&r);
	const char *version[] = { "--version", NULL };
	r = ward(version, NULL);
	cr_assert_eq(run_exit_code(&r), 0);
	cr_assert_eq(strncmp(r.out, "ward ", 5), 0, "%s", r.out);
	run_free(&r);
}

/* SPEC 4 and 5.4: every descendant runs under the shim, even one started
 * with a cleared environment (env -i; TRAPS 16). */
Test(cli, descendant_with_cleared_environment_is_still_watched)
{
	char in[PATH_MAX], out[PATH_MAX];
	path_in(in, dir, "in.txt");
	path_in(out, dir, "stats.json");
	cr_assert(file_write(in, "hello\n", 6));
	const char *args[] = { "run", "-f", "json", "-s", out, "--", "env", "-i", "/bin/cat", in,
		               NULL };
	struct run_result r = ward(args, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_assert_str_eq(r.out, "hello\n");
	cr_assert_eq(pycheck_json_value(out, "d['programs']['cat']['processes']"), 1,
	             "cat, started by env -i, escaped the shim");
	run_free(&r);
}


/* SPEC 5.4: a process cannot leave the policy by clearing its environment
 * before an exec (env -i, clearenv, execve with its own envp).  The same
 * denied read, made directly and through env -i, must fail both times. */
Test(cli, cleared_environment_does_not_escape_the_policy)
{
	char secret[PATH_MAX], policy[PATH_MAX], rules[PATH_MAX * 2];
	path_in(secret, dir, "secret.txt");
	path_in(policy, dir, "deny-secret.ward");
	cr_assert(file_write(secret, "secret\n", 7));
	snprintf(rules, sizeof(rules), "version 1\ndefault allow\ndeny read %s\n", secret);
	cr_assert(file_write(policy, rules, strlen(rules)));

	const char *direct[] = { "run", "-s", "none", "-p", policy, "--", "/bin/cat", secret, NULL };
	struct run_result r = ward(direct, NULL);
	cr_assert_neq(run_exit_code(&r), 0, "the policy does not deny the read at all: %s", r.err);
	cr_assert_eq(r.out_len, 0);
	run_free(&r);

	const char *cleared[] = { "run", "-s", "none", "-p", policy, "--", "env", "-i", "/bin/cat",
		                  secret, NULL };
	r = ward(cleared, NULL);
	cr_assert_eq(r.out_len, 0, "env -i escaped the policy and read the file: %s", r.out);
	cr_assert_neq(run_exit_code(&r), 0);
	run_free(&r);
}

/* SPEC 4: every subcommand has its own help, on stdout, exit 0, naming
 * its own usage line. */
Test(cli, every_subcommand_has_its_own_help)
{
	const char *const subcommands[] = { "run", "learn", "check", "explain", "report" };
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		char usage[64];
		snprintf(usage, sizeof(usage), "usage: ward %s ", subcommands[i]);
		for (int form = 0; form < 2; form++) {
			const char *args[] = { subcommands[i], form ? "-h" : "--help", NULL };
			struct run_result r = ward(args, NULL);
			cr_expect_eq(run_exit_code(&r), 0, "ward %s %s: exit %d: %s", subcommands[i], args[1],
			             run_exit_code(&r), r.err);
			cr_expect_eq(strncmp(r.out, usage, strlen(usage)), 0, "ward %s --help: %s", subcommands[i], r.out);
			cr_expect_eq(r.err_len, 0, "%s", r.err);
			run_free(&r);
		}
	}
	const char *run_help[] = { "run", "--help", NULL };
	struct run_result r = ward(run_help, NULL);
	cr_expect_not_null(strstr(r.out, "--no-fail"), "%s", r.out);
	cr_expect_not_null(strstr(r.out, "3 when CMD exited 0"), "%s", r.out);
	run_free(&r);
}

/* A usage error is one line and a pointer to the help, not the help. */
Test(cli, usage_error_is_one_line_and_a_pointer)
{
	const char *args[] = { "run", "--frobnicate", "--", "true", NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 125);
	cr_expect_str_eq(r.err, "ward: run: unknown option or missing value: --frobnicate\nTry 'ward run --help'.\n");
	run_free(&r);
	const char *check[] = { "check", NULL };
	r = ward(check, NULL);
	cr_expect_eq(run_exit_code(&r), 2);
	cr_expect_not_null(strstr(r.err, "Try 'ward check --help'."), "%s", r.err);
	run_free(&r);
}

/* SPEC 4: a destination that cannot be written is error 125 and CMD never
 * runs. */
Test(cli, bad_stats_destination_is_125_before_the_command_runs)
{
	char marker[PATH_MAX], script[PATH_MAX + 16], ro_dir[PATH_MAX], in_ro[PATH_MAX];
	path_in(marker, dir, "ran");
	snprintf(script, sizeof(script), "touch '%s'", marker);
	path_in(ro_dir, dir, "read-only");
	cr_assert_eq(mkdir(ro_dir, 0555), 0);
	path_in(in_ro, ro_dir, "x.json");
	const char *bad[] = { "/nonexistent/x.json", "fd:99", "fd:x", dir, "/nonexistent/dir/", "", NULL };
	for (size_t i = 0; bad[i] != NULL; i++) {
		const char *args[] = { "run", "-s", bad[i], "--", "sh", "-c", script, NULL };
		struct run_result r = ward(args, NULL);
		cr_expect_eq(run_exit_code(&r), 125, "-s '%s': exit %d: %s", bad[i], run_exit_code(&r), r.err);
		cr_expect_neq(access(marker, F_OK), 0, "-s '%s': the command ran", bad[i]);
		cr_expect_not_null(strstr(r.err, "ward: -s"), "-s '%s': %s", bad[i], r.err);
		run_free(&r);
	}
	if (geteuid() != 0) { /* root writes into a 0555 directory */
		const char *args[] = { "run", "-s", in_ro, "--", "sh", "-c", script, NULL };
		struct run_result r = ward(args, NULL);
		cr_expect_eq(run_exit_code(&r), 125);
		cr_expect_neq(access(marker, F_OK), 0);
		run_free(&r);
	}
}

/* SPEC 4: -s FILE replaces FILE (two runs leave one valid JSON report). */
Test(cli, stats_file_is_replaced_not_appended)
{
	char out[PATH_MAX];
	path_in(out, dir, "report.json");
	cr_assert(file_write(out, "old contents, not JSON\n", 23));
	for (int i = 0; i < 2; i++) {
		const char *args[] = { "run", "-s", out, "--", "true", NULL };
		struct run_result r = ward(args, NULL);
		cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
		run_free(&r);
	}
	char *text = file_read(out, NULL);
	cr_assert_not_null(text);
	cr_expect_null(strstr(text, "old contents"), "%s", text);
	cr_expect_eq(strchr(text, '\n') - text + 1, (long)strlen(text), "more than one report: %s", text);
	cr_expect(pycheck_json_lines(text), "%s", text);
	free(text);
	const char *dirdest[] = { "run", "-s", "fd:1", "-f", "json", "--", "true", NULL };
	struct run_result r = ward(dirdest, NULL);
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect(pycheck_json_lines(r.out), "fd:1: %s", r.out);
	run_free(&r);
}

/* SPEC 4: records of the whole tree come back through WARD_RECORDS: a
 * record appended there by any process is summarised, and makes a run
 * that exited 0 exit 3 unless --no-fail. */
Test(cli, records_file_reaches_the_summary_and_the_status)
{
	const char *record = "printf '%s\\n' '{\"time\":1.0,\"pid\":7,\"ppid\":1,\"exe\":\"tool\",\"cwd\":\"/\","
	                     "\"call\":\"openat\",\"op\":\"read,create\",\"path\":\"/srv/x\",\"decision\":\"denied\","
	                     "\"rule\":\"default\",\"quiet\":false}' >> \"$WARD_RECORDS\"";
	const char *args[] = { "run", "-s", "none", "--", "sh", "-c", record, NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 3, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "      1 denied read,create /srv/x by default deny [tool]\n"), "%s", r.err);
	run_free(&r);
	const char *keep[] = { "run", "--no-fail", "-s", "none", "--", "sh", "-c", record, NULL };
	r = ward(keep, NULL);
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
}
