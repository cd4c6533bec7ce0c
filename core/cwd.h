/*
 * cwd: the working directory, remembered so that a relative path costs no
 * getcwd.  Refreshed by ward_cwd_refresh() after every successful chdir or
 * fchdir the process makes; read under a sequence lock (core/seqlock.h).
 * Until the first refresh, or when the copy cannot be trusted (a writer
 * vanished, the name did not fit), ward_cwd_copy says so and the caller
 * asks the kernel.
 */
#ifndef WARD_CORE_CWD_H
#define WARD_CORE_CWD_H

#include <stdbool.h>
#include <stddef.h>

/* Re-read the working directory (after chdir/fchdir, at start-up). */
void ward_cwd_refresh(void);
/* Forget it: the next copy asks the kernel until refreshed. */
void ward_cwd_forget(void);
/* A fork child: repair the lock, then refresh. */
void ward_cwd_after_fork(void);
/* Copy the remembered directory into out (cap bytes); false when there is
 * none to trust. */
bool ward_cwd_copy(char *out, size_t cap);

#endif
