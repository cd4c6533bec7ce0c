/*
 * libc_syscall.c: libc's syscall() is a libc call like any other (SPEC 5.3).
 *
 * A program's syscall(SYS_openat, ...) reaches libward.so (libc_syscall.S jumps
 * here), and each number that takes a path, or changes a file through a
 * descriptor, is decided exactly as the table's wrapper of the same system
 * call decides it, with the same check functions; the call is counted once,
 * as the `syscall` row (TRAPS 13), whatever it was.  As in the table, the
 * call is then made on exactly what was decided: the checks replace a path
 * argument by the /proc/self/fd name of what they opened (held in the frame
 * until the call is done), opens are made by the check itself, and metadata
 * reads are made on the program's path.  Every other number the table knows goes
 * through untouched: the six arguments are forwarded as longs, the result and
 * errno are the kernel's, as glibc's syscall() leaves them (the call is made
 * with the same instruction, so nothing else can differ).
 *
 * Decided (x86_64 numbers), as the wrappers of calls.def decide them:
 *   open, openat, creat, openat2 (on open_how.flags; any RESOLVE_* flag is
 *     decided on the file normal resolution reaches, which is the only file
 *     those flags let the call open, and the call is then left to the kernel
 *     as asked; RESOLVE_IN_ROOT, which resolves against another root, is
 *     refused under a policy that restricts the open)
 *   execve, execveat (the exec family's check and environment, wrappers.c)
 *   unlink, unlinkat, rmdir, rename, renameat, renameat2, mkdir, mkdirat,
 *   mknod, mknodat, link, linkat, symlink, symlinkat
 *   chmod, fchmodat, fchmodat2, chown, lchown, fchownat, truncate,
 *   utime, utimes, futimesat, utimensat, setxattr, lsetxattr, removexattr,
 *   lremovexattr
 *   stat, lstat, newfstatat, statx, access, faccessat, faccessat2, chdir,
 *   readlink, readlinkat, getxattr, lgetxattr, listxattr, llistxattr,
 *   statfs, inotify_add_watch
 *   fchmod, fchown, ftruncate, fsetxattr, fremovexattr (on the descriptor's
 *   file); AT_EMPTY_PATH with "" on any of the *at calls, likewise
 *   name_to_handle_at, open_by_handle_at (handles.c)
 *   bind, connect, sendto, sendmsg, sendmmsg (sockets.c)
 *   mmap, mprotect, pkey_mprotect (memory wx deny), personality (process.c)
 *   setrlimit, prlimit64 (RLIMIT_AS, RLIMIT_DATA below the floor), prctl
 *     PR_SET_SECCOMP and seccomp with a filter: refused under a policy, not
 *     under --strict (process.c)
 *   ioctl TIOCSTI, TIOCLINUX set/paste selection (process.c)
 *   ptrace (PTRACE_ATTACH, PTRACE_SEIZE), process_vm_readv, process_vm_writev,
 *     pidfd_getfd: refused with EPERM under a policy (process.c)
 *   setxattrat, removexattrat, file_setattr (write on the at-path, on the
 *     descriptor's file with AT_EMPTY_PATH), getxattrat, listxattrat,
 *     file_getattr (metadata), numbered here as the headers do not know them
 *   chroot (process.c); mount, umount2, pivot_root and the new mount API
 *     (open_tree, open_tree_attr, move_mount, fsopen, fsmount, fsconfig,
 *     fspick, mount_setattr) are refused
 *     with EPERM under a policy for the same reason: they change which file
 *     a path names behind the shim's back
 * A number above the highest decided here (file_setattr, 469) fails with
 * ENOSYS under a policy, counted, no record: a newer call may take a path
 * in a way nothing here decides, and a program falls back to the older
 * call as on an older kernel (fail closed).  Without a policy it is made.
 * Kept in step, as the table's hooks do: descriptors opened, dup'ed and
 * closed, close_range included (the shim's own stay the shim's), the working directory after chdir
 * and fchdir, remembered directory resolutions after a name changes, fork and
 * fork-like clone (children and figures), exit_group (the dump is written
 * first, as for _exit).  vfork and clone sharing memory never get here:
 * libc_syscall.S makes them without a C frame, vfork-like ones as vfork.S does.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/inotify.h>
#include <sys/uio.h>
#include <unistd.h>

#include "routes.h"
#include "../core/children.h"
#include "../core/dircache.h"
#include "../core/fdtable.h"
#include "../core/cwd.h"
#include "../core/syscall.h"
#include "../policy/policy.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
/* Newer than these headers (Linux 6.13 to 6.17). */
#define WARD_SYS_setxattrat 463
#define WARD_SYS_getxattrat 464
#define WARD_SYS_listxattrat 465
#define WARD_SYS_removexattrat 466
#define WARD_SYS_open_tree_attr 467
#define WARD_SYS_file_getattr 468
#define WARD_SYS_file_setattr 469
/* The highest number decided here: a higher one may take a path in a way
 * no table knows, so under a policy it fails with ENOSYS, as on a kernel
 * without it (programs fall back to the older call). */
