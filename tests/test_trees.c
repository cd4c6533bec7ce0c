/*
 * Real process trees under `ward run` (SPEC 4, 5.4, 7).
 *
 * A build with make -j2, shell pipelines and subshells, xargs -P2, python's
 * subprocess and multiprocessing, a threaded program that forks a thousand
 * times: each runs once bare and once under ward, and the test checks what
 * a user sees.  Same stdout, stderr and exit status (and the same files);
 * then the merged report: every program of the tree is in it, with exactly
 * as many process images as really ran and exactly the figures they made.
 * A process image is what the report counts: a fork child that execs counts
 * once under its parent's name and once under the new program's.
 *
 * Everything runs in the test's scratch directory and every run has a
 * deadline, so a tree that hangs under the shim is a failed test (TRAPS 18).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

TestSuite(trees, .init = setup, .fini = teardown, .timeout = 120);

/* argv as one line, for messages. */
static const char *
shown(const char *const argv[])
{
	static char line[2048];
	line[0] = '\0';
	for (size_t i = 0; argv[i] != NULL; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", i ? " " : "",
		         argv[i]);
	return line;
}

/* argv run bare (no shim anywhere) in cwd. */
static struct run_result
bare(const char *const argv[], const char *cwd, int timeout_ms)
{
	struct run_opts o = { .cwd = cwd, .timeout_ms = timeout_ms };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r), "cannot start %s", shown(argv));
	cr_assert_not(r.timed_out, "%s hung even without ward", shown(argv));
	return r;
}

/* ward run -s REPORT -- argv..., in cwd. */
static struct run_result
under_ward(const char *report, const char *const argv[], const char *cwd, int timeout_ms)
{
	const char *full[64] = { WARD_EXE, "run", "-s", report, "--" };
	size_t n = 5;
	for (size_t i = 0; argv[i] != NULL; i++) {
		cr_assert_lt(n, 63);
		full[n++] = argv[i];
	}
	full[n] = NULL;
	struct run_opts o = { .cwd = cwd, .timeout_ms = timeout_ms };
	struct run_result r;
	cr_assert(run_argv(full, &o, &r), "cannot start ward");
	cr_assert_not(r.timed_out, "ward run hung: %s", shown(full));
	return r;
}

/* The same stdout, stderr and exit status with and without ward. */
static void
expect_same_behaviour(const struct run_result *plain, const struct run_result *watched,
                      const char *what)
{
	cr_expect_eq(run_exit_code(watched), run_exit_code(plain),
	             "%s: exit %d under ward, %d bare; stderr under ward: %s", what,
	             run_exit_code(watched), run_exit_code(plain), watched->err);
	cr_expect_str_eq(watched->out, plain->out, "%s: stdout differs under ward:\n%s\n--- bare:\n%s",
	                 what, watched->out, plain->out);
	cr_expect_str_eq(watched->err, plain->err, "%s: stderr differs under ward:\n%s\n--- bare:\n%s",
	                 what, watched->err, plain->err);
}

/* The report file: present and valid JSON (checked by python's parser). */
static char *
read_report(const char *report)
{
	char *text = file_read(report, NULL);
	cr_assert_not_null(text, "ward run wrote no report to %s", report);
	cr_assert(pycheck_json_lines(text), "the report is not valid JSON: %s", text);
	return text;
}

/* A figure of one program ("processes", "files']['bytes_read", ...), or -1
 * when the program is not in the report at all. */
static long
program_figure(const char *report, const char *program, const char *figure)
{
	char expr[512];
	snprintf(expr, sizeof(expr), "P['%s']['%s'] if '%s' in P else -1", program, figure, program);
	return pycheck_json_value(report, expr);
}

/* ---- make -j2 of a small C project ---- */

