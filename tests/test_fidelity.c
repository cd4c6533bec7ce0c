/*
 * test_fidelity: under a "read the system, write only here" policy, real
 * programs see what they would see bare wherever the kernel decides first,
 * and probes predict the policy (SPEC 5.1, 5.3, 5.5).
 *
 * - Making a name that exists is EEXIST and under a missing directory
 *   ENOENT, with no violation record: `mkdir -p` of system directories,
 *   Python's os.mkdir / makedirs(exist_ok=True) / symlink / link / mkfifo /
 *   open(O_CREAT|O_EXCL) raise exactly what they raise bare.
 * - access() probes: `test -r/-w/-x` and os.access answer as the policy
 *   will decide, with no record.
 * - AT_EMPTY_PATH and freopen(NULL) act on the descriptor's file, decided
 *   like the f-calls: no hard link, chown, or wider reopen of a protected
 *   file through a descriptor.
 * - Records are valid JSON whatever bytes a name holds.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "pycheck.h"
#include "run.h"

static char *dir;
static char policy_env[PATH_MAX + 16], work[PATH_MAX], secret[PATH_MAX];

static void
setup(void)
{
	dir = tmpdir_make();
	char p[PATH_MAX], text[4 * PATH_MAX];
	path_in(work, dir, "work");
	path_in(secret, dir, "secret");
	mkdir(work, 0755);
	cr_assert(file_write(secret, "top secret\n", 11));
	snprintf(text, sizeof(text),
	         "default deny\nallow ro /**\nallow rw /dev/null\nallow exec /usr/bin/* /bin/*\n"
	         "allow rw %s/**\ndeny all %s\n",
	         work, secret);
	path_in(p, dir, "p.ward");
	cr_assert(file_write(p, text, strlen(text)));
	snprintf(policy_env, sizeof(policy_env), "WARD_POLICY=%s", p);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(fidelity, .init = setup, .fini = teardown, .timeout = 60);

struct outcome {
	int code;
	char *out, *err;
};

static struct outcome
run_in_work(const char *const argv[], bool shim, const char *extra_env)
{
	const char *env[] = { policy_env, extra_env, NULL };
	struct run_opts o = { .env = shim ? env : NULL, .shim = shim, .cwd = work };
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

/* The same command bare and under the policy: same output and status, no
 * violation record. */
static void
same_as_bare(const char *const argv[], const char *what)
{
	struct outcome bare = run_in_work(argv, false, NULL), ward = run_in_work(argv, true, NULL);
	cr_expect_eq(ward.code, bare.code, "%s: exit %d under ward, %d bare: %s", what, ward.code, bare.code, ward.err);
	cr_expect_str_eq(ward.out, bare.out, "%s: output differs", what);
	cr_expect(strstr(ward.err, "ward: denied") == NULL, "%s: a violation record: %s", what, ward.err);
	outcome_free(&bare);
	outcome_free(&ward);
}

Test(fidelity, mkdir_p_of_existing_system_directories_is_silent)
{
	const char *argv[] = { "mkdir", "-p", "/usr/local/lib", "/usr", "/etc", NULL };
	same_as_bare(argv, "mkdir -p /usr/local/lib");
	const char *plain[] = { "sh", "-c", "mkdir /usr 2>&1; echo $?", NULL };
	same_as_bare(plain, "mkdir /usr");
}

Test(fidelity, python_sees_the_errors_the_kernel_gives_first)
{
	static const char script[] =
		"import os\n"
		"def t(what, f):\n"
		"    try:\n"
		"        f(); print(what, 'ok')\n"
		"    except OSError as e:\n"
		"        print(what, type(e).__name__, e.errno)\n"
		"t('mkdir-usr', lambda: os.mkdir('/usr'))\n"
		"t('makedirs', lambda: os.makedirs('/usr/share', exist_ok=True))\n"
		"t('symlink', lambda: os.symlink('x', '/etc/hostname'))\n"
		"t('link', lambda: os.link('/etc/hostname', '/etc/passwd'))\n"
		"t('mkfifo', lambda: os.mkfifo('/etc/hostname'))\n"
		"t('excl', lambda: os.open('/etc/hostname', os.O_CREAT | os.O_EXCL | os.O_WRONLY))\n"
		"t('missing-parent', lambda: os.mkdir('/nonexistent-ward/x'))\n"
		"t('missing-open', lambda: os.open('/nonexistent-ward/x', os.O_CREAT | os.O_WRONLY))\n"
		"t('under-a-file', lambda: os.mkdir('/etc/hostname/x'))\n";
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	same_as_bare(argv, "python errors");
	/* and a real denial stays one */
	const char *denied[] = { PYTHON3, "-c", "import os\ntry:\n    os.mkdir('/usr/ward-new')\nexcept OSError as e:\n    print(e.errno)\n", NULL };
	struct outcome o = run_in_work(denied, true, NULL);
	cr_expect_str_eq(o.out, "13\n");
	cr_expect(strstr(o.err, "ward: denied create /usr/ward-new") != NULL, "%s", o.err);
	outcome_free(&o);
}

/* A call that fails by itself fails with the kernel's errno (the check
 * makes it fail so: it never hands such a path on unchecked), with no
 * record. */
