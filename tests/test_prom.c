/*
 * test_prom: the Prometheus expositions as a monitoring user consumes them
 * (SPEC 6).
 *
 * Every figure of the JSON dump has a metric in the per-process prom dump,
 * and every figure of ward run's JSON report one in `ward run -f prom`: the
 * JSON keys are read from real dumps, so a figure added to the JSON without
 * a metric fails here.  Each exposition is checked by the Prometheus
 * client's own parser (check_prom.py) and, as a directory, by node_exporter's
 * textfile collector (check_textfile.py: the real collector when
 * prometheus-node-exporter is installed, its rules otherwise).  Per-process
 * prom dumps go to a directory, one exposition per file: appended to one
 * file they are not one exposition (docs/STATS.md says so).
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
static char data_file[PATH_MAX];

static void
setup(void)
{
	dir = tmpdir_make();
	path_in(data_file, dir, "data.txt");
	cr_assert(file_write(data_file, "some bytes to read, some more bytes to read\n", 44));
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(prom, .init = setup, .fini = teardown, .timeout = 90);

struct figure {
	const char *section, *key, *metric;
};

/* JSON dump figure -> metric (docs/STATS.md). */
static const struct figure dump_figures[] = {
	{ NULL, "pid", "ward_process_info" }, { NULL, "exe", "ward_process_info" },
	{ NULL, "reason", "ward_process_info" }, { NULL, "ward_stats_version", NULL },
	{ NULL, "calls", "ward_calls_total" },
	{ "calls", "calls", "ward_calls_total" }, { "calls", "errors", "ward_errors_total" },
	{ "calls", "denied", "ward_denied_total" },
	{ "files", "opened", "ward_files_opened_total" }, { "files", "closed", "ward_files_closed_total" },
	{ "files", "open_now", "ward_files_open" }, { "files", "open_peak", "ward_files_open_max" },
	{ "files", "bytes_read", "ward_read_bytes_total" }, { "files", "bytes_written", "ward_written_bytes_total" },
	{ "processes", "forks", "ward_forks_total" }, { "processes", "execs", "ward_execs_total" },
	{ "processes", "spawns", "ward_spawns_total" }, { "processes", "children_now", "ward_children" },
	{ "processes", "children_peak", "ward_children_max" },
	{ "memory", "allocator", "ward_process_info" }, { "memory", "allocations", "ward_allocations_total" },
	{ "memory", "frees", "ward_frees_total" }, { "memory", "bytes_allocated", "ward_heap_allocated_bytes_total" },
	{ "memory", "bytes_freed", "ward_heap_freed_bytes_total" }, { "memory", "live_bytes", "ward_heap_live_bytes" },
	{ "memory", "peak_bytes", "ward_heap_peak_bytes" }, { "memory", "mmaps", "ward_mmaps_total" },
	{ "memory", "munmaps", "ward_munmaps_total" }, { "memory", "mprotects", "ward_mprotects_total" },
	{ "policy", "loaded", "ward_policy_loaded" }, { "policy", "rules", "ward_policy_rules" },
	{ "policy", "decisions", "ward_policy_decisions_total" }, { "policy", "denied", "ward_policy_denied_total" },
	{ "policy", "audited", "ward_policy_audited_total" },
	{ NULL, "files", NULL }, { NULL, "processes", NULL }, { NULL, "memory", NULL }, { NULL, "policy", NULL },
};

/* A program group of ward run's JSON report -> metric (labelled exe). */
static const struct figure tree_figures[] = {
	{ NULL, "processes", "ward_tree_processes" }, { NULL, "unfinished", "ward_tree_unfinished_processes" },
	{ NULL, "calls", "ward_tree_calls_total" },
	{ "calls", "calls", "ward_tree_calls_total" }, { "calls", "errors", "ward_tree_errors_total" },
	{ "calls", "denied", "ward_tree_denied_total" },
	{ "files", "opened", "ward_tree_files_opened_total" }, { "files", "closed", "ward_tree_files_closed_total" },
	{ "files", "bytes_read", "ward_tree_read_bytes_total" },
	{ "files", "bytes_written", "ward_tree_written_bytes_total" },
	{ "started", "forks", "ward_tree_forks_total" }, { "started", "execs", "ward_tree_execs_total" },
	{ "started", "spawns", "ward_tree_spawns_total" },
	{ "memory", "allocations", "ward_tree_allocations_total" }, { "memory", "frees", "ward_tree_frees_total" },
	{ "memory", "bytes_allocated", "ward_tree_heap_allocated_bytes_total" },
	{ "memory", "bytes_freed", "ward_tree_heap_freed_bytes_total" },
	{ "memory", "peak_bytes", "ward_tree_heap_peak_bytes" },
	{ "policy", "decisions", "ward_tree_policy_decisions_total" },
	{ "policy", "denied", "ward_tree_policy_denied_total" },
	{ "policy", "audited", "ward_tree_policy_audited_total" },
	{ NULL, "files", NULL }, { NULL, "started", NULL }, { NULL, "memory", NULL }, { NULL, "policy", NULL },
};

