/*
 * test_explain: `ward explain` and enforcement give the same answer.
 *
 * A tree of symlinks (file links, directory links, a dangling link, links
 * to the tree's own parent, relative and absolute targets, ".." through a
 * linked directory) under a policy that denies one directory.  For every
 * (operation, path), explain's allow/deny must equal what happens to a real
 * program making the operation's call under the shim (tests/progs/tryop),
 * and the call must leave the denied directory as it was.  The tree is
 * made again for each case: a remove or create must not change the next.
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
static char policy[PATH_MAX], policy_env[PATH_MAX + 16], allowed[PATH_MAX];

static void
make_tree(void)
{
	char p[PATH_MAX], target[PATH_MAX];
	static const char script[] = "#!/bin/sh\necho ran\n";
	const char *dirs[] = { "allowed", "allowed/sub", "secret", NULL };
	for (int i = 0; dirs[i]; i++) {
		path_in(p, dir, dirs[i]);
		mkdir(p, 0755);
	}
	const char *files[] = { "allowed/file", "allowed/sub/inner", "secret/S.txt", NULL };
	for (int i = 0; files[i]; i++) {
		path_in(p, dir, files[i]);
		cr_assert(file_write(p, script, sizeof(script) - 1));
		chmod(p, 0755);
	}
	path_in(target, dir, "secret/S.txt");
	struct { const char *name, *to; } links[] = {
		{ "allowed/lnk_file", "../secret/S.txt" },
		{ "allowed/lnk_abs", target },
		{ "allowed/lnk_dir", "../secret" },
		{ "allowed/dangling", "../secret/new.txt" },
		{ "allowed/lnk_sub", "sub" },
		{ "allowed/up", ".." },
		{ "allowed/sub/back", "../lnk_dir" },
		{ "allowed/lnk_ok", "file" },
		{ NULL, NULL },
	};
	for (int i = 0; links[i].name; i++) {
		path_in(p, dir, links[i].name);
		cr_assert_eq(symlink(links[i].to, p), 0, "%s", links[i].name);
	}
}

static void
setup(void)
{
	dir = tmpdir_make();
	path_in(policy, dir, "p.ward");
	path_in(allowed, dir, "allowed");
	char text[2 * PATH_MAX];
	snprintf(text, sizeof(text), "default allow\ndeny all %s/secret/**\n", dir);
	cr_assert(file_write(policy, text, strlen(text)));
	snprintf(policy_env, sizeof(policy_env), "WARD_POLICY=%s", policy);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(explain, .init = setup, .fini = teardown, .timeout = 60);

/* What explain says: "allow", "deny" or "error". */
static const char *
explained(const char *op, const char *path)
{
	const char *argv[] = { WARD_EXE, "explain", "-p", policy, op, path, NULL };
	struct run_opts opts = { .cwd = allowed };
	struct run_result r;
	cr_assert(run_argv(argv, &opts, &r));
	int code = run_exit_code(&r);
	cr_assert(code == 2 || strncmp(r.out, code == 0 ? "allow " : "deny ", code == 0 ? 6 : 5) == 0,
	          "explain %s %s: %d %s", op, path, code, r.out);
	run_free(&r);
	return code == 0 ? "allow" : code == 1 ? "deny" : "error";
}

/* What the shim did to the call: "allow" (not refused) or "deny". */
static const char *
enforced(const char *op, const char *path)
{
	const char *env[] = { policy_env, NULL };
	const char *argv[] = { PROG_TRYOP, op, path, NULL };
	struct run_opts opts = { .env = env, .shim = true, .cwd = allowed };
	struct run_result r;
	cr_assert(run_argv(argv, &opts, &r));
	cr_assert_eq(run_exit_code(&r), 0, "tryop %s %s: %s %s", op, path, r.out, r.err);
	bool denied = strcmp(r.out, "denied\n") == 0;
	run_free(&r);
	return denied ? "deny" : "allow";
}

static void
secret_intact(const char *op, const char *path)
{
	char p[PATH_MAX];
	path_in(p, dir, "secret/S.txt");
	char *text = file_read(p, NULL);
	cr_assert_not_null(text, "%s %s removed the secret", op, path);
	cr_assert_str_eq(text, "#!/bin/sh\necho ran\n");
	free(text);
	path_in(p, dir, "secret/new.txt");
	cr_assert_neq(access(p, F_OK), 0, "%s %s created in the secret directory", op, path);
}

static void
reset(void)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/allowed' '%s/secret'", dir, dir);
	cr_assert_eq(system(cmd), 0);
	make_tree();
}

