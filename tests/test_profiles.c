/*
 * test_profiles: the profile library of examples/ on real tools (SPEC 5,
 * issue 12): c-build.ward (make and gcc), python-venv.ward (python3 -m
 * venv and pip installing a local wheel: no network), git.ward (init, add,
 * commit, log, with ~/.gitconfig read).
 *
 * Each profile runs its tool under `ward run -p`: exit 0, no violation in
 * the summary, the products on disk; and one write outside the tree is
 * refused with the run's exit 3 and the file absent.  Everything happens
 * below a fake $HOME in a scratch directory (projects live in home
 * directories) under /var/tmp: the profiles let a build write /tmp, so a
 * scratch directory there would hold no "outside".  node.ward is not here: the project's install script does
 * not install node/npm.
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
static char home[PATH_MAX], project[PATH_MAX], outside[PATH_MAX], home_env[PATH_MAX + 8];

static void
setup(void)
{
	dir = strdup("/var/tmp/ward-profiles.XXXXXX");
	cr_assert(dir != NULL && mkdtemp(dir) != NULL);
	path_in(home, dir, "home");
	path_in(project, home, "project");
	path_in(outside, home, "outside");
	cr_assert_eq(mkdir(home, 0755), 0);
	cr_assert_eq(mkdir(project, 0755), 0);
	snprintf(home_env, sizeof(home_env), "HOME=%s", home);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (strncmp(dir, "/var/tmp/ward-profiles.", 23) == 0 && system(cmd) != 0)
		cr_log_warn("could not remove %s", dir);
	free(dir);
}

TestSuite(profiles, .init = setup, .fini = teardown, .timeout = 150);

static void
put(const char *name, const char *text)
{
	char path[PATH_MAX];
	path_in(path, project, name);
	cr_assert(file_write(path, text, strlen(text)), "%s", path);
}

/* ward run -s none -p examples/PROFILE -- sh -c SCRIPT, in the project. */
static struct run_result
under(const char *profile, const char *script)
{
	char policy[PATH_MAX];
	snprintf(policy, sizeof(policy), "%s/%s", EXAMPLES, profile);
	const char *argv[] = { WARD_EXE, "run", "-s", "none", "-p", policy, "--", "sh", "-c", script, NULL };
	const char *env[] = { home_env, NULL };
	struct run_opts o = { .env = env, .cwd = project, .timeout_ms = 120000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out, "ward run hung");
	return r;
}

static void
expect_clean(const struct run_result *r)
{
	cr_expect_eq(run_exit_code(r), 0, "exit %d\nstdout: %s\nstderr: %s", run_exit_code(r), r->out, r->err);
	cr_expect_null(strstr(r->err, "ward: denied"), "%s", r->err);
	cr_expect_null(strstr(r->err, "violations of the policy"), "%s", r->err);
}

static void
expect_refused_outside(const char *profile, const char *script)
{
	struct run_result r = under(profile, script);
	cr_expect_eq(run_exit_code(&r), 3, "exit %d: %s", run_exit_code(&r), r.err);
	char line[PATH_MAX + 32];
	snprintf(line, sizeof(line), "%s by default deny [", outside);
	cr_expect_not_null(strstr(r.err, line), "no summary line for %s: %s", outside, r.err);
	cr_expect_neq(access(outside, F_OK), 0, "%s was written", outside);
	run_free(&r);
}

static bool
exists_in(const char *name)
{
	char path[PATH_MAX];
	path_in(path, project, name);
	return access(path, F_OK) == 0;
}

Test(profiles, c_build_builds_tests_and_refuses_outside)
{
	put("main.c", "#include <stdio.h>\n#include \"util.h\"\nint main(void) { printf(\"%d\\n\", twice(21)); return 0; }\n");
	put("util.c", "#include \"util.h\"\nint twice(int x) { return 2 * x; }\n");
	put("util.h", "int twice(int x);\n");
	put("lib.cc", "#include <string>\nstd::string name() { return \"c++\"; }\n");
	put("Makefile", "prog: main.o util.o libname.a\n\t$(CC) -o $@ main.o util.o\n"
	                "libname.a: lib.o\n\tar rcs $@ lib.o\n"
	                "lib.o: lib.cc\n\t$(CXX) -c -o $@ lib.cc\n"
	                "check: prog\n\t./prog > out.txt && grep -qx 42 out.txt\n.PHONY: check\n");
	struct run_result r = under("c-build.ward", "make -j2 check");
	expect_clean(&r);
	run_free(&r);
	cr_expect(exists_in("prog") && exists_in("libname.a") && exists_in("out.txt"), "no products");

	char rule[PATH_MAX + 64];
	snprintf(rule, sizeof(rule), "make -s -f - <<'EOF'\nall:\n\techo x > %s 2>/dev/null || true\nEOF\n", outside);
	expect_refused_outside("c-build.ward", rule);
}

