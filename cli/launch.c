/*
 * launch.c: start a process tree under libward.so and watch it (cli.h).
 *
 * Shared by `ward run` and `ward learn`.  Before CMD starts, everything the
 * tree needs goes into the environment: LD_PRELOAD (ward's library first),
 * the policy (checked here first, then compiled once into an image every
 * process maps: WARD_POLICY_IMAGE), the shared figures (WARD_TREE) and the
 * records file (WARD_RECORDS, records.h).  It never runs CMD unwatched: a
 * missing or unloadable libward.so is an error, not a warning.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../shim/layout.h"
#include "cli.h"
#include "match.h"
#include "policy.h"
#include "records.h"
#include "scratch.h"
#include "tree.h"

#ifndef WARD_LIBDIR
#define WARD_LIBDIR "/usr/local/lib/ward"
#endif
#ifndef WARD_LIBDIR_FROM_BINDIR /* the library directory seen from the launcher's (meson.build) */
#define WARD_LIBDIR_FROM_BINDIR "../lib/ward"
#endif

/* The launcher's table of names (the shim has none: see layout.h). */
static const char *const call_names[WARD_NCALLS] = {
#define WARD_CALL(ret, name, params, args, fail, pre, post) #name,
#define WARD_CALL_VOID(name, params, args, pre, post) #name,
#define WARD_CALL_CUSTOM(name) #name,
#include "../shim/calls.def"
#undef WARD_CALL
#undef WARD_CALL_VOID
#undef WARD_CALL_CUSTOM
};

const struct ward_report_layout cli_layout = {
	.ncalls = WARD_NCALLS,
	.names = call_names,
	.files_opened = WARD_IDX_FILES_OPENED,
	.files_closed = WARD_IDX_FILES_CLOSED,
	.bytes_read = WARD_IDX_BYTES_READ,
	.bytes_written = WARD_IDX_BYTES_WRITTEN,
	.decisions = WARD_IDX_DECISIONS,
	.policy_denied = WARD_IDX_POLICY_DENIED,
	.audited = WARD_IDX_AUDITED,
	.forks = WARD_IDX_FORKS,
	.execs = WARD_IDX_EXECS,
	.spawns = WARD_IDX_SPAWNS,
	.allocations = WARD_IDX_ALLOCATIONS,
	.frees = WARD_IDX_FREES,
	.heap_allocated = WARD_IDX_HEAP_ALLOCATED,
	.heap_freed = WARD_IDX_HEAP_FREED,
	.heap_peak = WARD_IDX_HEAP_PEAK,
};

static char tree_path[PATH_MAX];
static struct ward_tree *tree;
static char image_path[PATH_MAX]; /* the compiled policy handed to the tree */
static char records_dir[PATH_MAX], records_path[PATH_MAX];
static struct ward_policy *tree_policy;   /* -p, kept to decide CMD's own exec */
static struct ward_matcher *tree_matcher;

/* Where the launcher's private files go: shared memory first; NULL or ""
 * for a place that is not set. */
enum { SCRATCH_DIRS = 3 };
static const char *
scratch_dir(size_t i)
{
	const char *dirs[SCRATCH_DIRS] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
	return i < SCRATCH_DIRS ? dirs[i] : NULL;
}

/* An ELF shared object we can read: enough for the loader not to skip it. */
static bool
looks_loadable(const char *path)
{
	struct stat st;
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 &&
	          memcmp(magic, "\177ELF", 4) == 0;
	close(fd);
	return ok;
}

/* WARD_LIB, then beside this executable (the build tree), then the
 * library directory at the same place relative to this executable as at
 * install time (PREFIX/bin/ward -> PREFIX/lib/<multiarch>/ward/libward.so:
 * a staged or moved tree works), then the configured prefix. */
static const char *
find_library(void)
{
	static char path[PATH_MAX];
	const char *forced = getenv("WARD_LIB");
	if (forced != NULL && forced[0] != '\0') {
		if (forced[0] != '/' && realpath(forced, path) != NULL)
			forced = path;
		if (!looks_loadable(forced))
			cli_fail("WARD_LIB=%s: not a readable shared library; not running unwatched", forced);
		return forced;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		const char *bin = dirname(self);
		if ((size_t)snprintf(path, sizeof(path), "%s/libward.so", bin) < sizeof(path) && looks_loadable(path))
			return path;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/libward.so", bin, WARD_LIBDIR_FROM_BINDIR) < sizeof(path) &&
		    looks_loadable(path))
			return path;
	}
	snprintf(path, sizeof(path), "%s/libward.so", WARD_LIBDIR);
	if (looks_loadable(path))
		return path;
	cli_fail("cannot find libward.so beside ward, in %s/ relative to it, or in %s; set WARD_LIB; not running unwatched",
	         WARD_LIBDIR_FROM_BINDIR, WARD_LIBDIR);
}

