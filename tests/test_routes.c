/*
 * test_routes: the ways to a file that are not a plain path argument, tried
 * by real programs under a policy that protects a file (secret) and a tree
 * (secretdir/): libc's syscall(), Unix socket addresses, file handles,
 * personality(READ_IMPLIES_EXEC) under memory wx deny, chroot, fts_children
 * and dlopen.  A refused route fails with the errno a user would see, leaves
 * the protected files unread (no secret byte in the output), untouched
 * (bytes and mode) and nothing created, and writes a violation record; the
 * same route on an allowed file behaves exactly as without the shim.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dumps.h"
#include "fsutil.h"
#include "run.h"
#include "shimrun.h"

static char *dir;
static char policy_env[PATH_MAX + 16];
static char path_buf[64][PATH_MAX];
static int path_next;

/* dir/name, in one of many rotating buffers (a test builds tables of them). */
static const char *
in_dir(const char *name)
{
	char *p = path_buf[path_next++ % 64];
	path_in(p, dir, name);
	return p;
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

static void
setup(void)
{
	dir = tmpdir_make();
	unsetenv("LD_LIBRARY_PATH"); /* meson's would come after a test's own, and the loader takes the last */
	mkdir(in_dir("work"), 0755);
	mkdir(in_dir("secretdir"), 0755);
	put("secret", "top secret\n");
	chmod(in_dir("secret"), 0640);
	put("secretdir/inner", "inner secret\n");
	put("work/input", "input\n");
	char text[4 * PATH_MAX];
	snprintf(text, sizeof(text),
	         "version 1\n"
	         "default deny\n"
	         "allow ro /**\n"
	         "allow rw /dev/null /dev/tty\n"
	         "allow exec /usr/bin/* /bin/*\n"
	         "allow rw %s/work/**\n"
	         "deny all %s/secret %s/secretdir/**\n"
	         "memory wx deny\n",
	         dir, dir, dir);
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

/* Run argv in dir/work: under the shim with the policy (confined), under
 * the shim without a policy (observed), or bare. */
enum how { CONFINED, OBSERVED, BARE };

static struct outcome
run_as(enum how how, const char *const argv[], const char *extra)
{
	const char *env[] = { how == CONFINED ? policy_env : extra, how == CONFINED ? extra : NULL, NULL };
	char cwd[PATH_MAX];
	path_in(cwd, dir, "work");
	struct run_opts o = { .env = env, .shim = how != BARE, .cwd = cwd };
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

/* The protected files are as setup left them, and nothing leaked out. */
static void
expect_untouched(const struct outcome *o)
{
	char *secret = file_read(in_dir("secret"), NULL), *inner = file_read(in_dir("secretdir/inner"), NULL);
	struct stat st;
	cr_expect_str_eq(secret ? secret : "", "top secret\n");
	cr_expect_str_eq(inner ? inner : "", "inner secret\n");
	cr_expect(stat(in_dir("secret"), &st) == 0 && (st.st_mode & 07777) == 0640, "secret's mode changed");
	cr_expect(strstr(o->out, "secret\n") == NULL, "secret bytes in the output: %s", o->out);
	free(secret);
	free(inner);
}

static void
expect_refused(const struct outcome *o, const char *line, const char *record)
{
	cr_expect(strstr(o->out, line) != NULL, "no '%s' in: %s (stderr: %s)", line, o->out, o->err);
	cr_expect(strstr(o->err, record) != NULL, "no '%s' record in: %s", record, o->err);
	expect_untouched(o);
}

/* The allowed route: exactly what the program does without the shim. */
static void
expect_as_bare(const char *const argv[], const char *extra)
{
	struct outcome bare = run_as(BARE, argv, extra), confined = run_as(CONFINED, argv, extra);
	cr_expect_eq(confined.code, bare.code, "%s: exit %d, bare %d", argv[1], confined.code, bare.code);
	cr_expect_str_eq(confined.out, bare.out, "%s: differs from bare", argv[1]);
	cr_expect(strstr(confined.err, "ward: ") == NULL, "%s: %s", argv[1], confined.err);
	outcome_free(&bare);
	outcome_free(&confined);
}

TestSuite(routes, .init = setup, .fini = teardown, .timeout = 60);

/* `ward run -s none -p dir/NAME -- argv...` in dir/work, NAME written from
 * text first (its programs may run from anywhere). */
static struct outcome
ward_run(const char *name, const char *text, const char *const cmd[])
{
	put(name, text);
	const char *argv[32] = { WARD_EXE, "run", "-s", "none", "-p", in_dir(name), "--" };
	size_t n = 7;
	for (size_t i = 0; cmd[i] != NULL && n < 31; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	char cwd[PATH_MAX];
	path_in(cwd, dir, "work");
	struct run_opts o = { .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r), "could not start ward run");
	struct outcome oc = { run_exit_code(&r), strdup(r.out), strdup(r.err) };
	run_free(&r);
	return oc;
}

/* The test's policy with every program allowed to run. */
static const char *
exec_policy(void)
{
	static char text[4 * PATH_MAX];
	snprintf(text, sizeof(text),
	         "version 1\ndefault deny\nallow ro,exec /**\nallow rw /dev/null\nallow rw %s/work/**\n"
	         "deny all %s/secret %s/secretdir/**\n",
	         dir, dir, dir);
	return text;
}

/* ---- syscall() ---- */

Test(routes, syscall_openat_of_the_secret_fails_with_eacces)
{
	const char *modes[] = { "read", "open", "openat2" };
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = { PROG_SYSCALL_ROUTE, modes[i], in_dir("secret"), NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d", modes[i], EACCES);
		expect_refused(&o, line, "ward: denied read");
		cr_expect(strstr(o.err, "(syscall)") != NULL, "the record names the call: %s", o.err);
		outcome_free(&o);
	}
	const char *inner[] = { PROG_SYSCALL_ROUTE, "read", "../secretdir/inner", NULL };
	struct outcome o = run_as(CONFINED, inner, NULL);
	expect_refused(&o, "read: result -1 errno 13", "ward: denied read");
	outcome_free(&o);
}

Test(routes, syscall_cannot_create_outside)
{
	const char *const calls[][4] = {
		{ PROG_SYSCALL_ROUTE, "creat", in_dir("made"), NULL },
		{ PROG_SYSCALL_ROUTE, "mkdir", in_dir("made"), NULL },
		{ PROG_SYSCALL_ROUTE, "symlink", "work", in_dir("made") },
		{ PROG_SYSCALL_ROUTE, "creat", in_dir("secretdir/made"), NULL },
	};
	for (size_t i = 0; i < 4; i++) {
		struct outcome o = run_as(CONFINED, calls[i], NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno 13", calls[i][1]);
		expect_refused(&o, line, "ward: denied ");
		cr_expect(!exists("made") && !exists("secretdir/made"), "%s created a file", calls[i][1]);
		outcome_free(&o);
	}
}

Test(routes, syscall_cannot_change_the_secret)
{
	const char *const calls[][4] = {
		{ PROG_SYSCALL_ROUTE, "unlink", in_dir("secret"), NULL },
		{ PROG_SYSCALL_ROUTE, "chmod", in_dir("secret"), NULL },
		{ PROG_SYSCALL_ROUTE, "truncate", in_dir("secret"), NULL },
		{ PROG_SYSCALL_ROUTE, "rename", in_dir("secret"), in_dir("work/stolen") },
		{ PROG_SYSCALL_ROUTE, "link", in_dir("secret"), in_dir("work/stolen") },
		{ PROG_SYSCALL_ROUTE, "rmdir", in_dir("secretdir"), NULL },
	};
	for (size_t i = 0; i < 6; i++) {
		struct outcome o = run_as(CONFINED, calls[i], NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno 13", calls[i][1]);
		expect_refused(&o, line, "ward: denied ");
		cr_expect(!exists("work/stolen"), "%s: work/stolen exists", calls[i][1]);
		outcome_free(&o);
	}
}

/* Calls on a descriptor of the secret (inherited, write-only, append):
 * decided on the descriptor's file, as fchmod and friends are. */
Test(routes, syscall_on_a_descriptor_of_the_secret_is_refused)
{
	const char *modes[] = { "fd-link", "fd-chmod", "fd-chown", "fd-truncate", "fd-utimens" };
	struct stat before, after;
	cr_assert_eq(stat(in_dir("secret"), &before), 0);
	for (size_t i = 0; i < 5; i++) {
		const char *argv[] = { PROG_SYSCALL_ROUTE, modes[i], "stolen", NULL };
		const char *env[] = { policy_env, NULL };
		char cwd[PATH_MAX];
		path_in(cwd, dir, "work");
		struct run_opts o = { .env = env, .shim = true, .cwd = cwd, .extra_fd = 7,
		                      .extra_fd_path = in_dir("secret") };
		struct run_result r;
		cr_assert(run_argv(argv, &o, &r));
		struct outcome oc = { run_exit_code(&r), strdup(r.out), strdup(r.err) };
		run_free(&r);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno 13", modes[i]);
		expect_refused(&oc, line, "ward: denied ");
		cr_expect(!exists("work/stolen"), "%s: the secret got a new name", modes[i]);
		outcome_free(&oc);
	}
	cr_assert_eq(stat(in_dir("secret"), &after), 0);
	cr_expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
	          "the secret's times changed");
}

Test(routes, syscall_on_allowed_files_behaves_as_bare)
{
	const char *const calls[][4] = {
		{ PROG_SYSCALL_ROUTE, "read", "input", NULL },
		{ PROG_SYSCALL_ROUTE, "openat2", "input", NULL },
		{ PROG_SYSCALL_ROUTE, "beneath", "input", NULL },
		{ PROG_SYSCALL_ROUTE, "read", "missing", NULL },
	};
	for (size_t i = 0; i < 4; i++)
		expect_as_bare(calls[i], NULL);
	/* creating: the first run makes it, the second finds it (EEXIST), both as bare */
	const char *mk[] = { PROG_SYSCALL_ROUTE, "mkdir", "made", NULL };
	struct outcome first = run_as(CONFINED, mk, NULL);
	cr_expect(strstr(first.out, "mkdir: result 0 errno 0") != NULL, "%s %s", first.out, first.err);
	cr_expect(exists("work/made"));
	outcome_free(&first);
	expect_as_bare(mk, NULL);
}

Test(routes, syscall_passes_other_numbers_through)
{
	const char *const calls[][3] = {
		{ PROG_SYSCALL_ROUTE, "getpid", NULL },
		{ PROG_SYSCALL_ROUTE, "write", NULL },
		{ PROG_SYSCALL_ROUTE, "errno", NULL },
	};
	for (size_t i = 0; i < 3; i++)
		expect_as_bare(calls[i], NULL);
	struct outcome o = run_as(CONFINED, calls[2], NULL);
	cr_expect(strstr(o.out, "close: result -1 errno 9") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "openat: result -1 errno 2") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "getppid: errno after success 1234") != NULL, "%s", o.out);
	outcome_free(&o);
}

/* One syscall() is one call of the syscall row, whatever it does. */
Test(routes, syscall_is_counted_once_as_syscall)
{
	char stats_dir[PATH_MAX];
	path_in(stats_dir, dir, "work");
	const char *argv[] = { PROG_SYSCALL_ROUTE, "read", in_dir("work/input"), NULL };
	const char *env[] = { policy_env, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, stats_dir, env, &s));
	const struct dump *d = shim_run_main(&s);
	cr_assert_not_null(d, "no dump: %s", s.r.err);
	cr_expect_eq(dump_calls(d, "syscall"), 1);
	cr_expect_eq(dump_calls(d, "openat"), 0);
	cr_expect_eq(dump_calls(d, "open"), 0);
	shim_run_free(&s);
}

/* execve through syscall() starts a confined program: the environment is
 * put back although the caller passed an empty one. */
Test(routes, syscall_execve_stays_confined)
{
	const char *argv[] = { PROG_SYSCALL_ROUTE, "execve", in_dir("secret"), NULL };
	struct outcome bare = run_as(BARE, argv, NULL);
	cr_expect(strstr(bare.out, "top secret") != NULL, "bare: %s", bare.out);
	struct outcome o = run_as(CONFINED, argv, NULL);
	cr_expect_neq(o.code, 0);
	cr_expect(strstr(o.err, "ward: denied read") != NULL && strstr(o.err, "[pid") != NULL, "%s", o.err);
	cr_expect(strstr(o.err, "cat") != NULL, "the refusal is cat's: %s", o.err);
	expect_untouched(&o);
	outcome_free(&bare);
	outcome_free(&o);
}

/* Children made through syscall() stay confined.  (glibc's own syscall()
 * cannot survive SYS_vfork: the child's return and later calls overwrite
 * the return address the parent returns through, and bare runs die; the
 * shim makes those as vfork.S does, so they work, and are not compared
 * with bare runs.) */
Test(routes, syscall_children_stay_confined)
{
	const char *modes[] = { "fork", "vfork", "clone-vfork" };
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = { PROG_SYSCALL_ROUTE, modes[i], in_dir("secret"), NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: child exit 1", modes[i]);
		expect_refused(&o, line, "ward: denied read");
		cr_expect_eq(o.code, 0, "%s: exit %d", modes[i], o.code);
		outcome_free(&o);
		const char *allowed[] = { PROG_SYSCALL_ROUTE, modes[i], "input", NULL };
		if (i == 0) {
			expect_as_bare(allowed, NULL);
			continue;
		}
		o = run_as(CONFINED, allowed, NULL);
		snprintf(line, sizeof(line), "input\n%s: child exit 0\n", modes[i]);
		cr_expect_str_eq(o.out, line, "%s: %s", modes[i], o.err);
		outcome_free(&o);
	}
}

/* ---- Unix sockets ---- */

static int
listen_at(const char *path, int type)
{
	int s = socket(AF_UNIX, type | SOCK_NONBLOCK, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	cr_assert_eq(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind %s: %s", path, strerror(errno));
	if (type == SOCK_STREAM)
		cr_assert_eq(listen(s, 4), 0);
	return s;
}

/* Did anyone reach the socket? (connection or datagram) */
static bool
reached(int s, int type)
{
	char buf[8];
	if (type == SOCK_STREAM) {
		int peer = accept(s, NULL, NULL);
		if (peer < 0)
			return false;
		close(peer);
		return true;
	}
	return recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0;
}

Test(routes, a_server_in_a_denied_directory_cannot_be_reached)
{
	const char *modes[] = { "connect", "sendto", "sendmsg" };
	for (size_t i = 0; i < 3; i++) {
		int type = i == 0 ? SOCK_STREAM : SOCK_DGRAM;
		char name[32];
		snprintf(name, sizeof(name), "secretdir/s%zu.sock", i);
		const char *path = in_dir(name);
		int s = listen_at(path, type);
		const char *argv[] = { PROG_UNIX_SOCKET, modes[i], path, NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno 13", modes[i]);
		expect_refused(&o, line, "ward: denied write");
		cr_expect(!reached(s, type), "%s reached the server", modes[i]);
		outcome_free(&o);
		close(s);
	}
}

Test(routes, a_server_in_an_allowed_directory_is_reached_as_bare)
{
	const char *modes[] = { "connect", "sendto", "sendmsg" };
	for (size_t i = 0; i < 3; i++) {
		int type = i == 0 ? SOCK_STREAM : SOCK_DGRAM;
		char name[32];
		snprintf(name, sizeof(name), "work/s%zu.sock", i);
		int s = listen_at(in_dir(name), type);
		const char *argv[] = { PROG_UNIX_SOCKET, modes[i], name + 5, NULL }; /* relative to work/ */
		expect_as_bare(argv, NULL);
		cr_expect(reached(s, type) && reached(s, type), "%s: the server saw two clients", modes[i]);
		close(s);
	}
}

Test(routes, bind_in_a_denied_directory_creates_nothing)
{
	const char *const calls[][3] = {
		{ PROG_UNIX_SOCKET, "bind", in_dir("secretdir/new.sock") },
		{ PROG_UNIX_SOCKET, "bind-raw", in_dir("secretdir/new.sock") },
		{ PROG_UNIX_SOCKET, "bind", in_dir("new.sock") }, /* outside work/: default deny */
	};
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = { calls[i][0], calls[i][1], calls[i][2], NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno 13", calls[i][1]);
		expect_refused(&o, line, "ward: denied create");
		cr_expect(!exists("secretdir/new.sock") && !exists("new.sock"), "a socket file was made");
		outcome_free(&o);
	}
	const char *ok[] = { PROG_UNIX_SOCKET, "bind", "here.sock", NULL };
	struct outcome o = run_as(CONFINED, ok, NULL);
	cr_expect(strstr(o.out, "bind: result 0 errno 0") != NULL, "%s %s", o.out, o.err);
	cr_expect(exists("work/here.sock"));
	outcome_free(&o);
}

Test(routes, abstract_sockets_are_no_files)
{
	const char *argv[] = { PROG_UNIX_SOCKET, "abstract", "ward-routes-test", NULL };
	expect_as_bare(argv, NULL);
	struct outcome o = run_as(CONFINED, argv, NULL);
	cr_expect(strstr(o.out, "got: ping") != NULL, "%s %s", o.out, o.err);
	outcome_free(&o);
}

/* ---- file handles ---- */

/* A handle for name saved to work/NAME.handle by a bare run; false when the
 * kernel gives none here (no CAP_DAC_READ_SEARCH, file system without
 * handles): the handle tests are then skipped. */
static bool
save_handle(const char *name, const char *out)
{
	const char *save[] = { PROG_HANDLE_ROUTE, "save", in_dir(name), in_dir(out), NULL };
	struct outcome o = run_as(BARE, save, NULL);
	bool ok = strstr(o.out, "name_to_handle_at: result 0") != NULL;
	outcome_free(&o);
	const char *open_it[] = { PROG_HANDLE_ROUTE, "open", in_dir(out), NULL };
	o = run_as(BARE, open_it, NULL);
	ok = ok && strstr(o.out, "open_by_handle_at: result -1") == NULL;
	outcome_free(&o);
	return ok;
}

Test(routes, open_by_handle_at_is_decided_on_the_file)
{
	if (!save_handle("secret", "work/secret.handle") || !save_handle("work/input", "work/input.handle"))
		cr_skip_test("no file handles here (needs CAP_DAC_READ_SEARCH)");
	const char *rd[] = { PROG_HANDLE_ROUTE, "open", in_dir("work/secret.handle"), NULL };
	struct outcome o = run_as(CONFINED, rd, NULL);
	expect_refused(&o, "open_by_handle_at: result -1 errno 13", "ward: denied read");
	cr_expect(strstr(o.out, "next fd: 1") != NULL, "a descriptor was left open: %s", o.out);
	outcome_free(&o);
	const char *wr[] = { PROG_HANDLE_ROUTE, "open", in_dir("work/secret.handle"), "rw", NULL };
	o = run_as(CONFINED, wr, NULL);
	expect_refused(&o, "open_by_handle_at: result -1 errno 13", "ward: denied write");
	outcome_free(&o);
	const char *allowed[] = { PROG_HANDLE_ROUTE, "open", in_dir("work/input.handle"), NULL };
	expect_as_bare(allowed, NULL);
	o = run_as(CONFINED, allowed, NULL);
	cr_expect(strstr(o.out, "got: input") != NULL && strstr(o.out, "next fd: 1") != NULL, "%s", o.out);
	outcome_free(&o);
}

Test(routes, name_to_handle_at_is_a_stat_of_its_path)
{
	const char *argv[] = { PROG_HANDLE_ROUTE, "name", in_dir("secret"), NULL };
	struct outcome o = run_as(CONFINED, argv, NULL);
	expect_refused(&o, "name_to_handle_at: result -1 errno 13", "ward: denied stat");
	outcome_free(&o);
	const char *allowed[] = { PROG_HANDLE_ROUTE, "name", in_dir("work/input"), NULL };
	expect_as_bare(allowed, NULL);
}

/* ---- personality ---- */

Test(routes, read_implies_exec_is_refused_under_memory_wx_deny)
{
	const char *modes[] = { "libc", "syscall" };
	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { PROG_PERSONALITY_ROUTE, modes[i], NULL };
		struct outcome bare = run_as(BARE, argv, NULL);
		cr_expect(strstr(bare.out, "personality: result 0") != NULL && strstr(bare.out, "mapping: rwxp"),
		          "bare: %s", bare.out);
		struct outcome o = run_as(CONFINED, argv, NULL);
		expect_refused(&o, "personality: result -1 errno 13", "ward: denied memory PROT_WRITE|PROT_EXEC");
		cr_expect(strstr(o.out, "mapping: rw-p") != NULL, "%s: %s", modes[i], o.out);
		outcome_free(&bare);
		outcome_free(&o);
		/* observed only: as bare */
		struct outcome seen = run_as(OBSERVED, argv, NULL);
		cr_expect(strstr(seen.out, "mapping: rwxp") != NULL, "%s", seen.out);
		outcome_free(&seen);
	}
}

/* ---- chroot ---- */

Test(routes, chroot_is_refused_under_a_policy)
{
	const char *into_work[] = { PROG_CHROOT_ROUTE, in_dir("work"), "/input", NULL };
	struct outcome o = run_as(CONFINED, into_work, NULL);
	cr_expect(strstr(o.out, "chroot: result -1 errno 1\n") != NULL, "%s %s", o.out, o.err);
	cr_expect(strstr(o.err, "ward: denied chroot ") != NULL, "no chroot record: %s", o.err);
	expect_untouched(&o);
	outcome_free(&o);
	const char *into_secret[] = { PROG_CHROOT_ROUTE, in_dir("secretdir"), "/inner", NULL };
	o = run_as(CONFINED, into_secret, NULL);
	expect_refused(&o, "chroot: result -1 errno 13", "ward: denied stat");
	cr_expect(strstr(o.out, "inner secret") == NULL);
	outcome_free(&o);
	/* without a policy it is only counted: as bare (root or not) */
	struct outcome bare = run_as(BARE, into_work, NULL), seen = run_as(OBSERVED, into_work, NULL);
	cr_expect_str_eq(seen.out, bare.out);
	outcome_free(&bare);
	outcome_free(&seen);
}

Test(routes, chroot_is_only_counted_under_a_policy_that_restricts_nothing)
{
	const char *into_work[] = { PROG_CHROOT_ROUTE, in_dir("work"), "/input", NULL };
	char observe[PATH_MAX + 16];
	snprintf(observe, sizeof(observe), "WARD_POLICY=%s/observe.ward", EXAMPLES);
	const char *env[] = { observe, NULL };
	char cwd[PATH_MAX];
	path_in(cwd, dir, "work");
	struct run_opts o = { .env = env, .shim = true, .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(into_work, &o, &r));
	struct outcome bare = run_as(BARE, into_work, NULL);
	cr_expect_str_eq(r.out, bare.out, "observe.ward changed chroot: %s (stderr %s)", r.out, r.err);
	cr_expect(strstr(r.err, "ward: denied") == NULL, "%s", r.err);
	run_free(&r);
	outcome_free(&bare);
}

/* ---- violations whose record could not be written ---- */

Test(routes, a_refusal_without_a_record_still_exits_3)
{
	const char *cmd[] = { PROG_HIDE_ROUTE, in_dir("secret"), NULL };
	struct outcome o = ward_run("px.ward", exec_policy(), cmd);
	cr_expect(strstr(o.out, "open: result -1 errno 13\n") != NULL, "%s %s", o.out, o.err);
	cr_expect_eq(o.code, 3, "ward run exited %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "ward: 1 refusal counted by the tree had no record") != NULL, "%s", o.err);
	expect_untouched(&o);
	outcome_free(&o);
	/* an allowed open under the same limit: nothing to hide, CMD's 0 */
	const char *ok[] = { PROG_HIDE_ROUTE, in_dir("work/input"), NULL };
	o = ward_run("px.ward", exec_policy(), ok);
	cr_expect_eq(o.code, 0, "ward run exited %d: %s", o.code, o.err);
	cr_expect(strstr(o.err, "no record") == NULL, "%s", o.err);
	outcome_free(&o);
}

/* ---- glibc's second names ---- */

Test(routes, glibc_aliases_are_decided_like_the_functions)
{
	const char *const calls[][2] = { { "open", "__open" }, { "open64", "__open64" }, { "fopen", "_IO_fopen" } };
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = { PROG_ALIAS_ROUTE, calls[i][0], in_dir("secret"), NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", calls[i][1], EACCES);
		expect_refused(&o, line, "ward: denied read");
		outcome_free(&o);
		const char *allowed[] = { PROG_ALIAS_ROUTE, calls[i][0], in_dir("work/input"), NULL };
		expect_as_bare(allowed, NULL);
	}
	/* a GLIBC_PRIVATE name too: __mmap under memory wx deny */
	const char *rwx[] = { PROG_ALIAS_ROUTE, "mmap", "rwx", NULL };
	struct outcome m = run_as(CONFINED, rwx, NULL);
	expect_refused(&m, "__mmap: result -1 errno 13\n", "ward: denied memory PROT_WRITE|PROT_EXEC (mmap)");
	outcome_free(&m);
	/* _IO_popen's shell is a child of the tree */
	const char *popen_argv[] = { PROG_ALIAS_ROUTE, "popen", "cat ../secret", NULL };
	struct outcome o = run_as(CONFINED, popen_argv, NULL);
	expect_refused(&o, "_IO_popen: result 0 errno 0\n", "ward: denied read");
	outcome_free(&o);
	/* __libc_malloc and __libc_calloc are held to limit memory like malloc */
	char text[128];
	snprintf(text, sizeof(text), "version 1\ndefault allow\nlimit memory 1M\n");
	const char *cmd[] = { PROG_ALIAS_ROUTE, "malloc", "8192", NULL };
	o = ward_run("pm.ward", text, cmd);
	cr_expect(strstr(o.out, "__libc_malloc: result -1 errno 12\n") != NULL, "%s %s", o.out, o.err);
	cr_expect(strstr(o.out, "__libc_calloc: result -1 errno 12\n") != NULL, "%s %s", o.out, o.err);
	cr_expect(strstr(o.err, "limit memory") != NULL, "%s", o.err);
	outcome_free(&o);
}

/* ---- keeping libward.so in the tree ---- */

#define ESCAPE_SCRIPT "ulimit -v unlimited 2>/dev/null; ulimit -d unlimited 2>/dev/null; unset LD_PRELOAD; cat ../secret"

Test(routes, memory_limits_cannot_drop_the_shim_from_children)
{
	const char *modes[] = { "setrlimit", "setrlimit64", "prlimit", "prlimit64", "syscall-setrlimit",
		                "syscall-prlimit", "data" };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *argv[] = { PROG_KEEP_ROUTE, modes[i], "3500", ESCAPE_SCRIPT, NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", modes[i], EPERM);
		expect_refused(&o, line, i == 6 ? "ward: denied rlimit RLIMIT_DATA soft 3584000 " :
		                                  "ward: denied rlimit RLIMIT_AS soft 3584000 ");
		cr_expect(strstr(o.err, "ward: denied read") != NULL, "%s: the child ran without the shim: %s",
		          modes[i], o.err);
		outcome_free(&o);
	}
	/* the route is real: bare, the child reads the secret */
	const char *bare_argv[] = { PROG_KEEP_ROUTE, "setrlimit", "3500", ESCAPE_SCRIPT, NULL };
	struct outcome bare = run_as(BARE, bare_argv, NULL);
	cr_expect(strstr(bare.out, "top secret") != NULL, "%s", bare.out);
	outcome_free(&bare);
	/* a limit above the floor is the program's to set */
	const char *roomy[] = { PROG_KEEP_ROUTE, "setrlimit", "1048576", "true", NULL };
	expect_as_bare(roomy, NULL);
}

Test(routes, seccomp_filters_are_refused_outside_strict_mode)
{
	const char *modes[] = { "prctl-filter", "syscall-seccomp" };
	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { PROG_KEEP_ROUTE, modes[i], ESCAPE_SCRIPT, NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", modes[i], EACCES);
		expect_refused(&o, line, "ward: denied seccomp filter ");
		cr_expect(strstr(o.err, "--strict allows them") != NULL, "%s", o.err);
		outcome_free(&o);
		/* ward run --strict: the kernel holds the tree, filters are the program's */
		const char *quiet[] = { PROG_KEEP_ROUTE, modes[i], "true", NULL };
		o = run_as(CONFINED, quiet, "WARD_STRICT=1");
		snprintf(line, sizeof(line), "%s: result 0 errno 0\n", modes[i]);
		cr_expect(strstr(o.out, line) != NULL, "strict: %s %s", o.out, o.err);
		outcome_free(&o);
	}
}

/* ---- a wildcard in $CWD ---- */

Test(routes, a_working_directory_with_a_wildcard_is_no_pattern)
{
	mkdir(in_dir("w*"), 0755);
	mkdir(in_dir("wsibling"), 0755);
	put("pc.ward", "version 1\ndefault deny\nallow ro,exec /**\nallow rw /dev/null\nallow rw $CWD/**\n");
	const char *argv[] = { WARD_EXE, "run", "-s", "none", "-p", in_dir("pc.ward"), "--",
		               "/bin/sh", "-c", "echo pwn > ../wsibling/x", NULL };
	struct run_opts o = { .cwd = in_dir("w*") };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_expect_eq(run_exit_code(&r), 125, "exit %d: %s", run_exit_code(&r), r.err);
	char message[PATH_MAX + 64];
	snprintf(message, sizeof(message), "pc.ward:5:10: error: $CWD is '%s/w*': its '*' would be a wildcard", dir);
	cr_expect(strstr(r.err, message) != NULL, "%s", r.err);
	cr_expect(!exists("wsibling/x"), "a sibling of the working directory was written");
	run_free(&r);
}

/* ---- the new mount API ---- */

Test(routes, the_new_mount_api_is_refused_under_a_policy)
{
	mkdir(in_dir("work/view"), 0755);
	const char *clone[] = { PROG_MOUNT_ROUTE, "clone", in_dir("secretdir"), in_dir("work/view"), NULL };
	struct outcome o = run_as(CONFINED, clone, NULL);
	expect_refused(&o, "open_tree: result -1 errno 1\n", "ward: denied open_tree ");
	expect_refused(&o, "move_mount-path: result -1 errno 1\n", "ward: denied move_mount ");
	cr_expect(!exists("work/view/inner"), "the secret directory was mounted in the write tree");
	outcome_free(&o);
	const char *const calls[][3] = {
		{ "fsopen", NULL }, { "fspick", in_dir("work") }, { "mount_setattr", in_dir("work") },
		{ "fsmount", NULL }, { "fsconfig", NULL }, { "open_tree_attr", in_dir("secretdir") },
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const char *argv[] = { PROG_MOUNT_ROUTE, calls[i][0], calls[i][1], NULL };
		o = run_as(CONFINED, argv, NULL);
		char line[64], record[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", calls[i][0], EPERM);
		snprintf(record, sizeof(record), "ward: denied %s ", calls[i][0]);
		expect_refused(&o, line, record);
		outcome_free(&o);
	}
}

Test(routes, syscall_numbers_newer_than_the_headers_are_decided)
{
	const char *const denied[][2] = {
		{ "setxattrat", "ward: denied write" }, { "removexattrat", "ward: denied write" },
		{ "file_setattr", "ward: denied write" }, { "getxattrat", "ward: denied stat" },
		{ "listxattrat", "ward: denied stat" }, { "file_getattr", "ward: denied stat" },
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		const char *argv[] = { PROG_MOUNT_ROUTE, denied[i][0], in_dir("secret"), NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", denied[i][0], EACCES);
		expect_refused(&o, line, denied[i][1]);
		outcome_free(&o);
		const char *allowed[] = { PROG_MOUNT_ROUTE, denied[i][0], in_dir("work/input"), NULL };
		if (strcmp(denied[i][0], "removexattrat") != 0) {
			expect_as_bare(allowed, NULL);
			continue;
		}
		const char *set[] = { PROG_MOUNT_ROUTE, "setxattrat", in_dir("work/input"), NULL };
		struct outcome made = run_as(BARE, set, NULL), removed = run_as(CONFINED, allowed, NULL);
		cr_expect(strstr(removed.out, "removexattrat: result 0 errno 0\n") != NULL, "%s %s", removed.out,
		          removed.err);
		outcome_free(&made);
		outcome_free(&removed);
	}
	/* above the highest number decided: ENOSYS under a policy, no record */
	const char *beyond[] = { PROG_MOUNT_ROUTE, "number", "470", NULL };
	struct outcome o = run_as(CONFINED, beyond, NULL);
	cr_expect(strstr(o.out, "number: result -1 errno 38\n") != NULL, "%s %s", o.out, o.err);
	cr_expect(strstr(o.err, "ward: denied") == NULL, "%s", o.err);
	outcome_free(&o);
	const char *x32[] = { PROG_MOUNT_ROUTE, "number", "0x40000027", NULL }; /* x32 getpid */
	o = run_as(CONFINED, x32, NULL);
	cr_expect(strstr(o.out, "number: result -1 errno 38\n") != NULL, "%s %s", o.out, o.err);
	outcome_free(&o);
}

/* ---- files the caller names that libc opens itself ---- */

Test(routes, setmntent_is_decided_like_fopen)
{
	const char *read_secret[] = { PROG_LIBC_FILE_ROUTE, "mntent-read", in_dir("secret"), NULL };
	struct outcome o = run_as(CONFINED, read_secret, NULL);
	expect_refused(&o, "setmntent: result -1 errno 13\n", "ward: denied read");
	cr_expect(strstr(o.out, "got:") == NULL, "%s", o.out);
	cr_expect(strstr(o.err, "(setmntent)") != NULL, "%s", o.err);
	outcome_free(&o);
	const char *outside[] = { PROG_LIBC_FILE_ROUTE, "mntent-append", in_dir("made"), NULL };
	o = run_as(CONFINED, outside, NULL);
	expect_refused(&o, "setmntent: result -1 errno 13\n", "ward: denied ");
	cr_expect(!exists("made"), "setmntent created a file outside the write tree");
	outcome_free(&o);
	const char *inside[] = { PROG_LIBC_FILE_ROUTE, "mntent-append", in_dir("work/mtab"), NULL };
	expect_as_bare(inside, NULL);
	const char *readable[] = { PROG_LIBC_FILE_ROUTE, "mntent-read", in_dir("work/mtab"), NULL };
	expect_as_bare(readable, NULL);
}

Test(routes, the_utmp_functions_are_decided_on_the_file_named)
{
	const char *modes[] = { "utmp-read", "utmpx-read" };
	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { PROG_LIBC_FILE_ROUTE, modes[i], in_dir("secret"), NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		expect_refused(&o, i == 0 ? "utmpname: result -1 errno 13\n" : "utmpxname: result -1 errno 13\n",
		               "ward: denied ");
		cr_expect(strstr(o.out, "got:") == NULL, "%s", o.out);
		outcome_free(&o);
	}
	const char *write_secret[] = { PROG_LIBC_FILE_ROUTE, "utmp-write", in_dir("secret"), NULL };
	struct outcome o = run_as(CONFINED, write_secret, NULL);
	expect_refused(&o, "updwtmp: result -1 errno 13\n", "(updwtmp)");
	expect_refused(&o, "updwtmpx: result -1 errno 13\n", "(updwtmpx)");
	expect_refused(&o, "utmpname: result -1 errno 13\n", "(utmpname)");
	outcome_free(&o);
	/* a read-only file: utmpname needs write as well (pututline writes it) */
	const char *write_input[] = { PROG_LIBC_FILE_ROUTE, "utmp-write", in_dir("p.ward"), NULL };
	o = run_as(CONFINED, write_input, NULL);
	cr_expect(strstr(o.out, "updwtmp: result -1 errno 13\n") != NULL, "%s %s", o.out, o.err);
	outcome_free(&o);
	put("work/wtmp", "");
	const char *allowed[] = { PROG_LIBC_FILE_ROUTE, "utmp-write", in_dir("work/wtmp"), NULL };
	expect_as_bare(allowed, NULL);
}

/* ---- typing into a terminal ---- */

Test(routes, tiocsti_types_nothing_under_a_policy)
{
	const char *modes[] = { "sti", "syscall-sti" };
	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { PROG_TTY_ROUTE, modes[i], NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", modes[i], EPERM);
		expect_refused(&o, line, "ward: denied ioctl TIOCSTI ");
		cr_expect(strstr(o.out, "typed:") == NULL, "typed into the terminal: %s", o.out);
		outcome_free(&o);
	}
	const char *sel[] = { PROG_TTY_ROUTE, "linux", NULL };
	struct outcome o = run_as(CONFINED, sel, NULL);
	expect_refused(&o, "linux: result -1 errno 1\n", "ward: denied ioctl TIOCLINUX set selection ");
	outcome_free(&o);
	/* every other request is the kernel's */
	const char *winsize[] = { PROG_TTY_ROUTE, "winsize", NULL };
	expect_as_bare(winsize, NULL);
}

/* ---- another process's memory and descriptors ---- */

static char held_secret[] = "held top secret\n";

Test(routes, ptrace_attach_and_seize_are_refused_under_a_policy)
{
	const char *modes[] = { "attach", "seize", "syscall-attach" };
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = { PROG_REACH_ROUTE, modes[i], NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", modes[i], EPERM);
		expect_refused(&o, line, "ward: denied ptrace pid ");
		outcome_free(&o);
		struct outcome bare = run_as(BARE, argv, NULL); /* the route is real */
		snprintf(line, sizeof(line), "%s: result 0 errno 0\n", modes[i]);
		cr_expect(strstr(bare.out, line) != NULL, "bare: %s", bare.out);
		outcome_free(&bare);
	}
	/* a debugger's own children: PTRACE_TRACEME and requests on the tracee go on */
	const char *traceme[] = { PROG_REACH_ROUTE, "traceme", NULL };
	expect_as_bare(traceme, NULL);
}

Test(routes, process_vm_and_pidfd_getfd_are_refused_under_a_policy)
{
	char pid[24], addr[32], fdnum[16];
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	snprintf(addr, sizeof(addr), "%lx", (unsigned long)held_secret);
	int fd = open(in_dir("secret"), O_RDONLY);
	cr_assert(fd >= 0);
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	const char *const calls[][6] = {
		{ PROG_REACH_ROUTE, "vm-read", pid, addr, "16", NULL },
		{ PROG_REACH_ROUTE, "vm-write", pid, addr, NULL },
		{ PROG_REACH_ROUTE, "getfd", pid, fdnum, NULL },
	};
	const char *records[] = { "ward: denied process_vm_readv pid ", "ward: denied process_vm_writev pid ",
		                  "ward: denied pidfd_getfd pidfd " };
	for (size_t i = 0; i < 3; i++) {
		struct outcome o = run_as(CONFINED, calls[i], NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", calls[i][1], EPERM);
		expect_refused(&o, line, records[i]);
		cr_expect(strstr(o.out, "got:") == NULL, "%s read something: %s", calls[i][1], o.out);
		outcome_free(&o);
	}
	cr_expect_str_eq(held_secret, "held top secret\n", "process_vm_writev changed our memory");
	/* the routes are real: bare, the same calls read the secret */
	struct outcome bare = run_as(BARE, calls[2], NULL);
	cr_expect(strstr(bare.out, "got: top secret") != NULL, "bare getfd: %s", bare.out);
	outcome_free(&bare);
	bare = run_as(BARE, calls[0], NULL);
	cr_expect(strstr(bare.out, "got: held top secret") != NULL, "bare vm-read: %s", bare.out);
	outcome_free(&bare);
	close(fd);
}

/* A child sharing the descriptor table but not memory would not see which
 * numbers the parent's checks act through (their descriptors could be
 * closed and replaced under them: tests/test_races.c, case 20): refused
 * under a policy, through libc's clone() and syscall(SYS_clone);
 * syscall(SYS_clone3) is ENOSYS under a policy (callers fall back to clone:
 * its flags are memory a thread could rewrite after the check read them);
 * a child sharing both, or neither, goes on; without a policy every one
 * runs. */
Test(routes, clone_sharing_the_descriptor_table_without_memory_is_refused)
{
	const char *modes[] = { "libc", "syscall", "clone3" };
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = { PROG_CLONE_ROUTE, modes[i], NULL };
		struct outcome o = run_as(CONFINED, argv, NULL);
		char line[64];
		snprintf(line, sizeof(line), "%s: result -1 errno %d\n", modes[i], i == 2 ? ENOSYS : EPERM);
		if (i == 2) /* clone3: not made at all under a policy (its flags are memory a thread can rewrite) */
			cr_expect_str_eq(o.out, line, "%s %s", o.out, o.err);
		else
			expect_refused(&o, line, "ward: denied clone CLONE_FILES without CLONE_VM ");
		outcome_free(&o);
		snprintf(line, sizeof(line), "%s: result 0 errno 0\n", modes[i]);
		struct outcome bare = run_as(BARE, argv, NULL); /* the route is real */
		cr_expect_str_eq(bare.out, line, "bare: %s", bare.out);
		outcome_free(&bare);
		struct outcome observed = run_as(OBSERVED, argv, NULL);
		cr_expect_str_eq(observed.out, line, "observed: %s %s", observed.out, observed.err);
		outcome_free(&observed);
	}
	const char *vm[] = { PROG_CLONE_ROUTE, "vm", NULL }, *fork_like[] = { PROG_CLONE_ROUTE, "fork", NULL };
	expect_as_bare(vm, NULL);
	expect_as_bare(fork_like, NULL);
}

/* ward run's launcher is not dumpable: a process of the tree with the same
 * user cannot attach to it with the kernel's own ptrace (no libc call for
 * the shim to refuse), while CMD itself is dumpable as usual.  As root the
 * run is made as nobody (root may attach to anything). */
Test(routes, the_launcher_cannot_be_attached_to)
{
	char cwd[PATH_MAX];
	path_in(cwd, dir, "work");
	chmod(dir, 0755);
	put("px.ward", "version 1\ndefault deny\nallow ro,exec /**\n");
	chmod(in_dir("px.ward"), 0644);
	const char *as_root[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
		                  WARD_EXE, "run", "-s", "none", "-p", in_dir("px.ward"), "--",
		                  PROG_REACH_ROUTE, "raw-attach-parent", NULL };
	const char *const *argv = geteuid() == 0 ? as_root : as_root + 5;
	struct run_opts o = { .cwd = cwd };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_expect(strstr(r.out, "dumpable 1\n") != NULL, "CMD is not dumpable: %s %s", r.out, r.err);
	char line[64];
	snprintf(line, sizeof(line), "raw-attach-parent: result -1 errno %d\n", EPERM);
	cr_expect(strstr(r.out, line) != NULL, "attached to the launcher: %s %s", r.out, r.err);
	run_free(&r);
}

/* ---- fts_children ---- */

Test(routes, fts_children_hides_what_fts_read_hides)
{
	const char *argv[] = { PROG_FTS_CHILDREN_ROUTE, dir, NULL };
	struct outcome bare = run_as(BARE, argv, NULL);
	cr_expect(strstr(bare.out, "child: secret\n") != NULL && strstr(bare.out, "read: inner\n") != NULL,
	          "bare: %s", bare.out);
	struct outcome o = run_as(CONFINED, argv, NULL);
	cr_expect_eq(o.code, 0, "%s", o.err);
	cr_expect(strstr(o.out, "child: work\n") != NULL && strstr(o.out, "child: p.ward\n") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "child: secret\n") == NULL && strstr(o.out, "child: secretdir\n") == NULL,
	          "%s", o.out);
	cr_expect(strstr(o.out, "read: secret") == NULL && strstr(o.out, "inner") == NULL, "%s", o.out);
	cr_expect(strstr(o.out, "read: input\n") != NULL, "%s", o.out);
	outcome_free(&bare);
	outcome_free(&o);
	/* a denied root is not listed either */
	const char *root[] = { PROG_FTS_CHILDREN_ROUTE, in_dir("secretdir"), NULL };
	o = run_as(CONFINED, root, NULL);
	cr_expect(strstr(o.out, "root: secretdir") == NULL && strstr(o.out, "inner") == NULL, "%s", o.out);
	outcome_free(&o);
}

/* ---- dlopen ---- */

static void
copy_library(const char *to)
{
	size_t len;
	char *lib = file_read(CTOR_LIB, &len);
	cr_assert_not_null(lib);
	cr_assert(file_write(in_dir(to), lib, len));
	free(lib);
}

Test(routes, dlopen_of_a_denied_library_runs_nothing)
{
	copy_library("secretdir/libctor.so");
	const char *by_path[] = { PROG_DLOPEN_ROUTE, in_dir("secretdir/libctor.so"), NULL };
	struct outcome bare = run_as(BARE, by_path, NULL);
	cr_expect(strstr(bare.out, "constructor ran") != NULL, "bare: %s", bare.out);
	outcome_free(&bare);
	struct outcome o = run_as(CONFINED, by_path, NULL);
	expect_refused(&o, "dlopen: failed: ", "ward: denied read");
	cr_expect(strstr(o.out, "Permission denied") != NULL, "%s", o.out);
	cr_expect(strstr(o.out, "constructor ran") == NULL, "%s", o.out);
	outcome_free(&o);
	char search[PATH_MAX + 32];
	snprintf(search, sizeof(search), "LD_LIBRARY_PATH=%s", in_dir("secretdir"));
	const char *by_name[] = { PROG_DLOPEN_ROUTE, "libctor.so", NULL };
	o = run_as(CONFINED, by_name, search);
	expect_refused(&o, "dlopen: failed: ", "ward: denied read");
	cr_expect(strstr(o.out, "constructor ran") == NULL, "%s", o.out);
	outcome_free(&o);
}

Test(routes, dlopen_of_an_allowed_library_behaves_as_bare)
{
	copy_library("work/libctor.so");
	const char *by_path[] = { PROG_DLOPEN_ROUTE, in_dir("work/libctor.so"), NULL };
	expect_as_bare(by_path, NULL);
	char search[PATH_MAX + 32];
	snprintf(search, sizeof(search), "LD_LIBRARY_PATH=%s", in_dir("work"));
	const char *by_name[] = { PROG_DLOPEN_ROUTE, "libctor.so", NULL };
	expect_as_bare(by_name, search);
	const char *system[] = { PROG_DLOPEN_ROUTE, "libm.so.6", NULL };
	expect_as_bare(system, NULL);
	const char *missing[] = { PROG_DLOPEN_ROUTE, "libward-no-such-library.so", NULL };
	expect_as_bare(missing, NULL);
	struct outcome o = run_as(CONFINED, by_name, search);
	cr_expect(strstr(o.out, "constructor ran\ndlopen: ok\n") != NULL, "%s %s", o.out, o.err);
	outcome_free(&o);
}

/* ---- executable stacks under memory wx deny ---- */

Test(routes, an_executable_stack_is_refused_under_memory_wx_deny)
{
	/* the library asks the loader to make every stack executable */
	const char *lib[] = { PROG_EXECSTACK_ROUTE, "dlopen", EXECSTACK_LIB, NULL };
	struct outcome bare = run_as(BARE, lib, NULL);
	cr_expect_str_eq(bare.out, "dlopen ok\nrwx 1\n", "the route is not real here: %s", bare.out);
	outcome_free(&bare);
	struct outcome o = run_as(CONFINED, lib, NULL);
	expect_refused(&o, "dlopen refused\nrwx 0\n", "by memory wx deny (an executable stack: PT_GNU_STACK)");
	outcome_free(&o);
	/* the program asks the kernel for one at exec: refused from a shell, and
	 * as the top command */
	char text[8 * PATH_MAX];
	snprintf(text, sizeof(text), "%smemory wx deny\n", exec_policy());
	const char *sh[] = { "/bin/sh", "-c", PROG_EXECSTACK_ROUTE_X " maps; echo status $?", NULL };
	o = ward_run("wx.ward", text, sh);
	cr_expect(strstr(o.out, "rwx") == NULL && strstr(o.out, "status 126") != NULL, "%s %s", o.out, o.err);
	cr_expect(strstr(o.err, "memory wx deny (an executable stack") != NULL, "%s", o.err);
	outcome_free(&o);
	const char *top[] = { PROG_EXECSTACK_ROUTE_X, "maps", NULL };
	o = ward_run("wx.ward", text, top);
	cr_expect_eq(o.code, 126, "%s %s", o.out, o.err);
	cr_expect(strstr(o.out, "rwx") == NULL && strstr(o.err, "by memory wx deny") != NULL, "%s", o.err);
	outcome_free(&o);
	/* a program with the usual stack runs as bare */
	const char *plain[] = { PROG_EXECSTACK_ROUTE, "maps", NULL };
	expect_as_bare(plain, NULL);
}
