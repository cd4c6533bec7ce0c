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

/* ---- confined from the first instruction (issue 10 item 9) ---- */

struct direct {
	int code;
	char *out, *err;
};

/* argv under LD_PRELOAD=preload (as given: order matters) and the policy
 * dir/p.ward, in cwd, with extra entries. */
static struct direct
direct_run(const char *const argv[], const char *preload, const char *cwd, const char *const extra[])
{
	static char preload_env[2 * PATH_MAX], policy_env[PATH_MAX + 16];
	snprintf(preload_env, sizeof(preload_env), "LD_PRELOAD=%s", preload);
	snprintf(policy_env, sizeof(policy_env), "WARD_POLICY=%s/p.ward", dir);
	const char *env[16] = { preload_env, policy_env };
	size_t n = 2;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++) {
		if (strncmp(extra[i], "WARD_POLICY=", 12) == 0)
			env[1] = extra[i];
		else
			env[n++] = extra[i];
	}
	env[n] = NULL;
	struct run_opts o = { .env = env, .cwd = cwd != NULL ? cwd : dir };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r), "could not start %s", argv[0]);
	struct direct d = { run_exit_code(&r), strdup(r.out), strdup(r.err) };
	run_free(&r);
	return d;
}

static void
direct_free(struct direct *d)
{
	free(d->out);
	free(d->err);
}

static void
secret_policy(void)
{
	char text[4 * PATH_MAX];
	put("secret", "top secret\n", 0644);
	snprintf(text, sizeof(text),
	         "version 1\ndefault deny\nallow ro /**\nallow exec /**\nallow rw /dev/null $CWD/**\n"
	         "allow rw ~/**\ndeny all %s/secret\n",
	         dir);
	put("p.ward", text, 0644);
}

Test(confined, constructors_before_the_shims_are_confined)
{
	secret_policy();
	char file_env[PATH_MAX + 16], both[2 * PATH_MAX + 2];
	snprintf(file_env, sizeof(file_env), "EARLY_FILE=%s/secret", dir);
	const char *extra[] = { file_env, NULL };
	const char *argv[] = { "/bin/true", NULL };
	/* both orders of two preloads: the other library's constructor opens the secret */
	snprintf(both, sizeof(both), "%s:%s", WARD_LIB, EARLY_SO);
	struct direct d = direct_run(argv, both, NULL, extra);
	cr_expect_eq(d.code, 99, "ward first: the early open was not refused (exit %d): %s", d.code, d.err);
	cr_expect(strstr(d.err, "ward: denied read ") != NULL, "%s", d.err);
	direct_free(&d);
	snprintf(both, sizeof(both), "%s:%s", EARLY_SO, WARD_LIB);
	d = direct_run(argv, both, NULL, extra);
	cr_expect_eq(d.code, 99, "ward second: the early open was not refused (exit %d): %s", d.code, d.err);
	direct_free(&d);
	/* the program's own library: its constructor runs before any preload's */
	const char *linked[] = { PROG_NEEDS_EARLY, NULL };
	d = direct_run(linked, WARD_LIB, NULL, extra);
	cr_expect_eq(d.code, 99, "linked library: the early open was not refused (exit %d): %s", d.code, d.err);
	direct_free(&d);
	/* and what they may read still works */
	snprintf(file_env, sizeof(file_env), "EARLY_FILE=%s/p.ward", dir);
	d = direct_run(linked, WARD_LIB, NULL, extra);
	cr_expect_eq(d.code, 0, "allowed early open refused (exit %d): %s", d.code, d.err);
	direct_free(&d);
}

/* A thread that an earlier constructor started runs while the shim's
 * constructor loads the policy: until it is loaded every operation counts
 * as restricted, so its calls wait for the start and are decided. */