#define WARD_SYS_KNOWN_LAST WARD_SYS_file_setattr

/* What to keep in step after the call. */
enum after {
	AFTER_NOTHING,
	AFTER_OPENED,       /* r is a new descriptor */
	AFTER_DUP,          /* r is a copy of a */
	AFTER_CLOSED,
	AFTER_RANGE_CLOSED, /* close_range(a, b, c) */
	AFTER_CWD,
	AFTER_NAMES,
};

struct call {
	long n, a, b, c, d, e, g;
	enum after after;
	int open_flags;     /* AFTER_OPENED, AFTER_DUP: for the table */
};

#define PATH_ARG(x) ((const char *)(x))

/* An *at call with AT_EMPTY_PATH and "": it acts on the descriptor. */
static bool
on_descriptor(long path, long flags)
{
	return (flags & AT_EMPTY_PATH) && path != 0 && PATH_ARG(path)[0] == '\0';
}

/* ops on the path in the argument slot *path (relative to dirfd), and the
 * call then made on exactly what was decided: the slot gets the
 * /proc/self/fd name the check holds in the frame (which: 0, or 1 for a
 * call's second path). */
static int
act(struct ward_frame *f, unsigned int ops, long dirfd, long *path, bool follow, int which)
{
	const char *p = PATH_ARG(*path);
	int r = ward_check_act(f, ops, (int)dirfd, &p, follow, which);
	*path = (long)p;
	return r;
}

/* The same for a metadata call: decided exactly, made on the program's
 * path (as the table's CHECK_META). */
static int
meta(struct ward_frame *f, long dirfd, long path, bool follow)
{
	return ward_check_path(f, WARD_OP_STAT, (int)dirfd, PATH_ARG(path), follow);
}

/* An f-call's descriptor in its slot: made on the shim's held copy. */
static int
fd_slot(struct ward_frame *f, unsigned int ops, long *slot)
{
	int fd = (int)*slot, r = ward_check_fd(f, ops, &fd);
	*slot = fd;
	return r;
}

/* ops on what an *at call names; "" with AT_EMPTY_PATH is the descriptor's
 * file (the working directory itself for AT_FDCWD). */
static int
at_path(struct ward_frame *f, unsigned int ops, long *dirfd_slot, long *path, long flags, bool follow)
{
	long dirfd = *dirfd_slot;
	if (on_descriptor(*path, flags) && dirfd == AT_FDCWD)
		return ward_check_path(f, ops, AT_FDCWD, ".", follow);
	if (on_descriptor(*path, flags))
		return fd_slot(f, ops, dirfd_slot);
	return act(f, ops, dirfd, path, follow, 0);
}

/* open, openat, creat: room for a descriptor first (the check makes the
 * open itself), then the table's open check on the path in slot *path. */
static int
open_call(struct ward_frame *f, struct call *c, int dirfd, long *path, int flags, mode_t mode)
{
	c->after = AFTER_OPENED;
	c->open_flags = flags;
	int r = ward_fd_limit != 0 ? ward_check_fds(f, 1) : 0;
	if (r != 0)
		return r;
	const char *p = PATH_ARG(*path);
	r = ward_check_open(f, dirfd, &p, flags, mode);
	*path = (long)p;
	return r;
}