Test(fidelity, loops_and_bad_descriptors_fail_as_the_kernel_says)
{
	static const char script[] =
		"import os\n"
		"os.symlink('loop', 'loop')\n"
		"def t(what, f):\n"
		"    try:\n"
		"        f(); print(what, 'ok')\n"
		"    except OSError as e:\n"
		"        print(what, e.errno)\n"
		"t('open-loop', lambda: os.open('loop', os.O_RDONLY))\n"
		"t('creat-loop', lambda: os.open('loop', os.O_CREAT | os.O_WRONLY))\n"
		"t('stat-loop', lambda: os.stat('loop'))\n"
		"t('chmod-loop', lambda: os.chmod('loop', 0o600))\n"
		"t('open-badfd', lambda: os.open('x', os.O_RDONLY, dir_fd=987))\n"
		"t('mkdir-badfd', lambda: os.mkdir('x', dir_fd=987))\n"
		"t('unlink-badfd', lambda: os.unlink('x', dir_fd=987))\n"
		"os.unlink('loop')\n";
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	same_as_bare(argv, "loops and bad descriptors");
	struct outcome o = run_in_work(argv, true, NULL);
	cr_expect_str_eq(o.out, "open-loop 40\ncreat-loop 40\nstat-loop 40\nchmod-loop 40\nopen-badfd 9\nmkdir-badfd 9\n"
	                        "unlink-badfd 9\n", "%s", o.err);
	cr_expect_str_eq(o.err, "", "a record or a message: %s", o.err);
	outcome_free(&o);
}

/* What the kernel decides from the shape of a path comes out as it does
 * bare: O_NOFOLLOW on a symlink, a trailing '/', a last component "." or
 * "..", ".." after a missing name or a file, a missing name the policy
 * would refuse, a dirfd that is not a directory or not a descriptor. */
Test(fidelity, the_shape_of_a_path_gives_the_kernel_s_errors)
{
	static const char script[] =
		"import os, tempfile\n"
		"os.chdir(tempfile.mkdtemp(dir='.'))\n"
		"os.mkdir('d'); os.mkdir('c'); os.mkdir('e'); open('f', 'w').close()\n"
		"os.symlink('f', 'flink'); os.symlink('d', 'dlink'); os.symlink('self', 'self')\n"
		"def t(what, fn):\n"
		"    try:\n"
		"        r = fn(); print(what, 'ok', r if isinstance(r, bool) else '')\n"
		"    except OSError as e:\n"
		"        print(what, e.errno)\n"
		"def o(p, fl, dir_fd=None):\n"
		"    fd = os.open(p, fl, 0o644, dir_fd=dir_fd); os.close(fd); return True\n"
		"t('nofollow-symlink', lambda: o('flink', os.O_RDONLY | os.O_NOFOLLOW))\n"
		"t('nofollow-loop', lambda: o('self', os.O_RDONLY | os.O_NOFOLLOW))\n"
		"t('nofollow-dirlink-slash', lambda: o('dlink/', os.O_RDONLY | os.O_NOFOLLOW))\n"
		"t('path-nofollow-symlink', lambda: o('flink', os.O_PATH | os.O_NOFOLLOW))\n"
		"t('stat-file-slash', lambda: os.stat('f/'))\n"
		"t('lstat-dirlink-slash', lambda: os.lstat('dlink/') is not None)\n"
		"t('mkdir-missing-dot', lambda: os.mkdir('n1/.'))\n"
		"t('mkdir-dir-dot', lambda: os.mkdir('d/.'))\n"
		"t('rmdir-dot', lambda: os.rmdir('.'))\n"
		"t('rmdir-dir-dot', lambda: os.rmdir('e/.'))\n"
		"t('rmdir-dir-dotdot', lambda: os.rmdir('e/..'))\n"
		"t('rename-dir-dot', lambda: os.rename('c/.', 'x'))\n"
		"t('symlink-dot', lambda: os.symlink('t', 'd/.'))\n"
		"t('creat-missing-dot', lambda: o('n4/.', os.O_CREAT | os.O_WRONLY))\n"
		"t('creat-dir-dot', lambda: o('d/.', os.O_CREAT | os.O_WRONLY))\n"
		"t('open-missing-dotdot', lambda: o('missing/../f', os.O_RDONLY))\n"
		"t('unlink-missing-dotdot', lambda: os.unlink('missing/../f'))\n"
		"t('mkdir-file-dotdot', lambda: os.mkdir('f/../n5'))\n"
		"t('open-file-dotdot', lambda: o('f/../f', os.O_RDONLY))\n"
		"t('unlink-missing-outside', lambda: os.unlink('/usr/ward-missing'))\n"
		"t('open-missing-outside', lambda: o('/usr/ward-missing/x', os.O_WRONLY | os.O_CREAT))\n"
		"t('read-missing-outside', lambda: o('/etc/ward-missing', os.O_RDONLY))\n"
		"t('stat-missing', lambda: os.stat('/usr/ward-missing'))\n"
		"t('unlink-file-slash-outside', lambda: os.unlink('/etc/hostname/'))\n"
		"t('open-file-slash-outside', lambda: o('/etc/hostname/', os.O_WRONLY))\n"
		"t('nofollow-symlink-outside', lambda: o('../../ro_link', os.O_WRONLY | os.O_NOFOLLOW))\n"
		"fd = os.open('f', os.O_RDONLY)\n"
		"t('openat-file-dirfd', lambda: o('x', os.O_RDONLY, dir_fd=fd))\n"
		"t('mkdir-file-dirfd', lambda: os.mkdir('x', dir_fd=fd))\n"
		"t('dirs-left', lambda: sorted(os.listdir('.')) == ['c', 'd', 'dlink', 'e', 'f', 'flink', 'self'])\n";
	char link[PATH_MAX];
	path_in(link, dir, "ro_link"); /* outside the write tree: a symlink to a file */
	unlink(link);
	cr_assert_eq(symlink("/etc/hostname", link), 0);
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	same_as_bare(argv, "path shapes");
	const char *rm[] = { "sh", "-c", "rm -f /usr/ward-missing /etc/ward-missing; echo $?; rm -rf /usr/ward-missing; echo $?", NULL };
	same_as_bare(rm, "rm -f of missing files outside the write tree");
}