Test(confined, a_thread_started_before_the_shim_is_confined_while_the_policy_loads)
{
	secret_policy();
	char file_env[PATH_MAX + 16];
	snprintf(file_env, sizeof(file_env), "EARLY_FILE=%s/secret", dir);
	const char *extra[] = { file_env, NULL };
	const char *argv[] = { PROG_EARLY_THREAD, NULL };
	for (int i = 0; i < 5; i++) {
		struct direct d = direct_run(argv, WARD_LIB, NULL, extra);
		cr_assert_eq(d.code, 0, "run %d: the early thread reached the secret or did not run (exit %d): %s %s", i,
		             d.code, d.out, d.err);
		cr_assert(strstr(d.out, "tries=") != NULL && strstr(d.out, " reached=0") != NULL, "%s", d.out);
		direct_free(&d);
	}
}

Test(confined, a_constructor_cannot_swap_the_policy_or_home)
{
	secret_policy();
	put("open.ward", "version 1\ndefault allow\n", 0644);
	char loosen_env[PATH_MAX + 16], both[2 * PATH_MAX + 2], home_env[PATH_MAX + 8];
	snprintf(loosen_env, sizeof(loosen_env), "LOOSEN_POLICY=%s/open.ward", dir);
	snprintf(home_env, sizeof(home_env), "HOME=%s/home", dir);
	mkdir(in_dir("home"), 0755);
	const char *extra[] = { loosen_env, home_env, NULL };
	snprintf(both, sizeof(both), "%s:%s", WARD_LIB, LOOSEN_SO);
	char secret[PATH_MAX];
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	const char *cat[] = { "cat", secret, NULL };
	struct direct d = direct_run(cat, both, NULL, extra);
	cr_expect_neq(d.code, 0, "read the secret: %s", d.out);
	cr_expect(strstr(d.out, "top secret") == NULL);
	cr_expect(strstr(d.err, "Permission denied") != NULL, "%s", d.err);
	direct_free(&d);
	/* ~ is the HOME the process was started with, not "/" */
	const char *touch[] = { "touch", "/tmp/../etc/ward-loosened", NULL };
	d = direct_run(touch, both, NULL, extra);
	cr_expect_neq(d.code, 0, "a write outside was allowed");
	cr_expect_not(exists("/etc/ward-loosened"));
	unlink("/etc/ward-loosened");
	direct_free(&d);
}

/* Nor remove it: unsetenv of WARD_POLICY and of the first entry (the
 * entries after each move down the array the shim's constructor gets). */
Test(confined, a_constructor_cannot_unset_the_policy)
{
	secret_policy();
	const char *extra[] = { "LOOSEN_UNSET=1", NULL };
	char both[2 * PATH_MAX + 2], secret[PATH_MAX];
	snprintf(both, sizeof(both), "%s:%s", WARD_LIB, LOOSEN_SO);
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	const char *cat[] = { "cat", secret, NULL };
	struct direct d = direct_run(cat, both, NULL, extra);
	cr_expect_neq(d.code, 0, "read the secret: %s", d.out);
	cr_expect(strstr(d.out, "top secret") == NULL);
	cr_expect(strstr(d.err, "Permission denied") != NULL, "%s", d.err);
	direct_free(&d);
}

Test(confined, relative_policy_and_cwd_hold_for_the_tree)
{
	secret_policy();
	mkdir(in_dir("work/sub"), 0755);
	mkdir(in_dir("other"), 0755);
	/* p.ward relative to dir; the child cat runs after cd / */
	char script[4 * PATH_MAX];
	snprintf(script, sizeof(script), "cd / && cat %s/secret; echo status $?; cd %s/other && touch made; echo touch $?",
	         dir, dir);
	const char *argv[] = { "sh", "-c", script, NULL };
	const char *extra[] = { "WARD_POLICY=../p.ward", NULL };
	char work[PATH_MAX];
	snprintf(work, sizeof(work), "%s/work", dir);
	struct direct d = direct_run(argv, WARD_LIB, work, extra);
	cr_expect(strstr(d.out, "status 1") != NULL, "cat after cd: %s / %s", d.out, d.err);
	cr_expect(strstr(d.err, "ward: denied read ") != NULL, "%s", d.err);
	/* $CWD is work/ for the whole tree: other/ is not in it */
	cr_expect(strstr(d.out, "touch 1") != NULL, "touch in another directory: %s / %s", d.out, d.err);
	cr_expect_not(exists(in_dir("other/made")));
	direct_free(&d);
}