static const char *const project[][2] = {
	{ "util.h", "int twice(int);\nint square(int);\nconst char *greeting(void);\n" },
	{ "main.c", "#include <stdio.h>\n#include \"util.h\"\n"
	            "int main(void)\n{\n\tprintf(\"%s %d %d\\n\", greeting(), twice(21), square(12));\n"
	            "\treturn 0;\n}\n" },
	{ "twice.c", "#include \"util.h\"\nint twice(int x) { return 2 * x; }\n" },
	{ "square.c", "#include \"util.h\"\nint square(int x) { return x * x; }\n" },
	{ "greeting.c", "#include \"util.h\"\nconst char *greeting(void) { return \"hello\"; }\n" },
	{ "Makefile", "CC = cc\nCFLAGS = -O1 -Wall\nOBJS = main.o twice.o square.o greeting.o\n\n"
	              "hello: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n"
	              "%.o: %.c util.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n"
	              ".PHONY: check\ncheck: hello\n\t./hello > check.out\n" },
};

static void
write_project(const char *where)
{
	cr_assert_eq(mkdir(where, 0755), 0);
	for (size_t i = 0; i < sizeof(project) / sizeof(project[0]); i++) {
		char file[PATH_MAX];
		path_in(file, where, project[i][0]);
		cr_assert(file_write(file, project[i][1], strlen(project[i][1])));
	}
}

/* The built program, run bare, prints what its sources say. */
static void
expect_working_build(const char *where, const char *what)
{
	char exe[PATH_MAX], check[PATH_MAX];
	path_in(exe, where, "hello");
	path_in(check, where, "check.out");
	struct stat st;
	cr_assert_eq(stat(exe, &st), 0, "%s: make built no program", what);
	const char *argv[] = { exe, NULL };
	struct run_result r = bare(argv, where, 10000);
	cr_expect_eq(run_exit_code(&r), 0, "%s: the built program failed: %s", what, r.err);
	cr_expect_str_eq(r.out, "hello 42 144\n", "%s: the built program printed %s", what, r.out);
	run_free(&r);
	char *made = file_read(check, NULL);
	cr_assert_not_null(made, "%s: the check target wrote nothing", what);
	cr_expect_str_eq(made, "hello 42 144\n", "%s: check.out holds %s", what, made);
	free(made);
}

Test(trees, make_j2_builds_the_same_under_ward)
{
	char plain_dir[PATH_MAX], watched_dir[PATH_MAX], report[PATH_MAX];
	path_in(plain_dir, dir, "bare");
	path_in(watched_dir, dir, "watched");
	path_in(report, dir, "make.json");
	write_project(plain_dir);
	write_project(watched_dir);

	/* --no-print-directory: under an outer make (make test) the inner one
	 * would print its directory, which differs between the two trees */
	const char *argv[] = { "make", "--no-print-directory", "-j2", "hello", "check", NULL };
	struct run_result plain = bare(argv, plain_dir, 60000);
	cr_assert_eq(run_exit_code(&plain), 0, "make failed without ward: %s", plain.err);
	struct run_result watched = under_ward(report, argv, watched_dir, 60000);
	expect_same_behaviour(&plain, &watched, "make -j2");
	expect_working_build(plain_dir, "bare");
	expect_working_build(watched_dir, "under ward");
	/* same files: the objects and the program, byte for byte */
	const char *outputs[] = { "main.o", "twice.o", "square.o", "greeting.o", "hello", NULL };
	for (size_t i = 0; outputs[i] != NULL; i++) {
		char a[PATH_MAX], b[PATH_MAX];
		path_in(a, plain_dir, outputs[i]);
		path_in(b, watched_dir, outputs[i]);
		cr_expect(files_equal(a, b), "%s differs when built under ward", outputs[i]);
	}

	char *text = read_report(report);
	cr_expect_geq(program_figure(report, "make", "processes"), 1, "%s", text);
	long compiler = pycheck_json_value(report, "P.get('cc', {}).get('processes', 0) + "
	                                     "P.get('gcc', {}).get('processes', 0)");
	cr_expect_geq(compiler, 5, "one driver per compile and one to link: %s", text);
	/* four sources: one cc1 and one as each */
	cr_expect_eq(program_figure(report, "cc1", "processes"), 4, "%s", text);
	cr_expect_eq(program_figure(report, "as", "processes"), 4, "%s", text);
	long linker = pycheck_json_value(report, "P.get('collect2', {}).get('processes', 0) + "
	                                   "P.get('ld', {}).get('processes', 0)");
	cr_expect_geq(linker, 1, "no linker in the report: %s", text);
	/* check's ./hello ran under ward too */
	cr_expect_eq(program_figure(report, "hello", "processes"), 1, "%s", text);
	cr_expect_geq(pycheck_json_value(report, "d['total']['processes']"), 6, "%s", text);
	cr_expect_eq(pycheck_json_value(report, "d['total']['unfinished']"), 0, "%s", text);
	/* cc1 read the sources and headers (with read(2)) */
	cr_expect_gt(program_figure(report, "cc1", "files']['bytes_read"), 0, "%s", text);
	free(text);
	run_free(&plain);
	run_free(&watched);
}

