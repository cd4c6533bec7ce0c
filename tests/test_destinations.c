/*
 * WARD_STATS and WARD_STATS_FORMAT as a user sets them (SPEC 3).
 *
 * Every destination (stderr, fd:N, a file with %p/%e, a relative file, a
 * directory) and every format (text, json, prom) on a real program; files
 * are appended to, never truncated; bad values stop the program with 125
 * before main runs (nothing is printed by the program); no WARD_STATS, no
 * dump.  The text table is checked as a user reads it: a header naming the
 * process, rows sorted by calls, totals that add up.
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
static char data_file[PATH_MAX];

static void
setup(void)
{
	dir = tmpdir_make();
	path_in(data_file, dir, "data.txt");
	cr_assert(file_write(data_file, "some bytes to read, some more bytes to read\n", 44));
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(destinations, .init = setup, .fini = teardown, .timeout = 60);

/* known_calls with a fixed mix: 3 opens, 2 failing, 4 stats, 40 bytes. */
static struct run_result
known(const char *const *env, const struct run_opts *extra)
{
	const char *argv[] = { PROG_KNOWN_CALLS, data_file, "3", "2", "4", "40", NULL };
	struct run_opts o = { 0 };
	if (extra != NULL)
		o = *extra;
	o.env = env;
	o.shim = true;
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out);
	cr_assert_eq(r.out_len, 0, "nothing may reach stdout: %s", r.out);
	return r;
}

/* ---- stderr ---- */

Test(destinations, stderr_text_is_the_default)
{
	const char *env[] = { "WARD_STATS=stderr", NULL };
	struct run_result r = known(env, NULL);
	cr_assert_eq(run_exit_code(&r), 0);
	char header[128];
	snprintf(header, sizeof(header), "ward: pid %ld (known_calls), at exit\n", r.pid);
	cr_assert_eq(strncmp(r.err, header, strlen(header)), 0, "%s", r.err);
	/* rows most calls first: open 6, stat 4, close 4 ... */
	const char *open = strstr(r.err, "  open\n"), *stat = strstr(r.err, "  stat\n");
	const char *close = strstr(r.err, "  close\n"), *read = strstr(r.err, "  read\n");
	cr_assert(open && stat && close && read, "%s", r.err);
	cr_assert(open < close && close < stat && stat < read, "rows not sorted by calls:\n%s", r.err);
	cr_assert_not_null(strstr(r.err, "           6          2          0  open\n"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "          15          2          0  total\n"), "%s", r.err);
	cr_assert_not_null(strstr(r.err, "files: 4 opened, 4 closed, 3 open now, 4 most open at once, "
	                                 "40 bytes read, 0 bytes written\n"),
	                   "%s", r.err);
	run_free(&r);
}

Test(destinations, stderr_json_is_one_line)
{
	const char *env[] = { "WARD_STATS=stderr", "WARD_STATS_FORMAT=json", NULL };
	struct run_result r = known(env, NULL);
	struct dump_set set;
	dumps_parse(r.err, &set);
	cr_assert_eq(set.n, 1, "%s", r.err);
	cr_assert(set.d[0].valid);
	cr_assert_eq(set.d[0].pid, r.pid);
	cr_assert_eq(strlen(r.err), strlen(set.d[0].json) + 1, "one line and nothing else: %s", r.err);
	cr_assert(pycheck_json_lines(r.err));
	cr_assert_eq(dump_calls(&set.d[0], "open"), 6);
	dumps_free(&set);
	run_free(&r);
}

Test(destinations, stderr_prom_is_a_valid_exposition)
{
	const char *env[] = { "WARD_STATS=stderr", "WARD_STATS_FORMAT=prom", NULL };
	struct run_result r = known(env, NULL);
	char *why = NULL;
	cr_assert(pycheck_prom(r.err, &why), "%s\n%s", why ? why : "", r.err);
	char want[128];
	snprintf(want, sizeof(want), "ward_calls_total{call=\"open\",pid=\"%ld\",exe=\"known_calls\"} 6\n",
	         r.pid);
	cr_assert_not_null(strstr(r.err, want), "%s", r.err);
	free(why);
	run_free(&r);
}

/* ---- fd:N ---- */

Test(destinations, fd_n_gets_text_by_default)
{
	char file[PATH_MAX];
	path_in(file, dir, "fd7.txt");
	const char *env[] = { "WARD_STATS=fd:7", NULL };
	struct run_opts o = { .extra_fd = 7, .extra_fd_path = file };
	struct run_result r = known(env, &o);
	cr_assert_eq(r.err_len, 0, "the dump goes to fd 7, not stderr: %s", r.err);
	char *text = file_read(file, NULL);
	cr_assert_not_null(strstr(text, "(known_calls), at exit\n"), "[%s]", text);
	cr_assert_not_null(strstr(text, "  total\n"));
	free(text);
	run_free(&r);
}

