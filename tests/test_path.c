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

static char out[WARD_PATH_MAX];
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
	char p[80];
	unsigned int seed = 11;
	for (int round = 0; round < 200000; round++) {
		size_t n = 1 + (size_t)rand_r(&seed) % 40;
		for (size_t i = 0; i < n; i++)
			p[i] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		p[0] = rand_r(&seed) % 8 ? '/' : 'a';
		p[n] = '\0';
		size_t slash = 999, want = normal_by_definition(p), got = ward_path_normal(p, &slash);
		cr_assert_eq(got, want, "%s: %zu, want %zu", p, got, want);
		cr_assert_eq(ward_path_normal_length(p), want, "%s", p);
		if (want > 0)
			cr_assert_eq(slash, (size_t)(strrchr(p, '/') - p), "%s: last slash %zu", p, slash);
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

/* A working directory deeper than PATH_MAX cannot be told: refuse, never
 * guess (the check used to allow when getcwd failed). */
Test(resolve, a_cwd_beyond_path_max_is_unknown)
{
	char keep[PATH_MAX];
	cr_assert_not_null(getcwd(keep, sizeof(keep)));
	char *d = strdup("/tmp/ward-deep.XXXXXX");
	cr_assert_not_null(mkdtemp(d));
	cr_assert_eq(chdir(d), 0);
	char name[200];
	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (int i = 0; i < 25; i++) {
		cr_assert_eq(mkdir(name, 0755), 0);
		cr_assert_eq(chdir(name), 0);
	}
	ward_cwd_forget();
	cr_expect_eq(ward_resolve(&cached, AT_FDCWD, "../x", true, out, &rscratch), WARD_RESOLVE_UNKNOWN);
	cr_expect_eq(ward_resolve(&direct, AT_FDCWD, "x", true, out, &rscratch), WARD_RESOLVE_UNKNOWN);
	int here = open(".", O_RDONLY | O_DIRECTORY);
	cr_expect_eq(ward_resolve(&direct, here, "x", true, out, &rscratch), WARD_RESOLVE_UNKNOWN);
	close(here);
	cr_assert_eq(chdir(keep), 0);
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	cr_assert_eq(system(cmd), 0);
	free(d);
}