/* ward's library first, then whatever the caller preloads already. */
static void
set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	if (old == NULL || old[0] == '\0') {
		setenv("LD_PRELOAD", lib, 1);
		return;
	}
	size_t len = strlen(lib) + strlen(old) + 2;
	char *both = malloc(len);
	if (both == NULL)
		cli_fail("out of memory");
	snprintf(both, len, "%s:%s", lib, old);
	setenv("LD_PRELOAD", both, 1);
	free(both);
}

/* The shared file every process of the tree counts into (tree.h). */
static void
make_tree(void)
{
	for (size_t i = 0; i < SCRATCH_DIRS; i++) {
		const char *dir = scratch_dir(i);
		if (tree != NULL || dir == NULL || dir[0] == '\0')
			continue;
		if (scratch_name(tree_path, sizeof(tree_path), dir, "tree"))
			tree = ward_tree_create(tree_path);
	}
	if (tree == NULL)
		cli_fail("cannot create the process tree's shared figures in /dev/shm or /tmp: %s", strerror(errno));
	setenv("WARD_TREE", tree_path, 1);
}

static void
make_records(void)
{
	const char *dirs[SCRATCH_DIRS] = { scratch_dir(0), scratch_dir(1), scratch_dir(2) };
	if (ward_records_create(dirs, SCRATCH_DIRS, records_dir, sizeof(records_dir), records_path, sizeof(records_path)) != 0)
		cli_fail("cannot create the tree's records file in /dev/shm or /tmp: %s", strerror(errno));
	setenv("WARD_RECORDS", records_path, 1);
}

/* The working directory, however deep (glibc walks up ".." past PATH_MAX). */
static char *
working_directory(void)
{
	char *cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		cli_fail("getcwd: %s", strerror(errno));
	return cwd;
}

/* Absolute, so that children in other directories find the same file. */
static void
set_absolute(const char *variable, const char *value)
{
	if (value[0] == '/' || strcmp(value, "stderr") == 0) {
		setenv(variable, value, 1);
		return;
	}
	char *cwd = working_directory(), *path;
	if (asprintf(&path, "%s/%s", cwd, value) < 0)
		cli_fail("out of memory");
	setenv(variable, path, 1);
	free(path);
	free(cwd);
}

/* The compiled policy for the whole tree: every process maps it instead of
 * parsing and compiling the text again (start-up cost).  Without it the
 * processes parse the text: slower, same decisions. */
static void
write_policy_image(const struct ward_matcher *matcher, const char *source)
{
	for (size_t i = 0; matcher != NULL && i < SCRATCH_DIRS; i++) {
		const char *dir = scratch_dir(i);
		if (dir == NULL || dir[0] == '\0')
			continue;
		if (scratch_name(image_path, sizeof(image_path), dir, "policy") &&
		    ward_matcher_write_image(matcher, source, image_path) == 0) {
			setenv("WARD_POLICY_IMAGE", image_path, 1);
			break;
		}
		image_path[0] = '\0';
	}
}

/* --log DEST must take records before CMD runs (125 otherwise).  A FIFO
 * is opened without blocking (no reader: an error) and kept open, so its
 * reader does not see the end before the tree's records come. */
static void
open_log(const char *path)
{
	if (strcmp(path, "stderr") == 0)
		return;
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		cli_fail("--log %s: is a directory", path);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0 && errno == ENXIO)
		cli_fail("--log %s: a FIFO with no reader", path);
	if (fd < 0)
		cli_fail("--log %s: %s", path, strerror(errno));
	if (!S_ISFIFO(st.st_mode) || stat(path, &st) != 0 || !S_ISFIFO(st.st_mode))
		close(fd);
}

/* Check the policy here (a clear error before anything runs), then hand it
 * to the tree through the environment. */
static void
set_policy(const struct launch *l)
{
	if (l->policy == NULL) {
		if (l->audit || l->log != NULL || l->backtrace)
			cli_fail("--audit, --log and --backtrace need a policy (-p POLICY)");
		unsetenv("WARD_POLICY");
		unsetenv("WARD_POLICY_IMAGE");
		unsetenv("WARD_CWD");
		return;
	}
	struct ward_policy_error error;
	struct ward_policy *loaded = ward_policy_load(l->policy, NULL, &error);
	if (loaded == NULL)
		cli_fail("%s:%d:%d: error: %s", error.file, error.line, error.col, error.message);
	set_absolute("WARD_POLICY", l->policy);
	char *cwd = working_directory(); /* $CWD for the whole tree, also for a process that parses the text */
	setenv("WARD_CWD", cwd, 1);
	free(cwd);
	unsetenv("LD_AUDIT"); /* an audit library would run before libward (docs/POLICY.md) */
	setenv("WARD_CHILD", "1", 1); /* CMD is decided like every exec of the tree: its image checks itself */
	tree_policy = loaded;
	tree_matcher = ward_matcher_build(loaded);
	if (tree_matcher == NULL)
		cli_fail("out of memory compiling the policy");
	write_policy_image(tree_matcher, getenv("WARD_POLICY"));
	if (l->audit)
		setenv("WARD_MODE", "audit", 1);
	if (l->log != NULL) {
		set_absolute("WARD_LOG", l->log);
		open_log(getenv("WARD_LOG"));
	}
	if (l->backtrace)
		setenv("WARD_BACKTRACE", "1", 1);
}

