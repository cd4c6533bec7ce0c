/*
 * test_memory: the malloc family under the shim, with both allocators.
 *
 * Every case runs with WARD_MALLOC=jemalloc (the private copy in
 * libward.so) and WARD_MALLOC=libc (glibc's).  Figures: a program that
 * knows its allocations (tests/progs/alloc_figures.c) prints what the dump
 * must say, exactly; threads that free each other's blocks are compared
 * with the same run without blocks.  limit memory: NULL and ENOMEM, realloc
 * keeps the old block, one record, python3's MemoryError.  Real
 * allocation-heavy programs (python3, sort, gcc, git, perl) give the same
 * output as without the shim.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumps.h"
#include "fsutil.h"
#include "json.h"
#include "run.h"
#include "shimrun.h"

static char *dir;

static void
setup(void)
{
	dir = tmpdir_make();
}

static void
teardown(void)
{
	tmpdir_remove(dir);
}

TestSuite(memory, .init = setup, .fini = teardown, .timeout = 120);

static const char *const allocators[] = { "jemalloc", "libc" };

static const char *const figure_names[] = { "allocations", "frees", "bytes_allocated", "bytes_freed",
	                                    "live_bytes", "peak_bytes" };
#define NFIGURES (sizeof(figure_names) / sizeof(figure_names[0]))

static uint64_t
memory_figure(const struct dump *d, const char *name)
{
	char path[64];
	uint64_t v;
	snprintf(path, sizeof(path), "memory.%s", name);
	cr_assert(json_get_u64(d->json, path, &v), "no %s in %s", path, d->json);
	return v;
}

/* The program's own line: name=value for each figure. */
static uint64_t
expected_figure(const char *out, const char *name)
{
	char key[64];
	snprintf(key, sizeof(key), "%s=", name);
	const char *p = strstr(out, key);
	cr_assert_not_null(p, "the program printed no %s: %s", name, out);
	return strtoull(p + strlen(key), NULL, 10);
}

/* argv under the shim with WARD_MALLOC=allocator and one more setting
 * (extra, may be NULL). */
static void
run_with(struct shim_run *s, const char *allocator, const char *const argv[], const char *extra)
{
	char choice[64];
	snprintf(choice, sizeof(choice), "WARD_MALLOC=%s", allocator);
	const char *env[] = { choice, extra, NULL };
	cr_assert(shim_run(argv, dir, env, s));
}

/* alloc_figures ARGS under the shim with WARD_MALLOC=allocator (and any
 * extra settings); its one dump. */
static const struct dump *
run_figures(struct shim_run *s, const char *allocator, const char *const args[], const char *extra)
{
	const char *argv[8] = { PROG_ALLOC_FIGURES };
	for (int i = 0; args[i] != NULL && i < 6; i++)
		argv[i + 1] = args[i];
	run_with(s, allocator, argv, extra);
	cr_assert_eq(run_exit_code(&s->r), 0, "%s: exit %d, stdout %s stderr %s", allocator, run_exit_code(&s->r),
	             s->r.out, s->r.err);
	const struct dump *d = shim_run_main(s);
	cr_assert_not_null(d, "no dump:\n%s", s->stats);
	char name[32];
	cr_assert(json_get_str(d->json, "memory.allocator", name, sizeof(name)));
	cr_assert_str_eq(name, allocator, "WARD_MALLOC=%s served by %s", allocator, name);
	return d;
}

/* ---- exact figures ---- */

Test(memory, exact_figures_of_every_family_function)
{
	for (size_t a = 0; a < 2; a++) {
		struct shim_run s;
		const char *args[] = { "exact", NULL };
		const struct dump *d = run_figures(&s, allocators[a], args, NULL);
		for (size_t i = 0; i < NFIGURES; i++)
			cr_assert_eq(memory_figure(d, figure_names[i]), expected_figure(s.r.out, figure_names[i]),
			             "%s: %s is %llu, the program counted %llu\n%s", allocators[a], figure_names[i],
			             (unsigned long long)memory_figure(d, figure_names[i]),
			             (unsigned long long)expected_figure(s.r.out, figure_names[i]), d->json);
		/* each function's calls are in the table too */
		cr_assert_eq(dump_calls(d, "posix_memalign"), 1);
		cr_assert_eq(dump_calls(d, "pvalloc"), 1);
		cr_assert_eq(dump_calls(d, "reallocarray"), 1);
		cr_assert_eq(dump_calls(d, "realloc"), 4, "realloc to 0 bytes is a realloc call");
		cr_assert_eq(dump_calls(d, "free"), 1 + 50 + 1 + 8 + 40, "free(NULL) included");
		shim_run_free(&s);
	}
}

