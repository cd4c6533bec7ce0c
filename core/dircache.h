/*
 * dircache: remembered directory resolutions, so that a policy check costs
 * no system call in the common case.
 *
 * Maps a directory's absolute path as written (no "..") to the real path the
 * kernel resolves it to.  Direct-mapped, fixed size, entries behind their
 * own sequence counters (lock-free reads, no malloc).  An entry is trusted
 * only while it is young (WARD_DIRCACHE_TTL_NS) and no rename, unlink,
 * rmdir or symlink of this process has happened since it was filled
 * (ward_dircache_invalidate); changes made by other processes are seen
 * once the entry expires.  /proc paths are never cached (/proc/self and
 * /proc/thread-self mean different things to different processes and
 * threads).
 */
#ifndef WARD_CORE_DIRCACHE_H
#define WARD_CORE_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>

#define WARD_DIRCACHE_ENTRIES 512
#define WARD_DIRCACHE_PATH 248       /* longer paths are not cached */
#define WARD_DIRCACHE_TTL_NS 200000000ull /* 200 ms */

/* Copy the real path of dir (len bytes) into out; its length, or 0 on a miss. */
size_t ward_dircache_get(const char *dir, size_t len, char *out);
/* Read the generation before resolving, and give it back with the result:
 * a resolution that raced with an invalidation is then never stored. */
unsigned int ward_dircache_generation(void);
void ward_dircache_put(const char *dir, size_t len, const char *real, unsigned int generation);
/* Forget everything: the process changed the namespace, or forked. */
void ward_dircache_invalidate(void);

#endif