/* A rule that denies reading a tree holds what is in it: a rename out of
 * it needs read too (a new name would carry the file out from under the
 * rule), and a file named "x (deleted)" is still a named file. */
Test(fidelity, a_protected_file_is_not_renamed_out_nor_hidden_by_its_name)
{
	char text[4 * PATH_MAX], p[PATH_MAX], env_policy[PATH_MAX + 16], kept[PATH_MAX], ro[PATH_MAX];
	path_in(kept, work, "kept");
	path_in(ro, work, "ro");
	mkdir(kept, 0755);
	mkdir(ro, 0755);
	path_in(p, kept, "key");
	cr_assert(file_write(p, "KEY\n", 4));
	path_in(p, ro, "f (deleted)");
	cr_assert(file_write(p, "ro\n", 3));
	chmod(p, 0644);
	snprintf(text, sizeof(text),
	         "default deny\nallow ro /**\nallow exec /usr/bin/* /bin/*\nallow rw %s/**\n"
	         "deny read %s/**\ndeny write %s/**\n",
	         work, kept, ro);
	path_in(p, dir, "p2.ward");
	cr_assert(file_write(p, text, strlen(text)));
	snprintf(env_policy, sizeof(env_policy), "WARD_POLICY=%s", p);
	static const char script[] =
		"import os\n"
		"def t(what, fn):\n"
		"    try:\n"
		"        fn(); print(what, 'ok')\n"
		"    except OSError as e:\n"
		"        print(what, e.errno)\n"
		"t('rename-out', lambda: os.rename('kept/key', 'key'))\n"
		"t('rename-dir-out', lambda: os.rename('kept', 'kept2'))\n"
		"fd = os.open('ro/f (deleted)', os.O_RDONLY)\n"
		"t('fchmod-named-deleted', lambda: os.fchmod(fd, 0o777))\n"
		"t('left', lambda: print(os.path.exists('kept/key'), oct(os.stat('ro/f (deleted)').st_mode & 0o777)))\n";
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	const char *env[] = { env_policy, NULL };
	struct run_opts o = { .env = env, .shim = true, .cwd = work };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_expect_str_eq(r.out, "rename-out 13\nrename-dir-out 13\nfchmod-named-deleted 13\nTrue 0o644\nleft ok\n",
	                 "%s", r.err);
	cr_expect(strstr(r.err, "ward: denied read ") != NULL && strstr(r.err, "/kept/key (rename)") != NULL, "%s", r.err);
	run_free(&r);
}

/* mkstemp's family and mkdtemp are made by the shim under a policy
 * (tempnames.c): what libc would give, names filled in, refusals named. */
Test(fidelity, mkstemp_and_mkdtemp_behave_as_libc_s)
{
	static const char script[] =
		"import ctypes, os, stat\n"
		"c = ctypes.CDLL(None, use_errno=True)\n"
		"def t(what, fn, tmpl, *args):\n"
		"    b = ctypes.create_string_buffer(tmpl.encode())\n"
		"    r = fn(b, *args)\n"
		"    e = ctypes.get_errno()\n"
		"    name = b.value.decode()\n"
		"    if (r is None or r == 0) and fn is c.mkdtemp or (isinstance(r, int) and r < 0):\n"
		"        print(what, 'errno', e, name == tmpl)\n"
		"        return\n"
		"    st = os.lstat(name)\n"
		"    print(what, 'made', oct(stat.S_IMODE(st.st_mode)), stat.S_ISDIR(st.st_mode), name != tmpl,\n"
		"          name[:len(tmpl) - 6 - (len(tmpl) - tmpl.rindex('X') - 1)] + '*' + name[len(name) - (len(tmpl) - tmpl.rindex('X') - 1):])\n"
		"c.mkdtemp.restype = ctypes.c_void_p\n"
		"os.umask(0)\n"
		"t('mkstemp', c.mkstemp, 'tXXXXXX')\n"
		"t('mkstemps', c.mkstemps, 'sXXXXXX.c', 2)\n"
		"t('mkostemp', c.mkostemp, 'oXXXXXX', os.O_CLOEXEC)\n"
		"t('mkdtemp', c.mkdtemp, 'dXXXXXX')\n"
		"t('bad', c.mkstemp, 'tXXXXX')\n"
		"t('badsuffix', c.mkstemps, 'sXXXXXX.c', 3)\n"
		"t('missing', c.mkstemp, 'nodir/tXXXXXX')\n";
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	same_as_bare(argv, "mkstemp family");
	struct outcome o = run_in_work(argv, true, NULL);
	cr_expect_str_eq(o.out,
	                 "mkstemp made 0o600 False True t*\nmkstemps made 0o600 False True s*.c\n"
	                 "mkostemp made 0o600 False True o*\nmkdtemp made 0o700 True True d*\n"
	                 "bad errno 22 True\nbadsuffix errno 22 True\nmissing errno 2 False\n",
	                 "%s", o.err);
	outcome_free(&o);
	/* outside the write tree: refused with the name tried */
	const char *outside[] = { PYTHON3, "-c",
		                  "import ctypes\nc = ctypes.CDLL(None, use_errno=True)\n"
		                  "b = ctypes.create_string_buffer(b'/etc/wardXXXXXX')\n"
		                  "print(c.mkstemp(b), ctypes.get_errno())\n",
		                  NULL };
	o = run_in_work(outside, true, NULL);
	cr_expect_str_eq(o.out, "-1 13\n", "%s", o.err);
	cr_expect(strstr(o.err, "ward: denied create /etc/ward") != NULL && strstr(o.err, "(mkstemp)") != NULL, "%s", o.err);
	outcome_free(&o);
}