/* Bytes move through many folds of the figures (every 256 KiB a thread's
 * counters move, shim/alloc.c) and the peak comes between two of them:
 * every figure still exact, in the dump and in the tree's record. */
Test(memory, exact_figures_across_many_folds)
{
	for (size_t a = 0; a < 2; a++) {
		struct shim_run s;
		const char *args[] = { "churn", NULL };
		const struct dump *d = run_figures(&s, allocators[a], args, NULL);
		for (size_t i = 0; i < NFIGURES; i++)
			cr_assert_eq(memory_figure(d, figure_names[i]), expected_figure(s.r.out, figure_names[i]),
			             "%s: %s is %llu, the program counted %llu\n%s", allocators[a], figure_names[i],
			             (unsigned long long)memory_figure(d, figure_names[i]),
			             (unsigned long long)expected_figure(s.r.out, figure_names[i]), d->json);
		cr_assert_gt(expected_figure(s.r.out, "bytes_allocated"), 20 << 20, "%s", s.r.out);

		char report[PATH_MAX], choice[64];
		path_in(report, dir, "churn-tree.json");
		unlink(report);
		snprintf(choice, sizeof(choice), "WARD_MALLOC=%s", allocators[a]);
		const char *argv[] = { WARD_EXE, "run", "-s", report, "-f", "json", "--", PROG_ALLOC_FIGURES, "churn", NULL };
		const char *env[] = { choice, NULL };
		struct run_opts o = { .cwd = dir, .env = env };
		struct run_result r;
		cr_assert(run_argv(argv, &o, &r));
		cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
		char *text = file_read(report, NULL);
		cr_assert_not_null(text);
		for (size_t i = 0; i < NFIGURES; i++) {
			char path[96];
			uint64_t v;
			if (strcmp(figure_names[i], "live_bytes") == 0)
				continue; /* not in the tree report */
			snprintf(path, sizeof(path), "programs.alloc_figures.memory.%s", figure_names[i]);
			cr_assert(json_get_u64(text, path, &v), "no %s: %s", path, text);
			cr_assert_eq(v, expected_figure(r.out, figure_names[i]), "%s: tree %s is %llu, the program counted %s",
			             allocators[a], figure_names[i], (unsigned long long)v, r.out);
		}
		free(text);
		run_free(&r);
		shim_run_free(&s);
	}
}

Test(memory, blocks_freed_by_other_threads_are_counted_exactly)
{
	for (size_t a = 0; a < 2; a++) {
		/* the same threads with no blocks: what pthread_create itself allocates */
		struct shim_run none, some;
		const char *empty[] = { "threads", "4", "0", NULL };
		const char *full[] = { "threads", "4", "20000", NULL };
		const struct dump *base = run_figures(&none, allocators[a], empty, NULL);
		const struct dump *d = run_figures(&some, allocators[a], full, NULL);
		for (size_t i = 0; i < 4; i++) { /* allocations, frees, bytes both ways */
			uint64_t diff = memory_figure(d, figure_names[i]) - memory_figure(base, figure_names[i]);
			cr_assert_eq(diff, expected_figure(some.r.out, figure_names[i]), "%s: %s off by %lld",
			             allocators[a], figure_names[i],
			             (long long)(diff - expected_figure(some.r.out, figure_names[i])));
		}
		cr_assert_eq(memory_figure(d, "live_bytes"), memory_figure(base, "live_bytes"),
		             "%s: every block came back", allocators[a]);
		cr_assert_geq(memory_figure(d, "peak_bytes"), memory_figure(d, "live_bytes"));
		shim_run_free(&none);
		shim_run_free(&some);
	}
}

