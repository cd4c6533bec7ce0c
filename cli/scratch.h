/*
 * scratch.h: the launcher's private files in /dev/shm (else $TMPDIR, /tmp):
 * unpredictable names, and nothing left behind even when the launcher is
 * killed with SIGKILL (scratch.c says how).
 */
#ifndef WARD_CLI_SCRATCH_H
#define WARD_CLI_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

/* out = DIR/ward-KIND.PID.HEX (128 random bits); false if it does not fit
 * or getrandom fails. */
bool scratch_name(char *out, size_t cap, const char *dir, const char *kind);
/* Remove this user's ward-{tree,policy,records}.PID.* of launchers that no
 * longer exist from each directory (skipped inside a ward tree). */
void scratch_sweep(const char *const dirs[], size_t ndirs);
/* Fork the janitor that removes paths (and then the directory dir) if this
 * process ends without scratch_release.  The strings are copied (fork). */
void scratch_guard(const char *const paths[], size_t npaths, const char *dir);
/* Everything is removed: the janitor may go without touching anything. */
void scratch_release(void);

#endif
