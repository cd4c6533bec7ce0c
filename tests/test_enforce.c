/*
 * test_enforce: policies enforced on real, unmodified programs.
 *
 * Each test makes a scratch tree with an allowed part (work/), a protected
 * file (secret) and an outside part, writes a policy for it, and runs
 * coreutils, sh and python3 under the shim.  Denied operations must fail
 * with "Permission denied", leave the disk exactly as it was, and be logged
 * with the deciding rule; allowed ones must behave as without the shim.
 * Routes covered: open/openat with a dirfd, creat, fopen, freopen, fortified
 * open, the stat family, opendir, rename (both ends), link, a symlink from
 * the allowed tree to the protected file, ".." climbing out, relative paths
 * after chdir, /proc/self/fd magic links, audit mode, bad policies.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "run.h"

static char *dir;
static char policy_env[PATH_MAX + 16];
static char path_buf[PATH_MAX];

static const char *
in_dir(const char *name)
{
	path_in(path_buf, dir, name);
	return path_buf;
}

static void
put(const char *name, const char *text)
{
	cr_assert(file_write(in_dir(name), text, strlen(text)));
}

static bool
exists(const char *name)
{
	struct stat st;
	return lstat(in_dir(name), &st) == 0;
}

static char *
contents(const char *name)
{
	return file_read(in_dir(name), NULL);
}

/* A tree: work/ (rw), secret (denied), outside/ (read-only), and a policy. */
static void
setup(void)
{
	dir = tmpdir_make();
	char text[4 * PATH_MAX];
	mkdir(in_dir("work"), 0755);
	mkdir(in_dir("outside"), 0755);
	put("secret", "top secret\n");
	put("outside/data", "outside data\n");
	put("work/input", "input\n");
	cr_assert_eq(symlink("../secret", in_dir("work/to-secret")), 0);
	cr_assert_eq(symlink("../outside", in_dir("work/to-outside")), 0);
	snprintf(text, sizeof(text),
	         "version 1\n"
	         "default deny\n"
	         "allow ro /**\n"
	         "allow rw /dev/null /dev/tty\n"
	         "allow exec /usr/bin/* /bin/*\n"
	         "allow rw %s/work/**\n"
	         "deny all %s/secret\n",
	         dir, dir);
	put("p.ward", text);
	snprintf(policy_env, sizeof(policy_env), "WARD_POLICY=%s/p.ward", dir);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

struct outcome {
	int code;
	char *out;
	char *err;
};

/* Run argv in dir/work under the policy (plus extra env entries). */
static struct outcome
confined(const char *const argv[], const char *extra)
{
	const char *env[] = { policy_env, extra, NULL };
	char cwd[PATH_MAX];
	path_in(cwd, dir, "work");
	struct run_opts o = { .env = env, .shim = true, .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r), "could not start %s", argv[0]);
	struct outcome oc = { run_exit_code(&r), strdup(r.out), strdup(r.err) };
	run_free(&r);
	return oc;
}

static void
outcome_free(struct outcome *o)
{
	free(o->out);
	free(o->err);
}

static void
expect_denied(struct outcome *o, const char *op, const char *what)
{
	cr_expect_neq(o->code, 0, "%s: exit 0", what);
	cr_expect(strstr(o->err, "Permission denied") != NULL, "%s: stderr: %s", what, o->err);
	char want[64];
	snprintf(want, sizeof(want), "ward: denied %s ", op);
	cr_expect(strstr(o->err, want) != NULL, "%s: no '%s' record in: %s", what, want, o->err);
}

TestSuite(enforce, .init = setup, .fini = teardown, .timeout = 60);

Test(enforce, reading_the_protected_file_fails_and_is_logged)
{
	const char *argv[] = { "cat", "../secret", NULL };
	struct outcome o = confined(argv, NULL);
	expect_denied(&o, "read", "cat ../secret");
	cr_expect(strstr(o.err, "by rule ") != NULL && strstr(o.err, "p.ward:7") != NULL, "%s", o.err);
	cr_expect_str_eq(o.out, "");
	outcome_free(&o);
}

Test(enforce, allowed_operations_behave_as_without_the_shim)
{
	const char *argv[] = { "sh", "-c", "cat input; cp input copy; mkdir d; mv copy d/moved; ln -s moved d/l;"
	                                   " touch t; rm t; cat d/l; ls d", NULL };
	struct outcome o = confined(argv, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "input\ninput\nl\nmoved\n");
	cr_expect_str_eq(o.err, "");
	cr_expect(exists("work/d/moved"));
	outcome_free(&o);
}

Test(enforce, writes_outside_the_tree_change_nothing)
{
	const char *cp[] = { "cp", "input", "../outside/new", NULL };
	struct outcome o = confined(cp, NULL);
	expect_denied(&o, "create", "cp outside");
	cr_expect_not(exists("outside/new"));
	outcome_free(&o);

	const char *redirect[] = { "sh", "-c", "echo overwritten > ../outside/data", NULL };
	o = confined(redirect, NULL);
	expect_denied(&o, "write", "sh redirection");
	char *data = contents("outside/data");
	cr_expect_str_eq(data, "outside data\n");
	free(data);
	outcome_free(&o);

	const char *touch[] = { "touch", "../outside/data", NULL };
	o = confined(touch, NULL);
	cr_expect_neq(o.code, 0, "touch outside: %s", o.err);
	outcome_free(&o);

	const char *mkdir_[] = { "mkdir", "../outside/dir", NULL };
	o = confined(mkdir_, NULL);
	expect_denied(&o, "create", "mkdir outside");
	cr_expect_not(exists("outside/dir"));
	outcome_free(&o);

	const char *rm[] = { "rm", "-f", "../outside/data", NULL };
	o = confined(rm, NULL);
	expect_denied(&o, "remove", "rm outside");
	cr_expect(exists("outside/data"));
	outcome_free(&o);
}