/* The memory figures of one alloc_figures run under ward run (the tree's
 * record, read by the launcher), figure by figure into out. */
static void
tree_figures(const char *allocator, const char *const args[], uint64_t out[NFIGURES], char **printed)
{
	char report[PATH_MAX], choice[64];
	path_in(report, dir, "threads-tree.json");
	unlink(report);
	snprintf(choice, sizeof(choice), "WARD_MALLOC=%s", allocator);
	const char *argv[12] = { WARD_EXE, "run", "-s", report, "-f", "json", "--", PROG_ALLOC_FIGURES };
	for (int i = 0; args[i] != NULL && i < 3; i++)
		argv[8 + i] = args[i];
	const char *env[] = { choice, NULL };
	struct run_opts o = { .cwd = dir, .env = env };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	char *text = file_read(report, NULL);
	cr_assert_not_null(text);
	for (size_t i = 0; i < NFIGURES; i++) {
		char path[96];
		out[i] = 0;
		if (strcmp(figure_names[i], "live_bytes") == 0)
			continue; /* not in the tree report */
		snprintf(path, sizeof(path), "programs.alloc_figures.memory.%s", figure_names[i]);
		cr_assert(json_get_u64(text, path, &out[i]), "no %s: %s", path, text);
	}
	*printed = strdup(r.out);
	free(text);
	run_free(&r);
}

/* A process of the tree has 4 thread slots: 8 threads share the rest (the
 * shim's atomic path), and every block is still counted exactly. */
Test(memory, tree_counts_threads_beyond_its_slots_exactly)
{
	for (size_t a = 0; a < 2; a++) {
		uint64_t none[NFIGURES], some[NFIGURES];
		char *printed_none, *printed;
		const char *empty[] = { "threads", "8", "0", NULL };
		const char *full[] = { "threads", "8", "5000", NULL };
		tree_figures(allocators[a], empty, none, &printed_none);
		tree_figures(allocators[a], full, some, &printed);
		for (size_t i = 0; i < 4; i++) /* allocations, frees, bytes both ways */
			cr_assert_eq(some[i] - none[i], expected_figure(printed, figure_names[i]), "%s: %s off by %lld",
			             allocators[a], figure_names[i],
			             (long long)(some[i] - none[i] - expected_figure(printed, figure_names[i])));
		free(printed_none);
		free(printed);
	}
}

Test(memory, a_fork_child_frees_its_parents_blocks)
{
	for (size_t a = 0; a < 2; a++) {
		struct shim_run s;
		const char *args[] = { "fork", NULL };
		run_figures(&s, allocators[a], args, NULL);
		cr_assert_eq(s.dumps.n, 2, "parent and child dump:\n%s", s.stats);
		const struct dump *parent = shim_run_main(&s), *child = NULL;
		for (size_t i = 0; i < s.dumps.n; i++)
			if (&s.dumps.d[i] != parent)
				child = &s.dumps.d[i];
		for (size_t i = 0; i < NFIGURES; i++)
			cr_assert_eq(memory_figure(parent, figure_names[i]), expected_figure(s.r.out, figure_names[i]),
			             "%s: parent's %s\n%s", allocators[a], figure_names[i], parent->json);
		/* the child's figures start at zero; its heap is the parent's */
		cr_assert_eq(memory_figure(child, "allocations"), 1, "%s", child->json);
		cr_assert_eq(memory_figure(child, "frees"), 2, "%s", child->json);
		cr_assert_eq(memory_figure(child, "live_bytes"), 0, "%s", child->json);
		cr_assert_geq(memory_figure(child, "peak_bytes"), 1 << 20, "%s", child->json);
		shim_run_free(&s);
	}
}

/* ---- limit memory ---- */

static void
write_policy(const char *name, const char *text, char *env, size_t cap)
{
	char path[PATH_MAX];
	path_in(path, dir, name);
	cr_assert(file_write(path, text, strlen(text)));
	snprintf(env, cap, "WARD_POLICY=%s", path);
}

static size_t
count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