/* ---- shell pipelines, subshells, command substitution ---- */

static const char pipeline_script[] =
	"printf 'b\\na\\nc\\n' | sort | (cat; echo done) | tr a-z A-Z\n"
	"x=$(echo sub | tr a-z A-Z); echo \"$x\"\n"
	"(cd / && pwd; (echo nested; exit 3); echo \"nested exit $?\") | cat\n"
	"{ echo group; false; } || echo \"group failed\"\n"
	"exit 5\n";

static const char pipeline_output[] = "A\nB\nC\nDONE\nSUB\n/\nnested\nnested exit 3\ngroup\ngroup failed\n";

static void
check_pipelines(const char *shell)
{
	char report[PATH_MAX];
	path_in(report, dir, "pipes.json");
	const char *argv[] = { shell, "-c", pipeline_script, NULL };
	struct run_result plain = bare(argv, dir, 30000);
	cr_assert_str_eq(plain.out, pipeline_output, "%s itself: %s", shell, plain.out);
	cr_assert_eq(run_exit_code(&plain), 5);
	struct run_result watched = under_ward(report, argv, dir, 30000);
	expect_same_behaviour(&plain, &watched, shell);

	char *text = read_report(report);
	/* each external program ran exactly once per use in the script */
	cr_expect_eq(program_figure(report, "sort", "processes"), 1, "%s", text);
	cr_expect_eq(program_figure(report, "tr", "processes"), 2, "%s", text);
	cr_expect_eq(program_figure(report, "cat", "processes"), 2, "%s", text);
	cr_expect_geq(program_figure(report, shell, "processes"), 1, "%s", text);
	cr_expect_eq(pycheck_json_value(report, "d['total']['unfinished']"), 0, "%s", text);
	/* the first cat saw the three sorted lines on its stdin */
	cr_expect_geq(program_figure(report, "cat", "files']['bytes_read"), 6, "%s", text);
	free(text);
	run_free(&plain);
	run_free(&watched);
}

Test(trees, sh_pipelines_and_subshells)
{
	check_pipelines("sh");
}

Test(trees, bash_pipelines_and_subshells)
{
	check_pipelines("bash");
}

/* ---- xargs -P2 over a program with known call counts ---- */

Test(trees, xargs_parallel_totals_are_exact)
{
	enum { INPUTS = 6, N = 5, M = 3, K = 4, B = 6000 };
	char input[INPUTS * PATH_MAX] = "", report[PATH_MAX];
	path_in(report, dir, "xargs.json");
	char data[B + 1000];
	memset(data, 'x', sizeof(data));
	for (int i = 0; i < INPUTS; i++) {
		char name[32], file[PATH_MAX];
		snprintf(name, sizeof(name), "input-%d", i);
		path_in(file, dir, name);
		cr_assert(file_write(file, data, B + (size_t)i * 100));
		strcat(input, file);
		strcat(input, "\n");
	}
	char script[PATH_MAX + 64];
	snprintf(script, sizeof(script), "exec %s \"$1\" %d %d %d %d", PROG_KNOWN_CALLS, N, M, K, B);
	const char *argv[] = { WARD_EXE, "run", "-s", report, "--", "xargs", "-P2", "-n1", "sh",
		               "-c", script, "sh", NULL };
	struct run_opts o = { .cwd = dir, .input = input, .input_len = strlen(input),
		              .timeout_ms = 30000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out, "ward run xargs hung");
	cr_assert_eq(run_exit_code(&r), 0, "exit %d: %s", run_exit_code(&r), r.err);
	cr_expect_eq(r.out_len, 0, "%s", r.out);
	cr_expect_eq(r.err_len, 0, "%s", r.err);

	char *text = read_report(report);
	cr_expect_eq(program_figure(report, "known_calls", "processes"), INPUTS, "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "unfinished"), 0, "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "calls']['open']['calls"),
	             INPUTS * (N + M + 1), "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "calls']['open']['errors"), INPUTS * M,
	             "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "calls']['stat']['calls"), INPUTS * K,
	             "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "calls']['stat']['errors"), 0, "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "calls']['close']['calls"),
	             INPUTS * (N + 1), "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "files']['opened"), INPUTS * (N + 1),
	             "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "files']['bytes_read"), INPUTS * B,
	             "%s", text);
	cr_expect_eq(program_figure(report, "known_calls", "files']['bytes_written"), 0, "%s", text);
	cr_expect_eq(program_figure(report, "xargs", "processes") >= 1, 1, "%s", text);
	free(text);
	run_free(&r);
}