/* Every key of the JSON object at `object` (a python expression over d)
 * is in the table for `section`, and its metric is in prom. */
static void
covered(const char *json_file, const char *object, const char *section, const struct figure *table, size_t n,
        const char *prom)
{
	char expr[4096];
	size_t len = (size_t)snprintf(expr, sizeof(expr), "len(set(%s) - {''", object);
	for (size_t i = 0; i < n; i++) {
		bool here = section == NULL ? table[i].section == NULL
		                            : table[i].section != NULL && strcmp(table[i].section, section) == 0;
		if (!here)
			continue;
		len += (size_t)snprintf(expr + len, sizeof(expr) - len, ",'%s'", table[i].key);
		if (table[i].metric != NULL) {
			char sample[128];
			snprintf(sample, sizeof(sample), "\n%s{", table[i].metric);
			cr_expect_not_null(strstr(prom, sample), "%s.%s: no %s in\n%s", section ? section : "", table[i].key,
			                   table[i].metric, prom);
		}
	}
	snprintf(expr + len, sizeof(expr) - len, "})");
	cr_expect_eq(pycheck_json_value(json_file, expr), 0, "%s has a figure with no metric: %s", object, expr);
}

static bool
textfile_ok(const char *directory, char **said)
{
	const char *argv[] = { PYTHON3, CHECK_TEXTFILE, directory, NULL };
	struct run_result r;
	cr_assert(run_argv(argv, NULL, &r));
	bool ok = run_exit_code(&r) == 0;
	if (asprintf(said, "%s%s", r.out, r.err) < 0)
		*said = NULL;
	run_free(&r);
	return ok;
}

/* The first file of a directory. */
static void
only_file(const char *directory, char *out)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "ls '%s'", directory);
	FILE *p = popen(cmd, "r");
	char name[256] = "";
	cr_assert(p != NULL && fgets(name, sizeof(name), p) != NULL, "nothing in %s", directory);
	pclose(p);
	name[strcspn(name, "\n")] = '\0';
	path_in(out, directory, name);
}

static void
dump_to(const char *sub, const char *format, const char *const argv[], char *file)
{
	char directory[PATH_MAX], stats[PATH_MAX + 16], fmt[64];
	path_in(directory, dir, sub);
	snprintf(stats, sizeof(stats), "WARD_STATS=%s/", directory);
	snprintf(fmt, sizeof(fmt), "WARD_STATS_FORMAT=%s", format);
	const char *env[] = { stats, fmt, NULL };
	struct run_opts o = { .env = env, .shim = true };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	if (file != NULL)
		only_file(directory, file);
}

Test(prom, every_dump_figure_has_a_metric)
{
	const char *argv[] = { PROG_KNOWN_CALLS, data_file, "3", "2", "4", "40", NULL };
	char json[PATH_MAX], prom_file[PATH_MAX];
	dump_to("json", "json", argv, json);
	dump_to("prom", "prom", argv, prom_file);
	char *prom = file_read(prom_file, NULL);
	cr_assert_not_null(prom);
	char *why = NULL;
	cr_assert(pycheck_prom(prom, &why), "%s\n%s", why ? why : "", prom);
	free(why);
	size_t n = sizeof(dump_figures) / sizeof(dump_figures[0]);
	covered(json, "d", NULL, dump_figures, n, prom);
	covered(json, "next(iter(d['calls'].values()))", "calls", dump_figures, n, prom);
	static const char *const sections[] = { "files", "processes", "memory", "policy" };
	for (size_t i = 0; i < 4; i++) {
		char object[64];
		snprintf(object, sizeof(object), "d['%s']", sections[i]);
		covered(json, object, sections[i], dump_figures, n, prom);
	}
	/* the values are the dump's: 40 bytes read, 3 + 2 opens */
	cr_expect_not_null(strstr(prom, "\nward_read_bytes_total{pid="), "%s", prom);
	cr_expect_not_null(strstr(prom, "exe=\"known_calls\"} 40\n"), "%s", prom);
	cr_expect_not_null(strstr(prom, ",reason=\"exit\",allocator="), "%s", prom);
	free(prom);
}

