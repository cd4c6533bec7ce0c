/*
 * cwd: the working directory, remembered so that a relative path costs no
 * getcwd.  Refreshed by ward_cwd_refresh() after every successful chdir or
 * fchdir the process makes; read under a sequence lock (core/seqlock.h).
 *
 * A copy is good only while no newer refresh has begun: every refresh (and
 * ward_cwd_forget) takes a number first, a refresh stores its name only if
 * no newer one has stored, and ward_cwd_copy answers only when the name it
 * copies is the newest begun.  So while a refresh is under way (naming a
 * deep directory walks up its "..": milliseconds), or when one could not
 * store, the caller asks the kernel: never an older name.
 *
 * A name is also forgotten when the process renames or removes a
 * directory (its own or a parent may be gone: the shim's wrappers call
 * ward_cwd_forget), and trusted for WARD_CWD_TTL_NS at most: another
 * process renaming it is seen that late at worst (what was decided and
 * made under the old name then is consistent, only misplaced).  The
 * caller names it again at its next relative path.
 */
#ifndef WARD_CORE_CWD_H
#define WARD_CORE_CWD_H

#include <stdbool.h>
#include <stddef.h>

#define WARD_CWD_TTL_NS 200000000ull /* 200 ms, as the directory cache */

/* Re-read the working directory (after chdir/fchdir, at the first
 * relative path), into the caller's working space (name: WARD_NAME_MAX
 * bytes; entries: for the walk of a deep one, NULL: a deep one is not
 * remembered).  True when name holds it (stored or not). */
bool ward_cwd_refresh_in(char *name, char *entries, size_t entries_size);
/* The same with the module's own space (busy: forgets instead). */
void ward_cwd_refresh(void);
/* Forget it: the next copy asks the kernel until refreshed. */
void ward_cwd_forget(void);
/* A fork child: repair the lock, then refresh. */
void ward_cwd_after_fork(void);
/* Copy the remembered directory into out (cap bytes); false when there is
 * none to trust. */
bool ward_cwd_copy(char *out, size_t cap);

#endif