Test(confined, ld_audit_is_refused_and_never_passed_on)
{
	secret_policy();
	/* refused: 125 from the shim, or the loader cannot even add libward
	 * (an audit namespace takes the static TLS it needs): never run */
	const char *argv[] = { "touch", "made", NULL };
	const char *extra[] = { "LD_AUDIT=/nonexistent/audit.so", NULL };
	struct direct d = direct_run(argv, WARD_LIB, NULL, extra);
	cr_expect(d.code == 125 || d.code == 127, "exit %d: %s", d.code, d.err);
	cr_expect(strstr(d.err, "LD_AUDIT") != NULL || strstr(d.err, "libward.so") != NULL, "%s", d.err);
	cr_expect_not(exists(in_dir("made")), "ran with an audit library");
	direct_free(&d);
	const char *sh[] = { "sh", "-c", "LD_AUDIT=/nonexistent/audit.so printenv LD_AUDIT; echo status $?", NULL };
	d = direct_run(sh, WARD_LIB, NULL, NULL);
	cr_expect(strstr(d.out, "status 1") != NULL, "LD_AUDIT reached the child: %s / %s", d.out, d.err);
	direct_free(&d);
	/* ward run strips it */
	const char *args[] = { "run", "-s", "none", "-p", in_dir("p.ward"), "--", "printenv", "LD_AUDIT", NULL };
	struct run_result r = ward(args, extra);
	cr_expect_eq(run_exit_code(&r), 1, "exit %d: %s %s", run_exit_code(&r), r.out, r.err);
	run_free(&r);
}

/* Preloaded directly, the first process hands its descendants a compiled
 * image (a sealed memfd they inherit): a child that drops to nobody runs,
 * still confined, although it cannot read the policy file. */
Test(confined, a_child_that_drops_privileges_stays_confined)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to switch users");
	secret_policy();
	cr_assert_eq(chmod(in_dir("p.ward"), 0600), 0);
	char script[4 * PATH_MAX];
	snprintf(script, sizeof(script),
	         "import os, subprocess\n"
	         "r = subprocess.run(['python3', '-c', 'import os\\n"
	         "try:\\n os.write(os.open(os.environ[\\'WARD_POLICY_IMAGE\\'], os.O_WRONLY), b\\'x\\')\\n"
	         " print(\\'image written\\')\\n"
	         "except OSError as e:\\n print(\\'image sealed\\', e.errno)'], capture_output=True, text=True)\n"
	         "print(r.stdout.strip())\n"
	         "r = subprocess.run(['cat', '%s/secret'], user=65534, capture_output=True, text=True)\n"
	         "print('child', r.returncode, r.stdout.strip())\n"
	         "r = subprocess.run(['id', '-u'], user=65534, capture_output=True, text=True)\n"
	         "print('id', r.returncode, r.stdout.strip())\n",
	         dir);
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	struct direct d = direct_run(argv, WARD_LIB, NULL, NULL);
	cr_expect(strstr(d.out, "image sealed") != NULL, "%s / %s", d.out, d.err);
	cr_expect(strstr(d.out, "child 1") != NULL, "the child did not run confined: %s / %s", d.out, d.err);
	cr_expect(strstr(d.out, "top secret") == NULL);
	cr_expect(strstr(d.out, "id 0 65534") != NULL, "%s / %s", d.out, d.err);
	direct_free(&d);
}

/* ---- bad destinations are loud and never hang (issue 10 item 10) ---- */

