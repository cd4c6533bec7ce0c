/*
 * test_path: lexical folding and kernel-like resolution (core/path.c),
 * against real symlinks made in a temporary directory, and against
 * realpath(3) where both apply.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

static char out[WARD_NAME_MAX];
static struct ward_path_scratch scratch;

static const char *
lexical(const char *base, const char *path)
{
	cr_assert(ward_path_lexical(base, path, out));
	return out;
}

Test(path, lexical_folding)
{
	cr_expect_str_eq(lexical("/w", "a/b"), "/w/a/b");
	cr_expect_str_eq(lexical("/w", "/a//b/./c/"), "/a/b/c");
	cr_expect_str_eq(lexical("/w/x", "../y"), "/w/y");
	cr_expect_str_eq(lexical("/", "../../.."), "/");
	cr_expect_str_eq(lexical("/w", "."), "/w");
	cr_expect_str_eq(lexical("/", "a"), "/a");
	cr_expect_str_eq(lexical("/w", "a/../../b"), "/b");
}

/* ward_path_normal (8 bytes at a time) against the definition: absolute,
 * and no empty, "." or ".." component, so no trailing '/' but the root's;
 * its last '/' against strrchr.  Random strings over the bytes that
 * matter, of every length around the 8-byte words. */
static size_t
normal_by_definition(const char *p)
{
	size_t n = strlen(p);
	if (p[0] != '/')
		return 0;
	if (n == 1)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '/')
			continue;
		size_t c = strcspn(p + i + 1, "/");
		if (c == 0 || (c == 1 && p[i + 1] == '.') || (c == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
			return 0;
	}
	return n;
}

