/*
 * test_dircache: the directory cache (core/dircache.c): what a lookup gives
 * back after a store, for short names and for the long ones (up to
 * WARD_DIRCACHE_LONG_PATH), what is never kept, its keys (the same key
 * only ever for the same real path), and age: an entry older than
 * WARD_DIRCACHE_TTL_NS is not used, but for an exact open
 * (ward_dircache_get_exact) one that is its own real path still is.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "dircache.h"

static char out[8192];

/* "/" then components of 'd' up to len bytes */
static void
long_name(char *p, size_t len, char fill)
{
	memset(p, fill, len);
	for (size_t i = 0; i < len; i += 50)
		p[i] = '/';
	p[len] = '\0';
}

static bool
get(const char *dir, struct ward_dircache_hit *hit)
{
	memset(out, 'x', sizeof(out));
	return ward_dircache_get(dir, strlen(dir), out, hit);
}

static bool
get_exact(const char *dir, struct ward_dircache_hit *hit)
{
	memset(out, 'x', sizeof(out));
	return ward_dircache_get_exact(dir, strlen(dir), out, hit);
}

static void
put(const char *dir, const char *real)
{
	ward_dircache_put(dir, strlen(dir), real, strlen(real), ward_dircache_generation());
}

Test(dircache, short_names)
{
	struct ward_dircache_hit hit;
	cr_expect_not(get("/srv/short/a", &hit));
	put("/srv/short/a", "/srv/short/a");
	cr_assert(get("/srv/short/a", &hit));
	cr_expect(hit.same);
	cr_expect_eq(hit.len, strlen("/srv/short/a"));
	cr_expect_eq(out[0], 'x', "the same directory: nothing copied");
	cr_expect_neq(hit.key, 0);
	put("/srv/short/link", "/srv/short/a");
	struct ward_dircache_hit other;
	cr_assert(get("/srv/short/link", &other));
	cr_expect_not(other.same);
	cr_expect_str_eq(out, "/srv/short/a");
	cr_expect_eq(other.len, strlen("/srv/short/a"));
	cr_expect_neq(other.key, 0);
	cr_expect_not(get("/srv/short", &hit), "a prefix is another directory");
}

Test(dircache, long_names)
{
	static char dir[WARD_DIRCACHE_LONG_PATH + 8], real[WARD_DIRCACHE_LONG_PATH + 8];
	struct ward_dircache_hit hit;
	for (size_t len = WARD_DIRCACHE_PATH - 2; len < WARD_DIRCACHE_LONG_PATH + 4; len += len < 320 ? 1 : 397) {
		long_name(dir, len, 'd');
		put(dir, dir);
		bool kept = get(dir, &hit);
		cr_expect_eq(kept, len < WARD_DIRCACHE_LONG_PATH, "%zu bytes: %s", len, kept ? "kept" : "not kept");
		if (kept) {
			cr_expect(hit.same);
			cr_expect_eq(hit.len, len);
		}
		/* a long name whose real path is another long one */
		long_name(real, len < 3000 ? len + 7 : len - 300, 'r');
		put(dir, real);
		kept = get(dir, &hit);
		/* (a short entry holds both names in twice WARD_DIRCACHE_PATH) */
		bool fits = len < WARD_DIRCACHE_PATH ? len + strlen(real) <= 2 * WARD_DIRCACHE_PATH
		                                     : len < WARD_DIRCACHE_LONG_PATH;
		cr_expect_eq(kept, fits, "%zu bytes, elsewhere: %s", len, kept ? "kept" : "not kept");
		if (kept) {
			cr_expect_not(hit.same);
			cr_expect_eq(hit.len, strlen(real));
			cr_expect_str_eq(out, real, "%zu bytes", len);
		}
	}
	long_name(dir, 2000, 'q');
	long_name(real, 100, 'r');
	put(dir, real); /* a long name leading to a short one */
	cr_assert(get(dir, &hit));
	cr_expect_str_eq(out, real);
}

Test(dircache, never_kept)
{
	struct ward_dircache_hit hit;
	put("/proc/self", "/proc/42");
	cr_expect_not(get("/proc/self", &hit));
	put("/dev/fd", "/proc/42/fd");
	cr_expect_not(get("/dev/fd", &hit), "a directory leading into /proc");
	unsigned int before = ward_dircache_generation();
	ward_dircache_invalidate();
	ward_dircache_put("/srv/raced", strlen("/srv/raced"), "/srv/raced", strlen("/srv/raced"), before);
	cr_expect_not(get("/srv/raced", &hit), "resolved before an invalidation");
	put("/srv/forgotten", "/srv/forgotten");
	cr_assert(get("/srv/forgotten", &hit));
	ward_dircache_invalidate();
	cr_expect_not(get("/srv/forgotten", &hit));
}

Test(dircache, keys)
{
	struct ward_dircache_hit a, b;
	put("/srv/keys/x", "/srv/keys/x");
	cr_assert(get("/srv/keys/x", &a));
	put("/srv/keys/x", "/srv/keys/x"); /* filled again, the same real path: the same key */
	cr_assert(get("/srv/keys/x", &b));
	cr_expect_eq(a.key, b.key);
	ward_dircache_invalidate();
	put("/srv/keys/x", "/srv/keys/x");
	cr_assert(get("/srv/keys/x", &b));
	cr_expect_eq(a.key, b.key, "after an invalidation, the same real path");
	put("/srv/keys/x", "/srv/keys/y"); /* now a symlink elsewhere: a new key */
	cr_assert(get("/srv/keys/x", &b));
	cr_expect_neq(a.key, b.key);
	put("/srv/keys/x", "/srv/keys/x");
	cr_assert(get("/srv/keys/x", &b));
	cr_expect_neq(a.key, b.key, "a key is never given back to another real path's place");
	put("/srv/keys/z", "/srv/keys/z");
	cr_assert(get("/srv/keys/z", &a));
	cr_expect_neq(a.key, b.key);
}

Test(dircache, age)
{
	static char dir[WARD_DIRCACHE_PATH + 40];
	struct ward_dircache_hit hit;
	long_name(dir, WARD_DIRCACHE_PATH + 20, 'a'); /* (the long table too) */
	put("/srv/age/same", "/srv/age/same");
	put("/srv/age/link", "/srv/age/real");
	put(dir, dir);
	cr_assert(get("/srv/age/same", &hit) && get_exact("/srv/age/same", &hit));
	cr_assert(get("/srv/age/link", &hit) && get_exact("/srv/age/link", &hit));
	cr_expect_str_eq(out, "/srv/age/real");
	cr_assert(get(dir, &hit) && get_exact(dir, &hit));
	struct timespec wait = { 0, (long)WARD_DIRCACHE_TTL_NS + 50000000L };
	nanosleep(&wait, NULL);
	cr_expect_not(get("/srv/age/same", &hit), "an old entry");
	cr_expect_not(get(dir, &hit), "an old long entry");
	cr_expect_not(get("/srv/age/link", &hit), "an old entry elsewhere");
	cr_expect_not(get_exact("/srv/age/link", &hit), "an old entry naming another real path, for an exact open");
	cr_assert(get_exact("/srv/age/same", &hit), "an old entry that is its own real path, for an exact open");
	cr_expect(hit.same);
	cr_expect_eq(hit.len, strlen("/srv/age/same"));
	cr_expect_eq(out[0], 'x');
	cr_expect(get_exact(dir, &hit) && hit.same && hit.len == strlen(dir));
	ward_dircache_invalidate();
	cr_expect_not(get_exact("/srv/age/same", &hit), "invalidated");
	cr_expect_not(get_exact(dir, &hit), "invalidated");
}
