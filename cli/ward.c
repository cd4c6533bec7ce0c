/*
 * ward: the launcher.
 *
 *   ward run [-s DEST] [-f FORMAT] -- CMD [ARG...]
 *
 * Runs CMD with libward.so preloaded into it and every process it starts,
 * waits for it, and exits as CMD did (128+N when a signal N killed it; 125
 * for ward's own errors, 126 when CMD cannot be run, 127 when it is not
 * found, as env(1) and timeout(1) do).  It never runs CMD unwatched: a
 * missing or unloadable libward.so is an error, not a warning.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../shim/layout.h"
#include "explain.h"
#include "match.h"
#include "report.h"
#include "tree.h"
#include "path.h"
#include "policy.h"
#include "stats.h"

#ifndef WARD_VERSION
#define WARD_VERSION "unknown"
#endif
#ifndef WARD_LIBDIR
#define WARD_LIBDIR "/usr/local/lib/ward"
#endif

enum { EXIT_WARD_ERROR = 125, EXIT_NOT_RUNNABLE = 126, EXIT_NOT_FOUND = 127 };

static void
usage(FILE *out)
{
	fputs("usage: ward run [-p POLICY] [-s DEST] [-f text|json|prom] [--audit] [--log DEST]\n"
	      "                [--backtrace] -- CMD [ARG...]\n"
	      "       ward check POLICY...\n"
	      "       ward explain -p POLICY OP PATH\n"
	      "       ward report [-f text|json|prom] FILE|DIR...\n"
	      "       ward --help | --version\n"
	      "\n"
	      "run     run CMD and every process it starts under libward.so, then print\n"
	      "        the figures of the whole tree: totals, then one line per program\n"
	      "  -p, --policy FILE   confine the tree by this policy (see docs/POLICY.md)\n"
	      "      --audit         log what the policy would deny, deny nothing\n"
	      "      --log DEST      violation records: stderr (default) or a file (JSON lines)\n"
	      "      --backtrace     add a backtrace to every violation record\n"
	      "  -s, --stats DEST    where the report goes: stderr (default), fd:N, a file\n"
	      "                      (appended), a directory ending in '/', or none\n"
	      "  -f, --format FMT    text (default for stderr/fd), json (default for files), prom\n"
	      "\n"
	      "check   validate policy files: 'FILE: ok (N rules)' or FILE:LINE:COL: error\n"
	      "report  merge per-process JSON dumps (WARD_STATS=dir/) and print them\n"
	      "explain print allow or deny for OP (read, stat, write, create, remove, exec) on\n"
	      "        PATH and the rule that decides (FILE:LINE or default); exit 0 allow,\n"
	      "        1 deny, 2 error\n"
	      "\n"
	      "Exit status of run: CMD's own; 128+N if a signal N killed it; 125 ward's own error;\n"
	      "126 CMD found but not runnable; 127 CMD not found.\n"
	      "Environment: WARD_LIB overrides where libward.so is found.\n",
	      out);
}

__attribute__((format(printf, 1, 2), noreturn)) static void
fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ward: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_WARD_ERROR);
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
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	          read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
	close(fd);
	return ok;
}

/* WARD_LIB, then beside this executable (the build tree), then the
 * install prefix. */
static const char *
find_library(void)
{
	static char path[PATH_MAX];
	const char *forced = getenv("WARD_LIB");
	if (forced != NULL && forced[0] != '\0') {
		if (forced[0] != '/' && realpath(forced, path) != NULL)
			forced = path;
		if (!looks_loadable(forced))
			fail("WARD_LIB=%s: not a readable shared library; not running unwatched", forced);
		return forced;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(path, sizeof(path), "%s/libward.so", dirname(self));
		if (looks_loadable(path))
			return path;
	}
	snprintf(path, sizeof(path), "%s/libward.so", WARD_LIBDIR);
	if (looks_loadable(path))
		return path;
	fail("cannot find libward.so beside ward or in %s; set WARD_LIB; not running unwatched",
	     WARD_LIBDIR);
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
		fail("out of memory");
	snprintf(both, len, "%s:%s", lib, old);
	setenv("LD_PRELOAD", both, 1);
	free(both);
}

/* ---- the tree's figures ---- */

