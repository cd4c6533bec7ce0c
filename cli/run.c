/*
 * run.c: `ward run` (SPEC 4).
 *
 *   ward run [-p POLICY] [-s DEST] [-f FORMAT] [--audit] [--strict] [--no-fail]
 *            [--log DEST] [--backtrace] -- CMD [ARG...]
 *
 * Runs CMD and every process it starts under libward.so (launch.c), waits
 * for it, prints the tree's figures to DEST and the summary of the tree's
 * violation records on stderr, and exits as CMD did, or 3 when CMD
 * exited 0 but the policy refused something.
 *
 * DEST is made ready before anything starts, so a report that could not
 * be written fails the run (125) before CMD runs, never after: fd:N is
 * duplicated, a directory gets its report file, and a FILE gets a
 * temporary beside it that is renamed over FILE at the end (the report
 * replaces FILE whole).  An existing FILE that is not a regular file
 * (/dev/stdout, a FIFO) is written in place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "records.h"
#include "stats.h"

#define SUMMARY_LINES 200

struct destination {
	FILE *out;                    /* NULL: none */
	char temporary[PATH_MAX + 32]; /* renamed to final at the end; "" when written in place */
	char final[PATH_MAX + 64];
};

static struct destination dest;

static void
drop_temporary(void)
{
	if (dest.temporary[0] != '\0')
		unlink(dest.temporary);
	dest.temporary[0] = '\0';
}

static FILE *
open_fd_destination(const char *spec)
{
	char *end;
	long fd = strtol(spec + 3, &end, 10);
	if (spec[3] == '\0' || *end != '\0' || fd < 0 || fd > INT_MAX)
		cli_fail("-s %s: expected fd:N with N a descriptor number", spec);
	int flags = fcntl((int)fd, F_GETFL);
	if (flags < 0)
		cli_fail("-s %s: descriptor %ld is not open", spec, fd);
	if ((flags & O_ACCMODE) == O_RDONLY)
		cli_fail("-s %s: descriptor %ld is not open for writing", spec, fd);
	int copy = fcntl((int)fd, F_DUPFD_CLOEXEC, 3);
	FILE *out = copy >= 0 ? fdopen(copy, "a") : NULL;
	if (out == NULL)
		cli_fail("-s %s: %s", spec, strerror(errno));
	return out;
}

/* A temporary in the folder of final (made mode 0666 & ~umask). */
static FILE *
open_temporary(const char *shown)
{
	char folder[PATH_MAX + 64];
	snprintf(folder, sizeof(folder), "%s", dest.final);
	snprintf(dest.temporary, sizeof(dest.temporary), "%s/.ward-report.XXXXXX", dirname(folder));
	int fd = mkostemp(dest.temporary, O_CLOEXEC);
	if (fd < 0) {
		dest.temporary[0] = '\0';
		cli_fail("-s %s: cannot write there: %s", shown, strerror(errno));
	}
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	FILE *out = fdopen(fd, "w");
	if (out == NULL)
		cli_fail("-s %s: %s", shown, strerror(errno));
	return out;
}

