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
 *
 * Raw system calls are seen too (Syscall User Dispatch, shim/rawsys.c):
 * refused by the same decisions as libc's calls, named in the run's
 * summary as raw system calls, from every thread, fork child and exec'd
 * image, whatever the program does to SIGSYS; allowed ones give the
 * kernel's answer.  Processes only the kernel holds are counted.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
	copy(PROG_RAW_CALLS, "bin/raw_calls");
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

/* ---- raw system calls seen (Syscall User Dispatch) ---- */

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif

/* Why these tests cannot run here, or NULL.  Dispatch with an empty
 * allowed region: the child's next system call (_exit) is its SIGSYS. */
static const char *
dispatch_missing(void)
{
	if (syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL) < 0)
		return "this kernel has no Landlock";
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0UL, 0UL, NULL);
		_exit(1);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS ? NULL : "this kernel has no Syscall User Dispatch";
}

#define NEEDS_DISPATCH()                                   \
	do {                                               \
		const char *missing_ = dispatch_missing(); \
		if (missing_ != NULL)                      \
			cr_skip_test("%s", missing_);      \
	} while (0)

/* ward run --strict -p p.ward [--log LOG] -- ./bin/raw_calls OP [A [B]] */
static struct run_result
raw_calls(const char *log, const char *op, const char *a, const char *b)
{
	const char *args[16];
	size_t n = 0;
	args[n++] = "run", args[n++] = "--strict", args[n++] = "-s", args[n++] = "none", args[n++] = "-p",
	args[n++] = "p.ward";
	if (log != NULL)
		args[n++] = "--log", args[n++] = log;
	args[n++] = "--", args[n++] = "./bin/raw_calls", args[n++] = op;
	if (a != NULL)
		args[n++] = a;
	if (b != NULL)
		args[n++] = b;
	args[n] = NULL;
	return ward(args);
}

/* The summary's line for a raw refusal of op on path. */
static void
expect_raw_refusal(const struct run_result *r, const char *op, const char *path)
{
	char line[PATH_MAX + 200];
	snprintf(line, sizeof(line), "denied %s %s by default deny (raw syscall, a system call made outside libc) [raw_calls]",
	         op, path);
	cr_expect(strstr(r->err, line) != NULL, "no summary line '%s' in: %s", line, r->err);
	cr_expect_eq(run_exit_code(r), 3, "exit %d (the program exited 0): %s", run_exit_code(r), r->err);
}

static char *
path_of(const char *name)
{
	static char paths[4][PATH_MAX];
	static int next;
	char *p = paths[next++ % 4];
	snprintf(p, PATH_MAX, "%s", in_dir(name));
	return p;
}

Test(strict, raw_openat_of_a_denied_file_is_refused_and_recorded)
{
	NEEDS_DISPATCH();
	char *secret = path_of("secret"), *log = path_of("log.jsonl");
	struct run_result r = raw_calls(NULL, "open", secret, NULL);
	cr_expect(strstr(r.out, "open ") != NULL && strstr(r.out, ": Permission denied") != NULL, "%s", r.out);
	expect_raw_refusal(&r, "read", secret);
	cr_expect(strstr(r.err, " (openat, raw syscall outside libc) by default deny [pid ") != NULL, "record: %s", r.err);
	run_free(&r);
	/* the JSON record: the system call's name, and how it was made */
	r = raw_calls(log, "open", secret, NULL);
	size_t len;
	char *text = file_read(log, &len);
	cr_assert(text != NULL, "no log");
	cr_expect(strstr(text, "\"call\":\"openat\",\"via\":\"raw syscall\",\"op\":\"read\"") != NULL, "%s", text);
	free(text);
	run_free(&r);
}

Test(strict, raw_mkdir_unlink_rename_outside_change_nothing)
{
	NEEDS_DISPATCH();
	put("victim", "keep me\n");
	char *made = path_of("made"), *victim = path_of("victim"), *moved = path_of("work/moved");
	struct run_result r = raw_calls(NULL, "mkdir", made, NULL);
	expect_raw_refusal(&r, "create", made);
	cr_expect_not(exists("made"));
	run_free(&r);
	r = raw_calls(NULL, "unlink", victim, NULL);
	expect_raw_refusal(&r, "remove", victim);
	cr_expect(exists("victim"), "unlinked outside the allowed tree");
	run_free(&r);
	r = raw_calls(NULL, "rename", victim, moved);
	expect_raw_refusal(&r, "read,remove", victim); /* what is moved must be readable too */
	cr_expect(exists("victim") && !exists("work/moved"), "renamed out of a denied place");
	run_free(&r);
}