Test(enforce, rename_is_checked_at_both_ends)
{
	const char *out[] = { "mv", "input", "../outside/stolen", NULL };
	struct outcome o = confined(out, NULL);
	expect_denied(&o, "create", "mv out of the tree");
	cr_expect(exists("work/input"));
	cr_expect_not(exists("outside/stolen"));
	outcome_free(&o);

	const char *in[] = { "mv", "../outside/data", "taken", NULL };
	o = confined(in, NULL);
	expect_denied(&o, "remove", "mv into the tree");
	cr_expect(exists("outside/data"));
	cr_expect_not(exists("work/taken"));
	outcome_free(&o);
}

Test(enforce, hard_link_cannot_expose_a_protected_file)
{
	const char *argv[] = { "ln", "../secret", "copy-of-secret", NULL };
	struct outcome o = confined(argv, NULL);
	expect_denied(&o, "read,write", "ln secret");
	cr_expect_not(exists("work/copy-of-secret"));
	outcome_free(&o);
}

Test(enforce, symlinks_and_dotdot_lead_where_the_kernel_goes)
{
	const char *via_link[] = { "cat", "to-secret", NULL };
	struct outcome o = confined(via_link, NULL);
	expect_denied(&o, "read", "cat via symlink");
	outcome_free(&o);

	const char *via_dir_link[] = { "sh", "-c", "echo x > to-outside/data", NULL };
	o = confined(via_dir_link, NULL);
	expect_denied(&o, "write", "write through a directory symlink");
	outcome_free(&o);

	const char *dotdot[] = { "cat", "../work/../secret", NULL };
	o = confined(dotdot, NULL);
	expect_denied(&o, "read", "cat ../work/../secret");
	outcome_free(&o);

	/* lstat and readlink do not follow the last link: allowed */
	const char *lstat_[] = { "readlink", "to-secret", NULL };
	o = confined(lstat_, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "../secret\n");
	outcome_free(&o);
}

/* A directory another process replaces by a symlink after this one has
 * remembered it (core/dircache), at once and after the cache's 200 ms: an
 * open through it goes where the kernel goes (the symlink followed, the
 * file there decided), never to the old directory's file.  The same
 * without openat2 (the walk by components).  (Opens trust a remembered
 * directory that is its own real path at any age: the open is made with
 * no symlink followed, so one that appeared says ELOOP and the path is
 * resolved again.) */
static const char swapped_directory_script[] =
	"import os, subprocess, time\n"
	"w = os.getcwd()\n"
	"for b in ('box1', 'box2'):\n"
	"    os.mkdir(b)\n"
	"    open(b + '/secret', 'w').write('decoy\\n')\n"
	"    open(b + '/data', 'w').write('box data\\n')\n"
	"def show(p):\n"
	"    try: print(open(p).read(), end='')\n"
	"    except PermissionError: print('denied')\n"
	"    except FileNotFoundError: print('missing')\n"
	"for b in ('box1', 'box2'):\n"
	"    show(w + '/' + b + '/secret'); show(w + '/' + b + '/data')\n"
	"subprocess.run(['sh', '-c', 'for b in box1 box2; do mv $b $b.old && ln -s .. $b; done'], check=True)\n"
	"for b, wait in (('box1', 0), ('box2', 0.3)):\n"
	"    time.sleep(wait)\n"
	"    show(w + '/' + b + '/secret'); show(w + '/' + b + '/data'); show(w + '/' + b + '/outside/data')\n";
static const char swapped_directory_output[] = "decoy\nbox data\ndecoy\nbox data\n"
                                               "denied\nmissing\noutside data\ndenied\nmissing\noutside data\n";

Test(enforce, a_directory_swapped_for_a_symlink_by_another_process_is_followed)
{
	const char *argv[] = { "/usr/bin/python3", "-c", swapped_directory_script, NULL };
	struct outcome o = confined(argv, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect_str_eq(o.out, swapped_directory_output, "%s", o.err);
	cr_expect(strstr(o.err, "ward: denied read ") != NULL, "%s", o.err);
	outcome_free(&o);
	char *kept = contents("work/box2.old/secret");
	cr_expect_str_eq(kept, "decoy\n");
	free(kept);
}

Test(enforce, a_directory_swapped_for_a_symlink_is_followed_without_openat2)
{
	char preload[PATH_MAX + 16], cwd[PATH_MAX];
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", WARD_LIB);
	const char *argv[] = { PROG_NO_OPENAT2, "/usr/bin/env", preload, policy_env, "/usr/bin/python3", "-c",
		               swapped_directory_script, NULL };
	path_in(cwd, dir, "work");
	struct run_opts o = { .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r), "could not start %s", argv[0]);
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out, swapped_directory_output, "stderr: %s", r.err);
	run_free(&r);
}