Test(memory, limit_fails_allocations_like_a_real_out_of_memory)
{
	char policy[PATH_MAX + 16];
	write_policy("limit.ward", "version 1\ndefault allow\nlimit memory 16M\n", policy, sizeof(policy));
	for (size_t a = 0; a < 2; a++) {
		struct shim_run s;
		const char *args[] = { "limit", NULL };
		const struct dump *d = run_figures(&s, allocators[a], args, policy);
		/* 16 MiB of live heap: fifteen 1 MiB blocks and change (the
		 * blocks' usable size is a little over 1 MiB with glibc) */
		cr_assert(strstr(s.r.out, "refused after 15 MiB: ENOMEM") != NULL ||
		              strstr(s.r.out, "refused after 16 MiB: ENOMEM") != NULL,
		          "%s: %s", allocators[a], s.r.out);
		cr_assert_not_null(strstr(s.r.out, "realloc kept the old block, posix_memalign ENOMEM (errno kept), "
		                                   "calloc ENOMEM"),
		                   "%s: %s", allocators[a], s.r.out);
		cr_assert_not_null(strstr(s.r.out, "after freeing: allocates again"), "%s", s.r.out);
		/* one record, for the first refusal; every refusal counted */
		cr_assert_eq(count_lines_with(s.r.err, "by limit memory 16777216"), 1, "%s: stderr: %s", allocators[a],
		             s.r.err);
		cr_assert_not_null(strstr(s.r.err, "ward: denied memory 16777216 (malloc)"), "%s", s.r.err);
		uint64_t denied = 0;
		cr_assert(json_get_u64(d->json, "calls.malloc.denied", &denied));
		cr_assert_eq(denied, 1, "%s", d->json);
		cr_assert(json_get_u64(d->json, "calls.realloc.denied", &denied));
		cr_assert_eq(denied, 1, "%s", d->json);
		cr_assert_leq(memory_figure(d, "peak_bytes"), 16 << 20, "%s: the heap passed the limit\n%s",
		              allocators[a], d->json);
		shim_run_free(&s);
	}
}

/* Threads that end hand their part of the live heap to the shared view:
 * 64 threads leaving 200 KiB each cannot take the heap past 4 MiB. */
Test(memory, limit_sees_blocks_of_threads_that_ended)
{
	char policy[PATH_MAX + 16];
	write_policy("threads.ward", "version 1\ndefault allow\nlimit memory 4M\n", policy, sizeof(policy));
	for (size_t a = 0; a < 2; a++) {
		struct shim_run s;
		const char *args[] = { "thread_blocks", "64", NULL };
		const struct dump *d = run_figures(&s, allocators[a], args, policy);
		uint64_t blocks = expected_figure(s.r.out, "blocks");
		cr_assert(blocks >= 16 && blocks <= 20, "%s: %llu blocks of 200 KiB under a 4 MiB limit", allocators[a],
		          (unsigned long long)blocks);
		cr_assert_leq(memory_figure(d, "peak_bytes"), 4 << 20, "%s", d->json);
		shim_run_free(&s);
	}
}

Test(memory, limit_in_audit_mode_records_and_lets_allocations_go)
{
	char policy[PATH_MAX + 16];
	write_policy("audit.ward", "version 1\nmode audit\ndefault allow\nlimit memory 8M\n", policy, sizeof(policy));
	const char *args[] = { "exact", NULL };
	struct shim_run s;
	run_figures(&s, "jemalloc", args, policy);
	cr_assert_eq(count_lines_with(s.r.err, "limit memory"), 0, "exact stays under 8M: %s", s.r.err);
	shim_run_free(&s);
	const char *big[] = { "threads", "1", "20000", NULL }; /* 20000 blocks of up to 4 KiB: ~40 MiB live */
	run_figures(&s, "jemalloc", big, policy);
	cr_assert_eq(count_lines_with(s.r.err, "ward: audited memory 8388608 (malloc) by limit memory 8388608"), 1,
	             "%s", s.r.err);
	shim_run_free(&s);
}