Test(strict, raw_allowed_read_returns_the_bytes)
{
	NEEDS_DISPATCH();
	put("work/data", "hello raw\n");
	char *data = path_of("work/data"), want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "read %s: ok hello raw\n", data);
	const char *ways[] = { "read", "smallthread" };
	for (size_t i = 0; i < 2; i++) {
		struct run_result r = raw_calls(NULL, ways[i], data, NULL);
		cr_expect(strstr(r.out, want) != NULL, "%s: out: %s", ways[i], r.out);
		cr_expect_eq(run_exit_code(&r), 0, "%s: exit %d: %s", ways[i], run_exit_code(&r), r.err);
		cr_expect(strstr(r.err, "denied") == NULL, "%s", r.err);
		run_free(&r);
	}
}

/* Dispatch is per thread and is not inherited by a new thread, a fork
 * child or a new image: each is caught all the same (a thread on a 32 KiB
 * stack too, which the signal frame and the handler share). */
Test(strict, raw_calls_of_threads_fork_children_and_new_images_are_caught)
{
	NEEDS_DISPATCH();
	char *secret = path_of("secret");
	const char *ways[] = { "thread", "smallthread", "fork", "rawfork", "exec" };
	for (size_t i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		struct run_result r = raw_calls(NULL, ways[i], secret, NULL);
		cr_expect(strstr(r.out, ": Permission denied") != NULL, "%s: %s", ways[i], r.out);
		expect_raw_refusal(&r, "read", secret);
		run_free(&r);
	}
}

/* A raw execve is decided like execve: a program outside the exec rules
 * does not start; one inside does. */
Test(strict, raw_execve_is_decided)
{
	NEEDS_DISPATCH();
	copy(PROG_RAW_CALLS, "elsewhere");
	char *elsewhere = path_of("elsewhere"), *inside = path_of("bin/raw_calls"), want[PATH_MAX + 64];
	struct run_result r = raw_calls(NULL, "rawexec", elsewhere, NULL);
	cr_expect(strstr(r.out, ": Permission denied") != NULL, "%s", r.out);
	expect_raw_refusal(&r, "exec", elsewhere);
	run_free(&r);
	r = raw_calls(NULL, "rawexec", inside, NULL);
	snprintf(want, sizeof(want), "read /dev/null: ok");
	cr_expect(strstr(r.out, want) != NULL, "the program did not start: %s %s", r.out, r.err);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d: %s", run_exit_code(&r), r.err);
	run_free(&r);
}

/* A program that installs its own SIGSYS handler (sigaction and raw
 * rt_sigaction) and blocks SIGSYS (sigprocmask and raw rt_sigprocmask) is
 * told it did, and is caught all the same. */
Test(strict, taking_sigsys_does_not_escape)
{
	NEEDS_DISPATCH();
	char *secret = path_of("secret");
	struct run_result r = raw_calls(NULL, "handler", secret, NULL);
	cr_expect(strstr(r.out, "sigaction: own handler reported\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "rt_sigaction SIGSYS: ok\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "rt_sigprocmask SIGSYS: ok\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, ": Permission denied\n") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "program's SIGSYS handler did not run") != NULL, "%s", r.out);
	expect_raw_refusal(&r, "read", secret);
	run_free(&r);
}

/* Turning dispatch off (prctl through libc or raw) is refused with a
 * record: the raw open after it is still caught. */
Test(strict, turning_dispatch_off_is_refused)
{
	NEEDS_DISPATCH();
	char *secret = path_of("secret");
	struct run_result r = raw_calls(NULL, "undispatch", secret, NULL);
	cr_expect(strstr(r.out, "prctl dispatch off: Operation not permitted\nraw prctl dispatch off: Operation not permitted\n")
	                  != NULL,
	          "%s", r.out);
	cr_expect(strstr(r.out, "undispatch ") != NULL && strstr(r.out, ": Permission denied") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "ward:       1 denied syscalls PR_SET_SYSCALL_USER_DISPATCH by prctl PR_SET_SYSCALL_USER_DISPATCH "
	                        "under --strict [raw_calls]") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "ward:       1 denied syscalls PR_SET_SYSCALL_USER_DISPATCH by prctl PR_SET_SYSCALL_USER_DISPATCH "
	                        "under --strict (raw syscall, a system call made outside libc) [raw_calls]") != NULL, "%s", r.err);
	expect_raw_refusal(&r, "read", secret);
	run_free(&r);
}

/* A SIGSYS that is not dispatch's (kill) reaches the handler the program
 * installed, under --strict (the shim passes it on) and without. */
Test(strict, a_sigsys_of_its_own_reaches_the_program)
{
	NEEDS_DISPATCH();
	struct run_result r = raw_calls(NULL, "killsys", NULL, NULL);
	cr_expect(strstr(r.out, "killsys: program's SIGSYS handler ran") != NULL, "%s %s", r.out, r.err);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d: %s", run_exit_code(&r), r.err);
	run_free(&r);
	const char *plain[] = { "run", "-s", "none", "-p", "p.ward", "--", "./bin/raw_calls", "killsys", NULL };
	r = ward(plain);
	cr_expect(strstr(r.out, "killsys: program's SIGSYS handler ran") != NULL, "%s %s", r.out, r.err);
	run_free(&r);
}