/* The path a call is decided on is the one it acts on, whatever another
 * thread does to the program's buffer meanwhile: a flip between a name in
 * the write tree and one with "../.." of the same length and directory
 * part (once, before the check read its path only once: escaped after
 * some 20,000 opens) never creates the outside name. */
Test(enforce, a_path_changed_by_another_thread_is_decided_as_it_is_opened)
{
	mkdir(in_dir("work/abcd"), 0755);
	char work[PATH_MAX];
	path_in(work, dir, "work");
	const char *argv[] = { PROG_PATH_FLIP, work, NULL };
	struct outcome o = confined(argv, "WARD_LOG=/dev/null");
	cr_expect_eq(o.code, 0, "%s %s", o.out, o.err);
	cr_expect(strncmp(o.out, "held ", 5) == 0, "%s", o.out);
	cr_expect_not(exists("XY"));
	fprintf(stderr, "path_flip: %s", o.out);
	outcome_free(&o);
}

/* The same files opened again and again: once a directory is remembered
 * a checked open is decided in one pass.  That pass decides exactly as the
 * general one: allowed files open (through a symlinked directory too),
 * the protected file beside an allowed one and through a symlink stays
 * refused every time and unread, a missing file fails as the kernel says,
 * and each open counts its decisions once. */
Test(enforce, opens_repeated_in_a_remembered_directory_decide_as_the_first)
{
	char input[PATH_MAX], data[PATH_MAX], missing[PATH_MAX], via_link[PATH_MAX], policy[PATH_MAX],
	        secret[PATH_MAX], to_secret[PATH_MAX];
	path_in(input, dir, "work/input");
	path_in(data, dir, "outside/data");
	path_in(missing, dir, "work/missing");
	path_in(via_link, dir, "work/to-outside/data");
	path_in(policy, dir, "p.ward");
	path_in(secret, dir, "secret");
	path_in(to_secret, dir, "work/to-secret");
	const char *argv[] = { PROG_OPEN_MANY, "20", input, data, missing, via_link, "input", policy, secret,
		               to_secret, NULL };
	struct outcome o = confined(argv, "WARD_STATS=stderr");
	cr_expect_eq(o.code, 0, "%s", o.err);
	char want[16 * PATH_MAX];
	snprintf(want, sizeof(want),
	         "%s opened=20 denied=0 other=0\n%s opened=20 denied=0 other=0\n%s opened=0 denied=0 other=20\n"
	         "%s opened=20 denied=0 other=0\ninput opened=20 denied=0 other=0\n%s opened=20 denied=0 other=0\n"
	         "%s opened=0 denied=20 other=0\n%s opened=0 denied=20 other=0\n",
	         input, data, missing, via_link, policy, secret, to_secret);
	cr_expect_str_eq(o.out, want, "stderr: %s", o.err);
	/* one decision an allowed open; a refusal is looked at twice, and the
	 * symlink's is decided on the link, then on where it leads, twice */
	cr_expect(strstr(o.err, "policy: 7 rules, 240 decisions, 40 denied,") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "files: 100 opened, 100 closed,") != NULL, "%s", o.err);
	char record[PATH_MAX + 32];
	snprintf(record, sizeof(record), "ward: denied read %s (open)", secret);
	cr_expect(strstr(o.err, record) != NULL, "%s", o.err);
	char *text = contents("secret");
	cr_expect_str_eq(text, "top secret\n");
	free(text);
	outcome_free(&o);
}

/* Without openat2 (a seccomp filter says ENOSYS, as an old kernel or
 * valgrind would) every checked open walks the decided path one component
 * at a time, each held against the program's closes and dup2s: it decides
 * and acts the same. */
Test(enforce, without_openat2_the_walk_by_components_decides_the_same)
{
	char preload[PATH_MAX + 16], cwd[PATH_MAX];
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", WARD_LIB);
	const char *argv[] = { PROG_NO_OPENAT2, "/usr/bin/env", preload, policy_env, "/bin/sh", "-c",
		               "cat input; cat \"$PWD/input\"; cat to-secret; echo x > to-outside/data;"
		               " cat ../work/../secret; echo y > \"$PWD/new\"; cat new; cat input/; ls to-outside/ to-outside",
		               NULL };
	path_in(cwd, dir, "work");
	struct run_opts o = { .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r), "could not start %s", argv[0]);
	cr_expect_str_eq(r.out, "input\ninput\ny\nto-outside:\ndata\n\nto-outside/:\ndata\n", "stderr: %s", r.err);
	cr_expect(strstr(r.err, "ward: denied read ") != NULL && strstr(r.err, "ward: denied write ") != NULL,
	          "%s", r.err);
	cr_expect(strstr(r.err, "input/: Not a directory") != NULL, "%s", r.err);
	char *data = contents("outside/data");
	cr_expect_str_eq(data, "outside data\n");
	free(data);
	run_free(&r);
}