Test(fidelity, access_probes_predict_the_policy)
{
	char command[4 * PATH_MAX];
	snprintf(command, sizeof(command),
	         "for f in /etc/hostname %s/mine %s; do "
	         "test -r $f && echo r$?; test -w $f && echo w || echo -; test -x /bin/sh && echo x; done",
	         work, secret);
	char mine[PATH_MAX + 8];
	snprintf(mine, sizeof(mine), "%s/mine", work);
	cr_assert(file_write(mine, "m\n", 2));
	const char *argv[] = { "sh", "-c", command, NULL };
	struct outcome o = run_in_work(argv, true, NULL);
	/* /etc/hostname: readable, not writable; work/mine: both; the secret:
	 * neither (denied all) */
	cr_expect_str_eq(o.out, "r0\n-\nx\nr0\nw\nx\n-\nx\n", "%s", o.err);
	cr_expect(strstr(o.err, "ward: denied") == NULL, "a probe wrote a record: %s", o.err);
	outcome_free(&o);
	const char *py[] = { PYTHON3, "-c",
		             "import os\nprint(os.access('/etc/hostname', os.W_OK), os.access('/etc/hostname', os.R_OK))\n",
		             NULL };
	o = run_in_work(py, true, NULL);
	cr_expect_str_eq(o.out, "False True\n", "%s", o.err);
	outcome_free(&o);
}

/* linkat(fd, "", ..., AT_EMPTY_PATH), fchownat(fd, "", AT_EMPTY_PATH) and
 * freopen(NULL, "r+") on a descriptor of the protected file. */
Test(fidelity, a_descriptor_of_a_protected_file_is_decided_on_that_file)
{
	static const char script[] =
		"import os, ctypes, sys\n"
		"libc = ctypes.CDLL(None, use_errno=True)\n"
		"libc.fdopen.restype = libc.freopen.restype = ctypes.c_void_p\n"
		"libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]\n"
		"libc.freopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]\n"
		"fd = 5\n"
		"r = libc.linkat(fd, b'', -100, b'stolen', 0x1000)\n"
		"print('linkat', r, ctypes.get_errno())\n"
		"r = libc.fchownat(fd, b'', 0, 0, 0x1000)\n"
		"print('fchownat', r, ctypes.get_errno())\n"
		"f = libc.fdopen(fd, b'a')\n"
		"g = libc.freopen(None, b'r+', f)\n"
		"print('freopen', g is None, ctypes.get_errno())\n";
	const char *env[] = { policy_env, NULL };
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	struct run_opts o = { .env = env, .shim = true, .cwd = work, .extra_fd = 5, .extra_fd_path = secret };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_expect_str_eq(r.out, "linkat -1 13\nfchownat -1 13\nfreopen True 13\n", "%s %s", r.out, r.err);
	char stolen[PATH_MAX + 8];
	snprintf(stolen, sizeof(stolen), "%s/stolen", work);
	cr_expect_neq(access(stolen, F_OK), 0, "the protected file got a second name");
	run_free(&r);
}

/* Names with a newline, a tab, a quote, a backslash and a 0xff byte: every
 * record in WARD_LOG is one valid JSON line; the human line is one line. */
Test(fidelity, records_are_valid_json_whatever_the_name)
{
	char log[PATH_MAX + 16], log_env[PATH_MAX + 32];
	snprintf(log, sizeof(log), "%s/log.jsonl", dir);
	snprintf(log_env, sizeof(log_env), "WARD_LOG=%s", log);
	const char *argv[] = { PYTHON3, "-c",
		               "import os\nfor n in [b'/usr/a\\nb', b'/usr/t\\tq\"b\\\\s', b'/usr/x\\xffy']:\n"
		               "    try:\n        os.mkdir(n)\n    except OSError:\n        pass\n",
		               NULL };
	struct outcome o = run_in_work(argv, true, log_env);
	outcome_free(&o);
	char *text = file_read(log, NULL);
	cr_assert_not_null(text, "no log written");
	size_t lines = 0;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 3, "%s", text);
	cr_expect(pycheck_json_lines(text), "%s", text);
	cr_expect(strstr(text, "\\u000a") && strstr(text, "\\u0009") && strstr(text, "\\u00ff") && strstr(text, "\\\""),
	          "%s", text);
	free(text);
	/* the human line on stderr: one line per record */
	o = run_in_work(argv, true, NULL);
	lines = 0;
	for (const char *p = o.err; *p; p++)
		lines += *p == '\n';
	cr_expect_eq(lines, 3, "a name split a record: %s", o.err);
	outcome_free(&o);
}

/* posix_spawn's file actions run in the child, inside glibc: each is
 * decided before the spawn, in order (SPEC 5.3). */
static char *
spawned(const char *mode, const char *a, const char *b)
{
	const char *argv[] = { PROG_SPAWN_ACTIONS, mode, a, b, NULL };
	struct outcome o = run_in_work(argv, true, NULL);
	cr_expect_eq(o.code, 0, "%s: %s", mode, o.err);
	free(o.err);
	return o.out;
}

