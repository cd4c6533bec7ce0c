/*
 * The figures of a dump, checked against programs whose calls are known.
 *
 * known_calls makes an exact number of opens, failing opens, stats and reads;
 * built plain, with _FILE_OFFSET_BITS=64 and fortified, it shows that the
 * shim counts whichever symbol a real binary binds to (open / open64 /
 * __open_2, stat / stat64, read / __read_chk; TRAPS 1, 4).  Threads prove the
 * totals stay exact under concurrency (including more threads than private
 * counter slots), xstat_call covers the pre-2.33 stat entry points (TRAPS 3),
 * and errno_kept shows errno is exactly what libc leaves (TRAPS 21).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsutil.h"
#include "json.h"
#include "shimrun.h"

static char *dir;
static char data_file[PATH_MAX];

#define DATA_SIZE 100000

static void
setup(void)
{
	dir = tmpdir_make();
	path_in(data_file, dir, "data.bin");
	char *bytes = malloc(DATA_SIZE);
	for (size_t i = 0; i < DATA_SIZE; i++)
		bytes[i] = (char)(i * 7);
	cr_assert(file_write(data_file, bytes, DATA_SIZE));
	free(bytes);
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(figures, .init = setup, .fini = teardown, .timeout = 60);

/* One dump from the started process, valid, at normal exit. */
static const struct dump *
only_dump(const struct shim_run *s, const char *exe)
{
	cr_assert_eq(run_exit_code(&s->r), 0, "exit %d, stderr: %s", run_exit_code(&s->r), s->r.err);
	cr_assert_eq(s->dumps.n, 1, "want exactly one dump, got %zu:\n%s", s->dumps.n, s->stats);
	const struct dump *d = shim_run_main(s);
	cr_assert_not_null(d, "no dump from pid %ld:\n%s", s->r.pid, s->stats);
	cr_assert(d->valid, "malformed dump: %s", d->json);
	cr_assert_str_eq(d->exe, exe);
	cr_assert_str_eq(d->reason, "exit");
	/* the suite runs twice: as is, and with WARD_TEST_MALLOC=libc */
	const char *want = getenv("WARD_TEST_MALLOC");
	char allocator[32];
	cr_assert(json_get_str(d->json, "memory.allocator", allocator, sizeof(allocator)), "%s", d->json);
	cr_assert_str_eq(allocator, want != NULL && want[0] != '\0' ? want : "jemalloc");
	return d;
}

static void
expect_call(const struct dump *d, const char *call, uint64_t calls, uint64_t errors)
{
	cr_assert_eq(dump_calls(d, call), calls, "%s: %llu calls, want %llu\n%s", call,
	             (unsigned long long)dump_calls(d, call), (unsigned long long)calls, d->json);
	cr_assert_eq(dump_errors(d, call), errors, "%s: %llu errors, want %llu\n%s", call,
	             (unsigned long long)dump_errors(d, call), (unsigned long long)errors, d->json);
}

/* Functions in the dump's call table, leaving out the malloc family: libc
 * allocates inside fopen, opendir, scandir... on the program's behalf. */
static long
calls_outside_malloc(const struct dump *d)
{
	static const char *const family[] = { "malloc", "free", "calloc", "realloc", "reallocarray",
		                              "posix_memalign", "aligned_alloc", "memalign", "valloc",
		                              "pvalloc", "malloc_usable_size" };
	long n = json_count_members(d->json, "calls");
	for (size_t i = 0; i < sizeof(family) / sizeof(family[0]); i++)
		n -= dump_calls(d, family[i]) != 0;
	return n;
}

static void
expect_files(const struct dump *d, uint64_t opened, uint64_t closed, uint64_t now, uint64_t peak)
{
	cr_assert_eq(dump_files(d, "opened"), opened, "opened\n%s", d->json);
	cr_assert_eq(dump_files(d, "closed"), closed, "closed\n%s", d->json);
	cr_assert_eq(dump_files(d, "open_now"), now, "open_now\n%s", d->json);
	cr_assert_eq(dump_files(d, "open_peak"), peak, "open_peak\n%s", d->json);
}