/* A wheel made by hand (a wheel is a zip with three metadata files). */
static void
make_wheel(void)
{
	char script[PATH_MAX + 1024];
	snprintf(script, sizeof(script),
	         "import base64, hashlib, os, zipfile\n"
	         "os.makedirs('wheels')\n"
	         "files = {'wardhello/__init__.py': \"def greet():\\n    return 'hello from a wheel'\\n\",\n"
	         "  'wardhello-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: wardhello\\nVersion: 1.0\\n',\n"
	         "  'wardhello-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\n"
	         "Tag: py3-none-any\\n'}\n"
	         "record = []\n"
	         "with zipfile.ZipFile('wheels/wardhello-1.0-py3-none-any.whl', 'w') as z:\n"
	         "    for name, text in files.items():\n"
	         "        z.writestr(name, text)\n"
	         "        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=')\n"
	         "        record.append('%%s,sha256=%%s,%%d' %% (name, digest.decode(), len(text)))\n"
	         "    record.append('wardhello-1.0.dist-info/RECORD,,')\n"
	         "    z.writestr('wardhello-1.0.dist-info/RECORD', '\\n'.join(record) + '\\n')\n");
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	struct run_opts o = { .cwd = project };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
}

Test(profiles, python_venv_installs_a_local_wheel_and_refuses_outside)
{
	make_wheel();
	struct run_result r = under("python-venv.ward",
	                            PYTHON3 " -m venv .venv && .venv/bin/pip install -q --no-index --find-links wheels/ "
	                            "wardhello && .venv/bin/python -c 'import wardhello; print(wardhello.greet())' && "
	                            ".venv/bin/python -c 'import multiprocessing as m; l = m.Lock(); print(\"locked\")'");
	expect_clean(&r);
	cr_expect_str_eq(r.out, "hello from a wheel\nlocked\n", "%s", r.err);
	run_free(&r);
	cr_expect(exists_in(".venv/bin/pip") && exists_in(".venv/pyvenv.cfg"), "no venv");
	char script[PATH_MAX + 128];
	snprintf(script, sizeof(script), ".venv/bin/python -c 'open(\"%s\", \"w\")' 2>/dev/null; true", outside);
	expect_refused_outside("python-venv.ward", script);
}

Test(profiles, git_commits_and_logs_and_refuses_outside)
{
	char config[PATH_MAX];
	path_in(config, home, ".gitconfig");
	static const char gitconfig[] = "[user]\n\tname = Ward Test\n\temail = ward@example.com\n"
	                                "[init]\n\tdefaultBranch = main\n";
	cr_assert(file_write(config, gitconfig, sizeof(gitconfig) - 1));
	put("README", "a project\n");
	struct run_result r = under("git.ward", "git init -q . && git add README && git commit -qm 'first commit' && "
	                                        "echo more >> README && git commit -qam second && "
	                                        "git log --format='%an %s' && git status --short");
	expect_clean(&r);
	/* the author comes from ~/.gitconfig: it was read */
	cr_expect_str_eq(r.out, "Ward Test second\nWard Test first commit\n", "%s", r.err);
	run_free(&r);
	cr_expect(exists_in(".git/HEAD") && exists_in(".git/refs/heads/main"), "no repository");

	char script[PATH_MAX + 64];
	snprintf(script, sizeof(script), "git init -q '%s' 2>/dev/null; true", outside);
	expect_refused_outside("git.ward", script);
}

/* node.ward, where node and npm are installed (they are not among the
 * project's own dependencies: the test says so and skips otherwise). */
Test(profiles, node_runs_a_script_and_npm_init_and_refuses_outside)
{
	if (access("/usr/bin/node", X_OK) != 0 || access("/usr/bin/npm", X_OK) != 0)
		cr_skip_test("node and npm are not installed");
	struct run_result r = under("node.ward", "npm init -y >/dev/null && node -e \"require('fs').writeFileSync('out.txt', "
	                                         "require('./package.json').version)\" && cat out.txt");
	expect_clean(&r);
	cr_expect_str_eq(r.out, "1.0.0", "%s", r.err);
	run_free(&r);
	cr_expect(exists_in("package.json") && exists_in("out.txt"));
	char script[PATH_MAX + 96];
	snprintf(script, sizeof(script), "node -e \"require('fs').writeFileSync('%s', 'x')\" 2>/dev/null; true", outside);
	expect_refused_outside("node.ward", script);
}