static int
openat2_call(struct ward_frame *f, struct call *c)
{
	const struct open_how *how = (const struct open_how *)c->c;
	if (how == NULL || (size_t)c->d < sizeof(*how) || (how->flags >> 32) != 0)
		return 0; /* the kernel refuses these itself */
	int flags = (int)how->flags;
	if (how->resolve == 0 && (size_t)c->d == sizeof(*how)) /* the open the table decides */
		return open_call(f, c, (int)c->a, &c->b, flags, (mode_t)how->mode);
	c->after = AFTER_OPENED;
	c->open_flags = flags;
	int r = ward_fd_limit != 0 ? ward_check_fds(f, 1) : 0;
	if (r == 0 && (how->resolve & RESOLVE_IN_ROOT) && ward_restricted != 0 && f->active) {
		/* resolved against dirfd as "/": not the path the shim would decide */
		struct ward_refusal why = { .op = "open", .what = PATH_ARG(c->b), .by = "ward (openat2 RESOLVE_IN_ROOT)",
			                    .rule = "openat2 RESOLVE_IN_ROOT", .err = EACCES };
		struct ward_scratch *s = ward_scratch_enter();
		r = ward_refuse(f, s, &why);
		if (s != NULL)
			ward_scratch_leave();
	}
	if (r != 0 || (size_t)c->d != sizeof(*how) || ward_restricted == 0 || !f->active)
		return r != 0 ? r : ward_check_open_by_name(f, (int)c->a, PATH_ARG(c->b), flags);
	/* RESOLVE_BENEATH, _NO_XDEV, _NO_SYMLINKS, _NO_MAGICLINKS, _CACHED: the
	 * kernel's verdict on the program's path with its own flags first (an
	 * O_PATH open, which touches nothing: EXDEV, ELOOP, EAGAIN come out as
	 * bare), then the open made exactly on the decided path, as every open
	 * (made on the program's path, another thread could swap a directory
	 * in between).  An O_CREAT is not tried first (its name may not exist). */
	if (!(flags & O_CREAT)) {
		struct open_how probe = { .flags = O_PATH | O_CLOEXEC | ((uint64_t)flags & (O_NOFOLLOW | O_DIRECTORY)),
			                  .resolve = how->resolve };
		long fd = ward_syscall(SYS_openat2, c->a, PATH_ARG(c->b), &probe, sizeof(probe));
		if (fd < 0 && errno != ENOENT)
			return -errno;
		if (fd >= 0)
			ward_syscall(SYS_close, fd);
	}
	return open_call(f, c, (int)c->a, &c->b, flags, (mode_t)how->mode);
}

