/*
 * Unit tests of core/stats: the three printed forms of a process's figures.
 *
 * What users and tools read: the text table (sorted by calls like strace -c,
 * zero rows left out, a total), JSON that is exactly one line and valid for
 * python3's json module whatever the program's name, and a Prometheus
 * exposition the official client parser accepts.  A short buffer must be
 * detectable (the renderer runs at exit without malloc).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pycheck.h"
#include "stats.h"

static char buf[64 * 1024];

/* Fresh figures each time: the text renderer reorders the calls. */
static struct ward_stats_call calls[5];

static struct ward_stats
sample(const char *exe)
{
	static const struct ward_stats_call init[5] = {
		{ "read", 2, 0, 0 },  { "open", 5, 1, 0 }, { "stat", 0, 0, 0 },
		{ "close", 5, 0, 0 }, { "write", 2, 0, 1 },
	};
	memcpy(calls, init, sizeof(calls));
	return (struct ward_stats){
		.pid = 4242, .exe = exe, .reason = "exit", .call = calls, .ncalls = 5,
		.files_opened = 4, .files_closed = 6, .files_open_now = 1,
		.files_open_peak = 7, .bytes_read = 1234, .bytes_written = 99,
		.allocator = "jemalloc", .allocations = 10, .frees = 8, .heap_allocated = 4096,
		.heap_freed = 3584, .heap_live = 512, .heap_peak = 2048, .mmaps = 3, .munmaps = 1, .mprotects = 2,
	};
}

static size_t
render(struct ward_stats *s, enum ward_stats_format f)
{
	size_t n = ward_stats_render(s, f, buf, sizeof(buf));
	cr_assert_lt(n, sizeof(buf));
	cr_assert_eq(strlen(buf), n, "the returned length is the text's length");
	return n;
}

/* ---- text ---- */

Test(stats, text_table_sorted_by_calls_then_name)
{
	struct ward_stats s = sample("cat");
	render(&s, WARD_FORMAT_TEXT);
	const char *want =
		"ward: pid 4242 (cat), at exit\n"
		"       calls     errors     denied  function\n"
		"------------ ---------- ----------  ----------------\n"
		"           5          0          0  close\n"
		"           5          1          0  open\n"
		"           2          0          0  read\n"
		"           2          0          1  write\n"
		"------------ ---------- ----------  ----------------\n"
		"          14          1          1  total\n"
		"files: 4 opened, 6 closed, 1 open now, 7 most open at once, 1234 bytes read, "
		"99 bytes written\n"
		"memory (jemalloc): 10 allocations, 8 frees, 4096 bytes allocated, 512 live, 2048 peak; "
		"3 mmap, 1 munmap, 2 mprotect\n";
	cr_assert_str_eq(buf, want);
}

Test(stats, text_leaves_out_uncalled_functions)
{
	struct ward_stats s = sample("cat");
	render(&s, WARD_FORMAT_TEXT);
	cr_assert_null(strstr(buf, "stat\n"), "a function called 0 times has no row");
}

Test(stats, text_with_no_calls_at_all)
{
	struct ward_stats s = sample("true");
	s.ncalls = 0;
	render(&s, WARD_FORMAT_TEXT);
	cr_assert_not_null(strstr(buf, "           0          0          0  total\n"));
}

/* ---- json ---- */

Test(stats, json_is_one_valid_line, .timeout = 30)
{
	struct ward_stats s = sample("cat");
	size_t n = render(&s, WARD_FORMAT_JSON);
	cr_assert_eq(buf[n - 1], '\n', "a JSON line ends with a newline");
	cr_assert_eq(strchr(buf, '\n'), buf + n - 1, "exactly one line");
	cr_assert(json_valid(buf, n));
	cr_assert(pycheck_json_lines(buf), "python3 json.loads rejects: %s", buf);
}

Test(stats, json_figures_by_name)
{
	struct ward_stats s = sample("cat");
	render(&s, WARD_FORMAT_JSON);
	uint64_t v;
	char str[64];
	cr_assert(json_get_u64(buf, "ward_stats_version", &v) && v == 1);
	cr_assert(json_get_u64(buf, "pid", &v) && v == 4242);
	cr_assert(json_get_str(buf, "exe", str, sizeof(str)));
	cr_assert_str_eq(str, "cat");
	cr_assert(json_get_str(buf, "reason", str, sizeof(str)));
	cr_assert_str_eq(str, "exit");
	cr_assert(json_get_u64(buf, "calls.open.calls", &v) && v == 5);
	cr_assert(json_get_u64(buf, "calls.open.errors", &v) && v == 1);
	cr_assert(json_get_u64(buf, "calls.write.denied", &v) && v == 1);
	cr_assert_null(json_find(buf, "calls.stat"), "uncalled functions are left out");
	cr_assert(json_get_u64(buf, "files.opened", &v) && v == 4);
	cr_assert(json_get_u64(buf, "files.closed", &v) && v == 6);
	cr_assert(json_get_u64(buf, "files.open_now", &v) && v == 1);
	cr_assert(json_get_u64(buf, "files.open_peak", &v) && v == 7);
	cr_assert(json_get_u64(buf, "files.bytes_read", &v) && v == 1234);
	cr_assert(json_get_u64(buf, "files.bytes_written", &v) && v == 99);
}