Test(memory, python_raises_memoryerror_under_the_limit)
{
	char policy[PATH_MAX + 16];
	write_policy("py.ward", "version 1\ndefault allow\nlimit memory 64M\n", policy, sizeof(policy));
	const char *argv[] = { PYTHON3, "-c",
		               "try:\n"
		               "    x = bytearray(100 * 1024 * 1024)\n"
		               "except MemoryError:\n"
		               "    print('MemoryError')\n"
		               "print(sum(len(str(i)) for i in range(100000)))\n",
		               NULL };
	for (size_t a = 0; a < 2; a++) {
		struct shim_run s;
		run_with(&s, allocators[a], argv, policy);
		cr_assert_eq(run_exit_code(&s.r), 0, "%s: %s", allocators[a], s.r.err);
		cr_assert_str_eq(s.r.out, "MemoryError\n488890\n", "%s", allocators[a]);
		cr_assert_not_null(strstr(s.r.err, "by limit memory 67108864"), "%s", s.r.err);
		shim_run_free(&s);
	}
}

/* The allocator's own files (/proc/sys/vm/overcommit_memory, /etc/malloc.conf)
 * and mappings are not the program's: a policy that allows nothing neither
 * refuses nor records them, and they are not in the figures (TRAPS 9). */
Test(memory, the_allocators_own_files_and_mappings_are_not_the_programs)
{
	char policy[PATH_MAX + 16];
	write_policy("nothing.ward", "version 1\ndefault deny\n", policy, sizeof(policy));
	for (size_t a = 0; a < 2; a++) {
		struct shim_run s;
		const char *args[] = { "exact", NULL };
		const struct dump *d = run_figures(&s, allocators[a], args, policy);
		cr_assert_str_eq(s.r.err, "", "%s: %s", allocators[a], s.r.err);
		cr_assert_eq(memory_figure(d, "allocations"), expected_figure(s.r.out, "allocations"));
		cr_assert_eq(memory_figure(d, "mmaps") + memory_figure(d, "munmaps"), 0, "%s", d->json);
		cr_assert_eq(json_count_members(d->json, "calls") > 0, true);
		uint64_t decisions = 1;
		cr_assert(json_get_u64(d->json, "policy.decisions", &decisions));
		cr_assert_eq(decisions, 0, "%s: the allocator's opens were decided on:\n%s", allocators[a], d->json);
		shim_run_free(&s);
	}
}

/* TRAPS 7: an executable that defines malloc itself comes before the
 * preload; its allocator serves the program, libc and the shim (which
 * parses a policy with it here), and everything works as without ward. */
Test(memory, a_program_with_its_own_malloc_keeps_it)
{
	char policy[PATH_MAX + 16];
	write_policy("allow.ward", "version 1\ndefault allow\nlimit memory 1M\n", policy, sizeof(policy));
	for (size_t a = 0; a < 2; a++) {
		const char *argv[] = { PROG_OWN_MALLOC, NULL };
		struct shim_run s;
		run_with(&s, allocators[a], argv, policy);
		cr_assert_eq(run_exit_code(&s.r), 0, "%s: %s", allocators[a], s.r.err);
		cr_assert_not_null(strstr(s.r.out, "; own allocator; blocks from the program's malloc: yes\n"), "%s",
		                   s.r.out);
		const struct dump *d = shim_run_main(&s);
		cr_assert_not_null(d, "%s", s.stats);
		cr_assert_eq(memory_figure(d, "allocations"), 0, "the shim's family was not called:\n%s", d->json);
		uint64_t opens = 0;
		cr_assert(json_get_u64(d->json, "files.opened", &opens));
		cr_assert_eq(opens, 1, "the file calls are still intercepted");
		shim_run_free(&s);
	}
}

/* ---- WARD_MALLOC itself ---- */