Test(enforce, relative_paths_after_chdir)
{
	const char *argv[] = { "sh", "-c", "cd ../outside && cat ../secret", NULL };
	struct outcome o = confined(argv, NULL);
	expect_denied(&o, "read", "relative after cd");
	outcome_free(&o);

	const char *ok[] = { "sh", "-c", "cd .. && cat outside/data && echo made > work/made", NULL };
	o = confined(ok, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(exists("work/made"));
	outcome_free(&o);
}

Test(enforce, python_open_stat_listdir_and_fd_links)
{
	char script[2048];
	snprintf(script, sizeof(script),
	         "import os, errno\n"
	         "def tryit(f):\n"
	         "    try:\n"
	         "        f(); print('ok')\n"
	         "    except PermissionError: print('denied')\n"
	         "tryit(lambda: open('../secret').read())\n"
	         "tryit(lambda: open('new.txt', 'w').write('x'))\n"
	         "tryit(lambda: open('../outside/py.txt', 'w'))\n"
	         "tryit(lambda: os.listdir('..'))\n"
	         "d = os.open('..', os.O_RDONLY | os.O_DIRECTORY)\n"
	         "tryit(lambda: os.open('secret', os.O_RDONLY, dir_fd=d))\n"
	         "tryit(lambda: os.open('outside/data', os.O_RDONLY, dir_fd=d))\n"
	         "fd = os.open('../outside/data', os.O_RDONLY)\n"
	         "tryit(lambda: open('/proc/self/fd/%%d' %% fd, 'w'))\n"
	         "tryit(lambda: os.stat('../secret'))\n");
	const char *argv[] = { "/usr/bin/python3", "-c", script, NULL };
	struct outcome o = confined(argv, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "denied\nok\ndenied\nok\ndenied\nok\ndenied\ndenied\n", "%s", o.err);
	cr_expect_not(exists("outside/py.txt"));
	outcome_free(&o);
}

Test(enforce, audit_mode_lets_everything_through_and_logs)
{
	const char *argv[] = { "sh", "-c", "cat ../secret; echo y > ../outside/audited", NULL };
	struct outcome o = confined(argv, "WARD_MODE=audit");
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "top secret\n");
	cr_expect(strstr(o.err, "ward: audited read ") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "ward: audited create ") != NULL, "%s", o.err);
	cr_expect(exists("outside/audited"));
	outcome_free(&o);
}

Test(enforce, json_log_records)
{
	char log_env[PATH_MAX + 16], log_path[PATH_MAX];
	path_in(log_path, dir, "log.json");
	snprintf(log_env, sizeof(log_env), "WARD_LOG=%s", log_path);
	const char *argv[] = { "cat", "../secret", NULL };
	struct outcome o = confined(argv, log_env);
	cr_expect_neq(o.code, 0);
	cr_expect(strstr(o.err, "ward:") == NULL, "record went to stderr: %s", o.err);
	char *log = file_read(log_path, NULL);
	cr_assert_not_null(log);
	cr_expect(strstr(log, "\"exe\":\"cat\"") && strstr(log, "\"op\":\"read\"") &&
	          strstr(log, "\"decision\":\"denied\"") && strstr(log, "p.ward:7\""), "%s", log);
	cr_expect_eq(strchr(log, '\n'), log + strlen(log) - 1, "one line: %s", log);
	free(log);
	outcome_free(&o);
}

Test(enforce, quiet_denials_write_no_record)
{
	char text[PATH_MAX * 2];
	snprintf(text, sizeof(text), "allow ro /**\ndeny quiet write,create %s/work/**\n", dir);
	put("quiet.ward", text);
	char env[PATH_MAX + 16];
	snprintf(env, sizeof(env), "WARD_POLICY=%s/quiet.ward", dir);
	const char *e[] = { env, NULL };
	char cwd[PATH_MAX];
	path_in(cwd, dir, "work");
	struct run_opts opts = { .env = e, .shim = true, .cwd = cwd };
	struct run_result r;
	const char *argv[] = { "touch", "probe", NULL };
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_neq(run_exit_code(&r), 0);
	cr_expect(strstr(r.err, "Permission denied") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "ward:") == NULL, "a quiet denial was logged: %s", r.err);
	cr_expect_not(exists("work/probe"));
	run_free(&r);
}

Test(enforce, bad_policies_stop_before_main)
{
	static const char *const cases[][2] = {
		{ "allow ro relative\n", "p2.ward:1:10: error:" },
		{ "frob\n", "p2.ward:1:1: error: unknown directive" },
		{ "", "p2.ward:1:1: error: empty policy" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put("p2.ward", cases[i][0]);
		char env[PATH_MAX + 16];
		snprintf(env, sizeof(env), "WARD_POLICY=%s/p2.ward", dir);
		const char *e[] = { env, NULL };
		struct run_opts opts = { .env = e, .shim = true };
		struct run_result r;
		const char *argv[] = { "echo", "main ran", NULL };
		cr_assert(run_argv(argv, &opts, &r));
		cr_expect_eq(run_exit_code(&r), 125, "case %zu", i);
		cr_expect_str_eq(r.out, "", "main ran for case %zu", i);
		cr_expect(strstr(r.err, cases[i][1]) != NULL, "case %zu: %s", i, r.err);
		run_free(&r);
	}
	const char *empty[] = { "WARD_POLICY=", NULL };
	struct run_opts opts = { .env = empty, .shim = true };
	struct run_result r;
	const char *argv[] = { "echo", "main ran", NULL };
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 125);
	cr_expect_str_eq(r.out, "");
	run_free(&r);
}