Test(fidelity, spawn_file_actions_are_decided)
{
	char *out = spawned("read", secret, NULL);
	cr_expect_str_eq(out, "spawn 13\n", "the child read the protected file: %s", out);
	free(out);
	out = spawned("truncate", secret, NULL);
	cr_expect_str_eq(out, "spawn 13\n", "%s", out);
	free(out);
	char *text = file_read(secret, NULL);
	cr_expect_str_eq(text, "top secret\n", "the protected file was truncated");
	free(text);
	out = spawned("create", "/usr/ward-spawned", NULL);
	cr_expect_str_eq(out, "spawn 13\n", "%s", out);
	free(out);
	cr_expect_neq(access("/usr/ward-spawned", F_OK), 0);
	out = spawned("chdir", dir, "secret");
	cr_expect_str_eq(out, "spawn 13\n", "a relative open after addchdir_np: %s", out);
	free(out);
	out = spawned("fchdir", dir, "secret");
	cr_expect_str_eq(out, "spawn 13\n", "a relative open after addfchdir_np: %s", out);
	free(out);
	/* a child that closes every descriptor from 3 still runs the program decided */
	out = spawned("closefrom", "3", "/bin/true");
	cr_expect_str_eq(out, "spawn 0\nstatus 0\n", "%s", out);
	free(out);
	/* a relative program is found where the child will be, as the kernel does */
	out = spawned("run", "/usr", "bin/true");
	cr_expect_str_eq(out, "spawn 0\nstatus 0\n", "%s", out);
	free(out);
	char sub[PATH_MAX + 32];
	snprintf(sub, sizeof(sub), "%s/sub", work);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/sub/bin", work);
	mkdir(sub, 0755);
	char cp[2 * PATH_MAX];
	snprintf(cp, sizeof(cp), "cp /bin/true %s/sub/bin/true", work);
	cr_assert_eq(system(cp), 0);
	snprintf(sub, sizeof(sub), "%s/sub", work);
	out = spawned("run", sub, "bin/true"); /* exec is allowed in /usr/bin and /bin only */
	cr_expect_str_eq(out, "spawn 13\n", "%s", out);
	free(out);
	/* allowed actions run as bare */
	char mine[PATH_MAX + 8];
	snprintf(mine, sizeof(mine), "%s/mine", work);
	cr_assert(file_write(mine, "mine\n", 5));
	const char *allowed[][2] = { { "read", mine }, { "chdir", work } };
	for (size_t i = 0; i < 2; i++) {
		out = spawned(allowed[i][0], allowed[i][1], i == 1 ? "mine" : NULL);
		cr_expect(strstr(out, "spawn 0\n") && strstr(out, "mine\n") && strstr(out, "status 0\n"), "%s", out);
		free(out);
	}
}

/* glibc's walkers change directory through calls no wrapper sees: a
 * relative open in a callback is decided where the walker is, so a link to
 * the protected file is refused and an ordinary file is read (issue: the
 * remembered cwd went stale). */
Test(fidelity, relative_opens_inside_walkers_that_change_directory)
{
	char p[PATH_MAX + 32], target[PATH_MAX + 8];
	const char *dirs[] = { "tree", "tree/a", "tree/b", NULL };
	for (int i = 0; dirs[i]; i++) {
		snprintf(p, sizeof(p), "%s/%s", work, dirs[i]);
		mkdir(p, 0755);
	}
	const char *files[][2] = { { "tree/a/probe", "" }, { "tree/a/data", "A\n" }, { "tree/b/probe", "" }, { NULL, NULL } };
	for (int i = 0; files[i][0]; i++) {
		snprintf(p, sizeof(p), "%s/%s", work, files[i][0]);
		cr_assert(file_write(p, files[i][1], strlen(files[i][1])));
	}
	snprintf(p, sizeof(p), "%s/tree/b/data", work);
	snprintf(target, sizeof(target), "%s", secret);
	cr_assert_eq(symlink(target, p), 0);
	const char *walkers[] = { "nftw", "fts" };
	for (int i = 0; i < 2; i++) {
		const char *argv[] = { PROG_WALK_CHDIR, walkers[i], "tree", NULL };
		struct outcome o = run_in_work(argv, true, NULL);
		cr_expect_eq(o.code, 0, "%s: %s", walkers[i], o.err);
		cr_expect(strstr(o.out, "a: A\n") != NULL, "%s: the allowed file was not read where the walker is: %s",
		          walkers[i], o.out);
		cr_expect(strstr(o.out, "b: 13\n") != NULL, "%s: the link to the protected file: %s", walkers[i], o.out);
		cr_expect(strstr(o.out, "top secret") == NULL, "%s read the protected file", walkers[i]);
		cr_expect(strstr(o.out, "cwd ok\n") != NULL, "%s: %s", walkers[i], o.out);
		outcome_free(&o);
	}
}

/* A working directory deeper than PATH_MAX is named by walking up its
 * "..", and every call from there decided on its full name: "../"×N and a
 * link to the protected file read nothing (the check once allowed when
 * getcwd failed, then refused every relative path with a "resolve"
 * record); the allowed file is read, files and directories are made,
 * renamed and removed as bare, and a write that climbs out of the write
 * tree is refused and makes nothing.  The shell that goes down there runs
 * bare; the program that starts there runs under the shim. */
