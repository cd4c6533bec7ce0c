/*
 * exact.c: system calls on canonical paths of any length.  See exact.h.
 */
#define _GNU_SOURCE
#include "exact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "syscall.h"

static bool no_openat2; /* the kernel said ENOSYS once: walk by components from then on */

bool
ward_exact_by_components(void)
{
	return __atomic_load_n(&no_openat2, __ATOMIC_RELAXED);
}

static void
close_keeping_errno(long fd)
{
	int err = errno;
	ward_syscall(SYS_close, fd);
	errno = err;
}

static const struct ward_exact_guard *guard;

void
ward_exact_set_guard(const struct ward_exact_guard *g)
{
	guard = g;
}

static unsigned int
guard_since(void)
{
	return guard != NULL ? __atomic_load_n(guard->changes, __ATOMIC_SEQ_CST) : 0;
}

/* fd, just opened on exactly expect (absolute), out of the program's reach
 * while it is used as the directory of the next open.  False: the number
 * is no longer this walk's (closed or replaced meanwhile: not ours to
 * close); errno ELOOP, for the caller to resolve again. */
static bool
guard_hold(long fd, unsigned int since, char *expect)
{
	if (guard == NULL || guard->hold((int)fd, since, expect))
		return true;
	errno = ELOOP;
	return false;
}

static void
release(long fd, bool held)
{
	int err = errno;
	ward_syscall(SYS_close, fd);
	if (held && guard != NULL)
		guard->drop((int)fd);
	errno = err;
}

/* A walk's directory, done with: closed, then given back to the guard.
 * errno is left alone (a close that fails is no walk's error). */
static void
leave_dir(long fd, bool held)
{
	ward_syscall_raw(SYS_close, fd, 0, 0, 0, 0, 0);
	if (held && guard != NULL)
		guard->drop((int)fd);
}

/* Without openat2 (kernels before 5.6, seccomp filters that refuse it,
 * valgrind): the same walk made one component at a time from dirfd (from
 * the root for an absolute path), each opened O_NOFOLLOW from the one
 * before, so a symlink anywhere is ELOOP as with RESOLVE_NO_SYMLINKS.  The
 * directories of an absolute walk are held (guard) while they are used.
 * Each component is named in place: cut by a NUL where it ends (which also
 * makes path the name of the directory reached, for the guard), put back
 * after its open. */