/* ---- python3: subprocess and multiprocessing ---- */

static const char python_script[] =
	"import hashlib, multiprocessing, subprocess, sys\n"
	"def digest(i):\n"
	"    with open(sys.argv[1], 'rb') as f:\n"
	"        return i, hashlib.sha256(f.read()).hexdigest()[:16]\n"
	"if __name__ == '__main__':\n"
	"    for _ in range(3):\n"
	"        sys.stdout.flush()\n"
	"        subprocess.run(['cat', sys.argv[1]], check=True)\n"
	"    pool = multiprocessing.Pool(2)\n"
	"    for i, h in pool.map(digest, range(4)):\n"
	"        print(i, h)\n"
	"    pool.close()\n"
	"    pool.join()\n";

Test(trees, python_subprocess_and_multiprocessing)
{
	char script[PATH_MAX], data[PATH_MAX], report[PATH_MAX];
	path_in(script, dir, "tree.py");
	path_in(data, dir, "data.txt");
	path_in(report, dir, "python.json");
	cr_assert(file_write(script, python_script, strlen(python_script)));
	size_t size;
	char *lines = text_lines(200, 7, &size);
	cr_assert(file_write(data, lines, size));

	const char *argv[] = { PYTHON3, script, data, NULL };
	struct run_result plain = bare(argv, dir, 30000);
	cr_assert_eq(run_exit_code(&plain), 0, "python3 itself failed: %s", plain.err);
	cr_assert_gt(plain.out_len, 3 * size, "the script did not print its output");
	cr_assert_eq(memcmp(plain.out, lines, size), 0);
	struct run_result watched = under_ward(report, argv, dir, 30000);
	expect_same_behaviour(&plain, &watched, "python3");

	char *text = read_report(report);
	cr_expect_eq(program_figure(report, "cat", "processes"), 3, "%s", text);
	cr_expect_eq(program_figure(report, "cat", "files']['bytes_read"), (long)(3 * size), "%s",
	             text);
	cr_expect_eq(program_figure(report, "cat", "files']['bytes_written"), (long)(3 * size), "%s",
	             text);
	/* the script and at least the pool's two forked workers, which the
	 * close() and join() let finish normally (a with block would terminate
	 * them with SIGTERM) */
	cr_expect_geq(program_figure(report, "python3", "processes"), 3, "%s", text);
	cr_expect_eq(pycheck_json_value(report, "d['total']['unfinished']"), 0, "%s", text);
	/* the workers read the file four times over */
	cr_expect_geq(program_figure(report, "python3", "files']['bytes_read"), (long)(4 * size),
	              "%s", text);
	free(text);
	free(lines);
	run_free(&plain);
	run_free(&watched);
}

/* ---- fork in a threaded program, threads inside intercepted calls ---- */