/* Several processes, one prom file each in a directory: node_exporter's
 * textfile collector takes the directory as it is. */
Test(prom, per_process_directory_is_a_valid_textfile_directory)
{
	char script[PATH_MAX * 3 + 256];
	snprintf(script, sizeof(script), "cat '%s' >/dev/null; ls / >/dev/null; %s '%s' 2 1 2 10", data_file,
	         PROG_KNOWN_CALLS, data_file);
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	dump_to("textfile", "prom", argv, NULL);
	char directory[PATH_MAX], *said = NULL;
	path_in(directory, dir, "textfile");
	cr_expect(textfile_ok(directory, &said), "%s", said ? said : "");
	free(said);
}

Test(prom, every_tree_report_figure_has_a_metric)
{
	char json[PATH_MAX], directory[PATH_MAX], prom_file[PATH_MAX], script[PATH_MAX * 3 + 256];
	path_in(json, dir, "tree.json");
	path_in(directory, dir, "tree");
	cr_assert_eq(mkdir(directory, 0755), 0);
	path_in(prom_file, directory, "ward.prom");
	snprintf(script, sizeof(script), "cat '%s'; cat '%s' '%s'", data_file, data_file, data_file);
	const char *as_json[] = { WARD_EXE, "run", "-s", json, "--", "sh", "-c", script, NULL };
	const char *as_prom[] = { WARD_EXE, "run", "-f", "prom", "-s", prom_file, "--", "sh", "-c", script, NULL };
	struct run_result r;
	cr_assert(run_argv(as_json, NULL, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	cr_assert(run_argv(as_prom, NULL, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	char *prom = file_read(prom_file, NULL);
	cr_assert_not_null(prom);
	char *why = NULL;
	cr_assert(pycheck_prom(prom, &why), "%s\n%s", why ? why : "", prom);
	free(why);
	size_t n = sizeof(tree_figures) / sizeof(tree_figures[0]);
	covered(json, "d['programs']['cat']", NULL, tree_figures, n, prom);
	covered(json, "next(iter(d['programs']['cat']['calls'].values()))", "calls", tree_figures, n, prom);
	static const char *const sections[] = { "files", "started", "memory", "policy" };
	for (size_t i = 0; i < 4; i++) {
		char object[64];
		snprintf(object, sizeof(object), "d['programs']['cat']['%s']", sections[i]);
		covered(json, object, sections[i], tree_figures, n, prom);
	}
	cr_expect_eq(pycheck_json_value(json, "len(set(d) - {'ward_report_version','unrecorded','total','programs'})"), 0);
	cr_expect_not_null(strstr(prom, "\nward_tree_unrecorded_processes 0\n"), "%s", prom);
	cr_expect_not_null(strstr(prom, "\nward_tree_processes{exe=\"cat\"} 2\n"), "%s", prom);
	cr_expect_not_null(strstr(prom, "\nward_tree_read_bytes_total{exe=\"cat\"} 132\n"), "%s", prom);
	cr_expect_null(strstr(prom, "# EOF"), "not OpenMetrics: %s", prom);
	free(prom);
	char *said = NULL;
	cr_expect(textfile_ok(directory, &said), "%s", said ? said : "");
	free(said);
}

/* Appended per-process prom dumps are not one exposition: the checkers
 * refuse the file, which is why the directory is the supported way. */
Test(prom, appended_dumps_are_refused_by_the_collector)
{
	char file[PATH_MAX], stats[PATH_MAX + 16], directory[PATH_MAX];
	path_in(directory, dir, "shared");
	cr_assert_eq(mkdir(directory, 0755), 0);
	path_in(file, directory, "all.prom");
	snprintf(stats, sizeof(stats), "WARD_STATS=%s", file);
	const char *env[] = { stats, "WARD_STATS_FORMAT=prom", NULL };
	const char *argv[] = { "/bin/sh", "-c", "true; /bin/true", NULL };
	struct run_opts o = { .env = env, .shim = true };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	run_free(&r);
	char *said = NULL;
	cr_expect_not(textfile_ok(directory, &said), "two dumps in one file accepted: %s", said ? said : "");
	free(said);
}
