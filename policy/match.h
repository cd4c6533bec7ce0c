/*
 * match: a policy compiled for decisions.
 *
 * Every rule is filed under a key, a path prefix made of whole components
 * ("" for the root): a literal pattern under itself, a subtree pattern
 * ("/a/" followed by a double star) under "/a",
 * any other glob under the literal components before its first wildcard.
 * A decision hashes each prefix of the path once (8 bytes at a time, in one
 * pass over the path: every prefix ends at a '/' and is one step from the
 * state of the whole words before it),
 * looks each prefix up (first in a filter of two bits per key in one word,
 * small enough to stay cached, which turns most prefixes without rules
 * away; then in an open-addressed table of 8-slot buckets, one cache line
 * each, whose 8 tags are compared at once with AVX2 or SSE2, or in a loop,
 * chosen at start-up: identical results), confirms every hit by comparing
 * the strings, and tests the rules filed there.  The cost depends
 * on the path's depth, not on the number of rules.  Deny beats allow; the
 * rule reported is the first one in policy order; no match: the default.
 *
 * Paths given to ward_matcher_decide are absolute and normalised: no "//",
 * no "." or "..", no trailing "/" except the root itself.
 */
#ifndef WARD_POLICY_MATCH_H
#define WARD_POLICY_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

struct ward_matcher;

struct ward_decision {
	bool allow;
	bool quiet; /* a deny quiet rule decided: refuse without a record */
	int rule;   /* index into policy->rule; -1 when the default decided */
};

enum ward_simd { WARD_SIMD_SCALAR, WARD_SIMD_SSE2, WARD_SIMD_AVX2 };

/* Compile; the policy must outlive the matcher.  NULL if out of memory. */
struct ward_matcher *ward_matcher_build(const struct ward_policy *policy);
void ward_matcher_free(struct ward_matcher *matcher);

/* op is one enum ward_op bit. */
struct ward_decision ward_matcher_decide(const struct ward_matcher *matcher, unsigned int op,
                                         const char *path);

/* The same for a path whose length and last '/' the caller knows
 * (path[len] is its NUL, path[slash] its last '/'), with a key naming the
 * directory path[0..slash), or 0: equal keys other than 0 must name equal
 * directories (core/dircache's do), so that a directory met again is
 * known by its key rather than by comparing its name. */
struct ward_decision ward_matcher_decide_known(const struct ward_matcher *matcher, unsigned int op, const char *path,
                                               size_t len, size_t slash, uint64_t dir_key);

/* The same as ward_matcher_decide without the per-directory cache: neither
 * read nor filled (a one-off decision: the image's own at start-up). */
struct ward_decision ward_matcher_decide_uncached(const struct ward_matcher *matcher, unsigned int op,
                                                  const char *path);

/* The reference: every rule tried in order with ward_glob_match. */
struct ward_decision ward_policy_decide_naive(const struct ward_policy *policy, unsigned int op,
                                              const char *path);

/*
 * A compiled image: the policy and its matcher in one file that a process
 * maps read-only and uses in place (offsets throughout: no fix-up, no
 * copy), instead of parsing and compiling the text again (the launcher
 * writes it once for the whole tree).  source names the policy file the
 * image was made from.  A load checks the header (magic, version, its
 * checksum, the size, every array's bounds, source) and fails (NULL) on
 * any doubt: the caller then parses the text.  What a decision reads from
 * the body is bounds-checked where it is read.  An image's policy has no
 * rule array: ward_policy_rule gives its rules.
 */
int ward_matcher_write_image(const struct ward_matcher *matcher, const char *source, const char *path);
/* The same into an open descriptor (a memfd to be sealed); 0 or -1. */
int ward_matcher_write_image_fd(const struct ward_matcher *matcher, const char *source, int fd);
/* Loaded with the policy and matcher allocated (free them as usual). */
struct ward_matcher *ward_matcher_load_image(const char *path, const char *source, struct ward_policy **policy);
/* Loaded with nothing allocated: the policy and matcher live in storage,
 * the mapping stays for the process's life; never free either. */
struct ward_image_storage {
	_Alignas(64) unsigned char bytes[512];
};
struct ward_matcher *ward_matcher_map_image(const char *path, const char *source, struct ward_image_storage *storage,
                                            struct ward_policy **policy);

/* The operations every path is allowed for (no deny rule names them, and
 * the default or a rule for the whole tree allows them): callers may skip
 * resolving paths for these. */
unsigned int ward_policy_unrestricted_ops(const struct ward_policy *policy);

/* Glob match of a normalised absolute pattern against a normalised absolute
 * path: '*' within a component, '?' one character, '**' any number of whole
 * components. */
bool ward_glob_match(const char *pattern, const char *path);
/* Could pattern match path or something below it? */
bool ward_glob_match_at_or_below(const char *pattern, const char *path);
/* A deny rule that could protect path or something below it (its index), or -1. */
int ward_policy_denies_at_or_below(const struct ward_policy *policy, const char *path);

/* Which bucket compare runs; the default is the best the CPU has. */
enum ward_simd ward_matcher_simd(void);
bool ward_matcher_set_simd(enum ward_simd simd); /* false if unsupported */

#endif