Test(destinations, fd_n_with_json)
{
	char file[PATH_MAX];
	path_in(file, dir, "fd9.json");
	const char *env[] = { "WARD_STATS=fd:9", "WARD_STATS_FORMAT=json", NULL };
	struct run_opts o = { .extra_fd = 9, .extra_fd_path = file };
	struct run_result r = known(env, &o);
	char *text = file_read(file, NULL);
	struct dump_set set;
	dumps_parse(text, &set);
	cr_assert_eq(set.n, 1, "[%s]", text);
	cr_assert_eq(set.d[0].pid, r.pid);
	dumps_free(&set);
	free(text);
	run_free(&r);
}

Test(destinations, fd_n_closed_by_the_program)
{
	char dest[PATH_MAX], file[PATH_MAX];
	path_in(dest, dir, "fd7.txt");
	path_in(file, dir, "program.txt");
	const char *env[] = { "WARD_STATS=fd:7", NULL };
	const char *argv[] = { PROG_FD_GAMES, "close-fd", "7", file, NULL };
	struct run_opts o = { .env = env, .shim = true, .extra_fd = 7, .extra_fd_path = dest };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	char *mine = file_read(file, NULL), *stats = file_read(dest, NULL);
	cr_assert_str_eq(mine, "program data\n", "the dump went into the program's file");
	cr_assert_not_null(strstr(stats, "(fd_games), at exit\n"), "no dump on fd 7: [%s]", stats);
	free(mine);
	free(stats);
	run_free(&r);
}

/* ---- files ---- */

static struct dump_set
dumps_in(const char *file)
{
	struct dump_set set;
	char *text = file_read(file, NULL);
	cr_assert_not_null(text, "no stats file %s", file);
	cr_assert(pycheck_json_lines(text), "%s", text);
	dumps_parse(text, &set);
	free(text);
	return set;
}

Test(destinations, file_gets_json_and_is_appended_to)
{
	char file[PATH_MAX], setting[PATH_MAX + 16];
	path_in(file, dir, "stats.json");
	cr_assert(file_write(file, "{\"earlier\":1}\n", 14));
	snprintf(setting, sizeof(setting), "WARD_STATS=%s", file);
	const char *env[] = { setting, NULL };
	struct run_result r1 = known(env, NULL), r2 = known(env, NULL);
	cr_assert_eq(r1.err_len + r2.err_len, 0);
	char *text = file_read(file, NULL);
	cr_assert_eq(strncmp(text, "{\"earlier\":1}\n", 14), 0, "the file was truncated: %s", text);
	free(text);
	struct dump_set set = dumps_in(file);
	cr_assert_eq(set.n, 2);
	cr_assert_eq(set.d[0].pid, r1.pid);
	cr_assert_eq(set.d[1].pid, r2.pid);
	dumps_free(&set);
	run_free(&r1);
	run_free(&r2);
}

Test(destinations, file_name_expands_pid_and_program)
{
	char setting[PATH_MAX + 32], file[PATH_MAX], name[128];
	snprintf(setting, sizeof(setting), "WARD_STATS=%s/s.%%e.%%p.100%%%%.json", dir);
	const char *env[] = { setting, NULL };
	struct run_result r = known(env, NULL);
	snprintf(name, sizeof(name), "s.known_calls.%ld.100%%.json", r.pid);
	path_in(file, dir, name);
	struct dump_set set = dumps_in(file);
	cr_assert_eq(set.n, 1);
	cr_assert_eq(set.d[0].pid, r.pid);
	dumps_free(&set);
	run_free(&r);
}

Test(destinations, relative_file_is_relative_to_the_start_directory)
{
	char file[PATH_MAX];
	const char *env[] = { "WARD_STATS=rel.json", NULL };
	struct run_opts o = { .cwd = dir };
	struct run_result r = known(env, &o);
	path_in(file, dir, "rel.json");
	struct dump_set set = dumps_in(file);
	cr_assert_eq(set.n, 1);
	dumps_free(&set);
	run_free(&r);
}

