/*
 * test_confined: the top command and every exec are decided on what the
 * kernel would really start (SPEC 4, 5.4; issue 10 items 1 and 8).
 *
 * `ward run -p POLICY -- CMD` decides CMD before starting it: a statically
 * linked program is refused with 126 and a record in the summary (the file
 * it would have written is never made), a CMD the exec rules deny is 126,
 * an allowed one runs, --audit records and runs.  The same decisions hold
 * inside the tree: a #! chain ending in a static program, an ELF whose
 * PT_INTERP is a loader of the user's, and a PATH search where glibc skips
 * a first candidate (missing #! interpreter) and starts a later one.
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
static char buf[PATH_MAX];

static const char *
in_dir(const char *name)
{
	path_in(buf, dir, name);
	return buf;
}

static void
put(const char *name, const char *text, mode_t mode)
{
	cr_assert(file_write(in_dir(name), text, strlen(text)));
	cr_assert_eq(chmod(in_dir(name), mode), 0);
}

static void
copy(const char *from, const char *name)
{
	size_t len;
	char *data = file_read(from, &len);
	cr_assert(data != NULL, "%s", from);
	cr_assert(file_write(in_dir(name), data, len));
	cr_assert_eq(chmod(in_dir(name), 0755), 0);
	free(data);
}

static bool
exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void
setup(void)
{
	dir = tmpdir_make();
	mkdir(in_dir("work"), 0755);
	mkdir(in_dir("bin"), 0755);
	copy(PROG_STATIC_WRITER, "static_writer");
	unlink("/etc/ward-static-escape");
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(confined, .init = setup, .fini = teardown, .timeout = 60);

/* ward ARGS... in dir (its $CWD), extra environment entries. */
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

Test(confined, top_static_program_is_refused_with_126)
{
	const char *args[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--", "./static_writer", NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 126, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect_not(exists("/etc/ward-static-escape"), "the static program ran");
	cr_expect(strstr(r.err, "ward: denied exec ") != NULL, "no record: %s", r.err);
	cr_expect(strstr(r.err, "violations of the policy (1 denied)") != NULL, "no summary: %s", r.err);
	cr_expect(strstr(r.err, "unconfined-exec (statically linked) [ward]") != NULL, "summary: %s", r.err);
	run_free(&r);
	unlink("/etc/ward-static-escape");
}

Test(confined, top_command_denied_by_exec_rules_is_126)
{
	copy("/bin/true", "work/mytrue");
	char elsewhere[PATH_MAX];
	snprintf(elsewhere, sizeof(elsewhere), "%s", in_dir("work/mytrue"));
	const char *policy_args[] = { "run", "-s", "none", "-p", in_dir("p.ward"), "--", elsewhere, NULL };
	put("p.ward", "version 1\ninclude " EXAMPLES "/base.ward\nallow rw $CWD/**\n", 0644);
	struct run_result r = ward(policy_args, NULL);
	cr_expect_eq(run_exit_code(&r), 126, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "ward: denied exec ") != NULL && strstr(r.err, "by default deny") != NULL,
	          "no record: %s", r.err);
	cr_expect(strstr(r.err, "violations of the policy (1 denied)") != NULL, "no summary: %s", r.err);
	run_free(&r);
}

