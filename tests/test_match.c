/*
 * test_match: the compiled policy matcher (policy/match.c) and the glob
 * matcher it relies on.
 *
 * The glob semantics of SPEC 5.2 are pinned by examples; then the compiled
 * matcher is checked against the naive reference (every rule in order) over
 * random rule sets and random paths, with each bucket compare (scalar, SSE2,
 * AVX2 where the CPU has it): same decision, same deciding rule, always.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "match.h"
#include "policy.h"

Test(glob, double_star_matches_whole_components)
{
	cr_expect(ward_glob_match("/a/**", "/a"));
	cr_expect(ward_glob_match("/a/**", "/a/b"));
	cr_expect(ward_glob_match("/a/**", "/a/b/c"));
	cr_expect_not(ward_glob_match("/a/**", "/ab"));
	cr_expect_not(ward_glob_match("/a/**", "/"));
	cr_expect(ward_glob_match("/**", "/"));
	cr_expect(ward_glob_match("/**", "/x/y"));
	cr_expect(ward_glob_match("/a/**/z", "/a/z"));
	cr_expect(ward_glob_match("/a/**/z", "/a/b/c/z"));
	cr_expect_not(ward_glob_match("/a/**/z", "/a/b/c/zz"));
	cr_expect(ward_glob_match("/**/.ssh/**", "/home/u/.ssh/id"));
	cr_expect(ward_glob_match("/a/**/**/b", "/a/b"));
}

Test(glob, star_and_question_stay_in_one_component)
{
	cr_expect(ward_glob_match("/a/*", "/a/x"));
	cr_expect_not(ward_glob_match("/a/*", "/a"));
	cr_expect_not(ward_glob_match("/a/*", "/a/x/y"));
	cr_expect(ward_glob_match("/a/*.c", "/a/main.c"));
	cr_expect(ward_glob_match("/a/*.c", "/a/.c"));
	cr_expect_not(ward_glob_match("/a/*.c", "/a/main.h"));
	cr_expect(ward_glob_match("/a/?", "/a/x"));
	cr_expect_not(ward_glob_match("/a/?", "/a/xy"));
	cr_expect(ward_glob_match("/a/*x*y*", "/a/_x_y_"));
	cr_expect(ward_glob_match("/usr/bin/*", "/usr/bin/cc"));
	cr_expect_not(ward_glob_match("/usr/bin/*", "/usr/bin"));
}

Test(glob, literals_and_root)
{
	cr_expect(ward_glob_match("/", "/"));
	cr_expect_not(ward_glob_match("/", "/a"));
	cr_expect(ward_glob_match("/etc/shadow", "/etc/shadow"));
	cr_expect_not(ward_glob_match("/etc/shadow", "/etc/shadow2"));
	cr_expect_not(ward_glob_match("/etc/shadow", "/etc"));
}

/* An independent reference for the glob semantics, by recursion over
 * components (slow, exponential at worst: tests only). */
static bool
ref_component(const char *p, size_t pn, const char *s, size_t sn)
{
	if (pn == 0)
		return sn == 0;
	if (p[0] == '*')
		return ref_component(p + 1, pn - 1, s, sn) || (sn > 0 && ref_component(p, pn, s + 1, sn - 1));
	return sn > 0 && (p[0] == '?' || p[0] == s[0]) && ref_component(p + 1, pn - 1, s + 1, sn - 1);
}

struct components {
	const char *at[16];
	size_t len[16];
	size_t n;
};

static void
split(const char *s, struct components *c)
{
	c->n = 0;
	for (s += *s == '/'; *s != '\0' && c->n < 16;) {
		size_t n = strcspn(s, "/");
		c->at[c->n] = s;
		c->len[c->n++] = n;
		s += n + (s[n] == '/');
	}
}

static bool
ref_components(const struct components *p, size_t i, const struct components *s, size_t j)
{
	if (i == p->n)
		return j == s->n;
	if (p->len[i] == 2 && memcmp(p->at[i], "**", 2) == 0)
		return ref_components(p, i + 1, s, j) || (j < s->n && ref_components(p, i, s, j + 1));
	return j < s->n && ref_component(p->at[i], p->len[i], s->at[j], s->len[j]) &&
	       ref_components(p, i + 1, s, j + 1);
}

static bool
ref_glob(const char *pattern, const char *path)
{
	struct components p, s;
	split(pattern, &p);
	split(path, &s);
	return ref_components(&p, 0, &s, 0);
}

/* ward_glob_match against the reference: random patterns and paths over
 * a small alphabet, so that stars, '?' and '**' meet matching and
 * nearly matching names. */