/* The decision for one call: 0, or the errno to fail with. */
static int
decide(struct ward_frame *f, struct call *c)
{
	const unsigned int R = WARD_OP_READ, S = WARD_OP_STAT, W = WARD_OP_WRITE, C = WARD_OP_CREATE,
	                   D = WARD_OP_REMOVE;
	long a = c->a, b = c->b, cc = c->c, d = c->d, e = c->e;
	switch (c->n) {
	/* ---- opening ---- */
	case SYS_open:
		return open_call(f, c, AT_FDCWD, &c->a, (int)b, (mode_t)cc);
	case SYS_openat:
		return open_call(f, c, (int)a, &c->b, (int)cc, (mode_t)d);
	case SYS_creat:
		return open_call(f, c, AT_FDCWD, &c->a, O_CREAT | O_WRONLY | O_TRUNC, (mode_t)b);
	case SYS_openat2:
		return openat2_call(f, c);
	case SYS_open_by_handle_at: {
		c->after = AFTER_OPENED;
		c->open_flags = (int)cc;
		int r = ward_fd_limit != 0 ? ward_check_fds(f, 1) : 0;
		return r != 0 ? r : ward_check_handle_open(f, (int)a, (struct file_handle *)b, (int)cc);
	}
	case SYS_name_to_handle_at:
		return ward_check_name_to_handle(f, (int)a, PATH_ARG(b), (int)e);

	/* ---- names ---- */
	case SYS_unlink:
	case SYS_rmdir:
		c->after = AFTER_NAMES;
		return act(f, D, AT_FDCWD, &c->a, false, 0);
	case SYS_unlinkat:
		c->after = AFTER_NAMES;
		return act(f, D, a, &c->b, false, 0);
	case SYS_rename:
	case SYS_renameat:
	case SYS_renameat2: {
		c->after = AFTER_NAMES;
		bool at = c->n != SYS_rename;
		long *from = at ? &c->b : &c->a, *to = at ? &c->d : &c->b;
		const char *pf = PATH_ARG(*from), *pt = PATH_ARG(*to);
		int fromfd = at ? (int)a : AT_FDCWD, tofd = at ? (int)cc : AT_FDCWD;
		int r = ward_check_rename(f, at ? &fromfd : NULL, &pf, at ? &tofd : NULL, &pt,
		                          c->n == SYS_renameat2 ? (unsigned int)e : 0);
		if (at) { /* the decided directories' descriptors, the bare names */
			c->a = fromfd;
			c->c = tofd;
		}
		*from = (long)pf;
		*to = (long)pt;
		return r;
	}
	case SYS_mkdir:
	case SYS_mknod:
		return act(f, C, AT_FDCWD, &c->a, false, 0);
	case SYS_mkdirat:
	case SYS_mknodat:
		return act(f, C, a, &c->b, false, 0);
	case SYS_link:
	case SYS_linkat: {
		bool at = c->n == SYS_linkat;
		long *from = at ? &c->b : &c->a, *to = at ? &c->d : &c->b;
		if (at && on_descriptor(b, e)) { /* a new name for the descriptor's file */
			int r = at_path(f, R | W, &c->a, from, e, false);
			return r != 0 ? r : act(f, C, cc, to, false, 1);
		}
		const char *pf = PATH_ARG(*from), *pt = PATH_ARG(*to);
		int fromfd = at ? (int)a : AT_FDCWD, tofd = at ? (int)cc : AT_FDCWD;
		int r = ward_check_link(f, at ? &fromfd : NULL, &pf, at ? &tofd : NULL, &pt, at ? (int)e : 0);
		if (at) {
			c->a = fromfd;
			c->c = tofd;
		}
		*from = (long)pf;
		*to = (long)pt;
		return r;
	}
	case SYS_symlink:
		c->after = AFTER_NAMES;
		return act(f, C, AT_FDCWD, &c->b, false, 0);
	case SYS_symlinkat:
		c->after = AFTER_NAMES;
		return act(f, C, b, &c->c, false, 0);

	/* ---- metadata changes ---- */
	case SYS_chmod:
	case SYS_chown:
	case SYS_truncate:
	case SYS_utime:
	case SYS_utimes:
	case SYS_setxattr:
	case SYS_removexattr:
		return act(f, W, AT_FDCWD, &c->a, true, 0);
	case SYS_lchown:
	case SYS_lsetxattr:
	case SYS_lremovexattr:
		return act(f, W, AT_FDCWD, &c->a, false, 0);
	case SYS_fchmodat: /* the system call has no flags */
		return act(f, W, a, &c->b, true, 0);
	case SYS_fchmodat2:
		return at_path(f, W, &c->a, &c->b, d, !(d & AT_SYMLINK_NOFOLLOW));
	case SYS_fchownat:
		return at_path(f, W, &c->a, &c->b, e, !(e & AT_SYMLINK_NOFOLLOW));
	case SYS_futimesat:
		return b == 0 ? fd_slot(f, W, &c->a) : act(f, W, a, &c->b, true, 0);
	case SYS_utimensat:
		if (b == 0)
			return fd_slot(f, W, &c->a);
		return at_path(f, W, &c->a, &c->b, d, !(d & AT_SYMLINK_NOFOLLOW));
	case SYS_fchmod:
	case SYS_fchown:
	case SYS_ftruncate:
	case SYS_fsetxattr:
	case SYS_fremovexattr:
		return fd_slot(f, W, &c->a);
	case WARD_SYS_setxattrat:
	case WARD_SYS_removexattrat:
		return at_path(f, W, &c->a, &c->b, cc, !(cc & AT_SYMLINK_NOFOLLOW));
	case WARD_SYS_file_setattr:
		return at_path(f, W, &c->a, &c->b, e, !(e & AT_SYMLINK_NOFOLLOW));

	/* ---- metadata ---- */
	case SYS_stat:
	case SYS_access:
	case SYS_getxattr:
	case SYS_listxattr:
	case SYS_statfs:
		return meta(f, AT_FDCWD, a, true);
	case SYS_lstat:
	case SYS_readlink:
	case SYS_lgetxattr:
	case SYS_llistxattr:
		return meta(f, AT_FDCWD, a, false);
	case SYS_newfstatat:
	case SYS_faccessat2:
		return on_descriptor(b, d) ? 0 : meta(f, a, b, !(d & AT_SYMLINK_NOFOLLOW));
	case SYS_statx:
		return on_descriptor(b, cc) ? 0 : meta(f, a, b, !(cc & AT_SYMLINK_NOFOLLOW));
	case SYS_faccessat: /* no flags in the system call */
		return meta(f, a, b, true);
	case SYS_readlinkat:
		return meta(f, a, b, false);
	case WARD_SYS_getxattrat:
	case WARD_SYS_listxattrat:
		return on_descriptor(b, cc) ? 0 : meta(f, a, b, !(cc & AT_SYMLINK_NOFOLLOW));
	case WARD_SYS_file_getattr:
		return on_descriptor(b, e) ? 0 : meta(f, a, b, !(e & AT_SYMLINK_NOFOLLOW));
	case SYS_inotify_add_watch:
		return meta(f, AT_FDCWD, b, !(cc & IN_DONT_FOLLOW));
	case SYS_chdir:
		c->after = AFTER_CWD;
		return act(f, S, AT_FDCWD, &c->a, true, 0);
	case SYS_fchdir:
		c->after = AFTER_CWD;
		return 0;

	/* ---- descriptors ---- */
	case SYS_close:
		c->after = AFTER_CLOSED;
		return 0;
	case SYS_close_range:
		c->after = AFTER_RANGE_CLOSED;
		return 0;
	case SYS_dup:
		c->after = AFTER_DUP;
		return ward_fd_limit != 0 ? ward_check_fds(f, 1) : 0;
	case SYS_dup2:
	case SYS_dup3:
		c->after = AFTER_DUP;
		c->open_flags = c->n == SYS_dup3 ? (int)cc : 0;
		ward_hook_fd_replacing(f, (int)b);
		return ward_fd_limit != 0 && !ward_fdtable_tracked((int)b) ? ward_check_fds(f, 1) : 0;

	/* ---- sockets ---- */
	case SYS_bind:
		return ward_check_sockaddr(f, C, (const struct sockaddr *)b, (socklen_t)cc);
	case SYS_connect:
		return ward_check_sockaddr(f, W, (const struct sockaddr *)b, (socklen_t)cc);
	case SYS_sendto:
		return ward_check_sockaddr(f, W, (const struct sockaddr *)e, (socklen_t)c->g);
	case SYS_sendmsg:
		return ward_check_msghdr(f, (const struct msghdr *)b);
	case SYS_sendmmsg:
		return ward_check_mmsghdr(f, (const struct mmsghdr *)b, (unsigned int)cc);

	/* ---- memory and the process ---- */
	case SYS_mmap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		if ((cc & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC))
			return ward_check_wx(f, (int)cc);
		return 0;
	case SYS_personality:
		return ward_check_personality(f, (unsigned long)a);
	case SYS_chroot:
		return ward_check_chroot(f, PATH_ARG(a));
	case SYS_setrlimit:
		return ward_check_rlimit(f, 0, (int)a, (const struct rlimit *)b);
	case SYS_prlimit64:
		return ward_check_rlimit(f, a, (int)b, (const struct rlimit *)cc);
	case SYS_prctl:
		return a == PR_SET_SECCOMP ? ward_check_seccomp(f, (unsigned long)b) : 0;
	case SYS_seccomp:
		return ward_check_seccomp(f, (unsigned long)a == SECCOMP_SET_MODE_FILTER ? SECCOMP_MODE_FILTER : 0);
	case SYS_ioctl:
		return WARD_IOCTL_TYPES((unsigned long)b) ? ward_check_ioctl(f, (unsigned long)b, (const void *)cc) : 0;
	case SYS_ptrace:
		return ward_check_ptrace(f, a, b);
	case SYS_process_vm_readv:
		return ward_refuse_reach(f, "process_vm_readv", a);
	case SYS_process_vm_writev:
		return ward_refuse_reach(f, "process_vm_writev", a);
	case SYS_pidfd_getfd:
		c->after = AFTER_OPENED;
		c->open_flags = O_RDWR;
		return ward_refuse_reach(f, "pidfd_getfd", a);
	case SYS_mount:
		return ward_refuse_remount(f, "mount", PATH_ARG(b));
	case SYS_umount2:
		return ward_refuse_remount(f, "umount2", PATH_ARG(a));
	case SYS_pivot_root:
		return ward_refuse_remount(f, "pivot_root", PATH_ARG(a));
	case SYS_open_tree:
		return ward_refuse_remount(f, "open_tree", PATH_ARG(b));
	case SYS_move_mount:
		return ward_refuse_remount(f, "move_mount", PATH_ARG(d));
	case SYS_fsopen:
		return ward_refuse_remount(f, "fsopen", PATH_ARG(a));
	case SYS_fsmount:
		return ward_refuse_remount(f, "fsmount", "");
	case SYS_fsconfig:
		return ward_refuse_remount(f, "fsconfig", "");
	case SYS_fspick:
		return ward_refuse_remount(f, "fspick", PATH_ARG(b));
	case SYS_mount_setattr:
		return ward_refuse_remount(f, "mount_setattr", PATH_ARG(b));
	case WARD_SYS_open_tree_attr:
		return ward_refuse_remount(f, "open_tree_attr", PATH_ARG(b));
	default:
		/* unknown to the table: not decided, so not made under a policy
		 * (a plain failure, no record: programs probe new calls) */
		if ((unsigned long)c->n > WARD_SYS_KNOWN_LAST && ward_config.policy != NULL && f->active)
			return -ENOSYS;
		return 0;
	}
}

