/*
 * dircache: remembered directory resolutions, so that a policy check costs
 * no system call in the common case.
 *
 * Maps a directory's absolute path as written (no "..") to the real path the
 * kernel resolves it to.  Direct-mapped, fixed size, entries behind their
 * own sequence counters (lock-free reads, no malloc).  Two tables: names
 * shorter than WARD_DIRCACHE_PATH in many small entries, longer ones (a
 * build's deep output trees) up to WARD_DIRCACHE_LONG_PATH in a few large
 * ones, whose pages are touched only as far as their names reach.  An
 * entry is trusted only while it is young (WARD_DIRCACHE_TTL_NS) and no
 * rename, unlink, rmdir or symlink of this process has happened since it
 * was filled (ward_dircache_invalidate); changes made by other processes
 * are seen once the entry expires.  /proc paths are never cached
 * (/proc/self and /proc/thread-self mean different things to different
 * processes and threads).
 */
#ifndef WARD_CORE_DIRCACHE_H
#define WARD_CORE_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WARD_DIRCACHE_ENTRIES 512
#define WARD_DIRCACHE_PATH 248            /* names this long and longer go to the long table */
#define WARD_DIRCACHE_LONG_ENTRIES 32
#define WARD_DIRCACHE_LONG_PATH 4096      /* longer names are not cached */
#define WARD_DIRCACHE_TTL_NS 200000000ull /* 200 ms */

struct ward_dircache_hit {
	size_t len; /* the real path's length */
	bool same;  /* the real path is dir itself: out was not written */
	/* names the real path: two hits with the same key have the same real
	 * path (a key is never given to another one in this process) */
	uint64_t key;
};

/* On a hit, the real path of dir (len bytes) into out (unless it is dir
 * itself) and what it is into *hit. */
bool ward_dircache_get(const char *dir, size_t len, char *out, struct ward_dircache_hit *hit);
/* The same for a caller that acts on what it builds from the answer with
 * no symbolic link followed anywhere on the way (core/exact's opens:
 * openat2 RESOLVE_NO_SYMLINKS, or the walk by components O_NOFOLLOW): an
 * entry whose real path is dir itself is then trusted at any age, without
 * reading the clock.  Such an open goes through exactly dir's names, as the
 * kernel would for the program's path, unless a symlink has appeared on
 * the way since, and then the open itself fails ELOOP and the caller
 * resolves again (without the cache once the cache is invalidated).  An
 * entry naming another real path (a symlink on the way when it was
 * filled) is young or not used, as for ward_dircache_get: a symlink
 * changed by another process would lead the program's path elsewhere
 * while the real path stays a real path. */
bool ward_dircache_get_exact(const char *dir, size_t len, char *out, struct ward_dircache_hit *hit);
/* Read the generation before resolving, and give it back with the result:
 * a resolution that raced with an invalidation is then never stored.
 * real is real_len bytes (NUL-terminated). */
unsigned int ward_dircache_generation(void);
void ward_dircache_put(const char *dir, size_t len, const char *real, size_t real_len, unsigned int generation);
/* Forget everything: the process changed the namespace, or forked. */
void ward_dircache_invalidate(void);

#endif
