/*
 * opens.c: the open family, fopen/freopen, decided and made on exactly the
 * decided path (act.c's way, with openat2 making the open itself).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "shim.h"
#include "checks.h"
#include "../core/dircache.h"
#include "../core/procfd.h"
#include "../core/exact.h"
#include "../core/resolve.h"
#include "../policy/match.h"




/* ward_exact_open's failures that are not the open's answer: a symlink
 * on the way (ELOOP), or flags openat2 will not take. */
static inline bool
act_retries(int err)
{
	return err == ELOOP || err == EINVAL || err == E2BIG || err == ENOSYS || err == EPERM;
}

/* An open refused by the policy: first what the kernel says before any
 * permission (O_CREAT under a missing directory, O_EXCL of an existing
 * name), then the refusal. */
static int
open_refused(struct ward_frame *f, struct ward_scratch *s, const char *path, int flags, const struct verdict *v)
{
	int shape = ward_checks_shape_first(s, path, (flags & O_NOFOLLOW) != 0);
	if (shape != 0)
		return shape;
	if (flags & O_CREAT) {
		int first = ward_checks_kernel_first(s, (flags & O_EXCL) != 0);
		if (first != 0)
			return first;
	}
	return ward_checks_violation(f, s, v);
}

/* The decision of an open: 0 allowed, else what the call must do. */
static int
decide_open(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path, int flags, bool *unsettled)
{
	bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	/* a trailing '/' is followed whatever O_NOFOLLOW says, as the kernel does */
	bool follow = !excl && (!(flags & O_NOFOLLOW) || (strlen(path) > 1 && path[strlen(path) - 1] == '/'));
	struct verdict v;
	int r = ward_checks_resolve_decide_as(f, s, dirfd, path, follow, 0, flags, &v, unsettled);
	if (r > 0)
		return ward_checks_unresolved(f, s, path, r);
	return r < 0 ? open_refused(f, s, path, flags, &v) : 0;
}

/*
 * open family: decided, then opened here with openat2 on exactly the
 * decided path (RESOLVE_NO_SYMLINKS: it opens that file or says a symlink
 * got in the way, and then the path is decided again).  Flags openat2
 * refuses (it is stricter than open about unknown bits) go through libc on
 * a descriptor of the decided file or directory instead (ward_check_act's
 * way).
 */
int
ward_check_open(struct ward_frame *f, int dirfd, const char **path, int flags, mode_t mode)
{
	unsigned int ops = ward_checks_open_ops(flags) | ((flags & O_CREAT) ? WARD_OP_CREATE | WARD_OP_WRITE : 0);
	if (__builtin_expect((ops & ward_restricted) == 0, 1))
		return 0;
	int result;
	struct ward_scratch *s = ward_checks_enter_check(f, ops, *path, &result);
	if (s == NULL)
		return result;
	unsigned int plain = (flags & (O_CREAT | __O_TMPFILE)) ? 0 : ward_checks_decide_plain(s, *path, ops & ward_restricted);
	if (plain != 0) { /* the common case: decided in one pass, all allowed */
		long fd = ward_exact_open(s->resolved, flags, mode);
		if (fd >= 0 || !act_retries(errno)) {
			ward_checks_count_decisions(f, plain);
			ward_checks_complete(f, fd);
			ward_scratch_leave();
			return 0;
		}
		/* a symlink on the way, or flags openat2 refuses: nothing was
		 * opened, nothing counted: the general way, from the start */
	}
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		/* first with the last component left to the open itself (no
		 * readlink when it is no symlink: the common case) */
		bool unsettled = false;
		result = decide_open(f, s, dirfd, *path, flags, attempt == 0 ? &unsettled : NULL);
		if (result != 0 || ward_checks_in_proc(s))
			goto out;
		if (!ward_checks_keep_trailing_slash(s, *path)) { /* at WARD_NAME_MAX: no room for "/." */
			result = ward_checks_unresolved(f, s, *path, WARD_RESOLVE_UNKNOWN);
			goto out;
		}
		long fd = ward_exact_open(s->resolved, flags, mode);
		if (fd < 0 && ward_checks_nameless_object(s, errno))
			goto out; /* a deleted file a descriptor holds: opened through the link, as asked */
		if (fd >= 0 || !act_retries(errno)) {
			ward_checks_complete(f, fd);
			goto out;
		}
		ward_checks_drop_trailing_slash(s);
		if (errno != ELOOP) { /* openat2 will not take these flags: libc opens, on a descriptor */
			bool follow = !(flags & O_NOFOLLOW) && !(flags & O_CREAT);
			ward_checks_hold(f, s);
			result = ward_checks_point(s, &s->act[0], follow, false);
			if (result == 0)
				*path = s->act[0].path;
			if (result != ELOOP)
				return result; /* the frame holds the scratch */
			continue;
		}
		struct stat st;
		size_t len = strlen(*path);
		if ((flags & O_NOFOLLOW) && !(len > 1 && (*path)[len - 1] == '/') &&
		    ward_exact_call(SYS_newfstatat, s->resolved, (long)&st, AT_SYMLINK_NOFOLLOW, 0) == 0 && S_ISLNK(st.st_mode)) {
			errno = ELOOP; /* O_NOFOLLOW on a symlink: the kernel's own answer, nothing opened */
			ward_checks_complete(f, -1);
			goto out;
		}
		if (!unsettled) /* a symlink appeared on a path decided whole: what was remembered may be stale */
			ward_dircache_invalidate();
	}
	result = ward_checks_changing(f, s);