Test(glob, equals_the_recursive_reference)
{
	static const char *const part[] = { "a", "b", "ab", "ba", "aab", "*", "?", "**", "a*", "*b", "*a*", "?b", "a?*",
		                            "**a", "b**" };
	char pattern[128], path[128];
	unsigned int seed = 42;
	int matched = 0;
	for (int round = 0; round < 200000; round++) {
		size_t n = 0;
		int depth = (int)(rand_r(&seed) % 5);
		for (int i = 0; i < depth; i++)
			n += (size_t)snprintf(pattern + n, sizeof(pattern) - n, "/%s", part[rand_r(&seed) % 15]);
		if (n == 0)
			strcpy(pattern, "/");
		n = 0;
		depth = (int)(rand_r(&seed) % 5);
		for (int i = 0; i < depth; i++)
			n += (size_t)snprintf(path + n, sizeof(path) - n, "/%s", part[rand_r(&seed) % 5]);
		if (n == 0)
			strcpy(path, "/");
		bool want = ref_glob(pattern, path);
		matched += want;
		cr_assert_eq(ward_glob_match(pattern, path), want, "%s against %s: want %d", pattern, path, want);
	}
	cr_expect_gt(matched, 10000, "only %d matched", matched);
}

static struct ward_policy *
policy_from(const char *text)
{
	struct ward_policy_error e;
	struct ward_policy *p = ward_policy_parse("t.ward", text, strlen(text), NULL, &e);
	cr_assert_not_null(p, "%d:%d: %s", e.line, e.col, e.message);
	return p;
}

Test(match, deny_beats_allow_and_reports_the_first_rule)
{
	struct ward_policy *p = policy_from("default deny\n"
	                                    "allow ro /usr/**\n"
	                                    "allow rw /home/u/**\n"
	                                    "deny all /home/u/.ssh/**\n"
	                                    "deny quiet write /usr/share/*\n"
	                                    "allow exec /usr/bin/*\n"
	                                    "allow stat /\n");
	struct ward_matcher *m = ward_matcher_build(p);
	cr_assert_not_null(m);
	struct ward_decision d;
	d = ward_matcher_decide(m, WARD_OP_READ, "/usr/lib/x");
	cr_expect(d.allow && d.rule == 0);
	d = ward_matcher_decide(m, WARD_OP_WRITE, "/usr/lib/x");
	cr_expect(!d.allow && d.rule == -1);
	d = ward_matcher_decide(m, WARD_OP_READ, "/home/u/.ssh/id_rsa");
	cr_expect(!d.allow && d.rule == 2 && !d.quiet);
	d = ward_matcher_decide(m, WARD_OP_READ, "/home/u/.ssh");
	cr_expect(!d.allow && d.rule == 2);
	d = ward_matcher_decide(m, WARD_OP_WRITE, "/usr/share/f");
	cr_expect(!d.allow && d.rule == 3 && d.quiet);
	d = ward_matcher_decide(m, WARD_OP_EXEC, "/usr/bin/cc");
	cr_expect(d.allow && d.rule == 4);
	d = ward_matcher_decide(m, WARD_OP_STAT, "/");
	cr_expect(d.allow && d.rule == 5);
	d = ward_matcher_decide(m, WARD_OP_STAT, "/etc");
	cr_expect(!d.allow && d.rule == -1);
	ward_matcher_free(m);
	ward_policy_free(p);
}

Test(match, default_allow)
{
	struct ward_policy *p = policy_from("default allow\ndeny write /etc/**\n");
	struct ward_matcher *m = ward_matcher_build(p);
	cr_expect(ward_matcher_decide(m, WARD_OP_WRITE, "/tmp/x").allow);
	cr_expect_not(ward_matcher_decide(m, WARD_OP_WRITE, "/etc/passwd").allow);
	cr_expect(ward_matcher_decide(m, WARD_OP_READ, "/etc/passwd").allow);
	ward_matcher_free(m);
	ward_policy_free(p);
}

/* ---- differential: compiled == naive ---- */

static const char *const short_names[] = { "a", "b", "c", "ab", "x.c", "x.h", ".ssh", "usr", "bin", "zz" };
/* Components of 1 to 17 bytes: prefixes end at every offset within the
 * matcher's 8-byte words, and whole paths on and across their edges. */
static const char *const long_names[] = { "a",       "ab",       "abc",       "abcd",     "abcde",
	                                  "abcdef",  "abcdefg",  "abcdefgh",  "abcdefghi", ".config",
	                                  "x.cabcdefghijklm", "lib64.so.1.2.3abc", "zz", "a.b", "bin" };