Test(enforce, launcher_runs_with_a_policy)
{
	char policy[PATH_MAX], cwd[PATH_MAX];
	path_in(policy, dir, "p.ward");
	path_in(cwd, dir, "work");
	const char *argv[] = { WARD_EXE, "run", "-s", "none", "-p", policy, "--", "sh", "-c",
	                       "cat input; cat ../secret", NULL };
	struct run_opts opts = { .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 1);
	cr_expect_str_eq(r.out, "input\n");
	cr_expect(strstr(r.err, "ward: denied read") != NULL, "%s", r.err);
	run_free(&r);

	const char *check[] = { WARD_EXE, "check", policy, NULL };
	cr_assert(run_argv(check, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 0);
	cr_expect(strstr(r.out, ": ok (7 rules)") != NULL, "%s", r.out);
	run_free(&r);

	char secret[PATH_MAX];
	path_in(secret, dir, "secret");
	const char *explain[] = { WARD_EXE, "explain", "-p", policy, "read", secret, NULL };
	cr_assert(run_argv(explain, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 1);
	cr_expect(strncmp(r.out, "deny read ", 10) == 0 && strstr(r.out, "p.ward:7"), "%s", r.out);
	run_free(&r);
}

/* Renaming a directory that holds the protected file would carry it out
 * from under its rule: refused; other directories move as bare. */
Test(enforce, a_directory_holding_a_protected_file_cannot_be_renamed)
{
	char text[4 * PATH_MAX];
	mkdir(in_dir("work/top"), 0755);
	mkdir(in_dir("work/top/secret"), 0755);
	put("work/top/secret/S.txt", "deep secret\n");
	mkdir(in_dir("work/plain"), 0755);
	snprintf(text, sizeof(text), "default allow\ndeny all %s/work/top/secret/**\n", dir);
	put("p.ward", text);
	const char *argv[] = { "sh", "-c", "mv top top2; cat top2/secret/S.txt; mv plain plain2 && echo moved", NULL };
	struct outcome o = confined(argv, NULL);
	cr_expect_str_eq(o.out, "moved\n", "%s", o.err);
	cr_expect(strstr(o.err, "ward: denied remove ") != NULL, "%s", o.err);
	cr_expect(exists("work/top/secret/S.txt") && exists("work/plain2"));
	outcome_free(&o);
}

/* ---- descriptors the program did not open (SPEC 5.3) ---- */

/* An inherited descriptor on the protected file is its parent's grant for
 * what it was opened for (here: appending), not for more: reopening it
 * through /dev/fd or /proc/self/fd is decided on the file it names, and so
 * are fchmod, futimens and fsetxattr on it. */
Test(enforce, an_inherited_descriptor_grants_no_more_than_it_was_opened_for)
{
	static const char script[] =
		"import os, sys\n"
		"def tryit(what, f):\n"
		"    try:\n"
		"        f(); print(what, 'done')\n"
		"    except OSError as e:\n"
		"        print(what, e.errno)\n"
		"tryit('reopen-read', lambda: open('/dev/fd/5').read())\n"
		"tryit('reopen-write', lambda: open('/proc/self/fd/5', 'w').write('x'))\n"
		"tryit('fchmod', lambda: os.fchmod(5, 0o777))\n"
		"tryit('futimens', lambda: os.utime(5, (0, 0)))\n"
		"tryit('fsetxattr', lambda: os.setxattr(5, 'user.ward', b'x'))\n"
		"tryit('append', lambda: os.write(5, b''))\n";
	char secret[PATH_MAX], cwd[PATH_MAX];
	path_in(secret, dir, "secret");
	path_in(cwd, dir, "work");
	struct stat before, after;
	cr_assert_eq(stat(secret, &before), 0);
	const char *env[] = { policy_env, NULL };
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	struct run_opts o = { .env = env, .shim = true, .cwd = cwd, .extra_fd = 5, .extra_fd_path = secret };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s %s", r.out, r.err);
	cr_expect_str_eq(r.out,
	                 "reopen-read 13\nreopen-write 13\nfchmod 13\nfutimens 13\nfsetxattr 13\nappend done\n",
	                 "%s", r.err);
	cr_assert_eq(stat(secret, &after), 0);
	cr_expect_eq(after.st_mode, before.st_mode, "the mode changed");
	cr_expect_eq(after.st_mtime, before.st_mtime, "the times changed");
	char *text = contents("secret");
	cr_expect_str_eq(text, "top secret\n");
	free(text);
	run_free(&r);
}

/* ---- no escape through exec (SPEC 5.4) ---- */

/* An exec no wrapper saw (a raw system call) of a program the policy does
 * not let run: the program's own image refuses to start (126, a record),
 * before its main prints anything. */
Test(enforce, an_unseen_exec_of_a_denied_program_does_not_run)
{
	char copy[PATH_MAX + 64], text[2 * PATH_MAX];
	snprintf(copy, sizeof(copy), "cp /bin/echo '%s/outside/echo'", dir);
	cr_assert_eq(system(copy), 0);
	snprintf(text, sizeof(text), "default deny\nallow ro /**\nallow rw /dev/null\nallow exec /usr/bin/* /bin/* %s\n",
	         PROG_RAW_EXEC);
	put("p.ward", text);
	char command[PATH_MAX + 64];
	snprintf(command, sizeof(command), "%s ../outside/echo escaped", PROG_RAW_EXEC);
	const char *argv[] = { "sh", "-c", command, NULL };
	struct outcome o = confined(argv, NULL);
	cr_expect_eq(o.code, 126, "exit %d: %s %s", o.code, o.out, o.err);
	cr_expect_str_eq(o.out, "", "the denied program ran");
	cr_expect(strstr(o.err, "ward: denied exec ") != NULL && strstr(o.err, "/outside/echo") != NULL, "%s", o.err);
	outcome_free(&o);

	/* the same program where the policy allows it runs */
	snprintf(command, sizeof(command), "%s /bin/echo allowed", PROG_RAW_EXEC);
	const char *allowed[] = { "sh", "-c", command, NULL };
	o = confined(allowed, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect_str_eq(o.out, "allowed\n");
	outcome_free(&o);
}

/* The image decides on the name the kernel gives it (/proc/self/exe: the
 * file's real path), not on the name it was started by: a denied program
 * reached through a symlinked directory, or through a symlink to it in an
 * allowed directory, does not run either. */
Test(enforce, an_unseen_exec_through_a_symlink_is_decided_by_the_real_name)
{
	char copy[PATH_MAX + 64], text[2 * PATH_MAX];
	snprintf(copy, sizeof(copy), "cp /bin/echo '%s/outside/echo' && mkdir -p '%s/work/bin'", dir, dir);
	cr_assert_eq(system(copy), 0);
	cr_assert_eq(symlink("../../outside/echo", in_dir("work/bin/echo")), 0);
	snprintf(text, sizeof(text),
	         "default deny\nallow ro /**\nallow rw /dev/null\nallow exec /usr/bin/* /bin/* %s %s/work/**\n",
	         PROG_RAW_EXEC, dir);
	put("p.ward", text);
	static const char *const routes[] = { "to-outside/echo", "bin/echo" };
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		char command[PATH_MAX + 64];
		snprintf(command, sizeof(command), "%s ./%s escaped", PROG_RAW_EXEC, routes[i]);
		const char *argv[] = { "sh", "-c", command, NULL };
		struct outcome o = confined(argv, NULL);
		cr_expect_eq(o.code, 126, "%s: exit %d: %s %s", routes[i], o.code, o.out, o.err);
		cr_expect_str_eq(o.out, "", "%s: the denied program ran", routes[i]);
		cr_expect(strstr(o.err, "ward: denied exec ") != NULL && strstr(o.err, "/outside/echo") != NULL, "%s: %s",
		          routes[i], o.err);
		outcome_free(&o);
	}
}

/* A program run from a descriptor whose file has no name any more (a
 * deleted copy, a memfd), by the system call itself: its own exec check
 * finds no name a rule could mean, and refuses it. */
/* A stat refused through a symlink, or failing on a dangling one, leaves
 * the caller's buffer as the kernel leaves it on failure: untouched (none
 * of the link's own metadata in it). */
Test(enforce, a_refused_or_failed_stat_leaves_the_buffer_untouched)
{
	cr_assert_eq(symlink("nowhere", in_dir("work/dangling")), 0);
	const char *argv[] = { PROG_STAT_BUFFER, "to-secret", "dangling", "input", NULL };
	struct outcome o = confined(argv, NULL);
	cr_assert_eq(o.code, 0, "%s %s", o.out, o.err);
	static const char *const want[] = {
		"stat to-secret rc=-1 errno=13 untouched=1\n",  "fstatat to-secret rc=-1 errno=13 untouched=1\n",
		"stat dangling rc=-1 errno=2 untouched=1\n",    "fstatat dangling rc=-1 errno=2 untouched=1\n",
		"stat input rc=0 errno=0 untouched=0\n",         "fstatat input rc=0 errno=0 untouched=0\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(strstr(o.out, want[i]) != NULL, "no '%s' in:\n%s", want[i], o.out);
	outcome_free(&o);
}

Test(enforce, an_exec_of_a_deleted_file_or_a_memfd_is_refused)
{
	char text[2 * PATH_MAX];
	snprintf(text, sizeof(text),
	         "default deny\nallow ro /**\nallow rw /dev/null %s/**\nallow exec /usr/bin/* /bin/* %s\n", dir,
	         PROG_DELETED_EXEC);
	put("p.ward", text);
	static const char *const modes[] = { "deleted", "memfd" };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char command[2 * PATH_MAX];
		snprintf(command, sizeof(command), "%s %s /bin/echo '%s/copy'", PROG_DELETED_EXEC, modes[i], dir);
		const char *argv[] = { "sh", "-c", command, NULL };
		struct outcome o = confined(argv, NULL);
		cr_expect_eq(o.code, 126, "%s: exit %d: %s %s", modes[i], o.code, o.out, o.err);
		cr_expect_str_eq(o.out, "", "%s: the program ran", modes[i]);
		cr_expect(strstr(o.err, "ward: denied exec ") != NULL && strstr(o.err, " (deleted)") != NULL, "%s: %s",
		          modes[i], o.err);
		outcome_free(&o);
	}
}

Test(enforce, children_stay_confined_whatever_their_environment)
{
	static const char *const escapes[] = {
		"env -i /bin/cat ../secret",
		"env -u LD_PRELOAD cat ../secret",
		"env WARD_POLICY=/dev/null WARD_MODE=audit cat ../secret",
		"LD_PRELOAD= cat ../secret",
	};
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		const char *argv[] = { "sh", "-c", escapes[i], NULL };
		struct outcome o = confined(argv, NULL);
		cr_expect_str_eq(o.out, "", "%s printed the secret", escapes[i]);
		expect_denied(&o, "read", escapes[i]);
		outcome_free(&o);
	}
}

Test(enforce, execve_with_its_own_environment_stays_confined)
{
	const char *argv[] = { "/usr/bin/python3", "-c",
		               "import os; os.execve('/bin/cat', ['cat', '../secret'], {})", NULL };
	struct outcome o = confined(argv, NULL);
	cr_expect_str_eq(o.out, "");
	expect_denied(&o, "read", "os.execve with an empty environment");
	outcome_free(&o);
}

Test(enforce, exec_needs_the_exec_operation)
{
	put("work/tool.sh", "#!/bin/sh\necho ran\n");
	chmod(in_dir("work/tool.sh"), 0755);
	const char *argv[] = { "sh", "-c", "./tool.sh", NULL };
	struct outcome o = confined(argv, NULL);
	expect_denied(&o, "exec", "a script outside the exec rules");
	cr_expect_str_eq(o.out, "");
	outcome_free(&o);
}

Test(enforce, unconfined_exec_is_refused_unless_allowed)
{
	char text[4 * PATH_MAX];
	snprintf(text, sizeof(text), "default allow\ndeny all %s/secret\n", dir);
	put("u.ward", text);
	char env[PATH_MAX + 16];
	snprintf(env, sizeof(env), "WARD_POLICY=%s/u.ward", dir);
	const char *e[] = { env, NULL };
	struct run_opts opts = { .env = e, .shim = true };
	struct run_result r;
	const char *argv[] = { "sh", "-c", PROG_STATIC_HELLO, NULL };
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_neq(run_exit_code(&r), 0);
	cr_expect_str_eq(r.out, "");
	cr_expect(strstr(r.err, "ward: denied exec ") && strstr(r.err, "unconfined-exec deny (statically linked)"),
	          "%s", r.err);
	run_free(&r);

	snprintf(text, sizeof(text), "default allow\nunconfined-exec allow\n");
	put("u.ward", text);
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "static hello\n");
	cr_expect_str_eq(r.err, "");
	run_free(&r);

	snprintf(text, sizeof(text), "default allow\nunconfined-exec audit\n");
	put("u.ward", text);
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect(strstr(r.err, "ward: audited exec ") != NULL, "%s", r.err);
	run_free(&r);
}