static FILE *
open_file_destination(const char *spec)
{
	struct stat st;
	snprintf(dest.final, sizeof(dest.final), "%s", spec);
	if (stat(spec, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			cli_fail("-s %s: is a directory (end it with '/' for one report file in it)", spec);
		if (!S_ISREG(st.st_mode)) { /* /dev/stdout, a FIFO: written in place */
			int fd = open(spec, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
			FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
			if (out == NULL)
				cli_fail("-s %s: %s", spec, strerror(errno));
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			return out;
		}
		if (access(spec, W_OK) != 0)
			cli_fail("-s %s: %s", spec, strerror(errno));
		if (realpath(spec, dest.final) == NULL) /* replace a symlink's target, not the link */
			cli_fail("-s %s: %s", spec, strerror(errno));
	}
	return open_temporary(spec);
}

static FILE *
open_directory_destination(const char *spec, enum ward_stats_format format)
{
	struct stat st;
	if (mkdir(spec, 0777) != 0 && errno != EEXIST)
		cli_fail("-s %s: cannot make the directory: %s", spec, strerror(errno));
	if (stat(spec, &st) != 0 || !S_ISDIR(st.st_mode))
		cli_fail("-s %s: not a directory", spec);
	snprintf(dest.final, sizeof(dest.final), "%sward-report.%ld.%s", spec, (long)getpid(),
	         ward_stats_format_ext(format));
	return open_temporary(spec);
}

/* Made ready before anything else starts (see the top of the file). */
static void
open_destination(const char *spec, enum ward_stats_format format)
{
	size_t len = strlen(spec);
	atexit(drop_temporary);
	if (strcmp(spec, "none") == 0)
		dest.out = NULL;
	else if (strcmp(spec, "stderr") == 0)
		dest.out = stderr;
	else if (strncmp(spec, "fd:", 3) == 0)
		dest.out = open_fd_destination(spec);
	else if (len == 0)
		cli_fail("-s: expected stderr, fd:N, a file, a directory ending in '/', or none");
	else if (spec[len - 1] == '/')
		dest.out = open_directory_destination(spec, format);
	else
		dest.out = open_file_destination(spec);
}

static void
write_report(enum ward_stats_format format)
{
	struct ward_report report;
	if (dest.out == NULL)
		return;
	ward_report_init(&report, &cli_layout);
	launch_figures(&report);
	ward_report_print(&report, format, dest.out);
	ward_report_free(&report);
	bool failed = dest.out == stderr ? fflush(stderr) != 0 : fclose(dest.out) != 0;
	if (!failed && dest.temporary[0] != '\0' && rename(dest.temporary, dest.final) != 0)
		failed = true;
	if (failed)
		fprintf(stderr, "ward: cannot write the report to %s: %s\n", dest.final[0] ? dest.final : "stderr",
		        strerror(errno));
	drop_temporary();
}

/* The tree's records: summary on stderr; how many refusals (and how many
 * of the policy's rules' refusals the tree's figures count that no record
 * says: a process that could not write its record, under a file size
 * limit of 0 say, still counted the refusal). */
static unsigned long
summarize(unsigned long *unrecorded)
{
	struct ward_records records;
	ward_records_init(&records);
	if (!ward_records_read(&records, launch_records_path()))
		fprintf(stderr, "ward: cannot read the tree's records: %s\n", strerror(errno));
	ward_records_summary(&records, stderr, SUMMARY_LINES);
	unsigned long refusals = ward_records_refusals(&records), counted = launch_denied();
	*unrecorded = counted > records.by_rule ? counted - records.by_rule : 0;
	if (*unrecorded > 0)
		fprintf(stderr, "ward: %lu refusal%s counted by the tree had no record (the process could not write it)\n",
		        *unrecorded, *unrecorded == 1 ? "" : "s");
	ward_records_free(&records);
	return refusals;
}

struct run_options {
	const char *dest, *format;
	struct launch launch;
	bool no_fail;
};

static int
parse_options(int argc, char **argv, struct run_options *o)
{
	static const struct option options[] = {
		{ "stats", required_argument, NULL, 's' }, { "format", required_argument, NULL, 'f' },
		{ "policy", required_argument, NULL, 'p' }, { "audit", no_argument, NULL, 'A' },
		{ "log", required_argument, NULL, 'L' },   { "backtrace", no_argument, NULL, 'B' },
		{ "no-fail", no_argument, NULL, 'N' },     { "help", no_argument, NULL, 'h' },
		{ "strict", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+s:f:p:h", options, NULL)) != -1) {
		switch (opt) {
		case 's': o->dest = optarg; break;
		case 'f': o->format = optarg; break;
		case 'p': o->launch.policy = optarg; break;
		case 'A': o->launch.audit = true; break;
		case 'L': o->launch.log = optarg; break;
		case 'B': o->launch.backtrace = true; break;
		case 'N': o->no_fail = true; break;
		case 'S': o->launch.strict = true; break;
		case 'h': cli_help("run", stdout); return 0;
		default:
			return cli_usage_error("run", EXIT_WARD_ERROR, "unknown option or missing value: %s",
			                       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("run", EXIT_WARD_ERROR, "no command given (ward run [OPTIONS] -- CMD [ARG...])");
	return -1;
}

int
cmd_run(int argc, char **argv)
{
	struct run_options o = { .dest = "stderr" };
	int early = parse_options(argc, argv, &o);
	if (early >= 0)
		return early;
	int fmt = WARD_FORMAT_TEXT;
	if (o.format != NULL && (fmt = ward_stats_parse_format(o.format)) < 0)
		cli_fail("-f %s: expected text, json or prom", o.format);
	bool to_file = strcmp(o.dest, "stderr") != 0 && strncmp(o.dest, "fd:", 3) != 0;
	if (o.format == NULL && to_file)
		fmt = WARD_FORMAT_JSON;
	open_destination(o.dest, (enum ward_stats_format)fmt);
	o.launch.figures = dest.out != NULL;
	launch_prepare(&o.launch);
	int status = launch_run(argv + optind);
	write_report((enum ward_stats_format)fmt);
	unsigned long unrecorded;
	unsigned long refusals = summarize(&unrecorded);
	launch_cleanup();
	refusals += unrecorded; /* one that left no record may not have been quiet: counted */
	if (status == 0 && refusals > 0 && !o.no_fail) {
		fprintf(stderr, "ward: exit %d: the command exited 0 but the policy refused %lu access%s (--no-fail keeps 0)\n",
		        EXIT_POLICY_DENIED, refusals, refusals == 1 ? "" : "es");
		return EXIT_POLICY_DENIED;
	}
	return status;
}