static const char *const *names = short_names;
static size_t NNAMES = sizeof(short_names) / sizeof(short_names[0]);

static void
random_path(unsigned int *seed, char *out, size_t cap)
{
	int depth = (int)(rand_r(seed) % 5);
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < depth; i++)
		len += (size_t)snprintf(out + len, cap - len, "/%s", names[rand_r(seed) % NNAMES]);
	if (len == 0)
		strcpy(out, "/");
}

static void
random_pattern(unsigned int *seed, char *out, size_t cap)
{
	static const char *const wild[] = { "*", "?", "**", "*.c", "a*", "?b", "**" };
	int depth = 1 + (int)(rand_r(seed) % 4);
	size_t len = 0;
	for (int i = 0; i < depth; i++) {
		const char *c = (rand_r(seed) % 4 == 0) ? wild[rand_r(seed) % 7] : names[rand_r(seed) % NNAMES];
		len += (size_t)snprintf(out + len, cap - len, "/%s", c);
	}
	if (rand_r(seed) % 5 == 0)
		strcpy(out, "/");
}

/* A key per directory name (1, 2, ...), as core/dircache gives: equal
 * keys for equal names only. */
static uint64_t
key_of(const char *path, size_t len)
{
	static char seen[1024][256];
	static size_t nseen;
	for (size_t i = 0; i < nseen; i++)
		if (strlen(seen[i]) == len && memcmp(seen[i], path, len) == 0)
			return i + 1;
	if (nseen == sizeof(seen) / sizeof(seen[0]) || len >= sizeof(seen[0]))
		return 0;
	memcpy(seen[nseen], path, len);
	seen[nseen][len] = '\0';
	return ++nseen;
}

static void
differential(enum ward_simd simd, unsigned int seed)
{
	if (!ward_matcher_set_simd(simd))
		return; /* the CPU lacks it; the other variants still run */
	static const char *const ops[] = { "read", "stat", "write", "create", "remove", "exec", "ro", "rw", "all" };
	char text[64 * 1024], path[256], pattern[256];
	int decided_by_rule = 0, total = 0;
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)snprintf(text, sizeof(text), "default %s\n", rand_r(&seed) % 2 ? "allow" : "deny");
		int nrules = 1 + (int)(rand_r(&seed) % 60);
		for (int r = 0; r < nrules; r++) {
			random_pattern(&seed, pattern, sizeof(pattern));
			const char *kind = rand_r(&seed) % 3 == 0 ? "deny" : "allow";
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %s%s %s\n", kind,
			                        kind[0] == 'd' && rand_r(&seed) % 4 == 0 ? "quiet " : "",
			                        ops[rand_r(&seed) % 9], pattern);
		}
		struct ward_policy *p = policy_from(text);
		struct ward_matcher *m = ward_matcher_build(p);
		cr_assert_not_null(m);
		for (int q = 0; q < 300; q++) {
			random_path(&seed, path, sizeof(path));
			unsigned int op = 1u << (rand_r(&seed) % 6);
			struct ward_decision want = ward_policy_decide_naive(p, op, path);
			struct ward_decision got = ward_matcher_decide(m, op, path);
			total++;
			decided_by_rule += want.rule >= 0;
			cr_assert(want.allow == got.allow && want.rule == got.rule && want.quiet == got.quiet,
			          "simd %d op %u path %s: naive %d/rule %d, compiled %d/rule %d\n%s", simd, op, path,
			          want.allow, want.rule, got.allow, got.rule, text);
			/* and with the length, last '/' and a key for the directory
			 * given (as the shim does): a key per directory, or none */
			size_t n = strlen(path), slash = (size_t)(strrchr(path, '/') - path);
			uint64_t key = rand_r(&seed) % 4 == 0 ? 0 : key_of(path, slash);
			got = ward_matcher_decide_known(m, op, path, n, slash, key);
			cr_assert(want.allow == got.allow && want.rule == got.rule && want.quiet == got.quiet,
			          "simd %d op %u path %s key %llu: naive %d/rule %d, known %d/rule %d\n%s", simd, op, path,
			          (unsigned long long)key, want.allow, want.rule, got.allow, got.rule, text);
		}
		ward_matcher_free(m);
		ward_policy_free(p);
	}
	/* the random sets must exercise rules, not only the default */
	cr_expect_gt(decided_by_rule * 5, total, "only %d of %d decided by a rule", decided_by_rule, total);
}

