/*
 * test_learn: `ward learn` on real commands (SPEC 5.7).
 *
 * A policy learned from a command lets the same command run under
 * `ward run -p` with no violation at all, passes `ward check`, and still
 * refuses writes anywhere the command did not write ($HOME, /tmp).  Each
 * test works in a scratch directory with a fake $HOME inside it.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "run.h"

static char *dir;
static char home[PATH_MAX], work[PATH_MAX], policy[PATH_MAX], home_env[PATH_MAX + 8];

static void
setup(void)
{
	dir = tmpdir_make();
	path_in(home, dir, "home");
	path_in(work, home, "work");
	path_in(policy, dir, "learned.ward");
	cr_assert_eq(mkdir(home, 0755), 0);
	cr_assert_eq(mkdir(work, 0755), 0);
	snprintf(home_env, sizeof(home_env), "HOME=%s", home);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(learn, .init = setup, .fini = teardown, .timeout = 120);

static struct run_result
ward(const char *const args[])
{
	const char *argv[32] = { WARD_EXE };
	size_t n = 1;
	for (size_t i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	const char *env[] = { home_env, NULL };
	struct run_opts o = { .env = env, .cwd = work, .timeout_ms = 60000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out, "ward hung");
	return r;
}

/* ward learn -o POLICY -- script, then the checks every learned policy must pass. */
static void
learn(const char *script)
{
	const char *args[] = { "learn", "-o", policy, "--", "sh", "-c", script, NULL };
	struct run_result r = ward(args);
	cr_assert_eq(run_exit_code(&r), 0, "learn: exit %d: %s", run_exit_code(&r), r.err);
	cr_assert_not_null(strstr(r.err, "ward: learn: wrote "), "%s", r.err);
	run_free(&r);
	const char *check[] = { "check", policy, NULL };
	r = ward(check);
	char *text = file_read(policy, NULL);
	cr_assert_eq(run_exit_code(&r), 0, "the learned policy does not pass ward check: %s\n%s", r.err, text);
	cr_expect_not_null(strstr(text, "version 1\n"), "%s", text);
	cr_expect_not_null(strstr(text, "default deny\n"), "%s", text);
	cr_expect_not_null(strstr(text, "\n# "), "no comments: %s", text);
	free(text);
	run_free(&r);
}

static void
runs_clean(const char *script, const char *expected_out)
{
	const char *args[] = { "run", "-s", "none", "-p", policy, "--", "sh", "-c", script, NULL };
	struct run_result r = ward(args);
	char *text = file_read(policy, NULL);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d: %s\n%s", run_exit_code(&r), r.err, text);
	cr_expect_null(strstr(r.err, "ward: "), "violations under the learned policy: %s\n%s", r.err, text);
	if (expected_out != NULL)
		cr_expect_str_eq(r.out, expected_out);
	free(text);
	run_free(&r);
}

static void
write_is_refused(const char *target)
{
	char script[PATH_MAX * 2];
	snprintf(script, sizeof(script), "echo x > '%s'", target);
	const char *args[] = { "run", "-s", "none", "-p", policy, "--", "sh", "-c", script, NULL };
	struct run_result r = ward(args);
	cr_expect_neq(run_exit_code(&r), 0, "writing %s was allowed", target);
	cr_expect_neq(access(target, F_OK), 0, "%s was written", target);
	cr_expect_not_null(strstr(r.err, target), "no record of %s: %s", target, r.err);
	run_free(&r);
}

Test(learn, shell_copy_then_the_same_command_runs_clean)
{
	const char *script = "mkdir -p out && cp /etc/hostname out/h && cat out/h";
	learn(script);
	char out[PATH_MAX];
	path_in(out, work, "out");
	cr_assert_eq(system("true"), 0);
	char *hostname = file_read("/etc/hostname", NULL);
	cr_assert_not_null(hostname);
	char rm[PATH_MAX + 16];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", out);
	cr_assert_eq(system(rm), 0);
	runs_clean(script, hostname); /* from scratch */
	runs_clean(script, hostname); /* and again over its own products */
	free(hostname);
	char other[PATH_MAX];
	path_in(other, home, "other");
	write_is_refused(other);
	write_is_refused("/tmp/not-learned-by-ward");
}

Test(learn, python_writing_a_file)
{
	char script[PATH_MAX * 2];
	snprintf(script, sizeof(script),
	         "%s -c 'import pathlib; pathlib.Path.home().joinpath(\"notes.txt\").write_text(\"learned\\n\")'"
	         " && cat \"$HOME/notes.txt\"",
	         PYTHON3);
	learn(script);
	runs_clean(script, "learned\n");
	char *text = file_read(policy, NULL);
	cr_expect_not_null(strstr(text, "$HOME/notes.txt"), "no $HOME substitution: %s", text);
	cr_expect_null(strstr(text, "$HOME/**"), "the whole home directory was opened: %s", text);
	free(text);
	char other[PATH_MAX];
	path_in(other, home, "other");
	write_is_refused(other);
	write_is_refused("/tmp/not-learned-by-ward");
}

/* Under a given base the learned policy includes it; what the base denies
 * by its own rules stays denied and is reported. */
Test(learn, given_base_is_included_and_its_denies_are_reported)
{
	char base[PATH_MAX], secret[PATH_MAX], rules[PATH_MAX * 2];
	path_in(base, dir, "base.ward");
	path_in(secret, work, "secret");
	cr_assert(file_write(secret, "s\n", 2));
	snprintf(rules, sizeof(rules), "version 1\ninclude %s/base.ward\ndeny read %s\n", EXAMPLES, secret);
	cr_assert(file_write(base, rules, strlen(rules)));
	const char *args[] = { "learn", "-o", policy, "-p", base, "--", "sh", "-c", "cat secret; echo ok > made", NULL };
	struct run_result r = ward(args);
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_not_null(strstr(r.err, "the base refuses read"), "%s", r.err);
	run_free(&r);
	char *text = file_read(policy, NULL);
	cr_assert_not_null(text);
	cr_expect_not_null(strstr(text, "include base.ward\n"), "%s", text);
	cr_expect_not_null(strstr(text, "$CWD/made"), "%s", text);
	free(text);
}

Test(learn, usage_and_bad_output)
{
	const char *none[] = { "learn", "--", "true", NULL };
	struct run_result r = ward(none);
	cr_expect_eq(run_exit_code(&r), 125);
	cr_expect_not_null(strstr(r.err, "ward learn --help"), "%s", r.err);
	run_free(&r);
	const char *bad[] = { "learn", "-o", "/nonexistent/x.ward", "--", "sh", "-c", "echo ran", NULL };
	r = ward(bad);
	cr_expect_eq(run_exit_code(&r), 125);
	cr_expect_eq(r.out_len, 0, "the command ran: %s", r.out);
	run_free(&r);
}