Test(path, normal_agrees_with_its_definition)
{
	static const char alphabet[] = "//..ab";
	static char buffer[128] __attribute__((aligned(32)));
	unsigned int seed = 11;
	for (int round = 0; round < 200000; round++) {
		/* at every alignment, with '/' and '.' before it and after its
		 * NUL (ward_path_normal reads aligned blocks around the string) */
		memset(buffer, round % 2 ? '/' : '.', sizeof(buffer));
		char *p = buffer + round % 32;
		size_t n = 1 + (size_t)rand_r(&seed) % 70;
		for (size_t i = 0; i < n; i++)
			p[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		p[0] = rand_r(&seed) % 8 ? '/' : 'a';
		p[n] = '\0';
		size_t slash = 999, want = normal_by_definition(p), got = ward_path_normal(p, &slash);
		cr_assert_eq(got, want, "%s: %zu, want %zu", p, got, want);
		cr_assert_eq(ward_path_normal_length(p), want, "%s", p);
		if (want > 0)
			cr_assert_eq(slash, (size_t)(strrchr(p, '/') - p), "%s: last slash %zu", p, slash);
		slash = 999;
		cr_assert_eq(ward_path_normal_by_words(p, &slash), want, "%s (by words)", p);
		if (want > 0)
			cr_assert_eq(slash, (size_t)(strrchr(p, '/') - p), "%s: last slash %zu (by words)", p, slash);
#if defined(__SSE2__)
		slash = 999;
		cr_assert_eq(ward_path_normal_sse2(p, &slash), want, "%s (SSE2)", p);
		if (want > 0)
			cr_assert_eq(slash, (size_t)(strrchr(p, '/') - p), "%s: last slash %zu (SSE2)", p, slash);
#if defined(__x86_64__)
		if (__builtin_cpu_supports("avx2")) {
			slash = 999;
			cr_assert_eq(ward_path_normal_avx2(p, &slash), want, "%s (AVX2)", p);
			if (want > 0)
				cr_assert_eq(slash, (size_t)(strrchr(p, '/') - p), "%s: last slash %zu (AVX2)", p, slash);
		}
#endif
#endif
	}
	cr_expect_eq(ward_path_normal_length("/"), 1);
	cr_expect_eq(ward_path_normal_length("/tmp/ward-instr.XXXXXX/run/data"), 31);
	cr_expect_eq(ward_path_normal_length("/tmp/ward-instr.XXXXXX/run/data/"), 0);
	cr_expect_eq(ward_path_normal_length("/tmp/ward-instr.XXXXXX/run/./data"), 0);
	cr_expect_eq(ward_path_normal_length("/tmp/ward-instr.XXXXXX/run/.data"), 32);
	cr_expect_eq(ward_path_normal_length("/tmp/ward-instr.XXXXXX/run/.."), 0);
	cr_expect_eq(ward_path_normal_length("/tmp/ward-instr.XXXXX//run/..."), 0);
	cr_expect_eq(ward_path_normal_length("/tmp/ward-instr.XXXXXXX/run/..."), 31);
}

static char dir[PATH_MAX];

static void
setup(void)
{
	char tmpl[] = "/tmp/ward-path-XXXXXX";
	cr_assert_not_null(mkdtemp(tmpl));
	cr_assert_not_null(realpath(tmpl, dir));
	char p[PATH_MAX + 64], q[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/real", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/real/sub", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/real/file", dir);
	fclose(fopen(p, "w"));
	snprintf(p, sizeof(p), "%s/link", dir); /* relative dir link */
	cr_assert_eq(symlink("real/sub", p), 0);
	snprintf(p, sizeof(p), "%s/abs", dir); /* absolute link to a file */
	cr_assert_eq(symlink("/etc/hostname", p), 0);
	snprintf(p, sizeof(p), "%s/loop", dir);
	cr_assert_eq(symlink("loop", p), 0);
	snprintf(p, sizeof(p), "%s/real/sub/up", dir);
	snprintf(q, sizeof(q), "%s/real/file", dir);
	cr_assert_eq(symlink(q, p), 0);
}

static void
teardown(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

static const char *
resolve(const char *path, bool follow)
{
	int err = ward_path_resolve(dir, path, follow, out, &scratch);
	cr_assert_eq(err, 0, "%s: %s", path, strerror(err));
	return out + strlen(dir); /* the part below the test directory */
}

Test(path, follows_links_where_asked, .init = setup, .fini = teardown)
{
	cr_expect_str_eq(resolve("link", true), "/real/sub");
	cr_expect_str_eq(resolve("link", false), "/link");
	cr_expect_str_eq(resolve("link/up", true), "/real/file");
	cr_expect_str_eq(resolve("link/up", false), "/real/sub/up");
	/* ".." applies to the real directory the link leads to */
	cr_expect_str_eq(resolve("link/../file", true), "/real/file");
	/* ".." after a missing name or a file: the kernel's ENOENT, ENOTDIR */
	cr_expect_eq(ward_path_resolve(dir, "link/missing/../x", true, out, &scratch), ENOENT);
	cr_expect_eq(ward_path_resolve(dir, "real/file/../x", true, out, &scratch), ENOTDIR);
	cr_expect_str_eq(resolve("new-file", true), "/new-file");
}

Test(path, absolute_link_and_magic_links, .init = setup, .fini = teardown)
{
	cr_assert_eq(ward_path_resolve(dir, "abs", true, out, &scratch), 0);
	char want[PATH_MAX];
	cr_assert_not_null(realpath("/etc/hostname", want));
	cr_expect_str_eq(out, want);
	cr_assert_eq(ward_path_resolve("/", "/proc/self/root/etc/hostname", true, out, &scratch), 0);
	cr_expect_str_eq(out, want);
}

Test(path, loops_are_refused, .init = setup, .fini = teardown)
{
	cr_expect_eq(ward_path_resolve(dir, "loop", true, out, &scratch), ELOOP);
	cr_expect_eq(ward_path_resolve(dir, "loop", false, out, &scratch), 0);
}

Test(path, agrees_with_realpath_on_existing_paths)
{
	static const char *const paths[] = { "/bin/sh", "/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/../lib",
	                                     "/proc/self/exe", "/etc/../etc/./passwd", "/" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char want[PATH_MAX];
		if (realpath(paths[i], want) == NULL)
			continue;
		cr_assert_eq(ward_path_resolve("/", paths[i], true, out, &scratch), 0);
		cr_expect_str_eq(out, want, "%s", paths[i]);
	}
}

/* ---- core/resolve: the pipeline the shim and `ward explain` share ---- */

#include <fcntl.h>

#include "cwd.h"
#include "resolve.h"

static struct ward_resolve_scratch rscratch;
static const struct ward_resolve_options direct = { .use_cwd_cache = false };
static const struct ward_resolve_options cached = { .use_cwd_cache = true };

Test(resolve, relative_to_the_cwd_and_to_a_dirfd)
{
	char *d = strdup("/tmp/ward-resolve.XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	char sub[PATH_MAX], want[PATH_MAX], keep[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/sub", d);
	mkdir(sub, 0755);
	cr_assert_not_null(getcwd(keep, sizeof(keep)));
	cr_assert_eq(chdir(d), 0);
	ward_cwd_refresh();
	snprintf(want, sizeof(want), "%s/sub/x", d);
	cr_assert_eq(ward_resolve(&direct, AT_FDCWD, "sub/x", true, out, &rscratch), 0);
	cr_expect_str_eq(out, want);
	cr_assert_eq(ward_resolve(&cached, AT_FDCWD, "./sub/../sub/x", true, out, &rscratch), 0);
	cr_expect_str_eq(out, want);
	int fd = open(sub, O_RDONLY | O_DIRECTORY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ward_resolve(&direct, fd, "x", false, out, &rscratch), 0);
	cr_expect_str_eq(out, want);
	close(fd);
	cr_expect_eq(ward_resolve(&direct, 999, "x", false, out, &rscratch), WARD_RESOLVE_FAILS,
	             "a descriptor that is not open fails the call by itself");
	cr_assert_eq(chdir(keep), 0);
	ward_cwd_refresh();
	rmdir(sub);
	rmdir(d);
	free(d);
}

/* A tree of `levels` directories of 200 bytes' names under a fresh
 * temporary directory, made one level at a time with chdir (a path that
 * long is no system call's argument); the working directory is left at
 * the bottom, whose name goes into want.  Returns the top (to free). */
static char *
deep_tree(size_t levels, char *want, size_t cap)
{
	char *d = strdup("/tmp/ward-deep.XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	cr_assert_eq(chdir(d), 0);
	char name[201];
	memset(name, 'd', 200);
	name[200] = '\0';
	size_t n = (size_t)snprintf(want, cap, "%s", d);
	for (size_t i = 0; i < levels; i++) {
		cr_assert_eq(mkdir(name, 0755), 0);
		cr_assert_eq(chdir(name), 0);
		if (n + 202 < cap)
			n += (size_t)snprintf(want + n, cap - n, "/%s", name);
	}
	return d;
}

static void
deep_tree_remove(const char *keep, char *d)
{
	cr_assert_eq(chdir(keep), 0);
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	cr_assert_eq(system(cmd), 0);
	free(d);
}

/* A working directory deeper than PATH_MAX is named by walking up its
 * "..": relative paths, ".." and dirfds from there resolve to their full
 * names (the check used to allow when getcwd failed, then refused). */
/* A normal path (nothing to fold) is copied to out as it is, whatever its
 * length and its place in memory, and the resolution says it was normal
 * (normal_path: what the open check's trailing-slash look relies on); a
 * path that is not normal is folded and says nothing.  (Under a directory
 * that does not exist: its name is its real path, no cache involved.) */
Test(resolve, a_normal_path_is_copied_exactly_and_said_to_be_normal)
{
	static const struct ward_resolve_options nothing_kept = { .skip_dircache = true, .leave_dircache = true };
	static char buf[256];
	for (size_t len = 1; len <= 120; len++) {
		for (size_t at = 0; at < 16; at++) {
			char *path = buf + at;
			memset(buf, 'x', sizeof(buf));
			path[0] = '/';
			for (size_t i = 1; i < len; i++)
				path[i] = i == 25 || i == 60 ? '/' : (char)('a' + (i * 7 + at) % 26);
			if (len > 1 && path[len - 1] == '/')
				path[len - 1] = 'z';
			memcpy(path, len > 1 ? "/no-such-dir-for-ward" : "/", len < 21 ? len : 21);
			path[len] = '\0';
			bool unsettled = true;
			memset(out, '#', 512);
			cr_assert_eq(ward_resolve_where(&nothing_kept, AT_FDCWD, path, false, out, &unsettled, &rscratch), 0,
			             "%s", path);
			cr_assert_str_eq(out, path, "length %zu at %zu", len, at);
			cr_assert_eq(out[len + 1], '#', "length %zu at %zu: written past the end", len, at);
			cr_assert_eq(rscratch.normal_path, path, "%s: not said to be normal", path);
			cr_assert_not(unsettled);
		}
	}
	cr_assert_eq(ward_resolve_where(&nothing_kept, AT_FDCWD, "/no-such-dir-for-ward/a/", false, out, &(bool){ false },
	                                &rscratch), 0);
	cr_expect_str_eq(out, "/no-such-dir-for-ward/a");
	cr_expect_null(rscratch.normal_path, "a trailing '/' is not normal");
}

Test(resolve, a_cwd_beyond_path_max_is_named_by_walking_up)
{
	static char want[WARD_NAME_MAX], expect[WARD_NAME_MAX + 8];
	char keep[PATH_MAX];
	cr_assert_not_null(getcwd(keep, sizeof(keep)));
	char *d = deep_tree(25, want, sizeof(want));
	cr_assert_gt(strlen(want), PATH_MAX);
	ward_cwd_forget();
	snprintf(expect, sizeof(expect), "%s/x", want);
	cr_expect_eq(ward_resolve(&direct, AT_FDCWD, "x", true, out, &rscratch), 0);
	cr_expect_str_eq(out, expect);
	*strrchr(want, '/') = '\0';
	snprintf(expect, sizeof(expect), "%s/x", want);
	cr_expect_eq(ward_resolve(&cached, AT_FDCWD, "../x", true, out, &rscratch), 0);
	cr_expect_str_eq(out, expect);
	int here = open(".", O_RDONLY | O_DIRECTORY);
	cr_expect_eq(ward_resolve(&direct, here, "../x", true, out, &rscratch), 0);
	cr_expect_str_eq(out, expect);
	/* the remembered directory: refreshed by the walk too */
	ward_cwd_refresh();
	char *copy = malloc(WARD_NAME_MAX);
	cr_assert(ward_cwd_copy(copy, WARD_NAME_MAX));
	cr_expect_eq(strlen(copy), strlen(want) + 201);
	free(copy);
	/* a file's descriptor as the base: ENOTDIR, as the kernel says */
	int file = openat(here, "f", O_CREAT | O_RDWR, 0600);
	cr_expect_eq(ward_resolve(&direct, file, "x", true, out, &rscratch), WARD_RESOLVE_FAILS);
	cr_expect_eq(rscratch.fails_with, ENOTDIR);
	close(file);
	close(here);
	deep_tree_remove("/", d);
	ward_cwd_refresh();
}

/* Deeper than WARD_NAME_MAX, a name cannot be told: unknown (the shim
 * refuses, with a record), never a guess. */
Test(resolve, a_cwd_beyond_the_name_bound_is_unknown)
{
	static char want[WARD_NAME_MAX];
	char *d = deep_tree(WARD_NAME_MAX / 201 + 2, want, sizeof(want));
	ward_cwd_forget();
	cr_expect_eq(ward_resolve(&direct, AT_FDCWD, "x", true, out, &rscratch), WARD_RESOLVE_UNKNOWN);
	int here = open(".", O_RDONLY | O_DIRECTORY);
	cr_expect_eq(ward_resolve(&direct, here, "x", true, out, &rscratch), WARD_RESOLVE_UNKNOWN);
	close(here);
	deep_tree_remove("/", d);
	ward_cwd_refresh();
}

/* The program's own path is the kernel's to bound: PATH_MAX bytes or more
 * is ENAMETOOLONG, as the call says bare. */
Test(resolve, a_path_argument_of_path_max_fails_as_the_kernel_says)
{
	static char path[PATH_MAX + 8];
	memset(path, 'a', PATH_MAX);
	path[PATH_MAX] = '\0';
	cr_expect_eq(ward_resolve(&direct, AT_FDCWD, path, true, out, &rscratch), WARD_RESOLVE_FAILS);
	cr_expect_eq(rscratch.fails_with, ENAMETOOLONG);
	path[0] = '/';
	cr_expect_eq(ward_resolve(&direct, AT_FDCWD, path, true, out, &rscratch), WARD_RESOLVE_FAILS);
}

/* ---- core/exact: calls on names longer than the kernel takes ---- */

#include <sys/syscall.h>

#include "exact.h"

/* Open, stat and readlink on a name longer than PATH_MAX, no symlink
 * followed: a directory on the way swapped for a symlink is ELOOP. */
Test(exact, long_names_are_reached_through_anchors_and_follow_no_symlink)
{
	static char want[WARD_NAME_MAX], name[WARD_NAME_MAX + 8];
	char keep[PATH_MAX];
	cr_assert_not_null(getcwd(keep, sizeof(keep)));
	char *d = deep_tree(30, want, sizeof(want));
	FILE *f = fopen("f", "w");
	cr_assert_not_null(f);
	fputs("deep\n", f);
	fclose(f);
	cr_assert_eq(symlink("f", "l"), 0);
	snprintf(name, sizeof(name), "%s/f", want);
	long fd = ward_exact_open(name, O_RDONLY | O_CLOEXEC, 0);
	cr_assert_geq(fd, 0, "errno %d", errno);
	char buf[8] = "";
	cr_expect_eq(read((int)fd, buf, sizeof(buf)), 5);
	cr_expect_str_eq(buf, "deep\n");
	close((int)fd);
	struct stat st;
	cr_expect_eq(ward_exact_call(SYS_newfstatat, name, (long)&st, 0, 0), 0);
	cr_expect_eq(st.st_size, 5);
	snprintf(name, sizeof(name), "%s/l", want);
	char target[16] = "";
	cr_expect_eq(ward_exact_call(SYS_readlinkat, name, (long)target, sizeof(target), 0), 1);
	cr_expect_eq(ward_exact_open(name, O_RDONLY, 0), -1);
	cr_expect_eq(errno, ELOOP, "a symlink at the end is opened: %d", errno);
	/* a directory half-way down moved away, a symlink to it in its place */
	char *mid = want + strlen(d) + 10 * 201; /* the '/' before the 11th level */
	*mid = '\0';
	cr_assert_eq(chdir(want), 0); /* the first 10 levels: shorter than PATH_MAX */
	*mid = '/';
	char level[201];
	memcpy(level, mid + 1, 200);
	level[200] = '\0';
	cr_assert_eq(rename(level, "moved"), 0);
	cr_assert_eq(symlink("moved", level), 0);
	snprintf(name, sizeof(name), "%s/f", want);
	cr_expect_eq(ward_exact_open(name, O_RDONLY, 0), -1);
	cr_expect_eq(errno, ELOOP, "followed a symlink on the way: %d", errno);
	cr_expect_eq(ward_exact_call(SYS_newfstatat, name, (long)&st, 0, 0), -1, "stat through a swapped directory");
	deep_tree_remove(keep, d);
}

/* The name of a directory no call can name: walked up, checked, and
 * ESTALE-free only when it still leads there. */
Test(exact, a_deep_directory_is_named_by_its_dotdot_walk)
{
	static char want[WARD_NAME_MAX], got[WARD_NAME_MAX];
	static char entries[4096];
	char keep[PATH_MAX];
	cr_assert_not_null(getcwd(keep, sizeof(keep)));
	char *d = deep_tree(24, want, sizeof(want));
	cr_expect_eq(ward_exact_name(AT_FDCWD, got, sizeof(got), entries, sizeof(entries)), 0);
	cr_expect_str_eq(got, want);
	cr_expect_eq(ward_exact_name(AT_FDCWD, got, 1000, entries, sizeof(entries)), ENAMETOOLONG);
	int root = open("/", O_RDONLY | O_DIRECTORY);
	cr_expect_eq(ward_exact_name(root, got, sizeof(got), entries, sizeof(entries)), 0);
	cr_expect_str_eq(got, "/");
	close(root);
	deep_tree_remove(keep, d);
}