Test(match, compiled_equals_naive_scalar)
{
	differential(WARD_SIMD_SCALAR, 1);
}

Test(match, compiled_equals_naive_sse2)
{
	differential(WARD_SIMD_SSE2, 2);
}

Test(match, compiled_equals_naive_avx2)
{
	differential(WARD_SIMD_AVX2, 3);
}

Test(match, compiled_equals_naive_long_components)
{
	names = long_names;
	NNAMES = sizeof(long_names) / sizeof(long_names[0]);
	differential(WARD_SIMD_SCALAR, 4);
	differential(WARD_SIMD_AVX2, 5);
	differential(WARD_SIMD_SSE2, 6);
}

/* Rules under names longer than 4,096 bytes ($CWD many levels deep): a
 * deny there denies, an allow allows, subtree, exact and glob alike, as
 * the naive matcher decides (the key-length filter once skipped them: a
 * deny rule that long was never found). */
Test(match, rules_under_names_longer_than_4096_bytes)
{
	static char deep[6000], text[4 * 6000 + 200], path[6000 + 64];
	size_t n = (size_t)snprintf(deep, sizeof(deep), "/w");
	for (int i = 0; i < 25; i++) {
		deep[n++] = '/';
		memset(deep + n, 'd', 200);
		n += 200;
	}
	deep[n] = '\0';
	snprintf(text, sizeof(text), "default deny\nallow rw %s/**\ndeny all %s/secret/**\ndeny write %s/ro\n"
	         "deny read %s/g*/x\n", deep, deep, deep, deep);
	struct ward_policy *p = policy_from(text);
	struct ward_matcher *m = ward_matcher_build(p);
	cr_assert_not_null(m);
	const struct { const char *tail; unsigned int op; bool allow; } cases[] = {
		{ "/f", WARD_OP_WRITE, true },       { "/secret/S.txt", WARD_OP_READ, false },
		{ "/secret", WARD_OP_READ, false },   { "/ro", WARD_OP_WRITE, false },
		{ "/ro", WARD_OP_READ, true },        { "/gx/x", WARD_OP_READ, false },
		{ "/gx/y", WARD_OP_READ, true },      { "/../f", WARD_OP_READ, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", deep, cases[i].tail);
		struct ward_decision fast = ward_matcher_decide(m, cases[i].op, path),
		                     naive = ward_policy_decide_naive(p, cases[i].op, path);
		cr_expect_eq(fast.allow, cases[i].allow, "%s: %d", cases[i].tail, fast.allow);
		cr_expect_eq(fast.allow, naive.allow, "%s", cases[i].tail);
		cr_expect_eq(fast.rule, naive.rule, "%s: rule %d, naive %d", cases[i].tail, fast.rule, naive.rule);
	}
	cr_expect_not(ward_matcher_decide(m, WARD_OP_READ, "/w/x").allow);
	ward_matcher_free(m);
	ward_policy_free(p);
}

/* The per-directory cache (match.c): every operation on many names in the
 * same directories, the directories' state cached by the first, and two
 * matchers of different policies deciding in turn (a state is its
 * matcher's alone), always as the naive matcher decides. */
Test(match, directory_cache_equals_naive)
{
	static const char *const ops[] = { "read", "stat", "write", "create", "remove", "exec", "ro", "rw", "all" };
	char text[2][16 * 1024], dir[256], path[300], pattern[256];
	unsigned int seed = 77;
	for (int round = 0; round < 40; round++) {
		struct ward_policy *p[2];
		struct ward_matcher *m[2];
		for (int k = 0; k < 2; k++) {
			size_t len = (size_t)snprintf(text[k], sizeof(text[k]), "default %s\n", rand_r(&seed) % 2 ? "allow" : "deny");
			for (int r = 0; r < 40; r++) {
				random_pattern(&seed, pattern, sizeof(pattern));
				const char *kind = rand_r(&seed) % 3 == 0 ? "deny" : "allow";
				len += (size_t)snprintf(text[k] + len, sizeof(text[k]) - len, "%s %s%s %s\n", kind,
				                        kind[0] == 'd' && rand_r(&seed) % 3 == 0 ? "quiet " : "",
				                        ops[rand_r(&seed) % 9], pattern);
			}
			p[k] = policy_from(text[k]);
			m[k] = ward_matcher_build(p[k]);
			cr_assert_not_null(m[k]);
		}
		for (int d = 0; d < 20; d++) {
			random_path(&seed, dir, sizeof(dir));
			for (int n = 0; n < 2 * (int)NNAMES; n++) {
				snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, names[n % NNAMES]);
				for (unsigned int op = 1; op <= WARD_OP_EXEC; op <<= 1) {
					int k = (n + (int)op) % 2;
					struct ward_decision want = ward_policy_decide_naive(p[k], op, path);
					struct ward_decision got = ward_matcher_decide(m[k], op, path);
					cr_assert(want.allow == got.allow && want.rule == got.rule && want.quiet == got.quiet,
					          "op %u path %s: naive %d/rule %d, compiled %d/rule %d\n%s", op, path, want.allow,
					          want.rule, got.allow, got.rule, text[k]);
				}
			}
		}
		for (int k = 0; k < 2; k++) {
			ward_matcher_free(m[k]);
			ward_policy_free(p[k]);
		}
	}
}