static void
after(struct ward_frame *f, const struct call *c, long r)
{
	switch (c->after) {
	case AFTER_OPENED:
		ward_hook_fd_opened(f, (int)r, c->open_flags, WARD_FD_FILE);
		break;
	case AFTER_DUP:
		ward_hook_fd_dup(f, (int)r, (int)c->a, (int)r, c->open_flags & O_CLOEXEC);
		break;
	case AFTER_CLOSED:
		ward_hook_fd_closed(f, (int)r);
		break;
	case AFTER_RANGE_CLOSED:
		ward_hook_range_closed(f, (int)r, (unsigned int)c->a, (unsigned int)c->b, (int)c->c);
		break;
	case AFTER_CWD:
		if (r == 0)
			ward_checks_cwd_changed();
		break;
	case AFTER_NAMES:
		if (r == 0) {
			ward_dircache_invalidate();
			ward_cwd_forget(); /* (a directory renamed or removed: the cwd's name may be gone) */
		}
		break;
	case AFTER_NOTHING:
		break;
	}
}

/* fork, and clone making a process of its own: as _Fork (wrappers.c). */
static long
fork_call(struct call *c)
{
	struct ward_frame frame_;
	ward_frame_enter(&frame_, WARD_ID_syscall);
	if (c->n == SYS_clone) /* CLONE_FILES without CLONE_VM (process.c) */
		frame_.deny = ward_check_clone_files(&frame_, (unsigned long)c->a);
	if (frame_.deny == 0)
		frame_.deny = ward_check_children(&frame_);
	if (frame_.deny) {
		ward_frame_refuse(&frame_);
		return -1;
	}
	errno = frame_.saved_errno;
	long r = ward_syscall6(c->n, c->a, c->b, c->c, c->d, c->e, c->g);
	if (r == 0) { /* the child: figures of its own */
		frame_.saved_errno = errno;
		ward_after_fork_child();
		ward_frame_done(&frame_);
		return 0;
	}
	ward_frame_count(&frame_, r == -1);
	if (r > 0) {
		ward_children_add((pid_t)r);
		if (frame_.slot != NULL)
			ward_counters_add(frame_.slot, WARD_IDX_FORKS, 1);
	}
	ward_frame_done(&frame_);
	return r;
}

