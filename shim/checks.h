/*
 * checks.h: what checks.c, act.c and opens.c share (the shim's own, not an
 * interface: shim.h has the checks the wrappers call).
 */
#ifndef WARD_SHIM_CHECKS_H
#define WARD_SHIM_CHECKS_H

#include <fcntl.h>
#include <string.h>

#include "shim.h"
#include "../policy/match.h"

#define ACT_TRIES 4 /* resolutions of one call before a changing path is refused */

/* What a decision found: the refused operations and the first refusal's
 * decision (its rule names the record). */
struct verdict {
	unsigned int refused;
	struct ward_decision first;
	bool loud; /* some refusal was not quiet */
};

/* checks.c: deciding */
bool ward_checks_decide(struct ward_frame *f, struct ward_scratch *s, unsigned int ops, struct verdict *v);
/* The common open, decided in one pass: an absolute, normal path whose
 * directory core/dircache holds as its own real path (ward_resolve_plain),
 * every operation of need allowed; s->resolved is then the path, its last
 * component settled by the open core/exact makes (RESOLVE_NO_SYMLINKS).
 * The decisions made, not counted yet; 0: anything else, nothing counted. */
unsigned int ward_checks_decide_plain(struct ward_scratch *s, const char *path, unsigned int need);
void ward_checks_count_decisions(struct ward_frame *f, unsigned int decisions);
int ward_checks_violation(struct ward_frame *f, struct ward_scratch *s, const struct verdict *v);
int ward_checks_kernel_first(struct ward_scratch *s, bool exclusive);
const struct ward_resolve_options *ward_checks_resolve_options(void);
const struct ward_resolve_options *ward_checks_fresh_options(void);
int ward_checks_resolve_decide_as(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path,
                                  bool follow, unsigned int ops, int open_flags, struct verdict *v, bool *unsettled);
int ward_checks_resolve_decide(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path,
                               bool follow, unsigned int ops, int open_flags, struct verdict *v);
/* The scratch set for a check, or NULL with *result saying why: 0, there
 * is nothing to check; EACCES, the check cannot be made (nested too deep,
 * no memory): refuse rather than let the call through unchecked.  (In
 * line, as the few small helpers below: every checked call asks them.) */
static inline struct ward_scratch *
ward_checks_enter_check(struct ward_frame *f, unsigned int ops, const char *path, int *result)
{
	*result = 0;
	if (__builtin_expect(ops == 0, 1) || !f->active || path == NULL || path[0] == '\0')
		return NULL;
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		*result = EACCES;
	return s;
}
int ward_checks_unresolved(struct ward_frame *f, struct ward_scratch *s, const char *path, int r);
int ward_checks_check(struct ward_frame *f, struct ward_scratch *s, unsigned int ops, int dirfd, const char *path,
                      bool follow);
/* The call was made here, exactly on the path decided: the wrapper returns
 * result without calling libc. */
static inline void
ward_checks_complete(struct ward_frame *f, long result)
{
	ward_frame_complete(f, result);
}
/* before a refusal: ENOTDIR for "file/", ELOOP for O_NOFOLLOW on a symlink (negated), or 0 */
int ward_checks_shape_first(struct ward_scratch *s, const char *path, bool nofollow_last);
/* the path led through /proc (a magic link, /proc/self) */
bool ward_checks_through_proc(const struct ward_scratch *s);
/* The decided path is in /proc itself (a magic link's object with no name
 * elsewhere: a pipe, a socket, another process's files): acted on through
 * the link, as the program asked.  A path that only went through /proc
 * (/proc/self/root/..., /dev/stdin naming a file) ends in a real name and
 * is acted on exactly like any other. */
static inline bool
ward_checks_in_proc(const struct ward_scratch *s)
{
	const char *r = s->resolved; /* (a WARD_NAME_MAX buffer: its first 6 bytes can be read) */
	return memcmp(r, "/proc", 5) == 0 && (r[5] == '/' || r[5] == '\0'); /* "/proc/..." or "/proc" */
}
bool ward_checks_nameless_object(const struct ward_scratch *s, int err);
/* what an open with these flags needs (O_CREAT: write, or create when missing);
 * in line: every checked open asks it twice */
static inline unsigned int
ward_checks_open_ops(int flags)
{
	/* by the access mode: O_RDONLY, O_WRONLY, O_RDWR, and 3 (neither) */
	static const unsigned char by_access[4] = { WARD_OP_READ, WARD_OP_WRITE, WARD_OP_READ | WARD_OP_WRITE, 0 };
	if (flags & O_PATH)
		return WARD_OP_STAT;
	unsigned int ops = by_access[flags & O_ACCMODE] | ((flags & O_TRUNC) ? WARD_OP_WRITE : 0);
	if (__builtin_expect((flags & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY))) == 0, 1))
		return ops; /* neither makes a name: the common case */
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		ops = (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	return ops;
}

unsigned int ward_checks_creat_ops(char *path, unsigned int ops, int flags);

/* act.c: acting */
bool ward_checks_keep_trailing_slash_of(struct ward_scratch *s, const char *path);
/* A path the program wrote with a trailing '/' keeps it on s->resolved (a
 * last "." or ".." gets "/."); false when it does not fit.  A path the
 * resolution found normal has neither: nothing to look at. */
static inline bool
ward_checks_keep_trailing_slash(struct ward_scratch *s, const char *path)
{
	return s->resolve.normal_path == path || ward_checks_keep_trailing_slash_of(s, path);
}
void ward_checks_drop_trailing_slash(struct ward_scratch *s);
int ward_checks_point(struct ward_scratch *s, struct ward_act *a, bool follow, bool trailing_slash);
void ward_checks_hold(struct ward_frame *f, struct ward_scratch *s);
int ward_checks_changing(struct ward_frame *f, struct ward_scratch *s);

/* held.c: the descriptors acts hold, and the program's closes and
 * replacements made around them */
unsigned int ward_held_changes(void);
extern unsigned int ward_held_change_count; /* what ward_held_changes reads */
bool ward_held_add(int fd, unsigned int since, char *expect, char buf[WARD_PATH_MAX]);
/* core/exact's walks: the same, looking with the current check's scratch */
bool ward_held_add_walk(int fd, unsigned int since, char *expect);
void ward_held_drop(int fd);

/* opens.c */
int ward_checks_fopen_flags(const char *mode);

#endif