static long
by_components(int dirfd, char *path, int flags, mode_t mode)
{
	long dir = dirfd;
	bool absolute = path[0] == '/', held = false;
	if (absolute) {
		static char root[] = "/";
		unsigned int since = guard_since();
		if ((dir = ward_syscall(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return -1;
		if (!guard_hold(dir, since, root))
			return -1;
		held = true;
	}
	bool own = dir != dirfd; /* the walk's own descriptor: closed as it goes */
	char *p = path;
	while (*p == '/')
		p++;
	for (;;) {
		if (*p == '\0') { /* the directory itself ("/", or a name with a trailing '/') */
			long fd = ward_syscall(SYS_openat, dir, ".", flags, mode);
			if (own)
				release(dir, held);
			return fd;
		}
		char *end = strchrnul(p, '/'), *next = end;
		while (*next == '/')
			next++;
		if (end - p > NAME_MAX) {
			if (own)
				release(dir, held);
			errno = ENAMETOOLONG;
			return -1;
		}
		/* "x/" must be a directory: x is walked as one, then "." opened
		 * from it (opening "x/" itself would follow a symlink x) */
		bool last = *next == '\0' && next == end;
		char save = *end;
		*end = '\0';
		unsigned int since = guard_since();
		long fd = ward_syscall_raw(SYS_openat, dir, (long)p,
		                           last ? flags | O_NOFOLLOW : O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC,
		                           last ? (long)mode : 0, 0, 0);
		int err = WARD_SYSCALL_FAILED(fd) ? (int)-fd : 0; /* (errno set only on the way out) */
		if (err != 0)
			fd = -1;
		/* a symlink where a directory was decided, or a last one the call
		 * follows (what openat2 calls ELOOP): O_DIRECTORY says ENOTDIR */
		struct stat st;
		if (fd < 0 && (!last || !(flags & O_NOFOLLOW)) && err == ENOTDIR &&
		    ward_syscall(SYS_newfstatat, dir, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			err = ELOOP;
		if (own)
			leave_dir(dir, held);
		if (fd < 0 || last) {
			*end = save;
			errno = err;
			return fd;
		}
		/* the directory reached: path up to end */
		held = absolute && guard_hold(fd, since, path);
		*end = save;
		if (absolute && !held)
			return -1;
		dir = fd;
		own = true;
		p = next;
	}
}

/* path (shorter than PATH_MAX) from dirfd, no symlink followed. */
static long
open_beneath(int dirfd, char *path, int flags, mode_t mode)
{
	if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		struct open_how how = { .flags = (uint64_t)flags & ~(uint64_t)O_LARGEFILE,
			                .mode = __OPEN_NEEDS_MODE(flags) ? mode : 0,
			                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
		long fd = ward_syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		if (errno == ENOSYS)
			__atomic_store_n(&no_openat2, true, __ATOMIC_RELAXED);
	}
	return by_components(dirfd, path, flags, mode);
}

/* A directory on path's way, opened exactly and held (guard), from which
 * *rest (shorter than PATH_MAX) is left to walk; AT_FDCWD when path fits
 * as it is.  -1 with errno (ELOOP: a number was taken from the walk). */
static long
anchor(char *path, char **rest)
{
	long dir = AT_FDCWD;
	char *at = path;
	for (size_t left = strlen(path); left >= PATH_MAX;) {
		char *cut = memrchr(at, '/', PATH_MAX - 1);
		if (cut == NULL || cut == at) { /* no component is that long: not a canonical path */
			if (dir != AT_FDCWD)
				release(dir, true);
			errno = ENAMETOOLONG;
			return -1;
		}
		*cut = '\0';
		unsigned int since = guard_since();
		long next = open_beneath((int)dir, at, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
		bool kept = next < 0 || guard_hold(next, since, path); /* path: the name up to cut, absolute */
		*cut = '/';
		if (dir != AT_FDCWD)
			release(dir, true);
		if (next < 0 || !kept)
			return -1;
		dir = next;
		left -= (size_t)(cut + 1 - at);
		at = cut + 1;
	}
	*rest = at;
	return dir;
}

long
ward_exact_open(char *path, int flags, mode_t mode)
{
	long fd = open_beneath(AT_FDCWD, path, flags, mode);
	if (fd >= 0 || errno != ENAMETOOLONG)
		return fd;
	char *rest;
	long dir = anchor(path, &rest);
	if (dir < 0 || dir == AT_FDCWD)
		return dir == AT_FDCWD ? (errno = ENAMETOOLONG, -1) : -1;
	fd = open_beneath((int)dir, rest, flags, mode);
	release(dir, true);
	if (fd > dir) { /* the kernel gives the lowest free number: the anchor's was taken when it opened */
		long low = ward_syscall(SYS_fcntl, fd, (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
		if (low >= 0 && low < fd) {
			ward_syscall(SYS_close, fd);
			fd = low;
		} else if (low >= 0) {
			ward_syscall(SYS_close, low);
		}
	}
	return fd;
}

long
ward_exact_call_anchored(long nr, char *path, long b, long c, long d)
{
	long r;
	char *rest;
	long dir = anchor(path, &rest);
	if (dir < 0 || dir == AT_FDCWD)
		return dir == AT_FDCWD ? (errno = ENAMETOOLONG, -1) : -1;
	r = ward_syscall(nr, dir, rest, b, c, d);
	release(dir, true);
	return r;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The name under which dir's parent (up, whose entries are read afresh)
 * holds the directory here; NULL when none does.  by_inode: trust the
 * entries' inode numbers to pick the candidates (not across a mount, and
 * not on file systems whose d_ino is not st_ino: the second pass looks at
 * every directory). */
static const char *
name_in(long up, const struct stat *here, bool by_inode, char *entries, size_t size)
{
	if (ward_syscall(SYS_lseek, up, 0, SEEK_SET) != 0)
		return NULL;
	for (;;) {
		long n = ward_syscall(SYS_getdents64, up, entries, size);
		if (n <= 0)
			return NULL;
		for (long at = 0; at < n;) {
			struct dirent64 *e = (struct dirent64 *)(entries + at);
			at += e->d_reclen;
			const char *name = e->d_name;
			if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			if (by_inode ? e->d_ino != here->st_ino : e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
				continue;
			struct stat st;
			if (ward_syscall(SYS_newfstatat, up, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && same_file(&st, here))
				return name;
		}
	}
}

int
ward_exact_name(int dirfd, char *out, size_t cap, char *entries, size_t entries_size)
{
	struct stat start, here;
	long cur = ward_syscall(SYS_openat, dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return errno;
	if (ward_syscall(SYS_fstat, cur, &start) != 0) {
		close_keeping_errno(cur);
		return errno;
	}
	here = start;
	size_t at = cap - 1;
	out[at] = '\0';
	int err = 0;
	for (;;) {
		struct stat parent;
		long up = ward_syscall(SYS_openat, cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (up < 0) {
			err = errno;
			break;
		}
		if (ward_syscall(SYS_fstat, up, &parent) != 0) {
			err = errno;
			ward_syscall(SYS_close, up);
			break;
		}
		if (same_file(&parent, &here)) { /* the root: its ".." is itself */
			ward_syscall(SYS_close, up);
			break;
		}
		const char *name = name_in(up, &here, parent.st_dev == here.st_dev, entries, entries_size);
		if (name == NULL)
			name = name_in(up, &here, false, entries, entries_size);
		size_t n = name != NULL ? strlen(name) : 0;
		if (name == NULL || at < n + 1) {
			err = name == NULL ? ENOENT : ENAMETOOLONG;
			ward_syscall(SYS_close, up);
			break;
		}
		at -= n;
		memcpy(out + at, name, n);
		out[--at] = '/';
		ward_syscall(SYS_close, cur);
		cur = up;
		here = parent;
	}
	ward_syscall(SYS_close, cur);
	if (err != 0)
		return err;
	if (at == cap - 1)
		out[--at] = '/'; /* the root itself */
	memmove(out, out + at, cap - at);
	/* each step was one instant; the whole name must still lead here */
	struct stat now;
	long check = ward_exact_open(out, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (check < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? ESTALE : errno;
	bool same = ward_syscall(SYS_fstat, check, &now) == 0 && same_file(&now, &start);
	ward_syscall(SYS_close, check);
	return same ? 0 : ESTALE;
}