Test(stats, json_escapes_any_program_name, .timeout = 30)
{
	struct ward_stats s = sample("we\"ird\\name\n\ttab\x01");
	size_t n = render(&s, WARD_FORMAT_JSON);
	cr_assert_eq(strchr(buf, '\n'), buf + n - 1, "a newline in the name must not split the line");
	cr_assert(json_valid(buf, n), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"exe\":\"we\\\"ird\\\\name\\u000a\\u0009tab\\u0001\""), "%s", buf);
	cr_assert(pycheck_json_lines(buf));
}

Test(stats, json_with_no_calls_is_still_valid)
{
	struct ward_stats s = sample("true");
	s.ncalls = 0;
	size_t n = render(&s, WARD_FORMAT_JSON);
	cr_assert(json_valid(buf, n), "%s", buf);
	cr_assert_not_null(strstr(buf, "\"calls\":{}"));
}

/* ---- prom ---- */

Test(stats, prom_is_a_valid_exposition, .timeout = 30)
{
	struct ward_stats s = sample("cat");
	render(&s, WARD_FORMAT_PROM);
	char *why = NULL;
	cr_assert(pycheck_prom(buf, &why), "%s\n%s", why ? why : "", buf);
	free(why);
	cr_assert_not_null(strstr(buf, "ward_calls_total{call=\"open\",pid=\"4242\",exe=\"cat\"} 5\n"));
	cr_assert_not_null(strstr(buf, "ward_errors_total{call=\"open\",pid=\"4242\",exe=\"cat\"} 1\n"));
	cr_assert_not_null(strstr(buf, "ward_read_bytes_total{pid=\"4242\",exe=\"cat\"} 1234\n"));
	cr_assert_not_null(strstr(buf, "ward_files_open_max{pid=\"4242\",exe=\"cat\"} 7\n"));
	cr_assert_null(strstr(buf, "call=\"stat\""), "uncalled functions are left out");
}

Test(stats, prom_escapes_any_program_name, .timeout = 30)
{
	struct ward_stats s = sample("we\"ird\\name\nx");
	render(&s, WARD_FORMAT_PROM);
	char *why = NULL;
	cr_assert(pycheck_prom(buf, &why), "%s\n%s", why ? why : "", buf);
	free(why);
	cr_assert_not_null(strstr(buf, "exe=\"we\\\"ird\\\\name\\nx\""), "%s", buf);
}

Test(stats, prom_with_no_calls_is_still_valid, .timeout = 30)
{
	struct ward_stats s = sample("true");
	s.ncalls = 0;
	render(&s, WARD_FORMAT_PROM);
	char *why = NULL;
	cr_assert(pycheck_prom(buf, &why), "%s\n%s", why ? why : "", buf);
	free(why);
}

/* ---- buffers and names ---- */

Test(stats, short_buffer_is_detectable)
{
	static const enum ward_stats_format formats[] = { WARD_FORMAT_TEXT, WARD_FORMAT_JSON,
		                                          WARD_FORMAT_PROM };
	for (size_t i = 0; i < 3; i++) {
		struct ward_stats s = sample("cat");
		size_t full = ward_stats_render(&s, formats[i], buf, sizeof(buf));
		char small[16];
		memset(small, 'X', sizeof(small));
		s = sample("cat");
		size_t n = ward_stats_render(&s, formats[i], small, sizeof(small));
		cr_assert_eq(n, full, "format %zu: the needed length, not the written one", i);
		cr_assert_eq(strlen(small), sizeof(small) - 1, "cut output is still terminated");
		cr_assert_eq(strncmp(small, buf, sizeof(small) - 1), 0);
		char none = 'X';
		s = sample("cat");
		cr_assert_eq(ward_stats_render(&s, formats[i], &none, 0), full);
		cr_assert_eq(none, 'X', "a zero-size buffer is not written");
	}
}

Test(stats, format_names_round_trip)
{
	static const char *const names[] = { "text", "json", "prom" };
	static const char *const ext[] = { "txt", "json", "prom" };
	for (int i = 0; i < 3; i++) {
		int f = ward_stats_parse_format(names[i]);
		cr_assert_geq(f, 0, "%s", names[i]);
		cr_assert_str_eq(ward_stats_format_name((enum ward_stats_format)f), names[i]);
		cr_assert_str_eq(ward_stats_format_ext((enum ward_stats_format)f), ext[i]);
	}
	cr_assert_eq(ward_stats_parse_format("xml"), -1);
	cr_assert_eq(ward_stats_parse_format(""), -1);
	cr_assert_eq(ward_stats_parse_format("json "), -1);
}