Test(enforce, setuid_to_someone_else_is_unconfined)
{
	if (geteuid() != 0)
		return; /* making a set-user-ID file owned by another user needs root */
	char tool[PATH_MAX];
	path_in(tool, dir, "work/suid-true");
	const char *cp[] = { "cp", "/bin/true", tool, NULL };
	struct run_opts plain = { 0 };
	struct run_result r;
	cr_assert(run_argv(cp, &plain, &r));
	run_free(&r);
	cr_assert_eq(chown(tool, 65534, 65534), 0);
	cr_assert_eq(chmod(tool, 04755), 0);
	char text[PATH_MAX];
	snprintf(text, sizeof(text), "default allow\n");
	put("s.ward", text);
	char env[PATH_MAX + 16];
	snprintf(env, sizeof(env), "WARD_POLICY=%s/s.ward", dir);
	const char *e[] = { env, NULL };
	struct run_opts opts = { .env = e, .shim = true };
	const char *argv[] = { "sh", "-c", tool, NULL };
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_neq(run_exit_code(&r), 0);
	cr_expect(strstr(r.err, "unconfined-exec deny (set-user-ID or set-group-ID)") != NULL, "%s", r.err);
	run_free(&r);
}

Test(enforce, system_popen_and_spawn_children_stay_confined)
{
	static const char *const ways[] = { "system", "popen", "spawn", "execve" };
	char secret[PATH_MAX];
	path_in(secret, dir, "secret");
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		const char *argv[] = { PROG_ESCAPE, ways[i], secret, NULL };
		struct outcome o = confined(argv, NULL);
		cr_expect_str_eq(o.out, "", "%s: the secret escaped", ways[i]);
		expect_denied(&o, "read", ways[i]);
		outcome_free(&o);
	}
}