/* Many rules under one prefix and many prefixes: the table's probing
 * across full buckets still finds everything. */
Test(match, ten_thousand_literal_rules)
{
	size_t cap = 10000 * 40, len = 0;
	char *text = malloc(cap);
	for (int i = 0; i < 10000; i++)
		len += (size_t)snprintf(text + len, cap - len, "allow read /data/d%d/f%d\n", i % 97, i);
	struct ward_policy *p = policy_from(text);
	struct ward_matcher *m = ward_matcher_build(p);
	char path[64];
	for (int i = 0; i < 10000; i++) {
		snprintf(path, sizeof(path), "/data/d%d/f%d", i % 97, i);
		struct ward_decision d = ward_matcher_decide(m, WARD_OP_READ, path);
		cr_assert(d.allow && d.rule == i, "%s -> %d", path, d.rule);
	}
	cr_expect_not(ward_matcher_decide(m, WARD_OP_READ, "/data/d1/f2").allow);
	ward_matcher_free(m);
	ward_policy_free(p);
	free(text);
}

/* Globs filed under more prefixes of one directory than its cached state
 * names (the root, /a, /a/b, /a/b/c): every operation on names in it,
 * each decided twice (filling the directory's state, then from it), as
 * the naive matcher decides. */
Test(match, globs_under_many_prefixes_of_a_directory)
{
	struct ward_policy *p = policy_from("default allow\n"
	                                    "deny read /**/z\n"
	                                    "allow rw /a/*/c/*\n"
	                                    "deny write /a/b/*.c\n"
	                                    "deny quiet read /a/b/c/?\n"
	                                    "deny exec /a/b/c/*.sh\n"
	                                    "allow ro /a/**\n"
	                                    "deny remove /a/b/c/**\n");
	struct ward_matcher *m = ward_matcher_build(p);
	cr_assert_not_null(m);
	static const char *const paths[] = { "/a/b/c/z", "/a/b/c/x", "/a/b/c/x.c", "/a/b/c/t.sh", "/a/b/c/xy",
		                             "/a/b/x.c", "/a/b/z", "/a/q/c/x", "/a/b/c" };
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			for (unsigned int op = 1; op <= WARD_OP_EXEC; op <<= 1) {
				struct ward_decision want = ward_policy_decide_naive(p, op, paths[i]);
				struct ward_decision got = ward_matcher_decide(m, op, paths[i]);
				cr_expect(want.allow == got.allow && want.rule == got.rule && want.quiet == got.quiet,
				          "pass %d op %u %s: naive %d/rule %d, compiled %d/rule %d", pass, op, paths[i],
				          want.allow, want.rule, got.allow, got.rule);
			}
	ward_matcher_free(m);
	ward_policy_free(p);
}

/* 10,000 rules of every kind over many directories (literal, subtree,
 * globs at every depth, some under the root), queried with names in and
 * out of them, each path decided by its name and by length, last '/' and
 * directory key, in an order that keeps refilling the per-directory cache:
 * always as the naive matcher decides. */