/* known_calls FILE N M K B, with the names this build calls. */
static void
check_known_calls(const char *prog, const char *open_name, const char *stat_name,
                  const char *read_name)
{
	const unsigned n = 7, m = 5, k = 11, b = 10000; /* reads: 4096 + 4096 + 1808 */
	char sn[16], sm[16], sk[16], sb[16];
	snprintf(sn, sizeof(sn), "%u", n);
	snprintf(sm, sizeof(sm), "%u", m);
	snprintf(sk, sizeof(sk), "%u", k);
	snprintf(sb, sizeof(sb), "%u", b);
	const char *argv[] = { prog, data_file, sn, sm, sk, sb, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	const struct dump *d = only_dump(&s, strrchr(prog, '/') + 1);
	expect_call(d, open_name, n + m + 1, m);
	expect_call(d, "close", n + 1, 0);
	expect_call(d, stat_name, k, 0);
	expect_call(d, read_name, 3, 0);
	cr_assert_eq(calls_outside_malloc(d), 4,
	             "calls nobody made are in the dump:\n%s", d->json);
	expect_files(d, n + 1, n + 1, 3, 4); /* 0-2 are open at start */
	cr_assert_eq(dump_files(d, "bytes_read"), b);
	cr_assert_eq(dump_files(d, "bytes_written"), 0);
	cr_assert_eq(s.r.out_len, 0, "the program prints nothing; the shim must not either");
	cr_assert_eq(s.r.err_len, 0, "stderr: %s", s.r.err);
	shim_run_free(&s);
}

Test(figures, known_calls_exact)
{
	check_known_calls(PROG_KNOWN_CALLS, "open", "stat", "read");
}

Test(figures, known_calls_built_with_file_offset_bits_64)
{
	check_known_calls(PROG_KNOWN_CALLS64, "open64", "stat64", "read");
}

Test(figures, known_calls_built_fortified)
{
	check_known_calls(PROG_KNOWN_CALLS_FORTIFY, "__open_2", "stat", "__read_chk");
}

Test(figures, known_calls_built_fortified_with_file_offset_bits_64)
{
	check_known_calls(PROG_KNOWN_CALLS_FORTIFY64, "__open64_2", "stat64", "__read_chk");
}

Test(figures, nothing_called_nothing_counted)
{
	const char *argv[] = { PROG_KNOWN_CALLS, data_file, "0", "0", "0", "0", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	const struct dump *d = only_dump(&s, "known_calls");
	/* the one open+close of the final read phase */
	expect_call(d, "open", 1, 0);
	expect_call(d, "close", 1, 0);
	cr_assert_eq(json_count_members(d->json, "calls"), 2, "%s", d->json);
	cr_assert_eq(dump_files(d, "bytes_read"), 0);
	shim_run_free(&s);
}

/* ---- threads ---- */

static void
check_threads(const char *threads, const char *rounds)
{
	char work[PATH_MAX];
	path_in(work, dir, "work");
	cr_assert_eq(mkdir(work, 0755), 0);
	const char *argv[] = { PROG_THREADS_FILES, work, threads, rounds, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	const struct dump *d = only_dump(&s, "threads_files");
	uint64_t total = strtoull(threads, NULL, 10) * strtoull(rounds, NULL, 10);
	expect_call(d, "open", total, 0);
	expect_call(d, "write", total, 0);
	expect_call(d, "close", total, 0);
	expect_call(d, "stat", total, 0);
	cr_assert_eq(dump_files(d, "bytes_written"), 10 * total);
	cr_assert_eq(dump_files(d, "opened"), total);
	cr_assert_eq(dump_files(d, "closed"), total);
	cr_assert_eq(dump_files(d, "open_now"), 3);
	cr_assert_leq(dump_files(d, "open_peak"), 3 + strtoull(threads, NULL, 10));
	/* and the files really hold what was written */
	char file[PATH_MAX];
	path_in(file, work, "t0.txt");
	size_t len = 0;
	free(file_read(file, &len));
	cr_assert_eq(len, 10 * strtoull(rounds, NULL, 10));
	shim_run_free(&s);
}

Test(figures, threads_opening_and_closing_concurrently)
{
	check_threads("8", "500");
}

Test(figures, more_threads_than_counter_slots)
{
	check_threads("80", "40");
}

/* ---- old stat entry points ---- */

Test(figures, xstat_family_is_counted)
{
	const char *argv[] = { PROG_XSTAT_CALL, data_file, "9", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	const struct dump *d = only_dump(&s, "xstat_call");
	expect_call(d, "__xstat", 9, 0);
	expect_call(d, "__xstat64", 9, 0);
	expect_call(d, "__lxstat", 9, 0);
	expect_call(d, "__fxstat", 1, 0);
	char want[64];
	snprintf(want, sizeof(want), "size %d\n", DATA_SIZE);
	cr_assert_str_eq(s.r.out, want, "the wrapped call must still fill the buffer");
	shim_run_free(&s);
}

/* ---- errno ---- */

static struct run_result
errno_run(bool shim)
{
	const char *argv[] = { PROG_ERRNO_KEPT, data_file, dir, NULL };
	const char *env[] = { "WARD_STATS=stderr", NULL };
	struct run_opts o = { .env = env, .shim = shim };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0);
	return r;
}

Test(figures, errno_is_never_changed)
{
	struct run_result bare = errno_run(false), shim = errno_run(true);
	cr_assert_str_eq(shim.out, bare.out, "errno differs under the shim");
	/* and libc itself behaves as documented: the shim adds nothing */
	static const char *const lines[] = {
		"open ok 1234\n", "stat ok 1234\n", "read ok 1234\n", "close ok 1234\n",
		"fstat ok 1234\n", "opendir ok 1234\n", "closedir ok 1234\n", "fclose(memstream) ok 1234\n",
		"open(missing) fail 2\n", "stat(missing) fail 2\n", "close(-1) fail 9\n",
		"read(-1) fail 9\n", "opendir(file) fail 20\n", "fopen(missing) fail 2\n",
		"mkdir(exists) fail 17\n", "unlink(missing) fail 2\n", "execv(missing) fail 2\n",
		"execvp(missing) fail 2\n", "execv(not-a-program) fail 8\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		cr_assert_not_null(strstr(shim.out, lines[i]), "missing %s in:\n%s", lines[i], shim.out);
	cr_assert_not_null(strstr(shim.err, "ward: pid"), "the run was not under the shim");
	run_free(&bare);
	run_free(&shim);
}

/* ---- each intercepted function counted exactly as often as called ---- */

struct expected_call {
	const char *name;
	uint64_t calls;
};

static const struct expected_call each_once_calls[] = {
	{ "creat", 1 },    { "write", 1 },   { "fdopen", 1 },  { "fclose", 3 },   { "fopen", 1 },
	{ "dup", 1 },      { "pread", 1 },   { "readv", 1 },   { "close", 4 },    { "pipe", 1 },
	{ "dup2", 1 },     { "mkstemp", 1 }, { "unlink", 1 },  { "tmpfile", 1 },  { "mkdtemp", 1 },
	{ "rmdir", 1 },    { "mkdir", 1 },   { "rename", 1 },  { "symlink", 1 },  { "readlink", 1 },
	{ "lstat", 1 },    { "stat", 1 },    { "access", 1 },  { "chmod", 1 },    { "truncate", 1 },
	{ "utimes", 1 },   { "realpath", 1 }, { "scandir", 1 }, { "remove", 1 },  { "opendir", 1 },
	{ "readdir", 3 },  { "closedir", 1 },
};

Test(figures, every_call_counted_once_never_twice)
{
	char work[PATH_MAX];
	path_in(work, dir, "work");
	cr_assert_eq(mkdir(work, 0755), 0);
	const char *argv[] = { PROG_EACH_ONCE, work, NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, NULL, &s));
	const struct dump *d = only_dump(&s, "each_once");
	size_t n = sizeof(each_once_calls) / sizeof(each_once_calls[0]);
	for (size_t i = 0; i < n; i++)
		expect_call(d, each_once_calls[i].name, each_once_calls[i].calls, 0);
	cr_assert_eq(calls_outside_malloc(d), (long)n,
	             "calls the program did not make were counted (a wrapper counted another):\n%s",
	             d->json);
	/* docs/STATS.md: creat, fopen, dup, pipe (2), dup2, mkstemp, tmpfile, opendir */
	cr_assert_eq(dump_files(d, "opened"), 9, "%s", d->json);
	/* fclose 3, close 4, closedir 1, and the open descriptor dup2 replaced */
	cr_assert_eq(dump_files(d, "closed"), 9, "%s", d->json);
	cr_assert_eq(dump_files(d, "open_now"), 3, "%s", d->json);
	cr_assert_eq(dump_files(d, "open_peak"), 5, "%s", d->json);
	cr_assert_eq(dump_files(d, "bytes_written"), 5);
	cr_assert_eq(dump_files(d, "bytes_read"), 8);
	shim_run_free(&s);
}

/* ---- files on disk: modes passed through every open-like wrapper ---- */

static char *
modes_run(bool shim, const char *name)
{
	char work[PATH_MAX];
	path_in(work, dir, name);
	cr_assert_eq(mkdir(work, 0755), 0);
	const char *argv[] = { PROG_MODES, work, NULL };
	struct run_opts o = { .shim = shim };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	char *out = strdup(r.out);
	run_free(&r);
	return out;
}

Test(figures, created_files_get_the_requested_modes)
{
	char *bare = modes_run(false, "bare"), *shim = modes_run(true, "shim");
	cr_assert_str_eq(shim, bare, "files made under the shim have other permissions");
	cr_assert_str_eq(bare, "open 640\nopen64 604\nopenat 750\nopenat64 711\ncreat 600\n"
	                       "mkdir 705\ntmpfile 641\n");
	free(bare);
	free(shim);
}

/* ---- calls before the shim's constructor and after its destructor ---- */

/* Preloads are initialised last-listed first and finalised in the opposite
 * order.  With the shim listed first, the other library's constructor runs
 * before the shim's (its open+fstat+close must still be counted) and its
 * destructor after the dump (those calls must simply work).  Listed second,
 * both of its phases fall inside the shim's life and are counted. */
static void
check_early_library(const char *preload, const char *stats_name, uint64_t early_phases)
{
	char setting[PATH_MAX * 2 + 16], early_file[PATH_MAX + 16], stats[PATH_MAX + 16];
	snprintf(setting, sizeof(setting), "LD_PRELOAD=%s", preload);
	snprintf(early_file, sizeof(early_file), "EARLY_FILE=%s", data_file);
	char file[PATH_MAX];
	path_in(file, dir, stats_name);
	snprintf(stats, sizeof(stats), "WARD_STATS=%s", file);
	const char *env[] = { setting, early_file, stats, NULL };
	const char *argv[] = { PROG_KNOWN_CALLS, data_file, "0", "0", "0", "0", NULL };
	struct run_opts o = { .env = env };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "LD_PRELOAD=%s: exit %d %s", preload, run_exit_code(&r),
	             r.err);
	char *text = file_read(file, NULL);
	cr_assert_not_null(text);
	struct dump_set set;
	dumps_parse(text, &set);
	cr_assert_eq(set.n, 1, "%s", text);
	/* main's open+close, and each counted phase's open+fstat+close */
	cr_assert_eq(dump_calls(&set.d[0], "open"), 1 + early_phases, "%s: %s", preload, text);
	cr_assert_eq(dump_calls(&set.d[0], "fstat"), early_phases, "%s: %s", preload, text);
	cr_assert_eq(dump_calls(&set.d[0], "close"), 1 + early_phases, "%s: %s", preload, text);
	dumps_free(&set);
	free(text);
	run_free(&r);
}

Test(figures, calls_before_the_shims_constructor_and_after_its_destructor)
{
	check_early_library(WARD_LIB ":" EARLY_SO, "ward-first.json", 1);
}

Test(figures, another_preloads_constructor_and_destructor_calls)
{
	check_early_library(EARLY_SO ":" WARD_LIB, "early-first.json", 2);
}