Test(confined, fifo_and_unusable_destinations_are_said_at_start_up)
{
	secret_policy();
	cr_assert_eq(mkfifo(in_dir("fifo"), 0644), 0);
	char stats[PATH_MAX + 16], log[PATH_MAX + 16];
	snprintf(stats, sizeof(stats), "WARD_STATS=%s/fifo", dir);
	const char *argv[] = { "/bin/true", NULL };
	const char *fifo_stats[] = { stats, NULL };
	struct direct d = direct_run(argv, WARD_LIB, NULL, fifo_stats);
	cr_expect_eq(d.code, 0, "a FIFO with no reader: exit %d (hung?): %s", d.code, d.err);
	cr_expect(strstr(d.err, "a FIFO with no reader") != NULL, "%s", d.err);
	direct_free(&d);
	snprintf(log, sizeof(log), "WARD_LOG=%s/fifo", dir);
	const char *fifo_log[] = { log, NULL };
	d = direct_run(argv, WARD_LIB, NULL, fifo_log);
	cr_expect_eq(d.code, 0, "exit %d: %s", d.code, d.err);
	cr_expect(strstr(d.err, "WARD_LOG=") != NULL && strstr(d.err, "no reader") != NULL, "%s", d.err);
	direct_free(&d);
	snprintf(log, sizeof(log), "WARD_LOG=%s/missing/log.json", dir);
	d = direct_run(argv, WARD_LIB, NULL, fifo_log);
	cr_expect_eq(d.code, 0);
	cr_expect(strstr(d.err, "its directory does not exist") != NULL, "%s", d.err);
	direct_free(&d);
	snprintf(log, sizeof(log), "WARD_LOG=%s", dir);
	d = direct_run(argv, WARD_LIB, NULL, fifo_log);
	cr_expect(strstr(d.err, "is a directory") != NULL, "%s", d.err);
	direct_free(&d);
}

Test(confined, ward_run_log_that_cannot_take_records_is_125)
{
	secret_policy();
	cr_assert_eq(mkfifo(in_dir("fifo"), 0644), 0);
	char missing[PATH_MAX], fifo[PATH_MAX], policy[PATH_MAX];
	snprintf(missing, sizeof(missing), "%s/missing/log.json", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(policy, sizeof(policy), "%s/p.ward", dir);
	const char *dests[] = { missing, fifo, dir };
	for (size_t i = 0; i < 3; i++) {
		const char *args[] = { "run", "-s", "none", "-p", policy, "--log", dests[i], "--", "touch", "made", NULL };
		struct run_result r = ward(args, NULL);
		cr_expect_eq(run_exit_code(&r), 125, "--log %s: exit %d: %s", dests[i], run_exit_code(&r), r.err);
		cr_expect(strstr(r.err, "--log") != NULL, "%s", r.err);
		cr_expect_not(exists(in_dir("made")), "the command ran");
		run_free(&r);
	}
}

/* ---- errno after a successful spawn is glibc's (issue 10 item 6) ---- */

Test(confined, errno_after_spawns_is_glibcs)
{
	secret_policy();
	const char *argv[] = { PROG_SPAWN_ERRNO, NULL };
	/* a first PATH entry without "true": glibc's spawnp child leaves ENOENT behind */
	const char *env[] = { "PATH=/nonexistent:/usr/bin:/bin", NULL };
	struct run_opts bare_opts = { .env = env, .cwd = dir };
	struct run_result bare;
	cr_assert(run_argv(argv, &bare_opts, &bare));
	cr_assert_eq(run_exit_code(&bare), 0, "%s", bare.err);
	struct run_opts shim_opts = { .env = env, .cwd = dir, .shim = true };
	struct run_result shim;
	cr_assert(run_argv(argv, &shim_opts, &shim));
	cr_expect_str_eq(shim.out, bare.out, "observing: errno differs from glibc's");
	run_free(&shim);
	char policy_env[PATH_MAX + 16];
	snprintf(policy_env, sizeof(policy_env), "WARD_POLICY=%s/p.ward", dir);
	const char *confined_env[] = { env[0], policy_env, NULL };
	shim_opts.env = confined_env;
	cr_assert(run_argv(argv, &shim_opts, &shim));
	cr_expect_str_eq(shim.out, bare.out, "under a policy: errno differs from glibc's: %s", shim.err);
	run_free(&shim);
	run_free(&bare);
}