Test(match, ten_thousand_mixed_rules_equal_naive, .timeout = 120)
{
	static const char *const ops[] = { "read", "stat", "write", "create", "remove", "exec", "ro", "rw", "all" };
	size_t cap = 10000 * 64, len = 0;
	char *text = malloc(cap);
	unsigned int seed = 10000;
	len += (size_t)snprintf(text + len, cap - len, "default deny\nallow stat /**\n");
	for (int i = 0; i < 9999; i++) {
		int d = (int)(rand_r(&seed) % 300), f = (int)(rand_r(&seed) % 40);
		const char *kind = rand_r(&seed) % 3 == 0 ? "deny" : "allow";
		const char *quiet = kind[0] == 'd' && rand_r(&seed) % 4 == 0 ? "quiet " : "";
		const char *op = ops[rand_r(&seed) % 9];
		switch (rand_r(&seed) % 8) {
		case 0: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /t/d%d/**\n", kind, quiet, op, d); break;
		case 1: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /t/d%d/f%d\n", kind, quiet, op, d, f); break;
		case 2: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /t/d%d/*.c\n", kind, quiet, op, d); break;
		case 3: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /t/d%d/s/f%d?\n", kind, quiet, op, d, f); break;
		case 4: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /t/*/f%d\n", kind, quiet, op, f); break;
		case 5: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /t/d%d/**/g%d\n", kind, quiet, op, d, f); break;
		case 6: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /**/h%d\n", kind, quiet, op, f); break;
		default: len += (size_t)snprintf(text + len, cap - len, "%s %s%s /t/d%d/s/**\n", kind, quiet, op, d); break;
		}
	}
	struct ward_policy *p = policy_from(text);
	cr_assert_eq(p->nrules, 10000);
	struct ward_matcher *m = ward_matcher_build(p);
	cr_assert_not_null(m);
	static const char *const leaf[] = { "f%d", "f%d.c", "g%d", "h%d", "s/f%d", "s/f%dx", "s/g%d", "s/x/h%d", "", "s" };
	char path[128], name[32];
	int decided_by_rule = 0, total = 0;
	for (int q = 0; q < 3000; q++) {
		size_t n = (size_t)snprintf(path, sizeof(path), "/t/d%d", (int)(rand_r(&seed) % 320));
		int k = (int)(rand_r(&seed) % 10);
		if (*leaf[k] != '\0') {
			snprintf(name, sizeof(name), leaf[k], (int)(rand_r(&seed) % 45));
			snprintf(path + n, sizeof(path) - n, "/%s", name);
		}
		unsigned int op = 1u << (rand_r(&seed) % 6);
		struct ward_decision want = ward_policy_decide_naive(p, op, path);
		struct ward_decision got = ward_matcher_decide(m, op, path);
		total++;
		decided_by_rule += want.rule > 0;
		cr_assert(want.allow == got.allow && want.rule == got.rule && want.quiet == got.quiet,
		          "op %u path %s: naive %d/rule %d, compiled %d/rule %d", op, path, want.allow, want.rule,
		          got.allow, got.rule);
		size_t plen = strlen(path), slash = (size_t)(strrchr(path, '/') - path);
		got = ward_matcher_decide_known(m, op, path, plen, slash, rand_r(&seed) % 4 == 0 ? 0 : key_of(path, slash));
		cr_assert(want.allow == got.allow && want.rule == got.rule && want.quiet == got.quiet,
		          "op %u path %s (known): naive %d/rule %d, compiled %d/rule %d", op, path, want.allow, want.rule,
		          got.allow, got.rule);
	}
	cr_expect_gt(decided_by_rule * 3, total, "only %d of %d decided by a rule past the first", decided_by_rule, total);
	ward_matcher_free(m);
	ward_policy_free(p);
	free(text);
}

/* More directories than the per-directory cache holds (1,024: two ways
 * a set), met in turn three times by two matchers whose rules differ in
 * every directory: every way taken, given up and taken again, and a state
 * never read for another directory or another matcher. */