Test(fidelity, a_working_directory_beyond_path_max_is_decided_on_its_full_name)
{
	char name[201], deep[PATH_MAX], cmd[4 * PATH_MAX + 2048], lib_env[PATH_MAX + 16];
	memset(name, 'd', 200);
	name[200] = '\0';
	size_t levels = 25, up = 0;
	snprintf(deep, sizeof(deep), "%s", work);
	for (size_t i = 0; i < levels; i++) { /* made bare, one level at a time */
		cr_assert_eq(chdir(i == 0 ? work : name), 0);
		cr_assert_eq(mkdir(name, 0755), 0);
	}
	cr_assert_eq(chdir(name), 0);
	cr_assert(file_write("here.txt", "here\n", 5));
	cr_assert_eq(symlink(secret, "lnk"), 0);
	cr_assert_eq(chdir("/"), 0);
	char climb[26 * 3 + 16] = "";
	for (up = 0; up < levels + 1; up++)
		strcat(climb, "../");
	char climb_work[26 * 3 + 16] = "";
	for (up = 0; up < levels; up++)
		strcat(climb_work, "../");
	climb_work[strlen(climb_work) - 1] = '\0'; /* up to work itself */
	strcat(climb, "secret");
	snprintf(lib_env, sizeof(lib_env), "LD_PRELOAD=%s", WARD_LIB);
	/* python3, bare, walks down one level at a time (a shell's cd gives up
	 * past PATH_MAX), then execs python3 under the shim there */
	snprintf(cmd, sizeof(cmd),
	         "import os\nos.chdir(%s%s%s)\nfor i in range(%zu):\n    os.chdir('%s')\n"
	         "env = dict(os.environ)\nenv['LD_PRELOAD'] = '%s'\nenv['WARD_POLICY'] = '%s'\n"
	         "prog = \"import os\\nfor p in ['%s', 'lnk', 'here.txt']:\\n    try:\\n"
	         "        print(p[-8:], open(p).read().strip())\\n    except OSError as e:\\n        print(p[-8:], e.errno)\\n"
	         "os.mkdir('sub'); open('sub/new', 'w').write('new'); os.rename('sub/new', 'sub/new2')\\n"
	         "os.chmod('sub/new2', 0o600); print(open('sub/new2').read(), os.listdir('sub'))\\n"
	         "os.unlink('sub/new2'); os.rmdir('sub'); print(sorted(os.listdir('.')))\\n"
	         "try:\\n    open('%s/../escaped', 'w')\\nexcept OSError as e:\\n    print('escape', e.errno)\\n\"\n"
	         "os.execve('%s', ['python3', '-c', prog], env)\n",
	         "'", work, "'", levels, name, lib_env + 11, policy_env + 12, climb, climb_work, PYTHON3);
	const char *argv[] = { PYTHON3, "-c", cmd, NULL };
	struct outcome o = run_in_work(argv, false, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.out, "top secret") == NULL, "the protected file was read: %s", o.out);
	cr_expect_str_eq(o.out,
	                 "./secret 13\nlnk 13\nhere.txt here\nnew ['new2']\n['here.txt', 'lnk']\nescape 13\n",
	                 "%s", o.err);
	cr_expect(strstr(o.err, "ward: denied read ") != NULL && strstr(o.err, "cannot be resolved") == NULL,
	          "%s", o.err);
	char escaped[PATH_MAX + 16];
	snprintf(escaped, sizeof(escaped), "%s/../escaped", work);
	cr_expect_neq(access(escaped, F_OK), 0, "the refused write made a file outside the write tree");
	outcome_free(&o);
}

/* `ward run` started in a working directory deeper than PATH_MAX: the
 * launcher names it (glibc walks up ".."), $CWD is that full name for the
 * whole tree, and the tree is confined by it: a file is made in $CWD, the
 * link to the protected file and a write one level up are refused, and
 * the run says so (exit 3). */
Test(fidelity, ward_run_from_beyond_path_max_confines_by_the_full_cwd)
{
	char name[201], cmd[4 * PATH_MAX], policy[PATH_MAX + 16], text[2 * PATH_MAX];
	memset(name, 'd', 200);
	name[200] = '\0';
	size_t levels = 25;
	for (size_t i = 0; i < levels; i++) { /* made bare, one level at a time */
		cr_assert_eq(chdir(i == 0 ? work : name), 0);
		cr_assert_eq(mkdir(name, 0755), 0);
	}
	cr_assert_eq(chdir(name), 0);
	cr_assert(file_write("here.txt", "here\n", 5));
	cr_assert_eq(symlink(secret, "lnk"), 0);
	cr_assert_eq(chdir("/"), 0);
	snprintf(policy, sizeof(policy), "%s/deep.ward", work);
	snprintf(text, sizeof(text),
	         "default deny\nallow ro /**\nallow rw $CWD/** /dev/null\nallow exec /usr/bin/* /bin/*\ndeny all %s\n",
	         secret);
	cr_assert(file_write(policy, text, strlen(text)));
	snprintf(cmd, sizeof(cmd),
	         "import os\nos.chdir('%s')\nfor i in range(%zu):\n    os.chdir('%s')\n"
	         "os.execv('%s', ['ward', 'run', '-s', 'none', '-p', '%s', '--', 'sh', '-c', "
	         "'echo x > new.txt && cat new.txt; cat lnk; echo y > ../sibling.txt; ls'])\n",
	         work, levels, name, WARD_EXE, policy);
	const char *argv[] = { PYTHON3, "-c", cmd, NULL };
	struct outcome o = run_in_work(argv, false, NULL);
	cr_expect_eq(o.code, 3, "%s", o.err);
	cr_expect_str_eq(o.out, "x\nhere.txt\nlnk\nnew.txt\n", "%s", o.err);
	cr_expect(strstr(o.err, "ward: denied read ") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "sibling.txt") != NULL, "the write one level up was not refused: %s", o.err);
	cr_expect(strstr(o.out, "top secret") == NULL);
	char sibling[PATH_MAX];
	size_t n = (size_t)snprintf(sibling, sizeof(sibling), "%s", work);
	for (size_t i = 0; i + 1 < levels && n + 202 < sizeof(sibling); i++)
		n += (size_t)snprintf(sibling + n, sizeof(sibling) - n, "/%s", name);
	/* (the sibling's own name is past PATH_MAX: looked for from inside) */
	cr_assert_eq(chdir(work), 0);
	for (size_t i = 0; i + 1 < levels; i++)
		cr_assert_eq(chdir(name), 0);
	cr_expect_neq(access("sibling.txt", F_OK), 0, "the refused write made a file");
	cr_assert_eq(chdir("/"), 0);
	outcome_free(&o);
}