Test(explain, agrees_with_enforcement_through_symlinks_and_dotdot)
{
	static const struct { const char *op, *path, *expect; } cases[] = {
		{ "read", "file", "allow" },
		{ "read", "lnk_ok", "allow" },
		{ "read", "lnk_file", "deny" },
		{ "read", "lnk_abs", "deny" },
		{ "read", "lnk_dir/S.txt", "deny" },
		{ "read", "sub/../file", "allow" },
		{ "read", "lnk_sub/../file", "allow" },
		{ "read", "up/secret/S.txt", "deny" },
		{ "read", "lnk_dir/../allowed/file", "allow" },
		{ "read", "lnk_dir/../secret/S.txt", "deny" },
		{ "read", "sub/back/S.txt", "deny" },
		{ "read", "sub/back/../allowed/file", "allow" },
		{ "read", "../secret/S.txt", "deny" },
		{ "write", "lnk_file", "deny" },
		{ "write", "lnk_dir/S.txt", "deny" }, /* (a missing name is the kernel's ENOENT before any policy) */
		{ "write", "file", "allow" },
		{ "stat", "lnk_dir", "deny" },
		{ "stat", "up/allowed/file", "allow" },
		{ "stat", "lnk_dir/S.txt", "deny" },
		{ "exec", "./lnk_file", "deny" },
		{ "exec", "./lnk_ok", "allow" },
		{ "remove", "lnk_file", "allow" },
		{ "remove", "lnk_dir", "allow" },
		{ "remove", "lnk_dir/S.txt", "deny" },
		{ "remove", "dangling", "allow" },
		{ "create", "lnk_dir/new.txt", "deny" },
		{ "create", "sub/new", "allow" },
		{ "create", "dangling", "allow" },
		{ "create", "up/secret/new.txt", "deny" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		reset();
		const char *says = explained(cases[i].op, cases[i].path);
		const char *does = enforced(cases[i].op, cases[i].path);
		cr_expect_str_eq(says, does, "%s %s: explain says %s, enforcement does %s", cases[i].op, cases[i].path,
		                 says, does);
		cr_expect_str_eq(does, cases[i].expect, "%s %s: expected %s", cases[i].op, cases[i].path,
		                 cases[i].expect);
		secret_intact(cases[i].op, cases[i].path);
	}
}

Test(explain, says_how_it_resolved)
{
	reset();
	const char *argv[] = { WARD_EXE, "explain", "-p", policy, "remove", "lnk_file", NULL };
	struct run_opts opts = { .cwd = allowed };
	struct run_result r;
	cr_assert(run_argv(argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.out);
	cr_expect(strstr(r.out, "/allowed/lnk_file by default") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "not followed") != NULL, "%s", r.out);
	run_free(&r);
	const char *read_argv[] = { WARD_EXE, "explain", "-p", policy, "read", "lnk_file", NULL };
	cr_assert(run_argv(read_argv, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 1, "%s", r.out);
	cr_expect(strstr(r.out, "/secret/S.txt by rule ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "followed") != NULL, "%s", r.out);
	run_free(&r);
	const char *forced[] = { WARD_EXE, "explain", "-p", policy, "--no-follow", "read", "lnk_file", NULL };
	cr_assert(run_argv(forced, &opts, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.out);
	run_free(&r);
}

/* explain OP PATH with extra environment entries; the output in *out. */
static int
explain_with(const char *const env[], const char *op, const char *path, char **out)
{
	const char *argv[] = { WARD_EXE, "explain", "-p", policy, op, path, NULL };
	struct run_opts opts = { .env = env, .cwd = allowed };
	struct run_result r;
	cr_assert(run_argv(argv, &opts, &r));
	int code = run_exit_code(&r);
	*out = strdup(r.out);
	run_free(&r);
	return code;
}

/* Lines of text that start with prefix and name path (NULL: any). */
static size_t
lines_about(const char *text, const char *prefix, const char *path)
{
	size_t n = 0;
	for (const char *l = text; l != NULL && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n'), *at = path ? strstr(l, path) : l;
		n += strncmp(l, prefix, strlen(prefix)) == 0 && at != NULL && (end == NULL || at < end);
	}
	return n;
}

/* Every operation and alias of SPEC 5.1, comma lists included: one answer
 * line per operation, deny as soon as one is denied. */
Test(explain, takes_every_operation_alias_and_list)
{
	reset();
	static const struct { const char *op; size_t lines; } ops[] = {
		{ "read", 1 }, { "stat", 1 }, { "write", 1 }, { "create", 1 }, { "remove", 1 }, { "exec", 1 },
		{ "ro", 2 }, { "rw", 5 }, { "rx", 3 }, { "all", 6 }, { "read,write", 2 }, { "ro,exec", 3 },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		char *out;
		int code = explain_with(NULL, ops[i].op, "./file", &out);
		cr_expect_eq(code, 0, "%s on an allowed file: %d %s", ops[i].op, code, out);
		cr_expect_eq(lines_about(out, "allow ", "/allowed/file by"), ops[i].lines, "%s: %s", ops[i].op, out);
		free(out);
		code = explain_with(NULL, ops[i].op, "../secret/S.txt", &out);
		cr_expect_eq(code, 1, "%s on the secret: %d %s", ops[i].op, code, out);
		cr_expect_eq(lines_about(out, "deny ", "/secret/S.txt by"), ops[i].lines, "%s: %s", ops[i].op, out);
		free(out);
	}
	char *out;
	cr_expect_eq(explain_with(NULL, "read,bogus", "file", &out), 2);
	free(out);
	/* a list that mixes an allowed and a denied operation answers each */
	char denied_read[PATH_MAX + 64];
	snprintf(denied_read, sizeof(denied_read), "default deny\nallow stat /**\n");
	cr_assert(file_write(policy, denied_read, strlen(denied_read)));
	cr_expect_eq(explain_with(NULL, "ro", "./file", &out), 1, "%s", out);
	cr_expect_eq(lines_about(out, "allow stat ", NULL), 1, "%s", out);
	cr_expect_eq(lines_about(out, "deny read ", NULL), 1, "%s", out);
	free(out);
}

/* `exec NAME` searches $PATH as execvp does (not the working directory),
 * answers for the #! interpreter too, and agrees with what a shell under
 * the shim is allowed to run by that name. */
Test(explain, exec_name_is_searched_on_path_like_execvp)
{
	reset();
	char path_env[2 * PATH_MAX + 64];
	snprintf(path_env, sizeof(path_env), "PATH=%s/sub:%s:/usr/bin:/bin", allowed, allowed);
	const char *env[] = { path_env, NULL };
	char *out;
	/* found in the second PATH entry, a script: the script and /bin/sh */
	cr_expect_eq(explain_with(env, "exec", "file", &out), 0, "%s", out);
	char expect[PATH_MAX + 64];
	snprintf(expect, sizeof(expect), "found on PATH as %s/file\n", allowed);
	cr_expect_not_null(strstr(out, expect), "%s", out);
	cr_expect_not_null(strstr(out, "run by /bin/sh"), "%s", out);
	cr_expect_eq(lines_about(out, "allow exec ", NULL), 2, "%s", out);
	free(out);
	/* a link on PATH to the denied directory */
	cr_expect_eq(explain_with(env, "exec", "lnk_file", &out), 1, "%s", out);
	cr_expect_not_null(strstr(out, "/secret/S.txt by rule "), "%s", out);
	free(out);
	/* not on PATH at all (the cwd holds nothing of that name either) */
	cr_expect_eq(explain_with(env, "exec", "no-such-program", &out), 2, "%s", out);
	free(out);
	/* a name in the cwd but not on PATH is not what execvp runs */
	const char *system_path[] = { "PATH=/usr/bin:/bin", NULL };
	cr_expect_eq(explain_with(system_path, "exec", "lnk_ok", &out), 2, "%s", out);
	free(out);
	cr_expect_eq(explain_with(system_path, "exec", "sh", &out), 0, "%s", out);
	cr_expect_not_null(strstr(out, "found on PATH as /usr/bin/sh\n"), "%s", out);
	free(out);

	/* enforcement agrees: a shell runs each name through its own search */
	const char *names[] = { "file", "lnk_file" };
	for (size_t i = 0; i < 2; i++) {
		reset();
		char p_env[PATH_MAX + 16];
		snprintf(p_env, sizeof(p_env), "WARD_POLICY=%s", policy);
		const char *shim_env[] = { path_env, p_env, NULL };
		const char *argv[] = { "/bin/sh", "-c", names[i], NULL };
		struct run_opts opts = { .env = shim_env, .shim = true, .cwd = allowed };
		struct run_result r;
		cr_assert(run_argv(argv, &opts, &r));
		int says = explain_with(env, "exec", names[i], &out);
		free(out);
		cr_expect_eq(run_exit_code(&r) == 0, says == 0, "%s: explain %d, the shell ran it with %d: %s", names[i],
		             says, run_exit_code(&r), r.err);
		run_free(&r);
	}
}