Test(memory, unknown_allocator_is_reported_and_jemalloc_serves)
{
	const char *argv[] = { PROG_ALLOC_FIGURES, "exact", NULL };
	const char *env[] = { "WARD_MALLOC=tcmalloc", NULL };
	struct shim_run s;
	cr_assert(shim_run(argv, dir, env, &s));
	cr_assert_eq(run_exit_code(&s.r), 0);
	cr_assert_not_null(strstr(s.r.err, "ward: WARD_MALLOC=tcmalloc: unknown allocator (jemalloc or libc); using jemalloc"),
	                   "%s", s.r.err);
	char name[32];
	cr_assert(json_get_str(shim_run_main(&s)->json, "memory.allocator", name, sizeof(name)));
	cr_assert_str_eq(name, "jemalloc");
	shim_run_free(&s);
}

/* ---- real programs: same output as without the shim ---- */

/* argv bare, then under the shim with each allocator: same stdout and exit
 * status; the shim's dumps show the program allocating. */
static void
same_output(const char *const argv[], const char *cwd)
{
	struct run_opts bare_opts = { .cwd = cwd, .timeout_ms = 90000 };
	struct run_result bare;
	cr_assert(run_argv(argv, &bare_opts, &bare));
	cr_assert_eq(run_exit_code(&bare), 0, "%s failed without the shim: %s", argv[0], bare.err);
	for (size_t a = 0; a < 2; a++) {
		char choice[64], stats[PATH_MAX + 16], path[PATH_MAX];
		snprintf(choice, sizeof(choice), "WARD_MALLOC=%s", allocators[a]);
		path_in(path, dir, "real-stats.json");
		unlink(path);
		snprintf(stats, sizeof(stats), "WARD_STATS=%s", path);
		const char *env[] = { choice, stats, NULL };
		struct run_opts o = { .cwd = cwd, .env = env, .shim = true, .timeout_ms = 90000 };
		struct run_result r;
		cr_assert(run_argv(argv, &o, &r));
		cr_assert_not(r.timed_out, "%s hung with %s", argv[0], allocators[a]);
		cr_assert_eq(run_exit_code(&r), 0, "%s with %s: exit %d: %s", argv[0], allocators[a], run_exit_code(&r),
		             r.err);
		cr_assert_eq(r.out_len, bare.out_len, "%s with %s: stdout length differs", argv[0], allocators[a]);
		cr_assert_eq(memcmp(r.out, bare.out, bare.out_len), 0, "%s with %s: stdout differs", argv[0],
		             allocators[a]);
		char *text = file_read(path, NULL);
		cr_assert_not_null(text);
		struct dump_set set;
		dumps_parse(text, &set);
		const struct dump *d = dumps_find(&set, r.pid, NULL);
		cr_assert_not_null(d, "%s: no dump", argv[0]);
		cr_assert_gt(memory_figure(d, "allocations"), 100, "%s with %s: %s", argv[0], allocators[a], d->json);
		cr_assert_geq(memory_figure(d, "peak_bytes"), memory_figure(d, "live_bytes"));
		cr_assert_eq(memory_figure(d, "bytes_allocated") - memory_figure(d, "bytes_freed"),
		             memory_figure(d, "live_bytes"), "%s", d->json);
		dumps_free(&set);
		free(text);
		run_free(&r);
	}
	run_free(&bare);
}

Test(memory, python3_building_and_serialising_objects)
{
	const char *argv[] = { PYTHON3, "-c",
		               "import json, random\n"
		               "random.seed(7)\n"
		               "rows = [{'id': i, 'name': 'item-%d' % i * 3, 'tags': [str(random.random()) for _ in range(8)],\n"
		               "         'blob': 'x' * random.randint(100, 5000)} for i in range(20000)]\n"
		               "text = json.dumps(rows, sort_keys=True)\n"
		               "back = json.loads(text)\n"
		               "print(len(text), sum(len(r['blob']) for r in back), back[12345]['tags'][3])\n",
		               NULL };
	same_output(argv, dir);
}

Test(memory, sort_of_a_large_generated_file)
{
	size_t len;
	char *text = text_lines(300000, 11, &len);
	char path[PATH_MAX];
	path_in(path, dir, "big.txt");
	cr_assert(file_write(path, text, len));
	free(text);
	const char *argv[] = { "sort", "-S", "4M", path, NULL }; /* small buffer: temp files and merges */
	same_output(argv, dir);
	const char *numeric[] = { "sort", "-k2,2n", "-k1,1", path, NULL };
	same_output(numeric, dir);
}