/* exit_group skips destructors: dump first, as _exit does. */
__attribute__((noreturn)) static void
exit_call(long status)
{
	struct ward_frame frame_;
	ward_frame_enter(&frame_, WARD_ID_syscall);
	if (frame_.counting && !ward_in_foreign_child()) {
		ward_frame_count(&frame_, false);
		ward_frame_done(&frame_);
		ward_image_ends("_exit");
	}
	for (;;)
		ward_syscall_raw(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

/* libc_syscall.S: a clone sharing memory on a stack of its own, or clone3,
 * is counted, then made there: 0.  Under a policy that restricts anything
 * clone3 is not made: -1, ENOSYS, as under --strict, and callers fall back
 * to clone, whose flags are a register the check reads (process.c).  Its
 * flags are in memory the kernel reads again after any look of ours: a
 * thread setting CLONE_FILES between the two made children that share the
 * descriptor table without memory (48 of 700), the route the clone check
 * closes. */
__attribute__((used)) int
ward_syscall_count_shared(long n, long a, long b)
{
	(void)a;
	(void)b;
	struct ward_frame frame_;
	ward_frame_enter(&frame_, WARD_ID_syscall);
	bool refused = n == SYS_clone3 && ward_restricted != 0;
	ward_frame_count(&frame_, refused);
	ward_frame_done(&frame_);
	if (refused)
		errno = ENOSYS;
	return refused ? -1 : 0;
}

/* libc_syscall.S, vfork and vfork-like clone: the same two halves as vfork's. */
__attribute__((used)) int
ward_syscall_vfork_check(void)
{
	return ward_vfork_check_as(WARD_ID_syscall);
}

__attribute__((used)) long
ward_syscall_vfork_parent(long r)
{
	return ward_vfork_parent_as(WARD_ID_syscall, r);
}

__attribute__((used)) long
ward_syscall_call(long n, long a, long b, long c, long d, long e, long g)
{
	struct call call = { n, a, b, c, d, e, g, AFTER_NOTHING, 0 };
	switch (n) {
	case SYS_execve:
		return ward_syscall_exec(AT_FDCWD, PATH_ARG(a), (char *const *)b, (char *const *)c, 0);
	case SYS_execveat:
		return ward_syscall_exec((int)a, PATH_ARG(b), (char *const *)c, (char *const *)d, (int)e);
	case SYS_fork:
		return fork_call(&call);
	case SYS_clone: /* libc_syscall.S sent those with CLONE_VM elsewhere */
		return fork_call(&call);
	case SYS_exit_group:
		exit_call(a);
	default:
		break;
	}
	struct ward_frame frame_;
	ward_frame_enter(&frame_, WARD_ID_syscall);
	frame_.deny = decide(&frame_, &call);
	if (__builtin_expect(frame_.deny != 0, 0)) {
		ward_frame_refuse(&frame_);
		return -1;
	}
	if ((call.after == AFTER_CLOSED && ward_hook_fd_closing(&frame_, (int)a)) ||
	    (call.after == AFTER_RANGE_CLOSED &&
	     ward_hook_range_closing(&frame_, (unsigned int)a, (unsigned int)b, (int)c))) {
		/* the shim's own descriptor is not the program's to close: closed around it, or not at all */
		errno = frame_.saved_errno;
		ward_frame_count(&frame_, false);
		ward_frame_done(&frame_);
		return 0;
	}
	if (call.after == AFTER_CLOSED) /* made around the descriptors acts hold (held.c) */
		ward_held_close(&frame_, (int)a);
	else if (n == SYS_dup2 || n == SYS_dup3)
		ward_held_replace(&frame_, (int)a, (int)b, n == SYS_dup3 ? (int)c : -1);
	long r;
	if (__builtin_expect(frame_.done, 0)) {
		r = frame_.result;
		errno = frame_.done_errno;
	} else {
		errno = frame_.saved_errno;
		/* the arguments as the checks left them: paths may now name exactly
		 * what was decided (/proc/self/fd/N[/NAME], held in the frame) */
		r = ward_syscall6(n, call.a, call.b, call.c, call.d, call.e, call.g);
	}
	ward_frame_count(&frame_, r == -1);
	if (frame_.counting)
		after(&frame_, &call, r);
	ward_frame_done(&frame_);
	return r;
}
