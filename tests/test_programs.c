/*
 * Real, unmodified programs behave identically under the shim (SPEC 7).
 *
 * Each program runs twice, bare and under the shim with no policy (allow
 * all), on the same input: stdout, stderr, exit status and the files it
 * writes must be byte-identical, and every process of the run must leave a
 * valid dump.  A second shim run with WARD_STATS=stderr checks that the
 * dumps never reach stdout (TRAPS 20) and survive programs that close stderr
 * at exit (dd; TRAPS 19) or hand a vfork child their stderr (python's
 * subprocess).  Covered: cat, cp, ls -lR, find, sort (with temp files), sh
 * pipelines and subshells, dd, tar, python3 threads doing file I/O and
 * python3 subprocess.
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
#include "run.h"

static char *dir;
static char input[PATH_MAX];   /* 20000 lines of words and numbers */
static char tree[PATH_MAX];    /* a small directory tree */
static char *input_text;
static size_t input_len;

static void
make_tree(void)
{
	static const char *const dirs[] = { "src", "src/sub", "doc", "empty" };
	static const char *const files[] = { "src/a.c", "src/b.c", "src/sub/c.h", "doc/readme.txt",
		                             "top.txt" };
	char path[PATH_MAX];
	path_in(tree, dir, "tree");
	cr_assert_eq(mkdir(tree, 0755), 0);
	for (size_t i = 0; i < 4; i++) {
		path_in(path, tree, dirs[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
	}
	for (size_t i = 0; i < 5; i++) {
		path_in(path, tree, files[i]);
		cr_assert(file_write(path, files[i], strlen(files[i])));
	}
	path_in(path, tree, "link-to-top");
	cr_assert_eq(symlink("top.txt", path), 0);
}

static void
setup(void)
{
	dir = tmpdir_make();
	input_text = text_lines(20000, 42, &input_len);
	path_in(input, dir, "input.txt");
	cr_assert(file_write(input, input_text, input_len));
	make_tree();
}

static void
teardown(void)
{
	free(input_text);
	tmpdir_remove(dir);
}

TestSuite(programs, .init = setup, .fini = teardown, .timeout = 90);

/* ---- running twice ---- */

struct pair {
	struct run_result bare;
	struct run_result shim;
	struct dump_set dumps;
	char stats[PATH_MAX];
};

static void
run_pair(const char *const bare_argv[], const char *const shim_argv[], const char *in,
         struct pair *p)
{
	static int counter;
	char name[32], setting[PATH_MAX + 16];
	snprintf(name, sizeof(name), "stats-%d.json", counter++);
	path_in(p->stats, dir, name);
	snprintf(setting, sizeof(setting), "WARD_STATS=%s", p->stats);
	const char *env[] = { setting, NULL };
	struct run_opts bare = { .input = in, .input_len = in ? strlen(in) : 0, .cwd = dir };
	struct run_opts shim = bare;
	shim.env = env;
	shim.shim = true;
	cr_assert(run_argv(bare_argv, &bare, &p->bare));
	cr_assert(run_argv(shim_argv, &shim, &p->shim));
	cr_assert_not(p->shim.timed_out, "%s hung under the shim", shim_argv[0]);
	char *text = file_read(p->stats, NULL);
	cr_assert_not_null(text, "%s left no dump", shim_argv[0]);
	dumps_parse(text, &p->dumps);
	free(text);
}

static void
expect_same(const struct pair *p, const char *what)
{
	cr_assert_eq(run_exit_code(&p->shim), run_exit_code(&p->bare), "%s: exit status differs", what);
	cr_assert_eq(p->shim.out_len, p->bare.out_len, "%s: stdout length differs", what);
	cr_assert_eq(memcmp(p->shim.out, p->bare.out, p->bare.out_len), 0, "%s: stdout differs", what);
	cr_assert_str_eq(p->shim.err, p->bare.err, "%s: stderr differs", what);
	cr_assert_geq(p->dumps.n, 1, "%s: no dump", what);
	for (size_t i = 0; i < p->dumps.n; i++)
		cr_assert(p->dumps.d[i].valid, "%s: malformed dump %s", what, p->dumps.d[i].json);
	cr_assert_not_null(dumps_find(&p->dumps, p->shim.pid, NULL), "%s: no dump of its own", what);
}

static void
free_pair(struct pair *p)
{
	run_free(&p->bare);
	run_free(&p->shim);
	dumps_free(&p->dumps);
}

/* Same argv both ways, compared, freed. */
static void
same_behaviour(const char *const argv[], const char *in)
{
	struct pair p;
	run_pair(argv, argv, in, &p);
	expect_same(&p, argv[0]);
	free_pair(&p);
}

/* With WARD_STATS=stderr: stdout exactly the bare one; the dump on stderr. */
static char *
stderr_dump_run(const char *const argv[], const char *in, const char *bare_out)
{
	const char *env[] = { "WARD_STATS=stderr", NULL };
	struct run_opts o = { .env = env, .shim = true, .input = in,
		              .input_len = in ? strlen(in) : 0, .cwd = dir };
	struct run_result r;
	cr_assert(run_argv(argv, &o, &r));
	cr_assert_not(r.timed_out);
	if (bare_out != NULL)
		cr_assert_str_eq(r.out, bare_out, "%s: stdout differs with the dump on stderr", argv[0]);
	cr_assert_null(strstr(r.out, "ward: pid"), "ward output on stdout");
	cr_assert_null(strstr(r.out, "ward_stats_version"), "ward output on stdout");
	cr_assert_not_null(strstr(r.err, "ward: pid"), "%s: no dump on stderr", argv[0]);
	char *err = strdup(r.err);
	run_free(&r);
	return err;
}

/* ---- cat ---- */

Test(programs, cat_file_and_stdin)
{
	const char *file[] = { "cat", input, NULL };
	same_behaviour(file, NULL);
	const char *stdin_argv[] = { "cat", "-n", "-", NULL };
	same_behaviour(stdin_argv, "line one\nline two\n");
	const char *missing[] = { "cat", "/nonexistent/file", input, NULL };
	same_behaviour(missing, NULL);
	free(stderr_dump_run(file, NULL, input_text));
}

/* ---- cp ---- */

Test(programs, cp_copies_identical_bytes)
{
	char big[PATH_MAX], out_bare[PATH_MAX], out_shim[PATH_MAX];
	path_in(big, dir, "big.bin");
	char *bytes = malloc(3 << 20);
	for (size_t i = 0; i < (3u << 20); i++)
		bytes[i] = (char)(i * 2654435761u >> 13);
	cr_assert(file_write(big, bytes, 3 << 20));
	free(bytes);
	path_in(out_bare, dir, "copy-bare.bin");
	path_in(out_shim, dir, "copy-shim.bin");
	const char *bare[] = { "cp", big, out_bare, NULL }, *shim[] = { "cp", big, out_shim, NULL };
	struct pair p;
	run_pair(bare, shim, NULL, &p);
	expect_same(&p, "cp");
	cr_assert(files_equal(big, out_shim), "cp under the shim wrote different bytes");
	cr_assert(files_equal(out_bare, out_shim));
	free_pair(&p);
}

Test(programs, cp_recursive_tree)
{
	char to_bare[PATH_MAX], to_shim[PATH_MAX];
	path_in(to_bare, dir, "tree-bare");
	path_in(to_shim, dir, "tree-shim");
	const char *bare[] = { "cp", "-a", tree, to_bare, NULL };
	const char *shim[] = { "cp", "-a", tree, to_shim, NULL };
	struct pair p;
	run_pair(bare, shim, NULL, &p);
	expect_same(&p, "cp -a");
	free_pair(&p);
	/* the copies list the same, times included (cp -a keeps them) */
	const char *ls[] = { "ls", "-lR", "--time-style=full-iso", ".", NULL };
	struct run_opts in_bare = { .cwd = to_bare }, in_shim = { .cwd = to_shim };
	struct run_result a, b;
	cr_assert(run_argv(ls, &in_bare, &a));
	cr_assert(run_argv(ls, &in_shim, &b));
	cr_assert_gt(a.out_len, 0);
	cr_assert_str_eq(a.out, b.out, "cp -a under the shim made a different tree");
	run_free(&a);
	run_free(&b);
}

/* ---- ls, find ---- */

Test(programs, ls_recursive_long)
{
	const char *argv[] = { "ls", "-lR", "--time-style=full-iso", tree, NULL };
	same_behaviour(argv, NULL);
	const char *all[] = { "ls", "-laiR", tree, NULL };
	same_behaviour(all, NULL);
}

Test(programs, find_walks_the_same_tree)
{
	const char *plain[] = { "find", tree, NULL };
	same_behaviour(plain, NULL);
	const char *filtered[] = { "find", tree, "-type", "f", "-name", "*.c", "-printf", "%p %s\n", NULL };
	same_behaviour(filtered, NULL);
	const char *follow[] = { "find", "-L", tree, "-newer", input, "-o", "-type", "l", NULL };
	same_behaviour(follow, NULL);
}

/* ---- sort ---- */

Test(programs, sort_generated_file)
{
	const char *to_stdout[] = { "sort", "-k2,2n", "-k1,1", input, NULL };
	same_behaviour(to_stdout, NULL);
	/* a tiny buffer forces temporary files (mkstemp, unlink, merges) */
	char out_bare[PATH_MAX], out_shim[PATH_MAX];
	path_in(out_bare, dir, "sorted-bare.txt");
	path_in(out_shim, dir, "sorted-shim.txt");
	const char *bare[] = { "sort", "-S", "64K", "-T", dir, "-o", out_bare, input, NULL };
	const char *shim[] = { "sort", "-S", "64K", "-T", dir, "-o", out_shim, input, NULL };
	struct pair p;
	run_pair(bare, shim, NULL, &p);
	expect_same(&p, "sort -o");
	cr_assert(files_equal(out_bare, out_shim), "sort under the shim wrote a different file");
	free_pair(&p);
}

/* ---- shells ---- */

Test(programs, sh_pipelines_and_subshells)
{
	const char *script =
		"cat input.txt | sort | uniq -c | sort -rn | head -5\n"
		"(cd tree && ls -R) | wc -l\n"
		"x=$(grep -c alpha input.txt); echo \"alpha lines: $x\"\n"
		"{ echo one; echo two; } > tree/../braces.txt; cat braces.txt\n"
		"for f in tree/src/*.c; do wc -c < \"$f\"; done\n"
		"sh -c 'exit 3'; echo \"inner status $?\"\n"
		"exit 7\n";
	const char *argv[] = { "sh", "-c", script, NULL };
	same_behaviour(argv, NULL);
	free(stderr_dump_run(argv, NULL, NULL));
}

Test(programs, sh_pipeline_every_process_dumps_once_per_image)
{
	const char *argv[] = { "sh", "-c", "cat input.txt | sort | tail -3", NULL };
	struct pair p;
	run_pair(argv, argv, NULL, &p);
	expect_same(&p, "sh pipeline");
	/* sh, and a forked child per stage that execs: each pid dumps at most
	 * once per image (exec then exit), and the stages all dumped */
	size_t cat = 0, sort = 0, tail = 0;
	for (size_t i = 0; i < p.dumps.n; i++) {
		const struct dump *d = &p.dumps.d[i];
		cr_assert_leq(dumps_count(&p.dumps, d->pid), 2, "pid %ld dumped too often", d->pid);
		cat += strcmp(d->exe, "cat") == 0;
		sort += strcmp(d->exe, "sort") == 0;
		tail += strcmp(d->exe, "tail") == 0;
	}
	cr_assert(cat == 1 && sort == 1 && tail == 1, "cat %zu sort %zu tail %zu", cat, sort, tail);
	free_pair(&p);
}

/* ---- dd ---- */

Test(programs, dd_closes_stderr_at_exit)
{
	char out_bare[PATH_MAX], out_shim[PATH_MAX], of_bare[PATH_MAX + 4], of_shim[PATH_MAX + 4];
	char in[PATH_MAX + 4];
	path_in(out_bare, dir, "dd-bare.bin");
	path_in(out_shim, dir, "dd-shim.bin");
	snprintf(in, sizeof(in), "if=%s", input);
	snprintf(of_bare, sizeof(of_bare), "of=%s", out_bare);
	snprintf(of_shim, sizeof(of_shim), "of=%s", out_shim);
	const char *bare[] = { "dd", in, of_bare, "bs=1k", "status=none", NULL };
	const char *shim[] = { "dd", in, of_shim, "bs=1k", "status=none", NULL };
	struct pair p;
	run_pair(bare, shim, NULL, &p);
	expect_same(&p, "dd");
	cr_assert(files_equal(out_bare, out_shim));
	cr_assert(files_equal(input, out_shim));
	free_pair(&p);
	/* dd's own report and the text dump both arrive on stderr */
	const char *report[] = { "dd", in, of_shim, "bs=1k", NULL };
	char *err = stderr_dump_run(report, NULL, "");
	cr_assert_not_null(strstr(err, "records out"), "dd's report is gone: %s", err);
	cr_assert_not_null(strstr(err, "(dd), at exit\n"), "%s", err);
	cr_assert_not_null(strstr(err, " bytes written\n"), "the dump was cut: %s", err);
	free(err);
}

/* ---- tar ---- */

Test(programs, tar_archives_identically)
{
	char a_bare[PATH_MAX], a_shim[PATH_MAX];
	path_in(a_bare, dir, "bare.tar");
	path_in(a_shim, dir, "shim.tar");
	const char *bare[] = { "tar", "-cf", a_bare, "-C", tree, ".", NULL };
	const char *shim[] = { "tar", "-cf", a_shim, "-C", tree, ".", NULL };
	struct pair p;
	run_pair(bare, shim, NULL, &p);
	expect_same(&p, "tar -c");
	cr_assert(files_equal(a_bare, a_shim), "tar under the shim wrote a different archive");
	free_pair(&p);
	const char *list[] = { "tar", "-tvf", a_shim, NULL };
	same_behaviour(list, NULL);
}

/* ---- python3 ---- */

static const char python_threads[] =
	"import hashlib, os, sys, threading\n"
	"d = sys.argv[1]\n"
	"os.makedirs(d)\n"
	"def work(t):\n"
	"    for i in range(40):\n"
	"        p = os.path.join(d, f't{t}-{i}.txt')\n"
	"        with open(p, 'w') as f:\n"
	"            f.write(f'thread {t} file {i}\\n' * (i + 1))\n"
	"        with open(p) as f:\n"
	"            assert f.read().count('\\n') == i + 1\n"
	"        os.stat(p)\n"
	"ts = [threading.Thread(target=work, args=(t,)) for t in range(6)]\n"
	"for t in ts: t.start()\n"
	"for t in ts: t.join()\n"
	"h = hashlib.sha256()\n"
	"names = sorted(os.listdir(d))\n"
	"for n in names:\n"
	"    with open(os.path.join(d, n), 'rb') as f:\n"
	"        h.update(n.encode() + f.read())\n"
	"print(len(names), h.hexdigest())\n";

static uint64_t
opens_of(const struct dump *d)
{
	return dump_calls(d, "open") + dump_calls(d, "open64") + dump_calls(d, "openat") +
	       dump_calls(d, "openat64");
}

/* subprocess with stderr=DEVNULL: python's vfork child points its stderr at
 * /dev/null before exec; python's own dump must still reach its stderr. */
Test(programs, python3_subprocess_with_quiet_stderr)
{
	const char *argv[] = { PYTHON3, "-c",
		               "import subprocess\n"
		               "r = subprocess.run(['/bin/true'], stderr=subprocess.DEVNULL)\n"
		               "print('status', r.returncode)\n",
		               NULL };
	char *err = stderr_dump_run(argv, NULL, "status 0\n");
	cr_assert_not_null(strstr(err, "(python3), at exit\n"), "python's own dump is lost: [%s]", err);
	free(err);
}

Test(programs, python3_threads_doing_file_io)
{
	char out_bare[PATH_MAX], out_shim[PATH_MAX];
	path_in(out_bare, dir, "py-bare");
	path_in(out_shim, dir, "py-shim");
	const char *bare[] = { PYTHON3, "-c", python_threads, out_bare, NULL };
	const char *shim[] = { PYTHON3, "-c", python_threads, out_shim, NULL };
	struct pair p;
	run_pair(bare, shim, NULL, &p);
	expect_same(&p, "python3");
	cr_assert_eq(strncmp(p.shim.out, "240 ", 4), 0, "%s", p.shim.out);
	const struct dump *d = dumps_find(&p.dumps, p.shim.pid, "exit");
	cr_assert_not_null(d);
	cr_assert_geq(opens_of(d), 6 * 40 * 2 + 240, "python's opens went uncounted: %s", d->json);
	cr_assert_geq(dump_files(d, "bytes_written"), 6 * 40 * 10, "%s", d->json);
	free_pair(&p);
}
