/*
 * exact: system calls on a canonical path (absolute; no "//", ".", ".."
 * nor symbolic link in it) of any length, with no symbolic link followed.
 *
 * The kernel takes at most PATH_MAX - 1 bytes of path per call.  A longer
 * name is reached through anchors: directories on its way, opened one
 * chunk at a time (each chunk shorter than PATH_MAX and ending at a '/')
 * with no symbolic link followed, the call made on the rest from the last
 * of them.  Only a name the kernel refuses as too long pays for that: the
 * call is tried as it is first.
 *
 * - ward_exact_open: open with no symbolic link followed anywhere (openat2
 *   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS; where openat2 is missing,
 *   one component at a time, each O_NOFOLLOW), so a symlink swapped in
 *   since the path was decided is ELOOP, never followed.
 * - ward_exact_call: an *at system call taking (dirfd, path, b, c, d)
 *   (newfstatat, readlinkat, faccessat...) on the path: AT_FDCWD and the
 *   path when it fits, from an anchor when it does not.
 * - ward_exact_name: the canonical name of an open directory when neither
 *   getcwd nor /proc can give it (longer than a page): walked up by "..",
 *   each component found in its parent by device and inode, then checked
 *   by opening the name found exactly (the same directory, or an error).
 *
 * path is the caller's writable buffer: a chunk is cut by a NUL written in
 * place and put back before the call returns.  errno is the call's.
 */
#ifndef WARD_CORE_EXACT_H
#define WARD_CORE_EXACT_H

#include <stdbool.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/types.h>

#include "syscall.h"

long ward_exact_open(char *path, int flags, mode_t mode);
/* ward_exact_call's way for a name the kernel says is too long: from an anchor */
long ward_exact_call_anchored(long nr, char *path, long b, long c, long d);
/* (in line: a checked stat makes one, and most names fit) */
static inline long
ward_exact_call(long nr, char *path, long b, long c, long d)
{
	long r = ward_syscall_raw(nr, AT_FDCWD, (long)path, b, c, d, 0);
	if (__builtin_expect(!WARD_SYSCALL_FAILED(r), 1))
		return r;
	if (r == -ENAMETOOLONG)
		return ward_exact_call_anchored(nr, path, b, c, d);
	errno = (int)-r;
	return -1;
}
/* 0, or an errno value: ENAMETOOLONG (more than cap bytes), ENOENT (a
 * directory no longer in its parent), ESTALE (the name found is another
 * directory by now: moved meanwhile), or what a system call said.
 * entries: room for the parent's directory entries (getdents64). */
int ward_exact_name(int dirfd, char *out, size_t cap, char *entries, size_t entries_size);
/* The directories a walk opens and uses as the next call's dirfd (anchors,
 * the walk by components) are numbers any thread could close and reuse
 * between the open and the use: a guard keeps them out of the program's
 * reach (shim/held.c).  since: the change counter (*changes) read before the open;
 * hold: fd was opened on exactly expect (absolute), false when the number
 * is not the walk's any more (then not closed: not ours); drop: after the
 * close.  NULL: no guard (nothing else in the process touches numbers). */
struct ward_exact_guard {
	const unsigned int *changes; /* read (sequentially consistent) as since */
	bool (*hold)(int fd, unsigned int since, char *expect);
	void (*drop)(int fd);
};
void ward_exact_set_guard(const struct ward_exact_guard *guard);
/* openat2 is missing here: opens walk one component at a time (the last
 * one O_NOFOLLOW: a symlink there is opened as itself, O_PATH). */
bool ward_exact_by_components(void);

#endif