Test(memory, gcc_compiles_a_c_file)
{
	char src[PATH_MAX], out[PATH_MAX];
	path_in(src, dir, "prog.c");
	path_in(out, dir, "prog.s");
	const char *code = "#include <stdio.h>\n#include <stdlib.h>\n"
	                   "struct node { int v; struct node *next; };\n"
	                   "static int sum(struct node *n) { int s = 0; for (; n; n = n->next) s += n->v; return s; }\n"
	                   "int main(void) { struct node *h = NULL;\n"
	                   "  for (int i = 0; i < 100; i++) { struct node *n = malloc(sizeof *n); n->v = i; n->next = h; h = n; }\n"
	                   "  printf(\"%d\\n\", sum(h)); return 0; }\n";
	cr_assert(file_write(src, code, strlen(code)));
	/* -S to stdout: the same assembly both ways (cc1 is gcc's child: its dump is another process) */
	const char *argv[] = { "gcc", "-O2", "-S", "-o", "-", src, NULL };
	same_output(argv, dir);
	(void)out;
}

Test(memory, git_status_in_a_repository)
{
	char repo[PATH_MAX];
	path_in(repo, dir, "repo");
	cr_assert_eq(mkdir(repo, 0755), 0);
	const char *const setup_cmd[] = {
		"sh", "-c",
		"git init -q . && git config user.email t@example.com && git config user.name t && "
		"for i in $(seq 1 200); do echo line $i > file$i.txt; done && git add . && "
		"git commit -qm initial && echo changed >> file7.txt && echo new > untracked.txt",
		NULL
	};
	struct run_opts o = { .cwd = repo };
	struct run_result r;
	cr_assert(run_argv(setup_cmd, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	const char *argv[] = { "git", "status", "--porcelain", NULL };
	same_output(argv, repo);
	const char *log[] = { "git", "log", "--stat", "--format=%s", NULL };
	same_output(log, repo);
}

Test(memory, perl_hashes_and_sorting)
{
	const char *argv[] = { "perl", "-e",
		               "my %h; for my $i (1..200000) { $h{\"k$i\"} = [$i, \"v\" x ($i % 50)] }\n"
		               "my @k = sort { $h{$a}[0] <=> $h{$b}[0] } keys %h;\n"
		               "my $t = 0; $t += length($h{$_}[1]) for @k; print scalar(@k), \" $t $k[-1]\\n\";",
		               NULL };
	same_output(argv, dir);
}

/* ---- the tree report (ward run) ---- */

/* ward run merges the memory figures of every process of the tree: sums,
 * and the largest single process's peak. */
Test(memory, tree_report_merges_memory_figures)
{
	char report[PATH_MAX], dest[PATH_MAX + 8];
	path_in(report, dir, "tree.json");
	snprintf(dest, sizeof(dest), "%s", report);
	const char *argv[] = { WARD_EXE, "run", "-s", dest, "-f", "json", "--", "sh", "-c",
		               PROG_ALLOC_FIGURES " exact >/dev/null && " PROG_ALLOC_FIGURES " exact >/dev/null", NULL };
	struct run_opts o = { .cwd = dir };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_eq(run_exit_code(&r), 0, "%s", r.err);
	run_free(&r);
	char *text = file_read(report, NULL);
	cr_assert_not_null(text);
	/* the same program alone, for its figures */
	struct shim_run s;
	const char *args[] = { "exact", NULL };
	run_figures(&s, "jemalloc", args, NULL);
	uint64_t allocations, peak;
	cr_assert(json_get_u64(text, "programs.alloc_figures.memory.allocations", &allocations), "%s", text);
	cr_assert(json_get_u64(text, "programs.alloc_figures.memory.peak_bytes", &peak), "%s", text);
	cr_assert_eq(allocations, 2 * expected_figure(s.r.out, "allocations"), "%s", text);
	cr_assert_eq(peak, expected_figure(s.r.out, "peak_bytes"), "a peak is merged by maximum, not summed: %s", text);
	shim_run_free(&s);
	free(text);
}
