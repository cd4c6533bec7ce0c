/*
 * handles.c: file handles lead to files without a path (SPEC 5.3).
 *
 * open_by_handle_at names an inode, not a path, so it is decided on the file
 * the handle leads to: the handle is opened with O_PATH first (the real
 * system call: nothing is read, no access time changes), the decision is
 * made on /proc/self/fd/N (the shim resolves that magic link to the file's
 * name, as for any other path), and then either the O_PATH descriptor is
 * closed and the call refused, or that exact file is reopened through
 * /proc/self/fd/N with the caller's flags (the call is then complete: the
 * wrapper returns that descriptor, moved down to the number the call itself
 * would have given).  An O_PATH open by the caller is a stat
 * and keeps the probe itself.  When the probe fails, the call fails the same
 * way (the kernel checks the capability and the handle before anything else).
 *
 * name_to_handle_at is a stat of its path; it follows a final symlink only
 * with AT_SYMLINK_FOLLOW, and AT_EMPTY_PATH names the descriptor itself.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "routes.h"
#include "../core/syscall.h"
#include "../policy/policy.h"

static unsigned int
handle_ops(int flags)
{
	if (flags & O_PATH)
		return WARD_OP_STAT;
	int access = flags & O_ACCMODE;
	unsigned int ops = 0;
	if (access == O_RDONLY || access == O_RDWR)
		ops |= WARD_OP_READ;
	if (access == O_WRONLY || access == O_RDWR || (flags & O_TRUNC))
		ops |= WARD_OP_WRITE;
	return ops;
}

int
ward_check_handle_open(struct ward_frame *f, int mount_fd, struct file_handle *handle, int flags)
{
	unsigned int ops = handle_ops(flags);
	if (__builtin_expect((ward_restricted & ops) == 0, 1) || !f->active)
		return 0;
	int saved = errno;
	int probe_flags = (flags & O_PATH) ? flags : O_PATH | O_CLOEXEC;
	long probe = ward_syscall(SYS_open_by_handle_at, mount_fd, handle, probe_flags);
	if (probe < 0) {
		ward_frame_complete(f, probe);
		errno = saved;
		return 0;
	}
	char link[WARD_PROCFD_NAME_MAX];
	ward_procfd_name(link, (int)probe);
	int r = ward_check_path(f, ops, AT_FDCWD, link, true);
	if (r == 0 && (flags & O_PATH)) {
		ward_frame_complete(f, probe);
	} else if (r == 0) {
		/* the same file, with the caller's flags (O_NOFOLLOW is ignored
		 * for handles, and would stop at the magic link) */
		long fd = ward_syscall(SYS_openat, AT_FDCWD, link, flags & ~O_NOFOLLOW, 0);
		int open_errno = errno;
		ward_syscall(SYS_close, probe);
		if (fd > probe) { /* the number the call itself would have given: the lowest free */
			long low = ward_syscall(SYS_fcntl, fd, (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
			if (low >= 0 && low < fd) {
				ward_syscall(SYS_close, fd);
				fd = low;
			}
		}
		errno = open_errno;
		ward_frame_complete(f, fd);
	} else {
		ward_syscall(SYS_close, probe);
	}
	errno = saved;
	return r;
}

int
ward_check_name_to_handle(struct ward_frame *f, int dirfd, const char *path, int flags)
{
	if (__builtin_expect((ward_restricted & WARD_OP_STAT) == 0, 1) || path == NULL)
		return 0;
	if ((flags & AT_EMPTY_PATH) && path[0] == '\0')
		return ward_check_fd(f, WARD_OP_STAT, &dirfd);
	return ward_check_path(f, WARD_OP_STAT, dirfd, path, (flags & AT_SYMLINK_FOLLOW) != 0);
}