static void
check_directory(const char *format, const char *ext)
{
	char setting[PATH_MAX + 32], format_setting[64], file[PATH_MAX], name[128], sub[PATH_MAX];
	snprintf(setting, sizeof(setting), "WARD_STATS=%s/per-process/", dir);
	snprintf(format_setting, sizeof(format_setting), "WARD_STATS_FORMAT=%s", format);
	const char *env[] = { setting, format[0] ? format_setting : NULL, NULL };
	struct run_result r = known(env, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	snprintf(name, sizeof(name), "known_calls.%ld.%s", r.pid, ext);
	path_in(sub, dir, "per-process");
	path_in(file, sub, name);
	char *text = file_read(file, NULL);
	cr_assert_not_null(text, "no %s", file);
	if (strcmp(ext, "json") == 0)
		cr_assert(pycheck_json_lines(text));
	else if (strcmp(ext, "prom") == 0)
		cr_assert(pycheck_prom(text, NULL), "%s", text);
	else
		cr_assert_not_null(strstr(text, "  total\n"));
	free(text);
	run_free(&r);
}

Test(destinations, directory_gets_one_json_file_per_process)
{
	check_directory("", "json");
}

Test(destinations, directory_with_text_format)
{
	check_directory("text", "txt");
}

Test(destinations, directory_with_prom_format)
{
	check_directory("prom", "prom");
}

Test(destinations, several_processes_append_whole_lines)
{
	char file[PATH_MAX], setting[PATH_MAX + 16], script[PATH_MAX * 2];
	path_in(file, dir, "all.json");
	snprintf(setting, sizeof(setting), "WARD_STATS=%s", file);
	snprintf(script, sizeof(script),
	         "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do %s %s 20 5 20 30 & done; wait",
	         PROG_KNOWN_CALLS, data_file);
	const char *argv[] = { "sh", "-c", script, NULL };
	const char *env[] = { setting, NULL };
	struct run_opts o = { .env = env, .shim = true };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0);
	struct dump_set set = dumps_in(file);
	size_t known_calls = 0;
	for (size_t i = 0; i < set.n; i++) {
		cr_assert(set.d[i].valid, "%s", set.d[i].json);
		if (strcmp(set.d[i].exe, "known_calls") == 0 && strcmp(set.d[i].reason, "exit") == 0) {
			known_calls++;
			cr_assert_eq(dump_calls(&set.d[i], "open"), 26);
		}
	}
	cr_assert_eq(known_calls, 12);
	dumps_free(&set);
	run_free(&r);
}

Test(destinations, any_program_name_gives_valid_json)
{
	char link[PATH_MAX], file[PATH_MAX], setting[PATH_MAX + 16];
	path_in(link, dir, "we\"ird\\name");
	cr_assert_eq(symlink(PROG_KNOWN_CALLS, link), 0);
	path_in(file, dir, "weird.json");
	snprintf(setting, sizeof(setting), "WARD_STATS=%s", file);
	const char *argv[] = { link, data_file, "1", "0", "0", "0", NULL };
	const char *env[] = { setting, NULL };
	struct run_opts o = { .env = env, .shim = true };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0);
	char *text = file_read(file, NULL);
	cr_assert_not_null(text);
	cr_assert(pycheck_json_lines(text), "%s", text);
	cr_assert_not_null(strstr(text, "\"exe\":\"we\\\"ird\\\\name\""), "%s", text);
	free(text);
	run_free(&r);
}

/* ---- no dump, bad values ---- */

Test(destinations, no_ward_stats_no_dump)
{
	const char *env[] = { NULL };
	struct run_result r = known(env, NULL);
	cr_assert_eq(run_exit_code(&r), 0);
	cr_assert_eq(r.err_len, 0, "%s", r.err);
	run_free(&r);
}

static void
check_refused(const char *const env[], const char *variable)
{
	const char *argv[] = { "/bin/echo", "main ran", NULL };
	struct run_opts o = { .env = env, .shim = true };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 125, "%s: exit %d", env[0], run_exit_code(&r));
	cr_assert_eq(r.out_len, 0, "main ran despite %s: %s", env[0], r.out);
	cr_assert_not_null(strstr(r.err, variable), "the message must name %s: %s", variable, r.err);
	cr_assert_eq(strncmp(r.err, "ward: ", 6), 0, "%s", r.err);
	run_free(&r);
}

Test(destinations, invalid_format_stops_before_main)
{
	static const char *const formats[] = { "WARD_STATS_FORMAT=xml", "WARD_STATS_FORMAT=JSON" };
	for (size_t i = 0; i < 2; i++) {
		const char *env[] = { formats[i], "WARD_STATS=stderr", NULL };
		check_refused(env, "WARD_STATS_FORMAT");
	}
}

Test(destinations, invalid_destination_stops_before_main)
{
	static const char *const dests[] = { "WARD_STATS=fd:abc", "WARD_STATS=fd:", "WARD_STATS=fd:-1",
		                             "WARD_STATS=/tmp/x.%q.json" };
	for (size_t i = 0; i < 4; i++) {
		const char *env[] = { dests[i], NULL };
		check_refused(env, "WARD_STATS");
	}
}