Test(trees, fork_storm_with_busy_threads_does_not_hang)
{
	char data[PATH_MAX];
	path_in(data, dir, "data.txt");
	cr_assert(file_write(data, "0123456789abcdef\n", 17));
	const char *argv[] = { PROG_FORK_STORM, data, "1000", NULL };
	struct run_opts o = { .shim = true, .cwd = dir, .timeout_ms = 60000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out, "fork_storm hung under the shim (a lock or epoch record "
	                           "held across fork?); it printed: %s", r.out);
	cr_assert_eq(run_exit_code(&r), 0, "exit %d; stdout: %s; stderr: %s", run_exit_code(&r),
	             r.out, r.err);
	cr_assert_str_eq(r.out, "forks 1000 failed 0\n");
	run_free(&r);
}

Test(trees, fork_storm_images_are_all_in_the_report)
{
	char data[PATH_MAX], report[PATH_MAX];
	path_in(data, dir, "data.txt");
	path_in(report, dir, "storm.json");
	cr_assert(file_write(data, "0123456789abcdef\n", 17));
	const char *argv[] = { PROG_FORK_STORM, data, "200", NULL };
	struct run_result r = under_ward(report, argv, dir, 60000);
	cr_assert_eq(run_exit_code(&r), 0, "exit %d; stdout: %s; stderr: %s", run_exit_code(&r),
	             r.out, r.err);
	cr_assert_str_eq(r.out, "forks 200 failed 0\n");
	char *text = read_report(report);
	cr_expect_eq(program_figure(report, "fork_storm", "processes"), 201,
	             "the parent and its 200 children: %s", text);
	cr_expect_eq(program_figure(report, "fork_storm", "unfinished"), 0, "%s", text);
	cr_expect_eq(pycheck_json_value(report, "d['total']['processes']"), 201, "%s", text);
	/* every child's open and close, plus the threads' own */
	cr_expect_geq(program_figure(report, "fork_storm", "calls']['open']['calls"), 200, "%s",
	              text);
	cr_expect_eq(program_figure(report, "fork_storm", "calls']['open']['errors"), 0, "%s", text);
	cr_expect_eq(program_figure(report, "fork_storm", "files']['opened"),
	             program_figure(report, "fork_storm", "files']['closed"), "%s", text);
	free(text);
	run_free(&r);
}

/* More processes than the tree has records for (16,384): the children
 * past its room count nowhere and are reported as unrecorded, and never
 * reset the figures of the record they inherited (once, each wiped its
 * parent's: the opens the parent made before them were lost). */
Test(trees, children_past_the_tree_leave_their_parent_figures_alone)
{
	char data[PATH_MAX], report[PATH_MAX];
	path_in(data, dir, "data.txt");
	path_in(report, dir, "past.json");
	cr_assert(file_write(data, "x\n", 2));
	const char *argv[] = { PROG_FORK_PAST_TREE, data, "16400", "7", "5", NULL };
	struct run_result r = under_ward(report, argv, dir, 110000);
	cr_assert_eq(run_exit_code(&r), 0, "exit %d; stdout: %s; stderr: %s", run_exit_code(&r), r.out, r.err);
	cr_assert_str_eq(r.out, "forks 16400 failed 0\n");
	char *text = read_report(report);
	cr_expect_eq(program_figure(report, "fork_past_tree", "files']['opened"), 12, "%s", text);
	cr_expect_eq(program_figure(report, "fork_past_tree", "processes"), 16384, "%s", text);
	cr_expect_eq(pycheck_json_value(report, "d['unrecorded']"), 16401 - 16384, "%s", text);
	free(text);
	run_free(&r);
}

/* ---- exit status and unfinished images through a tree ---- */

