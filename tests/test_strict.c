/*
 * test_strict: `ward run --strict` holds the whole tree to the policy
 * through the kernel (Landlock, SPEC 5.6; issue 13).
 *
 * What escapes the shim is refused by the kernel: a static program, an
 * inline-assembly `syscall` in a dynamically linked one, and libc's open
 * fetched with dlsym(RTLD_NEXT) can neither write outside the allowed
 * tree nor read a file outside the read trees (EACCES, nothing made),
 * while the allowed work still succeeds (a real make + gcc build under
 * examples/build.ward).  Also: `ward check --strict`, `strict on`, a tree
 * that does not exist yet, and error 125 on a kernel without Landlock
 * (a seccomp filter makes landlock_create_ruleset fail with ENOSYS).
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
put(const char *name, const char *text)
{
	cr_assert(file_write(in_dir(name), text, strlen(text)));
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
exists(const char *name)
{
	struct stat st;
	return lstat(in_dir(name), &st) == 0;
}

/* The system is readable, $CWD/work writable, programs in $CWD runnable;
 * $CWD itself (the secret, the file outside) is neither (exec rules are
 * for $CWD/bin: the kernel opens a program for reading to run it, so an
 * exec tree is a read tree for the kernel). */
static void
setup(void)
{
	dir = tmpdir_make();
	mkdir(in_dir("work"), 0755);
	put("secret", "the secret\n");
	put("p.ward", "version 1\ninclude " EXAMPLES "/base.ward\nallow rw $CWD/work/**\nallow exec $CWD/bin/*\n"
	              "unconfined-exec allow\n");
	mkdir(in_dir("bin"), 0755);
	copy(PROG_RAW_PROBE, "bin/raw_probe");
	copy(PROG_RAW_PROBE_STATIC, "bin/raw_probe_static");
	copy(PROG_DLSYM_PROBE, "bin/dlsym_probe");
	copy(PROG_STATIC_WRITER, "bin/static_writer");
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(strict, .init = setup, .fini = teardown, .timeout = 120);

/* ward ARGS... in dir (its $CWD). */
static struct run_result
ward_in(const char *cwd, const char *const args[], const char *first)
{
	const char *argv[40];
	size_t n = 0;
	if (first != NULL)
		argv[n++] = first;
	argv[n++] = WARD_EXE;
	for (size_t i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	const char *malloc_env = getenv("WARD_TEST_MALLOC");
	char env_entry[64];
	snprintf(env_entry, sizeof(env_entry), "WARD_MALLOC=%s", malloc_env ? malloc_env : "jemalloc");
	const char *env[] = { env_entry, NULL };
	struct run_opts o = { .env = env, .cwd = cwd, .timeout_ms = 100000 };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out, "ward hung");
	return r;
}

static struct run_result
ward(const char *const args[])
{
	return ward_in(dir, args, NULL);
}

/* One probe under --strict: the read of the secret and the write outside
 * are refused by the kernel; the write inside work/ goes through. */
static void
probe_is_held(const char *probe)
{
	char secret[PATH_MAX], outside[PATH_MAX], inside[PATH_MAX];
	snprintf(secret, sizeof(secret), "%s", in_dir("secret"));
	snprintf(outside, sizeof(outside), "%s", in_dir("outside"));
	snprintf(inside, sizeof(inside), "%s", in_dir("work/inside"));
	const char *read_args[] = { "run", "--strict", "-s", "none", "-p", "p.ward", "--", probe, "read", secret, NULL };
	struct run_result r = ward(read_args);
	cr_expect_eq(run_exit_code(&r), 1, "%s read: exit %d; out %s err %s", probe, run_exit_code(&r), r.out, r.err);
	cr_expect(strstr(r.out, "Permission denied") != NULL, "%s read: %s", probe, r.out);
	cr_expect(strstr(r.err, "ward: strict: kernel backs ") != NULL, "no first line: %s", r.err);
	run_free(&r);

	const char *write_args[] = { "run", "--strict", "-s", "none", "-p", "p.ward", "--", probe, "write", outside, NULL };
	r = ward(write_args);
	cr_expect_eq(run_exit_code(&r), 1, "%s write: exit %d; out %s err %s", probe, run_exit_code(&r), r.out, r.err);
	cr_expect(strstr(r.out, "Permission denied") != NULL, "%s write: %s", probe, r.out);
	cr_expect_not(exists("outside"), "%s wrote outside the allowed tree", probe);
	run_free(&r);

	const char *ok_args[] = { "run", "--strict", "-s", "none", "-p", "p.ward", "--", probe, "write", inside, NULL };
	r = ward(ok_args);
	cr_expect_eq(run_exit_code(&r), 0, "%s inside: exit %d; out %s err %s", probe, run_exit_code(&r), r.out, r.err);
	cr_expect(exists("work/inside"), "%s could not write in the allowed tree", probe);
	run_free(&r);
	unlink(in_dir("work/inside"));
}

Test(strict, static_program_is_held_by_the_kernel)
{
	probe_is_held("./bin/raw_probe_static");
}

Test(strict, raw_syscall_instruction_is_held_by_the_kernel)
{
	probe_is_held("./bin/raw_probe");
}

Test(strict, dlsym_rtld_next_open_is_held_by_the_kernel)
{
	probe_is_held("./bin/dlsym_probe");
}

/* Without --strict the raw instruction really escapes the shim: the test
 * above is about something. */
Test(strict, without_strict_the_raw_syscall_escapes)
{
	char secret[PATH_MAX];
	snprintf(secret, sizeof(secret), "%s", in_dir("secret"));
	const char *args[] = { "run", "-s", "none", "-p", "p.ward", "--", "./bin/raw_probe", "read", secret, NULL };
	struct run_result r = ward(args);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; out %s err %s", run_exit_code(&r), r.out, r.err);
	cr_expect(strstr(r.out, "ok") != NULL, "%s", r.out);
	run_free(&r);
}

/* A static program's children are held too, and unconfined-exec deny
 * still refuses the static program before it starts. */
Test(strict, unconfined_exec_still_decides)
{
	put("deny.ward", "version 1\ninclude " EXAMPLES "/base.ward\nallow rw $CWD/work/**\nallow exec $CWD/bin/*\n");
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s", in_dir("work/out"));
	const char *args[] = { "run", "--strict", "-s", "none", "-p", "deny.ward", "--", "./bin/static_writer", target, NULL };
	struct run_result r = ward(args);
	cr_expect_eq(run_exit_code(&r), 126, "exit %d; err %s", run_exit_code(&r), r.err);
	cr_expect_not(exists("work/out"));
	run_free(&r);
	put("audit.ward", "version 1\ninclude " EXAMPLES "/base.ward\nallow rw $CWD/work/**\nallow exec $CWD/bin/*\n"
	                  "unconfined-exec audit\n");
	const char *audit[] = { "run", "--strict", "-s", "none", "-p", "audit.ward", "--no-fail", "--", "./bin/static_writer",
		                target, NULL };
	r = ward(audit);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; err %s", run_exit_code(&r), r.err);
	cr_expect(exists("work/out"), "the audited static program did not run");
	cr_expect(strstr(r.err, "kernel-confined") != NULL, "record: %s", r.err);
	run_free(&r);
}

/* `strict on` in the policy is --strict; a bad value is FILE:LINE:COL. */
Test(strict, strict_directive)
{
	put("on.ward", "version 1\ninclude p.ward\nstrict on\n");
	char outside[PATH_MAX];
	snprintf(outside, sizeof(outside), "%s", in_dir("outside"));
	const char *args[] = { "run", "-s", "none", "-p", "on.ward", "--", "./bin/raw_probe", "write", outside, NULL };
	struct run_result r = ward(args);
	cr_expect_eq(run_exit_code(&r), 1, "exit %d; out %s err %s", run_exit_code(&r), r.out, r.err);
	cr_expect(strstr(r.err, "ward: strict: kernel backs ") != NULL, "%s", r.err);
	cr_expect_not(exists("outside"));
	run_free(&r);
	put("bad.ward", "version 1\nstrict maybe\n");
	const char *check[] = { "check", "bad.ward", NULL };
	r = ward(check);
	cr_expect_eq(run_exit_code(&r), 1);
	cr_expect(strstr(r.err, "bad.ward:2:8: error: expected on or off, got 'maybe'") != NULL, "%s", r.err);
	run_free(&r);
}

Test(strict, check_strict_says_what_the_kernel_backs)
{
	put("c.ward", "version 1\ndefault deny\nallow ro /usr/**\nallow stat /**\nallow rw $CWD/work/**\n"
	              "allow read $CWD/work/*.c\ndeny write $CWD/work/keep/**\ndeny read /etc/shadow\n");
	const char *args[] = { "check", "--strict", "c.ward", NULL };
	struct run_result r = ward(args);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; err %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.out, "c.ward: ok (6 rules)") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "c.ward: strict: kernel backs 4 of 6 rules (Landlock ABI ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "shim only: c.ward:4 (stat") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "c.ward:7 (deny inside an allowed tree)") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "c.ward:6 allow ") != NULL && strstr(r.out, "kernel, widened") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "c.ward:8 deny /etc/shadow: kernel") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "ruleset: handles execute,write_file,read_file,read_dir") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "  /usr: read_file,read_dir") != NULL, "%s", r.out);
	run_free(&r);
}

/* A tree the policy lets the run create is made before it starts (the
 * kernel binds rules to what exists); one it may not create gets none. */
Test(strict, missing_tree_is_made_when_the_policy_lets_the_run_make_it)
{
	put("m.ward", "version 1\ninclude p.ward\nallow rw $CWD/build/**\nallow rw $CWD/nope/deeper/**\n");
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s", in_dir("build/out"));
	const char *args[] = { "run", "--strict", "-s", "none", "-p", "m.ward", "--", "./bin/raw_probe_static", "write", target,
		               NULL };
	struct run_result r = ward(args);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; out %s err %s", run_exit_code(&r), r.out, r.err);
	cr_expect(exists("build/out"));
	cr_expect_not(exists("nope"), "made a directory the policy does not let the run create");
	run_free(&r);
}

Test(strict, no_landlock_is_error_125)
{
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s", in_dir("work/out"));
	const char *args[] = { "run", "--strict", "-s", "none", "-p", "p.ward", "--", "./bin/static_writer", target, NULL };
	struct run_result r = ward_in(dir, args, PROG_NO_LANDLOCK);
	cr_expect_eq(run_exit_code(&r), 125, "exit %d; err %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "ward: --strict: this kernel offers no Landlock") != NULL, "%s", r.err);
	cr_expect_not(exists("work/out"), "ran without the kernel layer");
	run_free(&r);
	const char *audit[] = { "run", "--strict", "--audit", "-s", "none", "-p", "p.ward", "--", "true", NULL };
	r = ward(audit);
	cr_expect_eq(run_exit_code(&r), 125, "exit %d; err %s", run_exit_code(&r), r.err);
	run_free(&r);
}

/* A real build under --strict: make, the shell, gcc's cc1, as and ld. */
Test(strict, make_and_gcc_build_under_strict)
{
	put("work/hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello strict\"); return 0; }\n");
	put("work/Makefile", "hello: hello.o\n\t$(CC) -o $@ hello.o\nhello.o: hello.c\n\t$(CC) -O0 -c hello.c\n"
	                     "check: hello\n\t./hello > out.txt\n\tgrep -q 'hello strict' out.txt\n");
	char work[PATH_MAX];
	snprintf(work, sizeof(work), "%s", in_dir("work"));
	const char *args[] = { "run", "--strict", "-s", "none", "-p", EXAMPLES "/build.ward", "--", "make", "check", NULL };
	struct run_result r = ward_in(work, args, NULL);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; out %s err %s", run_exit_code(&r), r.out, r.err);
	cr_expect(exists("work/hello") && exists("work/out.txt"), "the build made nothing: %s", r.err);
	run_free(&r);
}