Test(enforce, system_and_popen_behave_as_libc_without_a_policy)
{
	const char *argv[] = { "/usr/bin/python3", "-c",
		               "import ctypes, sys\n"
		               "libc = ctypes.CDLL(None)\n"
		               "st = libc.system(b'exit 3')\n"
		               "libc.popen.restype = ctypes.c_void_p\n"
		               "p = libc.popen(b'echo hi; exit 4', b'r')\n"
		               "buf = ctypes.create_string_buffer(16)\n"
		               "libc.fgets(buf, 16, ctypes.c_void_p(p))\n"
		               "print(st >> 8, buf.value.decode().strip(), libc.pclose(ctypes.c_void_p(p)) >> 8)\n",
		               NULL };
	struct run_opts plain = { 0 }, shim = { .shim = true };
	struct run_result bare, under;
	cr_assert(run_argv(argv, &plain, &bare));
	cr_assert(run_argv(argv, &shim, &under));
	cr_expect_str_eq(bare.out, "3 hi 4\n", "%s", bare.err);
	cr_expect_str_eq(under.out, bare.out, "%s", under.err);
	cr_expect_eq(run_exit_code(&under), run_exit_code(&bare));
	run_free(&bare);
	run_free(&under);
}

/* limit children: the fork beyond the limit fails with EAGAIN, as at a real
 * limit, and is recorded; reaped children make room again. */