void
launch_prepare(const struct launch *l)
{
	static bool registered;
	if (!registered && atexit(launch_cleanup) == 0)
		registered = true;
	const char *dirs[SCRATCH_DIRS] = { scratch_dir(0), scratch_dir(1), scratch_dir(2) };
	scratch_sweep(dirs, SCRATCH_DIRS); /* what SIGKILLed launchers (and their janitors) left */
	set_preload(find_library());
	set_policy(l);
	make_records();
	/* under a policy the figures count every refusal, even one whose record
	 * a process could not write (cmd_run compares) */
	if (l->figures || l->policy != NULL)
		make_tree();
	launch_strict_prepare(l, tree_policy, tree_matcher);
	const char *mine[] = { image_path, tree_path, records_path };
	scratch_guard(mine, sizeof(mine) / sizeof(mine[0]), records_dir);
}

const char *
launch_records_path(void)
{
	return records_path;
}

bool
launch_figures(struct ward_report *report)
{
	static uint64_t value[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	if (tree == NULL)
		return false;
	uint32_t claimed = __atomic_load_n(&tree->next_record, __ATOMIC_ACQUIRE);
	report->unrecorded = claimed > tree->max_records ? claimed - tree->max_records : 0;
	for (uint32_t i = 0; i < claimed && i < tree->max_records; i++) {
		const struct ward_tree_record *r = &tree->record[i];
		uint32_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
		if (state == WARD_TREE_FREE)
			continue;
		ward_counters_sum_claimed(r->slot, WARD_TREE_SLOTS + 1, __atomic_load_n(&r->claimed, __ATOMIC_ACQUIRE), value, copy);
		ward_layout_derive(value);
		ward_report_add(report, r->exe, value, state != WARD_TREE_RUNNING);
	}
	return true;
}

unsigned long
launch_denied(void)
{
	static uint64_t value[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	unsigned long denied = 0;
	if (tree == NULL)
		return 0;
	uint32_t claimed = __atomic_load_n(&tree->next_record, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < claimed && i < tree->max_records; i++) {
		const struct ward_tree_record *r = &tree->record[i];
		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == WARD_TREE_FREE)
			continue;
		ward_counters_sum_claimed(r->slot, WARD_TREE_SLOTS + 1, __atomic_load_n(&r->claimed, __ATOMIC_ACQUIRE), value, copy);
		denied += (unsigned long)value[WARD_IDX_POLICY_DENIED];
	}
	return denied;
}

void
launch_cleanup(void)
{
	ward_matcher_free(tree_matcher);
	ward_policy_free(tree_policy);
	tree_matcher = NULL;
	tree_policy = NULL;
	if (image_path[0] != '\0')
		unlink(image_path);
	image_path[0] = '\0';
	if (tree != NULL) {
		ward_tree_unmap(tree);
		unlink(tree_path);
		tree = NULL;
	}
	ward_records_remove(records_dir, records_path);
	records_dir[0] = records_path[0] = '\0';
	scratch_release();
}

static pid_t child;

static void
forward_signal(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static void
watch_signals(void)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, forward = { .sa_handler = forward_signal };
	sigaction(SIGINT, &ignore, NULL);
	sigaction(SIGQUIT, &ignore, NULL);
	sigaction(SIGTERM, &forward, NULL);
	sigaction(SIGHUP, &forward, NULL);
}

/* Start CMD; a close-on-exec pipe brings back exec's errno if it fails. */
int
launch_run(char **argv)
{
	int report[2];
	int refused = launch_decide_command(tree_policy, tree_matcher, argv, records_path);
	if (refused != 0)
		return refused;
	watch_signals();
	/* Not dumpable: a process of the tree (same user) cannot ptrace-attach
	 * to the launcher, or open its /proc/PID/mem, to run code outside the
	 * shim.  CMD is not affected: exec makes a process dumpable again. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		cli_fail("prctl(PR_SET_DUMPABLE): %s", strerror(errno));
	fflush(NULL);
	if (pipe2(report, O_CLOEXEC) != 0)
		cli_fail("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		cli_fail("fork: %s", strerror(errno));
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		launch_strict_enter();
		execvp(argv[0], argv);
		int err = errno;
		if (write(report[1], &err, sizeof(err)) < 0)
			_exit(EXIT_NOT_RUNNABLE);
		_exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_RUNNABLE);
	}
	close(report[1]);
	int err = 0;
	ssize_t got;
	do
		got = read(report[0], &err, sizeof(err));
	while (got < 0 && errno == EINTR);
	close(report[0]);

	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			cli_fail("waitpid: %s", strerror(errno));
	if (got == (ssize_t)sizeof(err)) {
		fprintf(stderr, "ward: %s: %s\n", argv[0], strerror(err));
		return err == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_RUNNABLE;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