static const struct ward_report_layout layout = {
	.ncalls = WARD_NCALLS,
	.names = ward_call_names,
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

/* The shared file every process of the tree counts into (tree.h). */
static void
make_tree(void)
{
	const char *dirs[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && tree == NULL; i++) {
		if (dirs[i] == NULL || dirs[i][0] == '\0')
			continue;
		snprintf(tree_path, sizeof(tree_path), "%s/ward-tree.%ld.%lx", dirs[i], (long)getpid(),
		         (unsigned long)random());
		tree = ward_tree_create(tree_path);
	}
	if (tree == NULL)
		fail("cannot create the process tree's shared figures in /dev/shm or /tmp: %s", strerror(errno));
	setenv("WARD_TREE", tree_path, 1);
}

/* Where the report goes: stderr, fd:N, a file (appended), a directory/. */
static FILE *
open_destination(const char *dest, enum ward_stats_format format)
{
	if (strcmp(dest, "stderr") == 0)
		return stderr;
	if (strncmp(dest, "fd:", 3) == 0) {
		char *end;
		long fd = strtol(dest + 3, &end, 10);
		int copy = (dest[3] != '\0' && *end == '\0' && fd >= 0) ? fcntl((int)fd, F_DUPFD_CLOEXEC, 3) : -1;
		return copy >= 0 ? fdopen(copy, "a") : NULL;
	}
	size_t len = strlen(dest);
	if (len > 0 && dest[len - 1] == '/') {
		char path[PATH_MAX + 64];
		mkdir(dest, 0755);
		snprintf(path, sizeof(path), "%sward-report.%ld.%s", dest, (long)getpid(), ward_stats_format_ext(format));
		return fopen(path, "a");
	}
	return fopen(dest, "a");
}

static void
report_tree(const char *dest, enum ward_stats_format format)
{
	static uint64_t value[WARD_COUNTERS_MAX];
	struct ward_report report;
	ward_report_init(&report, &layout);
	uint32_t claimed = __atomic_load_n(&tree->next_record, __ATOMIC_ACQUIRE);
	report.unrecorded = claimed > tree->max_records ? claimed - tree->max_records : 0;
	for (uint32_t i = 0; i < claimed && i < tree->max_records; i++) {
		const struct ward_tree_record *r = &tree->record[i];
		uint32_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
		if (state == WARD_TREE_FREE)
			continue;
		ward_counters_sum(r->slot, WARD_TREE_SLOTS + 1, value);
		ward_report_add(&report, r->exe, value, state != WARD_TREE_RUNNING);
	}
	FILE *out = open_destination(dest, format);
	if (out == NULL)
		fprintf(stderr, "ward: cannot write the report to %s: %s\n", dest, strerror(errno));
	else {
		ward_report_print(&report, format, out);
		if (out != stderr)
			fclose(out);
	}
	ward_report_free(&report);
}

static void
remove_tree(void)
{
	if (image_path[0] != '\0')
		unlink(image_path);
	if (tree != NULL) {
		ward_tree_unmap(tree);
		unlink(tree_path);
		tree = NULL;
	}
}

/* Absolute, so that children in other directories find the same file. */
static void
set_absolute(const char *variable, const char *value)
{
	char path[PATH_MAX * 2];
	if (value[0] == '/' || strcmp(value, "stderr") == 0) {
		setenv(variable, value, 1);
		return;
	}
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		fail("getcwd: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", cwd, value);
	setenv(variable, path, 1);
}

/* The compiled policy for the whole tree: every process maps it instead of
 * parsing and compiling the text again (start-up cost).  Without it the
 * processes parse the text: slower, same decisions. */
static void
write_policy_image(const struct ward_policy *policy, const char *source)
{
	struct ward_matcher *matcher = ward_matcher_build(policy);
	const char *dirs[] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };
	for (size_t i = 0; matcher != NULL && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (dirs[i] == NULL || dirs[i][0] == '\0')
			continue;
		snprintf(image_path, sizeof(image_path), "%s/ward-policy.%ld.%lx", dirs[i], (long)getpid(),
		         (unsigned long)random());
		if (ward_matcher_write_image(matcher, source, image_path) == 0) {
			setenv("WARD_POLICY_IMAGE", image_path, 1);
			break;
		}
		image_path[0] = '\0';
	}
	ward_matcher_free(matcher);
}

/* Check the policy here (a clear error before anything runs), then hand it
 * to the tree through the environment. */
static void
set_policy(const char *policy, bool audit, const char *log, bool backtrace)
{
	if (policy == NULL) {
		if (audit || log != NULL || backtrace)
			fail("--audit, --log and --backtrace need a policy (-p POLICY)");
		unsetenv("WARD_POLICY");
		return;
	}
	struct ward_policy_error error;
	struct ward_policy *loaded = ward_policy_load(policy, NULL, &error);
	if (loaded == NULL)
		fail("%s:%d:%d: error: %s", error.file, error.line, error.col, error.message);
	set_absolute("WARD_POLICY", policy);
	write_policy_image(loaded, getenv("WARD_POLICY"));
	ward_policy_free(loaded);
	if (audit)
		setenv("WARD_MODE", "audit", 1);
	if (log != NULL)
		set_absolute("WARD_LOG", log);
	if (backtrace)
		setenv("WARD_BACKTRACE", "1", 1);
}

static pid_t child;