/* From a directory deeper than the kernel names, under a policy that
 * lets the program enter and stat the deep s/ but not read, write, make or
 * run anything in it: the magic links /proc/self/cwd and /proc/self/fd/N
 * lead to a name longer than /proc gives, and are decided on it (they were
 * decided on the link's own name, and allowed: the data was read), fexecve
 * of the deep program is refused; an open there takes the lowest free
 * number as bare, and statx(fd, "", AT_EMPTY_PATH) on a deep file is what
 * fstat gives.  Two threads racing chdir and fchdir into the deep directory
 * leave the remembered working directory the kernel's (it was stale after
 * 80 of the 200 rounds: a refresh naming the deep one by its ".." walk held
 * the lock while the other's was skipped, then stored its older name). */
Test(fidelity, magic_links_and_threads_from_beyond_path_max)
{
	char policy[PATH_MAX + 16], text[3 * PATH_MAX], env_policy[PATH_MAX + 32];
	const char *setup[] = { PROG_DEEP_ROUTES, "setup", work, NULL };
	struct run_result r;
	cr_assert(run_argv(setup, NULL, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	snprintf(policy, sizeof(policy), "%s/deep.ward", work);
	snprintf(text, sizeof(text),
	         "version 1\ndefault allow\ndeny read,write,create,remove,exec %s/c/**/s/**\ndeny write,create %s/outside/**\n",
	         work, work);
	cr_assert(file_write(policy, text, strlen(text)));
	snprintf(env_policy, sizeof(env_policy), "WARD_POLICY=%s", policy);
	const char *env[] = { env_policy, NULL };
	struct run_opts o = { .env = env, .shim = true };
	const char *attempt[] = { PROG_DEEP_ROUTES, "run", work, NULL };
	cr_assert(run_argv(attempt, &o, &r));
	cr_expect_eq(run_exit_code(&r), 0, "%s", r.err);
	cr_expect_str_eq(r.out,
	                 "lowest 0\nopen 13\nproc-cwd 13\nproc-cwd-create 13\no-path 0\nproc-fd-write 13\n"
	                 "proc-fd-read 13\nstatx-empty-path 0\nfexecve 13\n",
	                 "%s", r.err);
	run_free(&r);
	const char *race[] = { PROG_DEEP_ROUTES, "threads", work, NULL };
	cr_assert(run_argv(race, &o, &r));
	cr_expect_str_eq(r.out, "stale 0\n", "%s", r.err);
	run_free(&r);
	/* the directories the walk to a deep name opens are held like an act's:
	 * a thread dup2'ing its own directory onto their numbers made the
	 * O_CREAT land there (every 3 s run) */
	const char *env_quiet[] = { env_policy, "WARD_LOG=/dev/null", NULL };
	struct run_opts quiet = { .env = env_quiet, .shim = true };
	const char *anchor[] = { PROG_DEEP_ROUTES, "anchor", work, NULL };
	cr_assert(run_argv(anchor, &quiet, &r));
	cr_expect_str_eq(r.out, "outside 0\n", "%s", r.err);
	run_free(&r);
	/* the deep data as it was, nothing made beside it (looked at bare) */
	cr_assert_eq(chdir(work), 0);
	char level[201];
	memset(level, 'd', 200);
	level[200] = '\0';
	cr_assert_eq(chdir("c"), 0);
	for (int i = 0; i < 25; i++)
		cr_assert_eq(chdir(level), 0);
	char *data = file_read("s/data.txt", NULL);
	cr_expect_str_eq(data, "deep secret\n");
	free(data);
	cr_expect_neq(access("s/made", F_OK), 0, "a file was made in the denied directory");
	cr_assert_eq(chdir("/"), 0);
}

/* The working directory's remembered name follows renames: the process's
 * own rename of a parent, and a child's `mv` of it (waited for) — files
 * made by relative name land where bare ones do (they landed in a new
 * directory that took the old name); a removed working directory is
 * ENOENT, as the kernel says (was EACCES with a "resolve" record). */
Test(fidelity, the_working_directory_is_followed_through_renames)
{
	static char script[4 * PATH_MAX];
	snprintf(script, sizeof(script),
	         "import os, subprocess\n"
	         "w = '%s'\n"
	         "os.makedirs(w + '/S/d/x'); os.chdir(w + '/S/d/x'); os.listdir('.')\n"
	         "os.rename(w + '/S/d', w + '/S/e'); os.makedirs(w + '/S/d/x')\n"
	         "open('g', 'w').write('g')\n"
	         "subprocess.run(['mv', w + '/S/e', w + '/S/f'], check=True); os.makedirs(w + '/S/e/x')\n"
	         "open('h', 'w').write('h')\n"
	         "print(sorted(os.listdir(w + '/S/f/x')), os.listdir(w + '/S/d/x'), os.listdir(w + '/S/e/x'))\n"
	         "os.makedirs(w + '/R'); os.chdir(w + '/R'); os.listdir('.'); os.rmdir(w + '/R')\n"
	         "try:\n    open('z', 'w')\nexcept OSError as e:\n    print('removed', e.errno)\n",
	         work);
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	struct outcome bare = run_in_work(argv, false, NULL);
	cr_expect_str_eq(bare.out, "['g', 'h'] [] []\nremoved 2\n", "bare: %s %s", bare.out, bare.err);
	outcome_free(&bare);
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/S'", work);
	cr_assert_eq(system(cmd), 0);
	struct outcome o = run_in_work(argv, true, NULL);
	cr_expect_str_eq(o.out, "['g', 'h'] [] []\nremoved 2\n", "%s", o.err);
	cr_expect(strstr(o.err, "ward: denied") == NULL, "%s", o.err);
	outcome_free(&o);
}

/* Entry points that take a path besides the file calls: statvfs and
 * pathconf are stats, shm_open opens a file under /dev/shm (which glibc
 * opens with a call no wrapper sees). */
Test(fidelity, statvfs_pathconf_and_shm_open_are_decided)
{
	static char script[3 * PATH_MAX];
	snprintf(script, sizeof(script),
	         "import os, _posixshmem\n"
	         "def t(what, f):\n"
	         "    try:\n        f(); print(what, 'ok')\n"
	         "    except OSError as e:\n        print(what, e.errno)\n"
	         "t('statvfs', lambda: os.statvfs('%s'))\n"
	         "t('pathconf', lambda: os.pathconf('%s', 'PC_NAME_MAX'))\n"
	         "t('statvfs-ok', lambda: os.statvfs('/etc'))\n"
	         "t('shm', lambda: _posixshmem.shm_open('/ward-test-shm', os.O_CREAT | os.O_RDWR, 0o600))\n",
	         secret, secret);
	const char *argv[] = { PYTHON3, "-c", script, NULL };
	struct outcome o = run_in_work(argv, true, NULL);
	cr_expect_str_eq(o.out, "statvfs 13\npathconf 13\nstatvfs-ok ok\nshm 13\n", "%s", o.err);
	cr_expect_neq(access("/dev/shm/ward-test-shm", F_OK), 0, "the refused shm_open made the file");
	unlink("/dev/shm/ward-test-shm");
	outcome_free(&o);
}

/* make searches PATH itself with access(X_OK) and gives up when the probe
 * says no: nothing was attempted, so no violation, but the run's summary
 * still says which probe the policy answered, and for whom. */
Test(fidelity, refused_probes_are_named_in_the_run_summary)
{
	char p[PATH_MAX + 16], policy[PATH_MAX + 16], path_env[2 * PATH_MAX];
	snprintf(p, sizeof(p), "%s/tool", work);
	cr_assert(file_write(p, "#!/bin/sh\necho tool\n", 20));
	chmod(p, 0755);
	snprintf(p, sizeof(p), "%s/Makefile", work);
	cr_assert(file_write(p, "all:\n\ttool\n", 11));
	snprintf(policy, sizeof(policy), "%s", policy_env + strlen("WARD_POLICY="));
	snprintf(path_env, sizeof(path_env), "PATH=%s:/usr/bin:/bin", work);
	const char *argv[] = { WARD_EXE, "run", "-s", "none", "-p", policy, "--", "make", NULL };
	const char *env[] = { path_env, NULL };
	struct run_opts o = { .env = env, .cwd = work };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_expect_neq(run_exit_code(&r), 0);
	cr_expect(strstr(r.err, "access() probe") != NULL && strstr(r.err, "probed exec ") != NULL &&
	          strstr(r.err, "/work/tool") != NULL && strstr(r.err, "[make]") != NULL,
	          "the refused probe is not in the summary: %s", r.err);
	run_free(&r);
}

/* dash's sh -c execs from a vfork child: a refused exec there is in the
 * run's figures (it was lost: the child counts nothing of its own). */
Test(fidelity, a_refused_exec_in_a_vfork_child_is_in_the_figures)
{
	char policy[PATH_MAX + 16], text[2 * PATH_MAX], report[PATH_MAX + 16];
	snprintf(policy, sizeof(policy), "%s/noexec.ward", dir);
	snprintf(text, sizeof(text), "default deny\nallow ro /**\nallow rw %s/** /dev/null\n"
	         "allow exec /bin/sh /usr/bin/sh /usr/bin/dash /bin/dash\n", work);
	cr_assert(file_write(policy, text, strlen(text)));
	snprintf(report, sizeof(report), "%s/report.txt", dir);
	const char *argv[] = { WARD_EXE, "run", "-s", report, "-f", "text", "-p", policy, "--", "/bin/sh", "-c",
		               "cp /etc/hostname copy; true", NULL };
	struct run_opts o = { .cwd = work };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_expect_eq(run_exit_code(&r), 3, "%s", r.err);
	char *figures = file_read(report, NULL);
	cr_assert_not_null(figures);
	const char *row = strstr(figures, "  execve\n");
	unsigned long calls = 0, errors = 0, denied = 0;
	cr_assert_not_null(row, "%s", figures);
	const char *line = row;
	while (line > figures && line[-1] != '\n')
		line--;
	cr_assert_eq(sscanf(line, "%lu %lu %lu", &calls, &errors, &denied), 3, "%s", figures);
	cr_expect_geq(denied, 1, "the refused exec is not in the figures: %s", figures);
	free(figures);
	run_free(&r);
}
