/*
 * resolve: the path a call acts on, the one pipeline shared by the shim's
 * checks and `ward explain`, so that the two can never disagree.
 *
 *   (dirfd, path, follow) -> the absolute path the kernel would act on
 *
 * Relative paths are taken from the working directory (core/cwd, or the
 * kernel when none is remembered) or from what dirfd names
 * (/proc/self/fd/N); a directory whose name is longer than those can say
 * is named by core/exact's walk up its "..".  Names may be up to
 * WARD_NAME_MAX long (out is that big); the path the program gives is
 * the kernel's to bound (ENAMETOOLONG from PATH_MAX on, as the call would).  A path without ".." has its directory part looked up
 * in the directory cache (core/dircache) or resolved and stored there; a
 * path with ".." is walked component by component (the kernel applies ".."
 * to the real directory reached).  The last component is followed only
 * when the call follows it (follow).
 *
 * ward_resolve_where leaves one thing open for the caller to settle the
 * cheapest way it can: whether a followed last component is itself a
 * symbolic link (*unsettled).  The shim settles it with the call itself
 * (openat2 RESOLVE_NO_SYMLINKS, a no-follow fstatat) or with
 * ward_resolve_settle; ward_resolve does both steps.
 *
 * s->path.via_proc afterwards: the path led through /proc (a magic link, or
 * /proc/self): it names what a descriptor or a process holds, and acting
 * on its name would not be the same as acting through it.
 *
 * Results: 0; WARD_RESOLVE_UNKNOWN when the path cannot be told (too long,
 * no working directory): the caller must refuse; WARD_RESOLVE_FAILS when
 * the call fails by itself (a bad dirfd, a symlink loop), with errno
 * s->fails_with: the caller fails it so, never hands the program's path on
 * to the kernel ("it fails anyway" is only true of this instant: another
 * thread may open that descriptor number, or swap the loop for a symlink,
 * before the kernel resolves the path again).
 */
#ifndef WARD_CORE_RESOLVE_H
#define WARD_CORE_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include "path.h"

enum { WARD_RESOLVE_UNKNOWN = 1, WARD_RESOLVE_FAILS = 2 };

/* Working space of one resolution: the caller's (thread-local scratch in
 * the shim, never the stack of a program's thread). */
struct ward_resolve_scratch {
	char base[WARD_NAME_MAX];
	char dir[WARD_NAME_MAX];
	struct ward_path_scratch path;
	int fails_with; /* WARD_RESOLVE_FAILS: the errno (EBADF, ELOOP, ENAMETOOLONG) */
	/* The path ward_resolve_where was last given, when it found it normal
	 * (absolute, nothing to fold: no trailing '/', no "." or ".."), else
	 * NULL: what it said of that path as it was then. */
	const char *normal_path;
	bool trailing_slash; /* the path ward_resolve_where was last given ended in '/' (and is not "/") */
	struct ward_resolve_shape {
		/* What ward_resolve_where learnt of the out it last filled (shape.of),
		 * for the decision that follows: its length (0: not known: a
		 * settled path), the offset of its last '/', and core/dircache's
		 * key for the directory before it (0: none). */
		const char *of;
		size_t len, slash;
		uint64_t dir_key;
	} shape;
};

struct ward_resolve_options {
	bool use_cwd_cache; /* false in a vfork child: the remembered cwd is the parent's */
	bool skip_dircache; /* walk every directory afresh (a refusal is looked at again this way) */
	bool leave_dircache; /* with skip_dircache: and fill nothing either (a check made once, the image's
	                      * own at start-up: the cache's pages are left for the first real use) */
	bool exact_open; /* the caller opens the answer with no symlink followed (core/exact): a cached
	                  * directory that is its own real path needs no age (ward_dircache_get_exact) */
};

/* out: WARD_NAME_MAX bytes */
int ward_resolve_where(const struct ward_resolve_options *o, int dirfd, const char *path, bool follow, char *out,
                       bool *unsettled, struct ward_resolve_scratch *s);
/* ward_resolve_where's common case, alone: path absolute and normal, its
 * directory in core/dircache as its own real path: out is path, its last
 * component unsettled, and s says so as ward_resolve_where would.  false:
 * nothing told (out may be overwritten): resolve with ward_resolve_where.
 * exact_open: as the option of that name (ward_dircache_get_exact). */
bool ward_resolve_plain(const char *path, char *out, bool exact_open, struct ward_resolve_scratch *s);
/* s->shape when it describes out as it is now, else NULL. */
static inline const struct ward_resolve_shape *
ward_resolve_shape_of(const struct ward_resolve_scratch *s, const char *out)
{
	const struct ward_resolve_shape *sh = &s->shape;
	return sh->of == out && sh->len != 0 && out[sh->len] == '\0' && out[sh->slash] == '/' ? sh : NULL;
}
/* out is absolute and its last component unsettled: if it is a symlink,
 * resolve it fully (following).  0, or WARD_RESOLVE_* as above. */
int ward_resolve_settle(char *out, struct ward_resolve_scratch *s);
/* The last component is "." or "..": the call names a directory reached
 * through the one before (which is followed); calls that make or remove
 * that name fail in the kernel (EEXIST, EINVAL, EBUSY...). */
bool ward_resolve_ends_in_dot(const char *path);
/* Both steps: what the call would act on. */
int ward_resolve(const struct ward_resolve_options *o, int dirfd, const char *path, bool follow, char *out,
                 struct ward_resolve_scratch *s);

#endif