/* A signal handler that returns through the program's own trampoline (a
 * raw rt_sigreturn, as Go's runtime does). */
Test(strict, own_signal_trampoline_returns)
{
	NEEDS_DISPATCH();
	struct run_result r = raw_calls(NULL, "trampoline", NULL, NULL);
	cr_expect(strstr(r.out, "trampoline SIGUSR1: ok handler ran and returned") != NULL, "%s %s", r.out, r.err);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d: %s", run_exit_code(&r), r.err);
	run_free(&r);
}

/* A thread made by a raw clone cannot be watched: refused, with a record. */
Test(strict, raw_clone_of_a_thread_is_refused_with_a_record)
{
	NEEDS_DISPATCH();
	struct run_result r = raw_calls(NULL, "clone", NULL, NULL);
	cr_expect(strstr(r.out, "clone CLONE_VM: Operation not permitted") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "denied clone a thread made outside libc by raw clone") != NULL, "%s", r.err);
	cr_expect_eq(run_exit_code(&r), 3, "exit %d: %s", run_exit_code(&r), r.err);
	run_free(&r);
}

/* A raw clone sharing the descriptor table but not memory: refused as
 * through libc (test_routes), with a record. */
Test(strict, raw_clone_sharing_the_descriptor_table_is_refused_with_a_record)
{
	NEEDS_DISPATCH();
	struct run_result r = raw_calls(NULL, "clone-files", NULL, NULL);
	cr_expect(strstr(r.out, "clone CLONE_FILES: Operation not permitted") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "denied clone CLONE_FILES without CLONE_VM") != NULL, "%s", r.err);
	cr_expect_eq(run_exit_code(&r), 3, "exit %d: %s", run_exit_code(&r), r.err);
	run_free(&r);
}

/* Real programs under dispatch: a shell, python3 with a thread, a child
 * process and extension modules (dlopen: the loader's own system calls
 * are raw ones), perl. */
Test(strict, shell_python_and_perl_run_normally)
{
	NEEDS_DISPATCH();
	const char *script = "import threading, subprocess, json, ssl\n"
	                     "t = threading.Thread(target=lambda: open('t.txt', 'w').write('from a thread'))\n"
	                     "t.start(); t.join()\n"
	                     "print(subprocess.run(['sh', '-c', 'cat t.txt; echo'], capture_output=True, text=True).stdout, end='')\n"
	                     "print(json.dumps({'ok': True}))\n";
	char work[PATH_MAX], command[1024];
	snprintf(work, sizeof(work), "%s", in_dir("work"));
	snprintf(command, sizeof(command), "%s -c \"$0\" && perl -e 'print qq(perl ok\\n)' && echo sh ok", PYTHON3);
	const char *args[] = { "run", "--strict", "-s", "none", "-p", EXAMPLES "/build.ward", "--", "sh", "-c", command,
		               script, NULL };
	struct run_result r = ward_in(work, args, NULL);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; out %s err %s", run_exit_code(&r), r.out, r.err);
	cr_expect(strstr(r.out, "from a thread\n{\"ok\": true}\nperl ok\nsh ok\n") != NULL, "out: %s err: %s", r.out, r.err);
	run_free(&r);
}

/* Processes only the kernel holds (a static program, allowed by
 * unconfined-exec) are counted in the summary, whether the tree or the
 * launcher started them. */
Test(strict, kernel_confined_processes_are_counted)
{
	NEEDS_DISPATCH();
	const char *args[] = { "run", "--strict", "-s", "none", "-p", "p.ward", "--", "sh", "-c",
		               "./bin/raw_probe_static read /etc/hostname; ./bin/raw_probe_static read /etc/hostname", NULL };
	struct run_result r = ward(args);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; err %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "ward:       2 processes ran kernel-confined only") != NULL, "%s", r.err);
	char line[PATH_MAX + 128];
	snprintf(line, sizeof(line), "kernel-confined exec %s by unconfined-exec (statically linked; kernel-confined) [sh]",
	         in_dir("bin/raw_probe_static"));
	cr_expect(strstr(r.err, line) != NULL, "no '%s' in %s", line, r.err);
	run_free(&r);
	const char *top[] = { "run", "--strict", "-s", "none", "-p", "p.ward", "--", "./bin/raw_probe_static", "read",
		              "/etc/hostname", NULL };
	r = ward(top);
	cr_expect_eq(run_exit_code(&r), 0, "exit %d; err %s", run_exit_code(&r), r.err);
	cr_expect(strstr(r.err, "ward:       1 process ran kernel-confined only") != NULL, "%s", r.err);
	run_free(&r);
}