Test(trees, exit_status_of_a_nested_shell)
{
	char report[PATH_MAX];
	path_in(report, dir, "exit.json");
	const char *argv[] = { "sh", "-c", "sh -c \"exit 7\"; exit $?", NULL };
	struct run_result r = under_ward(report, argv, dir, 30000);
	cr_expect_eq(run_exit_code(&r), 7, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect_eq(r.out_len, 0, "%s", r.out);
	run_free(&r);
	const char *none[] = { WARD_EXE, "run", "-s", "none", "--", "sh", "-c",
		               "sh -c 'sh -c \"exit 42\"'; exit $?", NULL };
	struct run_opts o = { .cwd = dir, .timeout_ms = 30000 };
	cr_assert(run_argv(none, &o, &r));
	cr_expect_eq(run_exit_code(&r), 42, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	run_free(&r);
}

/* The grandchild kills itself after reading a file; its parent carries on and
 * exits 0. */
Test(trees, grandchild_killed_by_sigkill_parent_exits_0)
{
	char data[PATH_MAX], middle[PATH_MAX], report[PATH_MAX];
	path_in(data, dir, "data.txt");
	path_in(middle, dir, "middle.sh");
	path_in(report, dir, "killed.json");
	cr_assert(file_write(data, "hello\n", 6));
	const char middle_script[] =
		"/usr/bin/python3 -c 'import os, signal, sys; open(sys.argv[1]).read(); "
		"os.kill(os.getpid(), signal.SIGKILL)' \"$1\"\n"
		"echo \"victim $?\"\n"
		"exit 0\n";
	cr_assert(file_write(middle, middle_script, strlen(middle_script)));
	const char *argv[] = { "sh", "-c", "sh \"$1\" \"$2\"; echo \"middle $?\"", "sh", middle,
		               data, NULL };
	struct run_result plain = bare(argv, dir, 30000);
	cr_assert_str_eq(plain.out, "victim 137\nmiddle 0\n");
	struct run_result watched = under_ward(report, argv, dir, 30000);
	expect_same_behaviour(&plain, &watched, "SIGKILLed grandchild");
	cr_expect_eq(run_exit_code(&watched), 0);

	char *text = read_report(report);
	cr_expect_eq(program_figure(report, "python3", "processes"), 1, "%s", text);
	cr_expect_eq(program_figure(report, "python3", "unfinished"), 1, "%s", text);
	cr_expect_geq(program_figure(report, "python3", "files']['bytes_read"), 6,
	              "what it did before the signal: %s", text);
	cr_expect_eq(program_figure(report, "sh", "unfinished"), 0, "%s", text);
	cr_expect_eq(pycheck_json_value(report, "d['total']['unfinished']"), 1, "%s", text);
	free(text);
	run_free(&plain);
	run_free(&watched);
}

/* The same, but the grandchild is killed from outside while it sleeps, once
 * it has shown it is running (a fifo line, so no timing guess).  dash may
 * or may not say "Killed" for the job, bare or not: that line is hidden. */
Test(trees, grandchild_killed_from_outside_is_unfinished)
{
	char data[PATH_MAX], middle[PATH_MAX], report[PATH_MAX];
	path_in(data, dir, "data.txt");
	path_in(middle, dir, "middle.sh");
	path_in(report, dir, "killed.json");
	cr_assert(file_write(data, "hello\n", 6));
	const char middle_script[] =
		"rm -f ready; mkfifo ready\n"
		"/usr/bin/python3 -c 'import sys, time; open(sys.argv[1]).read(); "
		"print(\"up\", flush=True); time.sleep(60)' \"$1\" > ready &\n"
		"victim=$!\n"
		"read line < ready\n"
		"{ kill -KILL $victim; wait $victim; status=$?; } 2>/dev/null\n"
		"echo \"$line victim $status\"\n"
		"exit 0\n";
	cr_assert(file_write(middle, middle_script, strlen(middle_script)));
	const char *argv[] = { "sh", "-c", "sh \"$1\" \"$2\"; echo \"middle $?\"", "sh", middle,
		               data, NULL };
	struct run_result plain = bare(argv, dir, 30000);
	cr_assert_str_eq(plain.out, "up victim 137\nmiddle 0\n", "%s", plain.err);
	struct run_result watched = under_ward(report, argv, dir, 30000);
	expect_same_behaviour(&plain, &watched, "SIGKILLed grandchild");
	cr_expect_eq(run_exit_code(&watched), 0);

	char *text = read_report(report);
	cr_expect_eq(program_figure(report, "python3", "processes"), 1, "%s", text);
	cr_expect_eq(program_figure(report, "python3", "unfinished"), 1, "%s", text);
	cr_expect_geq(program_figure(report, "python3", "files']['bytes_read"), 6, "%s", text);
	cr_expect_eq(pycheck_json_value(report, "d['total']['unfinished']"), 1, "%s", text);
	free(text);
	run_free(&plain);
	run_free(&watched);
}
