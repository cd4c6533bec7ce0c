/*
 * learned: turn what a command needed (operation, path pairs from its audit
 * records) into the rules of a readable policy (SPEC 5.7).
 *
 * Folding, per operation (docs/POLICY.md, "Learning a policy"; DIR/<**>
 * stands for the pattern of DIR and everything below it):
 * - read and stat: a path under a system tree (/usr, /lib*, /bin, /sbin,
 *   /etc, /opt, /proc, /sys) becomes that tree, /usr/<**>; a path under
 *   $CWD becomes $CWD/<**> (the project's own tree);
 * - a directory whose entries the command used at least WARD_LEARN_FOLD
 *   times (distinct names directly in it, folded subtrees counted), or
 *   that the command created itself, becomes DIR/<**>; never /, a
 *   top-level directory, $HOME, $TMPDIR or a directory above them, and for
 *   write, create and remove only below $CWD, $HOME or $TMPDIR (or a
 *   directory the command created); exec is folded only below $CWD;
 * - what the command created it may also write and remove (a second run
 *   finds its own products there and rewrites or removes them);
 * - a temporary file directly in $TMPDIR (created and removed again in the
 *   same run) becomes a prefix pattern, `$TMPDIR/cc*` for gcc's ccX1b2.s;
 * - a mkstemp template seen in a create (ccXXXXXX.s) and every path it
 *   matches become the template's glob, $TMPDIR/cc*.s;
 * - every pattern is then written with $CWD, $HOME or $TMPDIR for the
 *   longest of them it starts with.
 * Nothing here knows about LD_PRELOAD or runs anything.
 */
#ifndef WARD_CLI_LEARNED_H
#define WARD_CLI_LEARNED_H

#include <stdio.h>

#define WARD_LEARN_FOLD 3

struct ward_learn_env {
	const char *cwd, *home, *tmpdir; /* absolute; home may be NULL */
};

struct ward_learned;

struct ward_learned *ward_learned_new(const struct ward_learn_env *env);
void ward_learned_free(struct ward_learned *l);
/* The command needed ops (enum ward_op bits) on path. */
void ward_learned_add(struct ward_learned *l, unsigned int ops, const char *path);
/* The folded rules, grouped by operations, one `allow` line per pattern
 * under a comment per group; returns the number of rules written. */
size_t ward_learned_write(struct ward_learned *l, FILE *out);
/* A path as the policy writes it: $CWD/$HOME/$TMPDIR substituted, quoted
 * when it holds blanks (out is NUL-terminated, truncated to cap). */
void ward_learned_token(const struct ward_learn_env *env, const char *path, char *out, size_t cap);

#endif
