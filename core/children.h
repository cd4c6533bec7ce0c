/*
 * children: the live children of this process.
 *
 * A fixed open-addressed table of pids (linear probing, tombstones), written
 * at fork/spawn and at wait with compare-and-swap, read with plain loads: no
 * lock, no allocation, usable between fork and exec.  The count and the most
 * at once are kept beside it.  Children reaped without a wait (SIGCHLD
 * ignored) leave stale entries; ward_children_prune asks the kernel about
 * each entry and drops the ones that are gone (the slow path, taken only
 * when a limit is reached).
 */
#ifndef WARD_CORE_CHILDREN_H
#define WARD_CORE_CHILDREN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define WARD_CHILDREN_MAX 4096 /* tracked at once; more are counted, not tracked */

void ward_children_add(pid_t pid);
/* True when pid was a tracked child. */
bool ward_children_remove(pid_t pid);
uint64_t ward_children_live(void);
uint64_t ward_children_peak(void);
/* A fork child has no children yet. */
void ward_children_reset(void);
/* Drop the entries for which gone(pid) is true; returns how many. */
unsigned int ward_children_prune(bool (*gone)(pid_t pid));

#endif
