/*
 * report.c: `ward report [-f FORMAT] FILE|DIR...`: merge per-process JSON
 * dumps (WARD_STATS=dir/) and `ward run`'s own JSON tree reports (one
 * object a line, core/report.c reads both) and print them (SPEC 4).  Exit 0, 1 when a file
 * could not be read or held no dump, 2 for a usage error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "report.h"
#include "stats.h"

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
			fprintf(stderr, "ward: report: %s:%d: not a ward stats dump or ward run JSON report\n", path, lineno);
			status = 1;
		}
	}
	free(line);
	fclose(f);
	return status;
}

int
cmd_report(int argc, char **argv)
{
	static const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int fmt = WARD_FORMAT_TEXT, opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+f:h", options, NULL)) != -1) {
		if (opt == 'h') {
			cli_help("report", stdout);
			return 0;
		}
		if (opt != 'f')
			return cli_usage_error("report", 2, "unknown option or missing value: %s", argv[optind - 1]);
		if ((fmt = ward_stats_parse_format(optarg)) < 0)
			return cli_usage_error("report", 2, "-f %s: expected text, json or prom", optarg);
	}
	if (optind >= argc)
		return cli_usage_error("report", 2, "no dump file or directory given");
	struct ward_report report;
	ward_report_init(&report, &cli_layout);
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