Test(match, more_directories_than_the_cache_holds_equal_naive, .timeout = 120)
{
	size_t cap = 2 * 1024 * 48, len[2] = { 0, 0 };
	char *text[2] = { malloc(cap), malloc(cap) };
	cr_assert(text[0] != NULL && text[1] != NULL);
	for (int k = 0; k < 2; k++) {
		len[k] += (size_t)snprintf(text[k], cap, "default %s\n", k ? "allow" : "deny");
		for (int d = k; d < 2500; d += 3)
			len[k] += (size_t)snprintf(text[k] + len[k], cap - len[k], "%s %s /w/d%d/**\n",
			                           d % 2 ? "deny" : "allow", d % 5 ? "read" : "rw", d);
		len[k] += (size_t)snprintf(text[k] + len[k], cap - len[k], "deny write /w/*/x\n");
	}
	struct ward_policy *p[2] = { policy_from(text[0]), policy_from(text[1]) };
	struct ward_matcher *m[2] = { ward_matcher_build(p[0]), ward_matcher_build(p[1]) };
	cr_assert(m[0] != NULL && m[1] != NULL);
	char path[64];
	int by_rule = 0, total = 0;
	for (int pass = 0; pass < 3; pass++)
		for (int d = 0; d < 2500; d++)
			for (int k = 0; k < 2; k++) {
				unsigned int op = (d + pass + k) % 2 ? WARD_OP_READ : WARD_OP_WRITE;
				snprintf(path, sizeof(path), "/w/d%d/%s", d, (d + pass) % 4 ? "f.c" : "x");
				struct ward_decision want = ward_policy_decide_naive(p[k], op, path);
				size_t plen = strlen(path), slash = (size_t)(strrchr(path, '/') - path);
				struct ward_decision got = pass == 1 ? ward_matcher_decide_known(m[k], op, path, plen, slash, 0)
				                                     : ward_matcher_decide(m[k], op, path);
				total++;
				by_rule += want.rule >= 0;
				cr_assert(want.allow == got.allow && want.rule == got.rule && want.quiet == got.quiet,
				          "pass %d matcher %d op %u %s: naive %d/rule %d, compiled %d/rule %d", pass, k, op,
				          path, want.allow, want.rule, got.allow, got.rule);
			}
	cr_expect_gt(by_rule * 4, total, "only %d of %d decided by a rule", by_rule, total);
	for (int k = 0; k < 2; k++) {
		ward_matcher_free(m[k]);
		ward_policy_free(p[k]);
		free(text[k]);
	}
}

/* ---- compiled images ---- */

/* A policy written as an image and loaded back decides exactly as the
 * compiled original; a damaged or foreign image is refused. */
Test(match, image_round_trip)
{
	char text[64 * 1024], path[256], pattern[256];
	unsigned int seed = 7;
	size_t len = (size_t)snprintf(text, sizeof(text), "default deny\nlimit fds 99\nmemory wx deny\nlog /tmp/l\n");
	for (int r = 0; r < 300; r++) {
		random_pattern(&seed, pattern, sizeof(pattern));
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %s %s\n", r % 3 ? "allow" : "deny",
		                        r % 2 ? "ro" : "write,create", pattern);
	}
	struct ward_policy *p = policy_from(text);
	struct ward_matcher *m = ward_matcher_build(p);
	char image[] = "/tmp/ward-image-XXXXXX";
	int fd = mkstemp(image);
	cr_assert_geq(fd, 0);
	close(fd);
	unlink(image); /* the writer creates it anew (O_EXCL) */
	cr_assert_eq(ward_matcher_write_image(m, "/src/p.ward", image), 0);
	struct ward_policy *q = NULL;
	struct ward_matcher *n = ward_matcher_load_image(image, "/src/p.ward", &q);
	cr_assert_not_null(n);
	cr_expect_eq(q->nrules, p->nrules);
	cr_expect_eq(q->limit_fds, 99);
	cr_expect(q->memory_wx_deny);
	cr_expect_str_eq(q->log, "/tmp/l");
	cr_expect_str_eq(ward_policy_rule(q, 5).pattern, p->rule[5].pattern);
	cr_expect_str_eq(ward_policy_rule(q, 5).file, "t.ward");
	cr_expect_eq(ward_policy_rule(q, 7).line, p->rule[7].line);
	cr_expect_eq(ward_policy_rule(q, 7).deny, p->rule[7].deny);
	cr_expect_eq(ward_policy_unrestricted_ops(q), ward_policy_unrestricted_ops(p));
	for (int i = 0; i < 5000; i++) {
		random_path(&seed, path, sizeof(path));
		unsigned int op = 1u << (rand_r(&seed) % 6);
		struct ward_decision a = ward_matcher_decide(m, op, path), b = ward_matcher_decide(n, op, path);
		cr_assert(a.allow == b.allow && a.rule == b.rule && a.quiet == b.quiet, "%s", path);
	}
	/* made from another policy file: refused */
	struct ward_policy *other = NULL;
	cr_expect_null(ward_matcher_load_image(image, "/src/other.ward", &other));
	/* damaged: refused, never a crash */
	FILE *f = fopen(image, "r+");
	cr_assert_not_null(f);
	fseek(f, 200, SEEK_SET);
	fputs("garbage garbage garbage", f);
	fclose(f);
	struct ward_matcher *broken = ward_matcher_load_image(image, "/src/p.ward", &other);
	if (broken != NULL) { /* the bytes hit a string: still decides without crashing */
		ward_matcher_decide(broken, WARD_OP_READ, "/a/b");
		ward_matcher_free(broken);
		ward_policy_free(other);
	}
	truncate(image, 100);
	cr_expect_null(ward_matcher_load_image(image, "/src/p.ward", &other));
	unlink(image);
	ward_matcher_free(n);
	ward_policy_free(q);
	ward_matcher_free(m);
	ward_policy_free(p);
}