out:
	if (f->held != s)
		ward_scratch_leave();
	return result;
}

/* fopen's mode as open flags (glibc's reading of it). */
int
ward_checks_fopen_flags(const char *mode)
{
	int flags = strchr(mode, '+') ? O_RDWR : 0;
	if (mode[0] == 'w')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_TRUNC;
	else if (mode[0] == 'a')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_APPEND;
	if (strchr(mode, 'x'))
		flags |= O_EXCL;
	return flags;
}

/* fopen, freopen: decided, the file opened (or created) here on exactly the
 * decided path, and libc makes the stream on that file through its
 * descriptor, with the mode minus 'x' (the file exists by then). */
/* The call's result is a stream or DIR made here (a pointer, NULL with
 * errno on failure). */
static void
complete_pointer(struct ward_frame *f, void *result)
{
	f->done = true;
	f->result = (long)result;
	f->done_errno = result == NULL ? errno : f->saved_errno;
}

int
ward_check_fopen(struct ward_frame *f, const char **path, const char **mode, bool make_stream)
{
	if (__builtin_expect(ward_restricted == 0, 1) || *mode == NULL)
		return 0;
	int flags = ward_checks_fopen_flags(*mode);
	unsigned int ops = ward_checks_open_ops(flags) | ((flags & O_CREAT) ? WARD_OP_CREATE | WARD_OP_WRITE : 0);
	int result;
	struct ward_scratch *s = ward_checks_enter_check(f, ops & ward_restricted, *path, &result);
	if (s == NULL)
		return result;
	ward_checks_hold(f, s);
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		bool unsettled = false; /* first the open itself says whether the last component is a symlink */
		result = decide_open(f, s, AT_FDCWD, *path, flags, attempt == 0 ? &unsettled : NULL);
		if (result != 0 || ward_checks_in_proc(s))
			return result;
		if (!ward_checks_keep_trailing_slash(s, *path)) /* at WARD_NAME_MAX: no room for "/." */
			return ward_checks_unresolved(f, s, *path, WARD_RESOLVE_UNKNOWN);
		bool cloexec = !make_stream || strchr(*mode, 'e') != NULL;
		unsigned int since = ward_held_changes();
		long fd = ward_exact_open(s->resolved, flags | (cloexec ? O_CLOEXEC : 0), 0666);
		if (fd >= 0 && make_stream) { /* fopen: the stream is made on the very file opened */
			FILE *stream = WARD_REAL(fdopen)((int)fd, *mode);
			if (stream == NULL) {
				int err = errno;
				ward_syscall(SYS_close, fd);
				errno = err;
			}
			complete_pointer(f, stream);
			return 0;
		}
		if (fd < 0 && ward_checks_nameless_object(s, errno))
			return 0; /* a deleted file a descriptor holds: through the link, as asked */
		if (fd >= 0 && !ward_held_add((int)fd, since, s->resolved, s->fd_target))
			continue; /* the program put something else at that number: again */
		if (fd >= 0) { /* freopen: libc reopens the stream's descriptor on it */
			s->act[0].fd = (int)fd;
			*path = ward_procfd_name(s->act[0].path, (int)fd);
			size_t n = 0;
			for (const char *m = *mode; *m && n + 1 < sizeof(s->act_mode); m++)
				if (*m != 'x')
					s->act_mode[n++] = *m;
			s->act_mode[n] = '\0';
			*mode = s->act_mode;
			return 0;
		}
		if (errno != ELOOP)
			return -errno;
		ward_checks_drop_trailing_slash(s);
		if (!unsettled)
			ward_dircache_invalidate();
	}
	return ward_checks_changing(f, s);
}
/* freopen(NULL, mode, stream): the stream's own file, reopened with mode. */
int
ward_check_reopen(struct ward_frame *f, const char *mode, int fd)
{
	if (mode == NULL || fd < 0)
		return 0;
	int flags = ward_checks_fopen_flags(mode) & ~(O_CREAT | O_EXCL); /* the file exists: it is the stream's */
	int decided = fd; /* (libc reopens the stream's own number) */
	return ward_check_fd(f, ward_checks_open_ops(flags), &decided);
}

/* opendir: decided, the directory opened here on exactly the decided path
 * (as glibc's opendir opens it) and the DIR made on that descriptor. */
int
ward_check_opendir(struct ward_frame *f, const char **path)
{
	if (__builtin_expect((ward_restricted & WARD_OP_READ) == 0, 1))
		return 0;
	int result;
	struct ward_scratch *s = ward_checks_enter_check(f, WARD_OP_READ, *path, &result);
	if (s == NULL)
		return result;
	ward_checks_hold(f, s);
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		bool unsettled = false;
		result = decide_open(f, s, AT_FDCWD, *path, O_RDONLY | O_DIRECTORY, attempt == 0 ? &unsettled : NULL);
		if (result != 0 || ward_checks_in_proc(s))
			return result;
		long fd = ward_exact_open(s->resolved, O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd < 0 && ward_checks_nameless_object(s, errno))
			return 0;
		if (fd >= 0) {
			DIR *dir = WARD_REAL(fdopendir)((int)fd);
			if (dir == NULL) {
				int err = errno;
				ward_syscall(SYS_close, fd);
				errno = err;
			}
			complete_pointer(f, dir);
			return 0;
		}
		if (errno != ELOOP)
			return -errno;
		if (!unsettled)
			ward_dircache_invalidate();
	}
	return ward_checks_changing(f, s);
}