Test(confined, allowed_top_command_runs)
{
	copy("/bin/true", "mytrue");
	const char *args[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--", "./mytrue", NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "violations") == NULL, "stderr: %s", r.err);
	run_free(&r);
	const char *sh[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--", "sh", "-c", "exit 7", NULL };
	r = ward(sh, NULL);
	cr_expect_eq(run_exit_code(&r), 7, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	run_free(&r);
}

Test(confined, audit_runs_the_top_command_and_records)
{
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s", in_dir("written"));
	const char *args[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--audit", "--", "./static_writer",
		               target, NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect(exists(target), "audit did not run it");
	cr_expect(strstr(r.err, "ward: audited exec ") != NULL, "no record: %s", r.err);
	cr_expect(strstr(r.err, "violations of the policy (1 audited)") != NULL, "no summary: %s", r.err);
	run_free(&r);
}

Test(confined, top_command_record_goes_to_the_log_file)
{
	char log[PATH_MAX + 16];
	snprintf(log, sizeof(log), "%s", in_dir("log.json"));
	const char *args[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--log", log, "--",
		               "./static_writer", NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 126, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	char *text = file_read(log, NULL);
	cr_assert(text != NULL, "no log file");
	cr_expect(strstr(text, "\"op\":\"exec\"") != NULL && strstr(text, "\"decision\":\"denied\"") != NULL, "%s", text);
	free(text);
	run_free(&r);
	unlink("/etc/ward-static-escape");
}

/* glibc skips a PATH candidate whose #! interpreter is missing and starts
 * the next one: that one is decided, at the top and inside the tree. */
Test(confined, path_search_decides_the_candidate_glibc_starts)
{
	mkdir(in_dir("first"), 0755);
	mkdir(in_dir("second"), 0755);
	put("first/tool", "#!/nonexistent/interpreter\n", 0755);
	copy(PROG_STATIC_WRITER, "second/tool");
	char path_env[3 * PATH_MAX];
	snprintf(path_env, sizeof(path_env), "PATH=%s/first:%s/second:/usr/bin:/bin", dir, dir);
	const char *env[] = { path_env, NULL };
	const char *args[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--", "tool", NULL };
	struct run_result r = ward(args, env);
	cr_expect_eq(run_exit_code(&r), 126, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "second/tool") != NULL, "stderr: %s", r.err);
	cr_expect_not(exists("/etc/ward-static-escape"));
	run_free(&r);
	/* inside the tree: env(1) runs its command with glibc's execvp */
	const char *sh[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--no-fail", "--", "sh", "-c",
		             "env tool; echo status $?", NULL };
	r = ward(sh, env);
	cr_expect(strstr(r.out, "status 126") != NULL, "execvp was not refused: out %s err %s", r.out, r.err);
	cr_expect_not(exists("/etc/ward-static-escape"));
	run_free(&r);
	unlink("/etc/ward-static-escape");
}

/* A chain of #! scripts ending in a static program: every level counts. */
Test(confined, script_chain_ending_in_a_static_program)
{
	char text[PATH_MAX + 16];
	snprintf(text, sizeof(text), "#!%s/static_writer\n", dir);
	put("level2", text, 0755);
	snprintf(text, sizeof(text), "#!%s/level2\n", dir);
	put("level1", text, 0755);
	const char *args[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--", "./level1", NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 126, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "static_writer") != NULL, "stderr: %s", r.err);
	run_free(&r);
	const char *sh[] = { "run", "-s", "none", "-p", EXAMPLES "/build.ward", "--no-fail", "--", "sh", "-c",
		             "./level1; echo status $?", NULL };
	r = ward(sh, NULL);
	cr_expect(strstr(r.out, "status 126") != NULL, "out %s err %s", r.out, r.err);
	cr_expect(strstr(r.err, "unconfined-exec deny (statically linked)") != NULL, "stderr: %s", r.err);
	run_free(&r);
	cr_expect_not(exists("/etc/ward-static-escape"));
	unlink("/etc/ward-static-escape");
}

/* PT_INTERP "./myld": the kernel starts the loader in the cwd, which need
 * not preload anything.  A copy of the real loader is still not it. */
Test(confined, loader_of_the_users_own_is_unconfined)
{
	copy(PROG_FOREIGN_LOADER, "foreign");
	copy("/lib64/ld-linux-x86-64.so.2", "myld");
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s", in_dir("work/escaped"));
	char policy[3 * PATH_MAX];
	snprintf(policy, sizeof(policy), "version 1\ninclude %s/build.ward\ndeny write,create %s/work/**\n", EXAMPLES, dir);
	put("p.ward", policy, 0644);
	char policy_path[PATH_MAX];
	snprintf(policy_path, sizeof(policy_path), "%s", in_dir("p.ward"));
	const char *args[] = { "run", "-s", "none", "-p", policy_path, "--", "./foreign", target, NULL };
	struct run_result r = ward(args, NULL);
	cr_expect_eq(run_exit_code(&r), 126, "exit %d; stderr: %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "PT_INTERP is not the system's dynamic loader") != NULL, "stderr: %s", r.err);
	cr_expect_not(exists(target), "the program ran");
	run_free(&r);
	char script[PATH_MAX * 2];
	snprintf(script, sizeof(script), "./foreign %s; echo status $?", target);
	const char *sh[] = { "run", "-s", "none", "-p", policy_path, "--no-fail", "--", "sh", "-c", script, NULL };
	r = ward(sh, NULL);
	cr_expect(strstr(r.out, "status 126") != NULL, "out %s err %s", r.out, r.err);
	cr_expect_not(exists(target), "the program ran inside the tree");
	run_free(&r);
}