/* An image is used in place with only its header checked: damage anywhere
 * (header, strings, rules, entries, items, buckets) is refused or decides
 * without reading outside the mapping (the sanitizer build would see it). */
Test(match, damaged_image_never_crashes)
{
	char text[32 * 1024], path[256], pattern[256];
	unsigned int seed = 11;
	size_t len = (size_t)snprintf(text, sizeof(text), "default deny\n");
	for (int r = 0; r < 120; r++) {
		random_pattern(&seed, pattern, sizeof(pattern));
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %s %s\n", r % 3 ? "allow" : "deny quiet",
		                        r % 2 ? "ro" : "write,create", pattern);
	}
	struct ward_policy *p = policy_from(text);
	struct ward_matcher *m = ward_matcher_build(p);
	char image[] = "/tmp/ward-image-XXXXXX";
	int fd = mkstemp(image);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ward_matcher_write_image_fd(m, "/src/p.ward", fd), 0);
	off_t size = lseek(fd, 0, SEEK_END);
	close(fd);
	char *good = malloc((size_t)size), *bad = malloc((size_t)size);
	cr_assert(good != NULL && bad != NULL);
	FILE *f = fopen(image, "r");
	cr_assert_eq(fread(good, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	int loaded = 0, refused = 0;
	for (int round = 0; round < 400; round++) {
		memcpy(bad, good, (size_t)size);
		int flips = 1 + rand_r(&seed) % 8;
		for (int k = 0; k < flips; k++) {
			size_t at = (size_t)rand_r(&seed) % (size_t)size;
			bad[at] = round % 2 ? (char)rand_r(&seed) : (char)(bad[at] ^ (1 << (rand_r(&seed) % 8)));
		}
		if (round % 5 == 0) /* a run of garbage over whatever lies there */
			memset(bad + (size_t)rand_r(&seed) % ((size_t)size - 64), 0xff, 64);
		f = fopen(image, "w");
		cr_assert_eq(fwrite(bad, 1, (size_t)size, f), (size_t)size);
		fclose(f);
		struct ward_policy *q = NULL;
		struct ward_matcher *n = ward_matcher_load_image(image, "/src/p.ward", &q);
		if (n == NULL) {
			refused++;
			continue;
		}
		loaded++;
		for (int i = 0; i < 50; i++) {
			random_path(&seed, path, sizeof(path));
			struct ward_decision d = ward_matcher_decide(n, 1u << (rand_r(&seed) % 6), path);
			cr_assert(d.rule >= -1 && d.rule < (int)q->nrules);
			ward_policy_denies_at_or_below(q, path);
		}
		for (size_t i = 0; i < q->nrules; i++) {
			struct ward_rule r = ward_policy_rule(q, i);
			cr_assert(strlen(r.pattern) < (size_t)size && strlen(r.file) < (size_t)size);
		}
		ward_matcher_free(n);
		ward_policy_free(q);
	}
	cr_expect_gt(loaded, 0, "no damage beyond the header was tried");
	cr_expect_gt(refused, 0, "no damage to the header was tried");
	unlink(image);
	free(good);
	free(bad);
	ward_matcher_free(m);
	ward_policy_free(p);
}

/* Renaming a directory must not carry a protected file out from under its
 * deny rule (shim/checks.c guard_moved_tree). */
Test(match, patterns_that_could_match_at_or_below_a_directory)
{
	cr_expect(ward_glob_match_at_or_below("/top/secret/**", "/top"));
	cr_expect(ward_glob_match_at_or_below("/top/secret/**", "/top/secret"));
	cr_expect(ward_glob_match_at_or_below("/top/secret/**", "/top/secret/deep"));
	cr_expect(ward_glob_match_at_or_below("/top/secret", "/top"));
	cr_expect(ward_glob_match_at_or_below("/home/*/.ssh/**", "/home/alice"));
	cr_expect(ward_glob_match_at_or_below("/srv/**/key", "/srv/a/b"));
	cr_expect_not(ward_glob_match_at_or_below("/top/secret/**", "/top/other"));
	cr_expect_not(ward_glob_match_at_or_below("/top/secret", "/elsewhere"));
	cr_expect_not(ward_glob_match_at_or_below("/home/*/.ssh/**", "/home/alice/proj"));
	cr_expect_not(ward_glob_match_at_or_below("/**/.git/config", "/work/a"), "matches wherever it is moved");
}