static void
forward_signal(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Start CMD; a close-on-exec pipe brings back exec's errno if it fails. */
static int
run_command(char **argv)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) != 0)
		fail("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		fail("fork: %s", strerror(errno));
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
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
			fail("waitpid: %s", strerror(errno));
	if (got == (ssize_t)sizeof(err)) {
		fprintf(stderr, "ward: %s: %s\n", argv[0], strerror(err));
		return err == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_RUNNABLE;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int
cmd_run(int argc, char **argv)
{
	static const struct option options[] = {
		{ "stats", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' },
		{ "audit", no_argument, NULL, 'A' },
		{ "log", required_argument, NULL, 'L' },
		{ "backtrace", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dest = "stderr", *format = NULL, *policy = NULL, *log = NULL;
	bool audit = false, backtrace = false;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+s:f:p:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			dest = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'p':
			policy = optarg;
			break;
		case 'A':
			audit = true;
			break;
		case 'L':
			log = optarg;
			break;
		case 'B':
			backtrace = true;
			break;
		default:
			usage(stderr);
			return EXIT_WARD_ERROR;
		}
	}
	if (optind >= argc) {
		fputs("ward: run: no command given\n", stderr);
		usage(stderr);
		return EXIT_WARD_ERROR;
	}
	int fmt = WARD_FORMAT_TEXT;
	if (format != NULL && (fmt = ward_stats_parse_format(format)) < 0)
		fail("-f %s: expected text, json or prom", format);
	bool to_file = strcmp(dest, "stderr") != 0 && strncmp(dest, "fd:", 3) != 0;
	if (format == NULL && to_file)
		fmt = WARD_FORMAT_JSON;
	const char *lib = find_library();
	set_preload(lib);
	set_policy(policy, audit, log, backtrace);
	bool report = strcmp(dest, "none") != 0;
	if (report)
		make_tree();

	struct sigaction ignore = { .sa_handler = SIG_IGN }, forward = { .sa_handler = forward_signal };
	sigaction(SIGINT, &ignore, NULL);
	sigaction(SIGQUIT, &ignore, NULL);
	sigaction(SIGTERM, &forward, NULL);
	sigaction(SIGHUP, &forward, NULL);
	int status = run_command(argv + optind);
	if (report)
		report_tree(dest, (enum ward_stats_format)fmt);
	remove_tree(); /* and the policy image */
	return status;
}

/* Every line of a dump file, or of every file in a directory. */
static int
report_path(struct ward_report *report, const char *path, size_t *read_dumps)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "ward: report: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *dir = opendir(path);
		struct dirent *e;
		int status = 0;
		char child[PATH_MAX * 2];
		while (dir != NULL && (e = readdir(dir)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
			status |= report_path(report, child, read_dumps);
		}
		if (dir != NULL)
			closedir(dir);
		return status;
	}
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "ward: report: %s: %s\n", path, strerror(errno));
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, status = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (n <= 1)
			continue;
		if (ward_report_add_json(report, line))
			(*read_dumps)++;
		else {
			fprintf(stderr, "ward: report: %s:%d: not a ward JSON stats dump\n", path, lineno);
			status = 1;
		}
	}
	free(line);
	fclose(f);
	return status;
}

/* ward report [-f FORMAT] FILE|DIR...: merge JSON dumps (WARD_STATS=dir/)
 * and print them. */
static int
cmd_report(int argc, char **argv)
{
	int fmt = WARD_FORMAT_TEXT, opt;
	optind = 1;
	while ((opt = getopt(argc, argv, "+f:")) != -1) {
		if (opt != 'f' || (fmt = ward_stats_parse_format(optarg)) < 0) {
			fputs("usage: ward report [-f text|json|prom] FILE|DIR...\n", stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs("usage: ward report [-f text|json|prom] FILE|DIR...\n", stderr);
		return 2;
	}
	struct ward_report report;
	ward_report_init(&report, &layout);
	int status = 0;
	size_t read_dumps = 0;
	for (int i = optind; i < argc; i++)
		status |= report_path(&report, argv[i], &read_dumps);
	if (read_dumps == 0) {
		fprintf(stderr, "ward: report: no stats dumps found\n");
		status = 1;
	}
	ward_report_print(&report, (enum ward_stats_format)fmt, stdout);
	ward_report_free(&report);
	return status;
}

/* ward check POLICY...: FILE: ok (N rules), or the first error; 0 when all
 * are valid, 1 otherwise. */
static int
cmd_check(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: ward check POLICY...\n", stderr);
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++) {
		struct ward_policy_error error;
		struct ward_policy *policy = ward_policy_load(argv[i], NULL, &error);
		if (policy == NULL) {
			fprintf(stderr, "%s:%d:%d: error: %s\n", error.file, error.line, error.col, error.message);
			status = 1;
			continue;
		}
		printf("%s: ok (%zu rule%s)\n", argv[i], policy->nrules, policy->nrules == 1 ? "" : "s");
		ward_policy_free(policy);
	}
	return status;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_WARD_ERROR;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ward %s\n", WARD_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return ward_cli_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	fprintf(stderr, "ward: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_WARD_ERROR;
}