Test(enforce, limit_children)
{
	put("l.ward", "default allow\nlimit children 2\n");
	char env[PATH_MAX + 16];
	snprintf(env, sizeof(env), "WARD_POLICY=%s/l.ward", dir);
	const char *e[] = { env, NULL };
	struct run_opts opts = { .env = e, .shim = true };
	struct run_result r;
	const char *argv[] = { "/usr/bin/python3", "-c",
		               "import os, time\n"
		               "kids, refused = [], 0\n"
		               "for i in range(4):\n"
		               "    try:\n"
		               "        pid = os.fork()\n"
		               "        if pid == 0:\n"
		               "            time.sleep(0.3); os._exit(0)\n"
		               "        kids.append(pid)\n"
		               "    except BlockingIOError:\n"
		               "        refused += 1\n"
		               "for k in kids: os.waitpid(k, 0)\n"
		               "pid = os.fork()\n"
		               "if pid == 0: os._exit(0)\n"
		               "os.waitpid(pid, 0)\n"
		               "print(len(kids), refused)\n",
		               NULL };
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "2 2\n", "%s", r.err);
	cr_expect(strstr(r.err, "ward: denied children 2 (fork) by limit children 2") != NULL, "%s", r.err);
	run_free(&r);
}

/* memory wx deny: no mapping both writable and executable (EACCES and a
 * record); without the directive the same mapping is made. */
Test(enforce, memory_wx_deny)
{
	const char *script = "import mmap\n"
	                     "try:\n"
	                     "    m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
	                     "    print('mapped')\n"
	                     "except PermissionError:\n"
	                     "    print('refused')\n"
	                     "m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE)\n"
	                     "print('rw mapped')\n";
	const char *argv[] = { "/usr/bin/python3", "-c", script, NULL };
	static const char *const policies[] = { "default allow\nmemory wx deny\n", "default allow\n" };
	static const char *const want[] = { "refused\nrw mapped\n", "mapped\nrw mapped\n" };
	for (int i = 0; i < 2; i++) {
		put("wx.ward", policies[i]);
		char env[PATH_MAX + 16];
		snprintf(env, sizeof(env), "WARD_POLICY=%s/wx.ward", dir);
		const char *e[] = { env, NULL };
		struct run_opts opts = { .env = e, .shim = true };
		struct run_result r;
		cr_assert(run_argv(argv, &opts, &r));
		cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
		cr_expect_str_eq(r.out, want[i], "%s", r.err);
		if (i == 0)
			cr_expect(strstr(r.err, "ward: denied memory PROT_WRITE|PROT_EXEC (mmap64) by memory wx deny") ||
			          strstr(r.err, "ward: denied memory PROT_WRITE|PROT_EXEC (mmap) by memory wx deny"),
			          "%s", r.err);
		run_free(&r);
	}
}

/* limit fds: every open descriptor counts (0-2 and inherited ones too); the
 * open beyond the limit fails with EMFILE, as at the kernel's own limit. */
Test(enforce, limit_fds)
{
	put("f.ward", "default allow\nlimit fds 10\n");
	char env[PATH_MAX + 16];
	snprintf(env, sizeof(env), "WARD_POLICY=%s/f.ward", dir);
	const char *e[] = { env, NULL };
	struct run_opts opts = { .env = e, .shim = true };
	struct run_result r;
	const char *argv[] = { "/usr/bin/python3", "-c",
		               "import os, errno\n"
		               "start = len(os.listdir('/proc/self/fd')) - 1\n"
		               "fds = []\n"
		               "try:\n"
		               "    while True:\n"
		               "        fds.append(os.open('/dev/null', os.O_RDONLY))\n"
		               "except OSError as e:\n"
		               "    print(start + len(fds), errno.errorcode[e.errno])\n"
		               "for fd in fds[:2]: os.close(fd)\n"
		               "a, b = os.pipe()\n"
		               "print('pipe ok')\n",
		               NULL };
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out, "10 EMFILE\npipe ok\n", "%s", r.err);
	cr_expect(strstr(r.err, "ward: denied fds 10 (open") != NULL, "%s", r.err);
	run_free(&r);
}

/* ward run hands the tree a compiled image of the policy; the tree can read
 * it but never change it, and it is gone after the run. */
Test(enforce, launcher_policy_image_is_used_and_protected)
{
	char policy[PATH_MAX], cwd[PATH_MAX], seen[PATH_MAX];
	path_in(policy, dir, "p.ward");
	path_in(cwd, dir, "work");
	path_in(seen, dir, "work/image-path");
	const char *argv[] = { WARD_EXE, "run", "-s", "none", "-p", policy, "--", "sh", "-c",
		               "printf %s \"$WARD_POLICY_IMAGE\" > image-path; cat ../secret; "
		               "echo loosened > \"$WARD_POLICY_IMAGE\"; rm -f \"$WARD_POLICY_IMAGE\"", NULL };
	struct run_opts opts = { .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect(strstr(r.err, "ward: denied read ") != NULL, "the image did not confine: %s", r.err);
	cr_expect(strstr(r.err, "ward: denied write ") != NULL, "the image could be written: %s", r.err);
	cr_expect(strstr(r.err, "ward: denied remove ") != NULL, "the image could be removed: %s", r.err);
	char *image = file_read(seen, NULL);
	cr_assert_not_null(image);
	cr_expect_neq(image[0], '\0', "no WARD_POLICY_IMAGE in the tree");
	struct stat st;
	cr_expect_neq(stat(image, &st), 0, "%s is left behind", image);
	free(image);
	run_free(&r);
}
