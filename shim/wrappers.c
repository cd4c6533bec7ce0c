/*
 * wrappers.c: the exported wrappers, generated from calls.def, plus the few
 * whose bodies cannot come from the template (exec family, _exit, _Fork).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <linux/seccomp.h>
#include <sys/pidfd.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/inotify.h>
#include <sys/fanotify.h>
#include <sys/mount.h>
#include <sys/swap.h>
#include <sys/ipc.h>
#include <mntent.h>
#include <unistd.h>
#include <utime.h>
#include <utmp.h>
#include <utmpx.h>

#include "shim.h"
#include "../core/cwd.h"
#include "routes.h"
#include "../core/children.h"
#include "../core/dircache.h"
#include "../core/fdtable.h"
#include "../core/procfd.h"
#include "../policy/policy.h"



/* ---- failure tests ---- */
#define WARD_FAILED_NEG(r) ((r) == -1)
#define WARD_FAILED_NULLP(r) ((r) == NULL)
#define WARD_FAILED_NONZERO(r) ((r) != 0)
#define WARD_FAILED_NEVER(r) ((void)(r), false)
#define WARD_FAILED_MAPFAIL(r) ((r) == MAP_FAILED)

/* ---- what a refused call returns (errno is set) ---- */
#define WARD_REFUSED_NEG (-1)
#define WARD_REFUSED_NULLP NULL
#define WARD_REFUSED_NONZERO (frame_.deny < 0 ? -frame_.deny : frame_.deny)
#define WARD_REFUSED_NEVER NULL
#define WARD_REFUSED_MAPFAIL MAP_FAILED

/* ---- pre hooks: run before the real call ---- */
#define PRE_NONE (void)0
#define PRE_VA_MODE(flags)                          \
	mode_t mode = 0;                            \
	if (__OPEN_NEEDS_MODE(flags)) {             \
		va_list ap_;                        \
		va_start(ap_, flags);               \
		mode = va_arg(ap_, mode_t);         \
		va_end(ap_);                        \
	}
#define PRE_VA_ARG(last)                            \
	void *arg;                                  \
	{                                           \
		va_list ap_;                        \
		va_start(ap_, last);                \
		arg = va_arg(ap_, void *);          \
		va_end(ap_);                        \
	}
/* The shim's own descriptor is not the program's to close: report success. */
#define WARD_PRETEND_DONE(value)                    \
	{                                           \
		errno = frame_.saved_errno;         \
		ward_frame_count(&frame_, false);   \
		ward_frame_done(&frame_);           \
		return value;                       \
	}
/* Lean: a descriptor the guard may watch is the full template's.  Under a
 * policy (acts hold descriptors) the close is announced to held.c first
 * and the change ended after it (FD_CLOSED_ANNOUNCED), as ward_held_close
 * does; a number an act holds (waited for there) or a negative one goes
 * the full way. */
#define PRE_FD_CLOSING(fd)                                                                    \
	bool announced_ __attribute__((unused)) = false;                                      \
	if (lean_) {                                                                          \
		if (__builtin_expect((fd) >= 0 && ward_guard_may_concern(fd), 0))             \
			goto full_;                                                           \
		if (__builtin_expect(ward_restricted != 0, 0)) {                              \
			if ((fd) < 0 || !ward_held_close_begin(fd))                           \
				goto full_;                                                   \
			announced_ = true;                                                    \
		}                                                                             \
		if ((fd) >= 0) {                                                              \
			ward_fdtable_clear(fd);                                               \
			frame_.closing_fd = (fd);                                             \
		}                                                                             \
	} else {                                                                              \
		if (ward_hook_fd_closing(&frame_, fd)) WARD_PRETEND_DONE(0)                   \
		if (__builtin_expect(ward_restricted != 0, 0)) {                              \
			(void)WARD_REAL(close); /* known: the next close may be lean */       \
			ward_held_close(&frame_, fd); /* acts hold descriptors */             \
		}                                                                             \
	}
/* A stream's or DIR's descriptor closing, lean as PRE_FD_CLOSING: the
 * stream's number read from the FILE itself (libc's fileno sets errno for
 * a stream with none, which the lean path would not put back; those, -1,
 * go the full way). */
#define WARD_LEAN_CLOSING(fd_expr, full_call)                                                 \
	if (lean_) {                                                                          \
		int lean_fd_ = (fd_expr);                                                     \
		if (__builtin_expect(ward_restricted != 0, 0) || __builtin_expect(lean_fd_ < 0, 0) || \
		    __builtin_expect(ward_guard_may_concern(lean_fd_), 0))                    \
			goto full_;                                                           \
		ward_fdtable_clear(lean_fd_);                                                 \
		frame_.closing_fd = lean_fd_;                                                 \
	} else                                                                                \
		full_call
#define PRE_STREAM_CLOSING(stream) \
	WARD_LEAN_CLOSING((stream) != NULL ? (stream)->_fileno : -1, ward_hook_fd_closing(&frame_, ward_stream_fd(stream)))
#define PRE_DIR_CLOSING(dir) WARD_LEAN_CLOSING(ward_dir_fd(dir), ward_hook_fd_closing(&frame_, ward_dir_fd(dir)))
#define PRE_ALL_STREAMS_CLOSING() ward_hook_all_streams_closing(&frame_)
#define PRE_FD_REPLACING(newfd) ward_hook_fd_replacing(&frame_, newfd)
/* dup2 (flags -1) and dup3: made around the descriptors acts hold */
#define FD_REPLACE(fd, newfd, flags) \
	if (frame_.deny == 0) ward_held_replace(&frame_, fd, newfd, flags)
#define PRE_RANGE_CLOSING(first, last, flags) \
	if (ward_hook_range_closing(&frame_, first, last, flags)) WARD_PRETEND_DONE(0)
#define PRE_RANGE_CLOSING_VOID(first, last, flags) \
	if (ward_hook_range_closing(&frame_, first, last, flags)) WARD_PRETEND_DONE()

/* Policy checks: set frame_.deny when the call must be refused. */
#define FOLLOW true
#define NOFOLLOW false
/* In the lean template (lean_ 1: see below) a call the policy restricts
 * leaves for the full one before anything is done. */
#define WARD_IF_RESTRICTED(ops, call)                                                                 \
	if (lean_) {                                                                                  \
		if (__builtin_expect((ward_restricted & (ops)) != 0, 0))                              \
			goto full_;                                                                   \
	} else if (__builtin_expect((ward_restricted & (ops)) != 0, 0) && frame_.deny == 0 && ward_ready() && \
	           (ward_restricted & (ops)) != 0)                                                    \
		frame_.deny = (call)
/* CHECK: decided, and the call pointed at exactly what was decided (its
 * path argument replaced; checks.c).  CHECK_NAME_ONLY: decided, the call
 * made on the program's own path: for calls whose result is a name built
 * from it (realpath), that write into it (mkstemp, mkdtemp), and metadata
 * reads (CHECK_META). */
#define CHECK(ops, dirfd, path, follow) \
	WARD_IF_RESTRICTED(ops, ward_check_act(&frame_, ops, dirfd, (const char **)&(path), follow, 0))
#define CHECK_NAME_ONLY(ops, dirfd, path, follow) \
	WARD_IF_RESTRICTED(ops, ward_check_path(&frame_, ops, dirfd, path, follow))
/* *at calls: AT_EMPTY_PATH with "" acts on dirfd itself, decided on the
 * file it names like the f-calls. */
#define WARD_EMPTY_PATH(path, flags) (((flags) & AT_EMPTY_PATH) && ward_empty_path(path))
/* An *at call's own dirfd variable: the call is made on the decided
 * directory's descriptor and the bare name (no walk through /proc). */
#define CHECK_DIRFD(ops, dirfd, path, follow) \
	WARD_IF_RESTRICTED(ops, ward_check_act_at(&frame_, ops, &(dirfd), (const char **)&(path), follow, 0))
#define CHECK_AT(ops, dirfd, path, flags)                                          \
	{                                                                          \
		if (WARD_EMPTY_PATH(path, flags)) {                                 \
			CHECK_FD(ops, dirfd);                                       \
		} else {                                                            \
			CHECK_DIRFD(ops, dirfd, path, !((flags) & AT_SYMLINK_NOFOLLOW)); \
		}                                                                   \
	}
#define CHECK_OPEN(dirfd, path, flags, mode) \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_open(&frame_, dirfd, &(path), flags, mode))
#define CHECK_STAT(dirfd, path, flags, buf) \
	WARD_IF_RESTRICTED(WARD_OP_STAT, ward_check_stat(&frame_, dirfd, path, flags, buf))
/* Metadata calls (stat family, access, readlink, getxattr): decided
 * exactly, made on the program's path (checks.c says why). */
#define CHECK_META(dirfd, path, follow) CHECK_NAME_ONLY(WARD_OP_STAT, dirfd, path, follow)
#define CHECK_META_AT(dirfd, path, flags)                                          \
	{                                                                          \
		if (WARD_EMPTY_PATH(path, flags)) {                                 \
			CHECK_FD(WARD_OP_STAT, dirfd);                              \
		} else {                                                            \
			CHECK_META(dirfd, path, !((flags) & AT_SYMLINK_NOFOLLOW));  \
		}                                                                   \
	}
/* access probes (SPEC 5.1): R_OK, W_OK, X_OK answer as the policy would
 * decide read, write, exec (EACCES, no record); F_OK is a stat. */
#define CHECK_ACCESS(dirfd, path, mode, flags) \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_access(&frame_, dirfd, path, mode, flags))
#define CHECK_FOPEN(path, mode) WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_fopen(&frame_, &(path), &(mode), true))
/* setmntent: decided like fopen, then libc's own fopen made on the decided
 * file (its /proc/self/fd name, as for freopen). */
#define CHECK_STDIO_OPEN(path, mode) WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_fopen(&frame_, &(path), &(mode), false))
#define CHECK_OPENDIR(path) WARD_IF_RESTRICTED(WARD_OP_READ, ward_check_opendir(&frame_, &(path)))
/* freopen(NULL, mode, stream) reopens the stream's own file with a new
 * mode: decided on that file like an open. */
#define CHECK_FREOPEN(path, mode, stream)                                          \
	{                                                                          \
		if (ward_null_path(path)) {                                         \
			WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_reopen(&frame_, mode, ward_stream_fd(stream))); \
		} else {                                                            \
			WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_fopen(&frame_, &(path), &(mode), false)); \
		}                                                                   \
	}
/* mkstemp family, mkdtemp: the names made and created by the shim (tempnames.c) */
#define CHECK_MKTEMP(template, suffixlen, flags, dir) \
	WARD_IF_RESTRICTED(WARD_OP_CREATE, ward_check_mktemp(&frame_, template, suffixlen, flags, dir))
#define CHECK_FD(ops, fd) WARD_IF_RESTRICTED(ops, ward_check_fd(&frame_, ops, &(fd)))
#define CHECK_RENAME(fromfd, from, tofd, to, flags) \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_rename(&frame_, &(fromfd), &(from), &(tofd), &(to), flags))
/* The plain forms (mkdir, rmdir, unlink, symlink, mknod, mkfifo, rename,
 * link): decided like the *at forms, and when the decision gives a
 * directory descriptor the shim makes the call as its *at form on it
 * (make: that system call), so the kernel does not walk /proc to reach
 * the name.  The result goes back to the wrapper in the frame. */
#define CHECK_PLAIN(ops, path, make)                                                 \
	int at_ = AT_FDCWD;                                                          \
	WARD_IF_RESTRICTED(ops, ward_check_act_at(&frame_, ops, &at_, (const char **)&(path), false, 0)); \
	if (frame_.deny == 0 && at_ != AT_FDCWD) {                                   \
		long made_ = (make);                                                 \
		ward_frame_complete(&frame_, made_);                                 \
	}
#define CHECK_RENAME_PLAIN(from, to)                                                 \
	int from_at_ = AT_FDCWD, to_at_ = AT_FDCWD;                                  \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_rename(&frame_, &from_at_, &(from), &to_at_, &(to), 0)); \
	if (frame_.deny == 0 && (from_at_ != AT_FDCWD || to_at_ != AT_FDCWD)) {      \
		long made_ = ward_syscall(SYS_renameat, from_at_, from, to_at_, to);    \
		ward_frame_complete(&frame_, made_);                                 \
	}
#define CHECK_LINK_PLAIN(from, to)                                                   \
	int from_at_ = AT_FDCWD, to_at_ = AT_FDCWD;                                  \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_link(&frame_, &from_at_, &(from), &to_at_, &(to), 0)); \
	if (frame_.deny == 0 && (from_at_ != AT_FDCWD || to_at_ != AT_FDCWD)) {      \
		long made_ = ward_syscall(SYS_linkat, from_at_, from, to_at_, to, 0);   \
		ward_frame_complete(&frame_, made_);                                 \
	}
#define CHECK_RENAME_CWD(from, to) \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_rename(&frame_, NULL, &(from), NULL, &(to), 0))
#define CHECK_LINK(fromfd, from, tofd, to, flags) \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_link(&frame_, &(fromfd), &(from), &(tofd), &(to), flags))
#define CHECK_LINK_CWD(from, to) \
	WARD_IF_RESTRICTED(WARD_OP_ALL, ward_check_link(&frame_, NULL, &(from), NULL, &(to), 0))
#define CHECK_UTIMENSAT(dirfd, path, flags) \
	WARD_IF_RESTRICTED(WARD_OP_WRITE, ward_check_utimensat(&frame_, &(dirfd), &(path), flags))
/* Routes that are not a path argument (routes.h). */
#define CHECK_SOCKADDR(ops, addr, len) \
	WARD_IF_RESTRICTED(ops, ward_check_sockaddr(&frame_, ops, (addr).__sockaddr__, len))
#define CHECK_MSGHDR(msg) WARD_IF_RESTRICTED(WARD_OP_WRITE, ward_check_msghdr(&frame_, msg))
#define CHECK_MMSGHDR(msgs, count) WARD_IF_RESTRICTED(WARD_OP_WRITE, ward_check_mmsghdr(&frame_, msgs, count))
#define CHECK_HANDLE(mount_fd, handle, flags) \
	if (frame_.deny == 0) frame_.deny = ward_check_handle_open(&frame_, mount_fd, handle, flags)
#define CHECK_NAME_TO_HANDLE(dirfd, path, flags) \
	WARD_IF_RESTRICTED(WARD_OP_STAT, ward_check_name_to_handle(&frame_, dirfd, path, flags))
#define CHECK_CHROOT(path) frame_.deny = ward_check_chroot(&frame_, path)
/* mount, umount, swapon: the namespace under the policy's names would
 * change: refused under a policy, like chroot (process.c). */
#define CHECK_REMOUNT(what, path) \
	if (ward_config.policy != NULL && frame_.active) frame_.deny = ward_refuse_remount(&frame_, what, path)
/* shm_open, shm_unlink, sem_unlink name files under /dev/shm that glibc
 * opens and removes with calls no wrapper sees: decided on that file. */
#define PRE_SHM_PATH(name, dir)                                                     \
	char shm_path_[sizeof(dir) + 256];                                          \
	snprintf(shm_path_, sizeof(shm_path_), "%s%s", dir, ward_shm_name(name))
#define CHECK_OPEN_NAME(path, flags) CHECK_NAME_ONLY(ward_checks_ops_of_open(flags), AT_FDCWD, path, NOFOLLOW)
/* Keeping libward.so in the tree (process.c). */
#define CHECK_RLIMIT(pid, resource, rlim) \
	if (ward_config.policy != NULL && frame_.active) frame_.deny = ward_check_rlimit(&frame_, pid, (int)(resource), rlim)
/* prctl's four further arguments, read as glibc's prctl reads them. */
#define PRE_VA_PRCTL(option)                        \
	unsigned long a2, a3, a4, a5;               \
	{                                           \
		va_list ap_;                        \
		va_start(ap_, option);              \
		a2 = va_arg(ap_, unsigned long);    \
		a3 = va_arg(ap_, unsigned long);    \
		a4 = va_arg(ap_, unsigned long);    \
		a5 = va_arg(ap_, unsigned long);    \
		va_end(ap_);                        \
	}
#define CHECK_PRCTL(option, mode)                                                             \
	if (__builtin_expect((option) == PR_SET_SECCOMP, 0)) frame_.deny = ward_check_seccomp(&frame_, mode); \
	else frame_.deny = ward_rawsys_check_prctl(&frame_, option)
/* ptrace's three variadic arguments, read as glibc's ptrace reads them. */
#define PRE_VA_PTRACE(request)                      \
	pid_t pid;                                  \
	void *addr, *data;                          \
	{                                           \
		va_list ap_;                        \
		va_start(ap_, request);             \
		pid = va_arg(ap_, pid_t);           \
		addr = va_arg(ap_, void *);         \
		data = va_arg(ap_, void *);         \
		va_end(ap_);                        \
	}
#define CHECK_PTRACE(request, pid) \
	if (ward_config.policy != NULL && frame_.active) frame_.deny = ward_check_ptrace(&frame_, request, pid)
#define CHECK_REACH(what, pid) \
	if (ward_config.policy != NULL && frame_.active && frame_.deny == 0) frame_.deny = ward_refuse_reach(&frame_, what, pid)
/* One compare on the request before anything else: ioctl is frequent. */
#define CHECK_IOCTL(request, arg) \
	if (__builtin_expect(WARD_IOCTL_TYPES(request), 0)) frame_.deny = ward_check_ioctl(&frame_, request, arg)
#define CHECK_PERSONALITY(persona) frame_.deny = ward_check_personality(&frame_, persona)
#define CHECK_DLOPEN(file, mode)                                                                 \
	WARD_IF_RESTRICTED(WARD_OP_READ, ward_check_dlopen(&frame_, file, mode, __builtin_return_address(0))); \
	if (__builtin_expect(ward_restricted == 0, 1) && frame_.deny == 0 && ward_limits_wx_deny() && ward_ready()) \
		frame_.deny = ward_check_dlopen(&frame_, file, mode, __builtin_return_address(0)) /* memory wx deny only */

/* limit fds: room for n more descriptors (checked before an open, which
 * the open check may make itself). */
#define CHECK_FDS(n)                                                     \
	if (lean_) {                                                     \
		if (__builtin_expect(ward_fd_limit != 0, 0))             \
			goto full_;                                      \
	} else if (__builtin_expect(ward_fd_limit != 0, 0) && frame_.deny == 0) \
		frame_.deny = ward_check_fds(&frame_, n)

/* memory wx deny: nothing both writable and executable. */
#define CHECK_WX(prot) \
	if (__builtin_expect(((prot) & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC), 0)) \
		frame_.deny = ward_check_wx(&frame_, prot)

/* ---- post hooks: run after a counted call, result in r ---- */
#define CWD_CHANGED(r) \
	if ((r) == 0) ward_checks_cwd_changed()
/* A child was reaped: it is no longer live. */
/* (A child may have renamed the directory this process works in, as a
 * shell's `mv` does: the name is asked again at the next relative path.) */
#define CHILD_REAPED(r) \
	if ((r) > 0) { ward_children_remove(r); ward_cwd_forget(); }
#define CHILD_WAITID(r, info, options) \
	if ((r) == 0 && (info) != NULL && (info)->si_pid > 0 && !((options) & WNOWAIT)) { \
		ward_children_remove((info)->si_pid); \
		ward_cwd_forget(); \
	}
/* A name changed: remembered directory resolutions may be wrong now. */
#define NAMES_CHANGED(r) \
	if ((r) == 0) ward_dircache_invalidate()
/* A directory may have been renamed or removed: the working directory's
 * remembered name too (asked again at the next relative path). */
#define DIRS_CHANGED(r) \
	if ((r) == 0) { ward_dircache_invalidate(); ward_cwd_forget(); }
#define POST_NONE (void)0
/* The template's post hooks add in the slot it found (slot_, shared_). */
#define FD_OPENED(r, flags, kind)                                                         \
	if ((r) >= 0) {                                                                   \
		ward_fdtable_set(r, kind, flags);                                         \
		ward_counters_add_known(slot_, shared_, WARD_IDX_FILES_OPENED, 1);        \
	}
#define STREAM_OPENED(r) ward_hook_stream_opened(&frame_, r)
#define DIR_OPENED(r) ward_hook_fd_opened(&frame_, ward_dir_fd(r), O_RDONLY | O_DIRECTORY, WARD_FD_DIR)
#define FD_PAIR(r, fds, flags, kind) ward_hook_fd_pair(&frame_, r, fds, flags, kind)
#define FD_DUP(r, fd, newfd, cloexec) ward_hook_fd_dup(&frame_, r, fd, newfd, cloexec)
#define FD_FCNTL(r, fd, cmd, arg) ward_hook_fd_fcntl(&frame_, r, fd, cmd, arg)
#define FD_CLOSED(r) \
	if ((r) == 0 && frame_.closing_fd >= 0) ward_counters_add_known(slot_, shared_, WARD_IDX_FILES_CLOSED, 1)
/* close: and the change PRE_FD_CLOSING announced (lean, under a policy) ended */
#define FD_CLOSED_ANNOUNCED(r) \
	FD_CLOSED(r);          \
	if (lean_ && announced_) ward_held_close_end()
#define RANGE_CLOSED(r, first, last, flags) ward_hook_range_closed(&frame_, r, first, last, flags)
#define FD_IO(r, index) \
	if ((r) > 0) ward_counters_add_known(slot_, shared_, index, (uint64_t)(r))
#define FD_READ(r) FD_IO(r, WARD_IDX_BYTES_READ)
#define FD_WRITTEN(r) FD_IO(r, WARD_IDX_BYTES_WRITTEN)
#define FD_COPIED(r) FD_IO(r, WARD_IDX_BYTES_READ); FD_IO(r, WARD_IDX_BYTES_WRITTEN)

/* ---- the templates ---- */
/* After the real call: ward_frame_count_as, the post hook and
 * ward_frame_done in one, with the slot, its `shared` and the call's errno
 * kept in registers (the frame's copies are what the hooks see), so the
 * window is closed without reloading the slot and testing it again. */
#define WARD_CALL_FINISH(name, failed, post)                                          \
	int errno_ = frame_.saved_errno = errno;                                      \
	struct ward_counter_slot *window_ = NULL; /* the window to close */           \
	if (__builtin_expect(frame_.counting, 1)) {                                   \
		struct ward_counter_slot *slot_ = frame_.slot = ward_counters_slot(); \
		bool shared_ = slot_->shared;                                         \
		ward_frame_add_calls(slot_, shared_, WARD_ID_##name, failed);         \
		post;                                                                 \
		window_ = shared_ ? NULL : slot_;                                     \
	}                                                                             \
	if (__builtin_expect(frame_.held != NULL, 0))                                 \
		ward_act_release(&frame_);                                            \
	if (__builtin_expect(window_ != NULL, 1))                                     \
		ward_counters_raw_add(&window_->window, WARD_WINDOW_CLOSE);           \
	errno = errno_
/* Which wrappers have the lean path: WARD_LEAN_name defined as
 * WARD_LEAN_YES, or WARD_LEAN_VARIADIC for a function with `...` (the
 * argument count trick: the name's macro adds arguments); for the others
 * WARD_IS_LEAN is 0 and the path dead code.  A lean wrapper of fixed
 * arguments makes its full path a function of its own (ward_full_name,
 * reached by a tail call), so the lean one pays for no register the full
 * one needs; `...` cannot be passed on, so a variadic one keeps it. */
#define WARD_LEAN_YES(ops) ~, 1, 1, ops
#define WARD_LEAN_VARIADIC(ops) ~, 1, 0, ops
#define WARD_SECOND_(a, b, ...) b
#define WARD_SECOND(...) WARD_SECOND_(__VA_ARGS__)
#define WARD_THIRD_(a, b, c, ...) c
#define WARD_THIRD(...) WARD_THIRD_(__VA_ARGS__)
#define WARD_FOURTH_(a, b, c, d, ...) d
#define WARD_FOURTH(...) WARD_FOURTH_(__VA_ARGS__)
#define WARD_IS_LEAN(name) WARD_SECOND(WARD_LEAN_##name, 0, ~)
/* ops: the operations whose restriction sends the call to the full path
 * (its checks'), tested first: a checked call then pays one test for the
 * lean path it does not take. */
#define WARD_LEAN_OPS(name) WARD_FOURTH(WARD_LEAN_##name, 0, 0, 0, ~)
#define WARD_PASTE_(a, b) a##b
#define WARD_PASTE(a, b) WARD_PASTE_(a, b)
#define WARD_FULL_CALL_1(name, args) return ward_full_##name args;
#define WARD_FULL_CALL_0(name, args)
#define WARD_FULL_CALL(name, args) WARD_PASTE(WARD_FULL_CALL_, WARD_THIRD(WARD_LEAN_##name, 0, 0, 0, ~))(name, args)
/* Opened, closed, read, written, stat'ed: only pre hooks that are lean
 * (PRE_NONE, PRE_VA_MODE, CHECK_FDS, the WARD_IF_RESTRICTED checks,
 * PRE_FD_CLOSING, PRE_STREAM_CLOSING, PRE_DIR_CLOSING) and post hooks that
 * only count and set the FD table, none of which touches errno. */
#define WARD_LEAN_open WARD_LEAN_VARIADIC(WARD_OP_ALL)
#define WARD_LEAN_open64 WARD_LEAN_VARIADIC(WARD_OP_ALL)
#define WARD_LEAN_openat WARD_LEAN_VARIADIC(WARD_OP_ALL)
#define WARD_LEAN_openat64 WARD_LEAN_VARIADIC(WARD_OP_ALL)
#define WARD_LEAN___open_2 WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN___open64_2 WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN___openat_2 WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN___openat64_2 WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_creat WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_creat64 WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_close WARD_LEAN_YES(0) /* (under a policy too: PRE_FD_CLOSING) */
#define WARD_LEAN_read WARD_LEAN_YES(0)
#define WARD_LEAN___read_chk WARD_LEAN_YES(0)
#define WARD_LEAN_pread WARD_LEAN_YES(0)
#define WARD_LEAN_pread64 WARD_LEAN_YES(0)
#define WARD_LEAN___pread_chk WARD_LEAN_YES(0)
#define WARD_LEAN___pread64_chk WARD_LEAN_YES(0)
#define WARD_LEAN_readv WARD_LEAN_YES(0)
#define WARD_LEAN_write WARD_LEAN_YES(0)
#define WARD_LEAN_pwrite WARD_LEAN_YES(0)
#define WARD_LEAN_pwrite64 WARD_LEAN_YES(0)
#define WARD_LEAN_writev WARD_LEAN_YES(0)
#define WARD_LEAN_stat WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_stat64 WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_lstat WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_lstat64 WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_fstat WARD_LEAN_YES(0)
#define WARD_LEAN_fstat64 WARD_LEAN_YES(0)
#define WARD_LEAN_fstatat WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_fstatat64 WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___xstat WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___xstat64 WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___lxstat WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___lxstat64 WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___fxstat WARD_LEAN_YES(0)
#define WARD_LEAN___fxstat64 WARD_LEAN_YES(0)
#define WARD_LEAN_access WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_statx WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___fxstatat WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___fxstatat64 WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_readlink WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___readlink_chk WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_readlinkat WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN___readlinkat_chk WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_getxattr WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_lgetxattr WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_listxattr WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_llistxattr WARD_LEAN_YES(WARD_OP_STAT)
#define WARD_LEAN_faccessat WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_euidaccess WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_eaccess WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_fgetxattr WARD_LEAN_YES(0)
#define WARD_LEAN_flistxattr WARD_LEAN_YES(0)
#define WARD_LEAN_preadv WARD_LEAN_YES(0)
#define WARD_LEAN_preadv64 WARD_LEAN_YES(0)
#define WARD_LEAN_preadv2 WARD_LEAN_YES(0)
#define WARD_LEAN_preadv64v2 WARD_LEAN_YES(0)
#define WARD_LEAN_pwritev WARD_LEAN_YES(0)
#define WARD_LEAN_pwritev64 WARD_LEAN_YES(0)
#define WARD_LEAN_pwritev2 WARD_LEAN_YES(0)
#define WARD_LEAN_pwritev64v2 WARD_LEAN_YES(0)
#define WARD_LEAN_fdopen WARD_LEAN_YES(0)
#define WARD_LEAN_fdopendir WARD_LEAN_YES(0)
#define WARD_LEAN_fopen WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_fopen64 WARD_LEAN_YES(WARD_OP_ALL)
#define WARD_LEAN_fclose WARD_LEAN_YES(~0u)
#define WARD_LEAN_opendir WARD_LEAN_YES(WARD_OP_READ)
#define WARD_LEAN_closedir WARD_LEAN_YES(~0u)
#define WARD_LEAN_readdir WARD_LEAN_YES(0)
#define WARD_LEAN_readdir64 WARD_LEAN_YES(0)

/* Outside a lean template, the hooks' lean branches are dead code. */
enum { lean_ = 0 };

/*
 * WARD_CALL: a lean path, then the full one.
 *
 * The lean path: the hottest calls (WARD_LEAN_name below) observed.
 * When the thread is counting in its own slot (not the shim's own work,
 * not a vfork child, not a thread of the shared overflow slot) and the
 * real function is known, the call runs with nothing but the counting:
 * errno is never read or written (nothing here can change it: the FD
 * table maps its chunks with raw system calls that leave errno alone), and
 * the frame never leaves registers.  Its pre hooks see lean_ and, where
 * the policy or a limit or the stats guard would do anything, leave for
 * the full template (goto full_) before they have changed anything, so a
 * call is made exactly as before in every other case: under a policy
 * (ward_restricted), limit fds, and the descriptors the guard watches.
 * The full path is every other wrapper's, and where a lean one leaves
 * to (full_).  One macro: pre may hold commas outside parentheses (a
 * declaration of several variables), so it is not passed on to another.
 */
#define WARD_CALL(ret, name, params, args, fail, pre, post)                                                \
	WARD_EXPORT ret name params;                                                                        \
	static __attribute__((noinline, unused)) ret ward_full_##name params                                \
	{                                                                                                   \
	full_: __attribute__((unused));                                                                     \
		struct ward_frame frame_;                                                                   \
		ward_frame_enter(&frame_, WARD_ID_##name);                                                  \
		pre;                                                                                        \
		if (__builtin_expect(frame_.deny != 0, 0)) {                                                \
			ward_frame_refuse(&frame_);                                                         \
			return WARD_REFUSED_##fail;                                                         \
		}                                                                                           \
		ret r;                                                                                      \
		if (__builtin_expect(frame_.done, 0)) {                                                     \
			r = (ret)frame_.result;                                                             \
			errno = frame_.done_errno;                                                          \
		} else {                                                                                    \
			errno = frame_.saved_errno;                                                         \
			r = WARD_REAL(name) args;                                                           \
		}                                                                                           \
		WARD_CALL_FINISH(name, WARD_FAILED_##fail(r), post);                                        \
		return r;                                                                                   \
	}                                                                                                   \
	WARD_EXPORT ret name params                                                                         \
	{                                                                                                   \
		if (WARD_IS_LEAN(name) && __builtin_expect((ward_restricted & (WARD_LEAN_OPS(name))) == 0, 1)) { \
			struct ward_counter_slot *slot_ = ward_counters_mine;                               \
			__typeof__(&name) real_ = (__typeof__(&name))ward_real_fn[WARD_ID_##name];          \
			if (__builtin_expect((ward_busy | ward_in_vfork) == 0 && slot_ != NULL && real_ != NULL, 1) && \
			    __builtin_expect(!slot_->shared, 1)) {                                          \
				enum { lean_ = 1 };                                                         \
				const bool shared_ = false;                                                 \
				struct ward_frame frame_; /* what hooks read of it (most fold away) */      \
				frame_.active = frame_.counting = true;                                     \
				frame_.id = WARD_ID_##name;                                                 \
				frame_.slot = slot_;                                                        \
				frame_.closing_fd = -1;                                                     \
				frame_.deny = 0;                                                            \
				frame_.done = false;                                                        \
				frame_.held = NULL;                                                         \
				pre;                                                                        \
				ret r = real_ args;                                                         \
				ward_counters_raw_add(&slot_->window, 1);                                   \
				ward_counters_raw_add(&slot_->value[WARD_IDX_CALLS(WARD_ID_##name)], 1);    \
				if (WARD_FAILED_##fail(r))                                                  \
					ward_counters_raw_add(&slot_->value[WARD_IDX_ERRORS(WARD_ID_##name)], 1); \
				post;                                                                       \
				(void)shared_;                                                              \
				(void)frame_;                                                               \
				ward_counters_raw_add(&slot_->window, WARD_WINDOW_CLOSE);                   \
				return r;                                                                   \
			}                                                                                   \
		}                                                                                           \
	full_: __attribute__((unused));                                                                     \
		WARD_FULL_CALL(name, args)                                                                  \
		struct ward_frame frame_;                                                                   \
		ward_frame_enter(&frame_, WARD_ID_##name);                                                  \
		pre;                                                                                        \
		if (__builtin_expect(frame_.deny != 0, 0)) {                                                \
			ward_frame_refuse(&frame_);                                                         \
			return WARD_REFUSED_##fail;                                                         \
		}                                                                                           \
		ret r;                                                                                      \
		if (__builtin_expect(frame_.done, 0)) {                                                     \
			r = (ret)frame_.result;                                                             \
			errno = frame_.done_errno;                                                          \
		} else {                                                                                    \
			errno = frame_.saved_errno;                                                         \
			r = WARD_REAL(name) args;                                                           \
		}                                                                                           \
		WARD_CALL_FINISH(name, WARD_FAILED_##fail(r), post);                                        \
		return r;                                                                                   \
	}
#define WARD_CALL_VOID(name, params, args, pre, post)             \
	WARD_EXPORT void name params                               \
	{                                                          \
	full_: __attribute__((unused));                            \
		struct ward_frame frame_;                          \
		ward_frame_enter(&frame_, WARD_ID_##name);         \
		pre;                                               \
		if (__builtin_expect(frame_.deny != 0, 0)) {       \
			ward_frame_refuse(&frame_);                \
			return;                                    \
		}                                                  \
		errno = frame_.saved_errno;                        \
		WARD_REAL(name) args;                              \
		WARD_CALL_FINISH(name, false, post);               \
	}
#define WARD_CALL_CUSTOM(name)
#include "calls.def"
#undef WARD_CALL
#undef WARD_CALL_VOID
#undef WARD_CALL_CUSTOM

/* ---- process image ---- */

/*
 * Every exec variant: check what would run (policy), put the tree's
 * LD_PRELOAD and WARD_* back into the environment it passes on (built in
 * the thread's exec room: as big as the program's environment, so never on
 * the caller's stack, and mapped ahead, since a vfork child may not
 * allocate), count the call and dump this image's figures just before the
 * real exec (they would be lost with the image), then, if the exec fails
 * after all, count the failure.  real_call sees the fixed environment as
 * env_.  A vfork child gives the room back before its exec: it never comes
 * back to, and the parent may need it once the exec is made.
 */
#define WARD_EXEC(name, dirfd, file, search_path, envp, real_call)               \
	do {                                                                      \
		struct ward_frame frame_;                                         \
		ward_frame_enter(&frame_, WARD_ID_##name);                        \
		const char *file_ = (file);                                       \
		frame_.deny = ward_check_exec(&frame_, dirfd, &file_, search_path); \
		if (frame_.deny) {                                                \
			ward_frame_refuse(&frame_);                               \
			return -1;                                                \
		}                                                                 \
		char *const *given_ = (envp);                                     \
		char *const *env_ = given_;                                       \
		bool room_ = frame_.active;                                       \
		if (room_ && !ward_exec_env_room(given_, 0, &env_)) { /* no room for the tree's environment: not made */ \
			frame_.deny = -ENOMEM;                                    \
			ward_frame_refuse(&frame_);                               \
			return -1;                                                \
		}                                                                 \
		char act_[WARD_PROCFD_NAME_MAX];                                  \
		struct ward_scratch *kept_;                                       \
		int act_fd_ = ward_act_detach(&frame_, &file_, act_, (file), &kept_); \
		bool foreign_ = ward_in_foreign_child();                          \
		if (room_ && foreign_) {                                          \
			ward_exec_env_done();                                     \
			room_ = false;                                            \
		}                                                                 \
		bool counted_ = frame_.counting && !foreign_;                     \
		bool dumped_ = false;                                             \
		if (counted_) {                                                   \
			ward_frame_count(&frame_, false);                         \
			ward_counters_add(frame_.slot, WARD_IDX_EXECS, 1);        \
			ward_frame_done(&frame_);                                 \
			dumped_ = ward_before_exec(file_, search_path && strchr(file_, '/') == NULL); \
		}                                                                 \
		errno = frame_.saved_errno;                                       \
		/* a binary runs from its descriptor (execveat keeps its name as \
		 * the process name, where /proc/self/fd/N would name it "N") */  \
		int r_ = act_fd_ >= 0 ? WARD_REAL(execveat)(act_fd_, "", argv, env_, AT_EMPTY_PATH) \
		                      : real_call;                                \
		int failed_errno_ = errno;                                        \
		if (room_)                                                        \
			ward_exec_env_done();                                     \
		if (kept_ != NULL)                                                \
			ward_act_give_back(kept_);                                \
		else if (act_fd_ >= 0)                                            \
			ward_syscall(SYS_close, act_fd_);                         \
		errno = failed_errno_;                                            \
		if (counted_)                                                     \
			ward_exec_failed(WARD_ID_##name, dumped_);                \
		return r_;                                                        \
	} while (0)

WARD_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	WARD_EXEC(execve, AT_FDCWD, path, false, envp, WARD_REAL(execve)(file_, argv, env_));
}

WARD_EXPORT int
execv(const char *path, char *const argv[])
{
	WARD_EXEC(execv, AT_FDCWD, path, false, environ, WARD_REAL(execve)(file_, argv, env_));
}

WARD_EXPORT int
execvp(const char *file, char *const argv[])
{
	WARD_EXEC(execvp, AT_FDCWD, file, true, environ, WARD_REAL(execvpe)(file_, argv, env_));
}

WARD_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	WARD_EXEC(execvpe, AT_FDCWD, file, true, envp, WARD_REAL(execvpe)(file_, argv, env_));
}


WARD_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	char program[WARD_PROCFD_NAME_MAX];
	WARD_EXEC(fexecve, AT_FDCWD, ward_procfd_name(program, fd), false, envp,
	          WARD_REAL(fexecve)(fd, argv, env_));
}

WARD_EXPORT int
execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	char program[WARD_PROCFD_NAME_MAX];
	bool empty = (flags & AT_EMPTY_PATH) && strlen(path) == 0;
	WARD_EXEC(execveat, empty ? AT_FDCWD : dirfd, empty ? ward_procfd_name(program, dirfd) : path,
	          false, envp,
	          WARD_REAL(execveat)(dirfd, empty || (flags & AT_SYMLINK_NOFOLLOW) ? path : file_, argv, env_, flags));
}

/* syscall(SYS_execve / SYS_execveat, ...) (libc_syscall.c): decided and carried
 * like execve and execveat, counted as the syscall row. */
long
ward_syscall_exec(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	char program[WARD_PROCFD_NAME_MAX];
	bool empty = path != NULL && (flags & AT_EMPTY_PATH) && path[0] == '\0';
	bool at = dirfd != AT_FDCWD || flags != 0;
	WARD_EXEC(syscall, empty ? AT_FDCWD : dirfd, empty ? ward_procfd_name(program, dirfd) : path, false, envp,
	          (int)(at ? ward_syscall(SYS_execveat, dirfd, empty || (flags & AT_SYMLINK_NOFOLLOW) ? path : file_,
	                                  argv, env_, flags)
	                   : ward_syscall(SYS_execve, file_, argv, env_)));
}

/* execl, execlp, execle: gather the list into an argv on the stack (a few
 * pointers; glibc does the same) and run the vector form. */
#define WARD_GATHER_ARGS(arg, argv, ap)                                  \
	size_t argc_ = 1;                                                \
	va_list ap;                                                      \
	va_start(ap, arg);                                               \
	while (va_arg(ap, char *) != NULL)                               \
		argc_++;                                                 \
	va_end(ap);                                                      \
	char *argv[argc_ + 1];                                           \
	argv[0] = (char *)arg;                                           \
	va_start(ap, arg);                                               \
	for (size_t i_ = 1; i_ <= argc_; i_++)                           \
		argv[i_] = va_arg(ap, char *);

WARD_EXPORT int
execl(const char *path, const char *arg, ...)
{
	WARD_GATHER_ARGS(arg, argv, ap);
	va_end(ap);
	WARD_EXEC(execl, AT_FDCWD, path, false, environ, WARD_REAL(execve)(file_, argv, env_));
}

WARD_EXPORT int
execlp(const char *file, const char *arg, ...)
{
	WARD_GATHER_ARGS(arg, argv, ap);
	va_end(ap);
	WARD_EXEC(execlp, AT_FDCWD, file, true, environ, WARD_REAL(execvpe)(file_, argv, env_));
}

WARD_EXPORT int
execle(const char *path, const char *arg, ...)
{
	WARD_GATHER_ARGS(arg, argv, ap);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	WARD_EXEC(execle, AT_FDCWD, path, false, envp, WARD_REAL(execve)(file_, argv, env_));
}

/* _exit skips destructors: dump first (not in a vfork child, whose figures
 * are the parent's memory). */
#define WARD_EXIT(name, status)                                      \
	do {                                                         \
		struct ward_frame frame_;                            \
		ward_frame_enter(&frame_, WARD_ID_##name);           \
		if (frame_.counting && !ward_in_foreign_child()) {   \
			ward_frame_count(&frame_, false);            \
			ward_frame_done(&frame_);                    \
			ward_image_ends(#name);                      \
		}                                                    \
		WARD_REAL(name)(status);                             \
		__builtin_unreachable();                             \
	} while (0)

WARD_EXPORT void
_exit(int status)
{
	WARD_EXIT(_exit, status);
}

WARD_EXPORT void
_Exit(int status)
{
	WARD_EXIT(_Exit, status);
}

/* A new child in the parent: count it and remember it. */
static void
forked(struct ward_frame *f, pid_t r)
{
	ward_frame_count(f, r == -1);
	if (r > 0) {
		ward_children_add(r);
		if (f->slot != NULL)
			ward_counters_add(f->slot, WARD_IDX_FORKS, 1);
	}
	ward_frame_done(f);
}

/* vfork.S (and libc_syscall.S for a vfork-like syscall()) ask first: may
 * this process have another child?  0, or the errno (set, the call counted
 * as refused), for the call id. */
int
ward_vfork_check_as(enum ward_call_id id)
{
	struct ward_frame frame_;
	ward_frame_enter(&frame_, id);
	int err = ward_check_children(&frame_);
	if (err) {
		frame_.deny = err;
		ward_frame_refuse(&frame_);
		errno = err;
	}
	return err;
}

/* The parent's half (the kernel's raw result): count the call, report a
 * failure, count the child. */
long
ward_vfork_parent_as(enum ward_call_id id, long r)
{
	struct ward_frame frame_;
	ward_frame_enter(&frame_, id);
	if (WARD_SYSCALL_FAILED(r)) {
		errno = (int)-r;
		r = -1;
	}
	forked(&frame_, (pid_t)r);
	return r;
}

__attribute__((used)) int
ward_vfork_check(void)
{
	return ward_vfork_check_as(WARD_ID_vfork);
}

__attribute__((used)) pid_t
ward_vfork_parent(long r)
{
	return (pid_t)ward_vfork_parent_as(WARD_ID_vfork, r);
}

#define WARD_FORK(name, real_call)                                    \
	do {                                                          \
		struct ward_frame frame_;                             \
		ward_frame_enter(&frame_, WARD_ID_##name);            \
		frame_.deny = ward_check_children(&frame_);           \
		if (frame_.deny) {                                    \
			ward_frame_refuse(&frame_);                   \
			return -1;                                    \
		}                                                     \
		errno = frame_.saved_errno;                           \
		pid_t r = real_call;                                  \
		if (r == 0) { /* the child: its own figures */        \
			frame_.saved_errno = errno;                   \
			ward_frame_done(&frame_);                     \
			return 0;                                     \
		}                                                     \
		forked(&frame_, r);                                   \
		return r;                                             \
	} while (0)

/* vfork.S under --strict: a fork, counted as the vfork it was asked as. */
__attribute__((used)) pid_t
ward_vfork_as_fork(void)
{
	WARD_FORK(vfork, WARD_REAL(fork)());
}

/* fork runs the atfork handlers, which reset the child (runtime.c). */
WARD_EXPORT pid_t
fork(void)
{
	WARD_FORK(fork, WARD_REAL(fork)());
}

/* _Fork runs no atfork handlers: reset the child's figures here. */
static pid_t
real_fork_then_reset(void)
{
	pid_t r = WARD_REAL(_Fork)();
	if (r == 0)
		ward_after_fork_child();
	return r;
}

WARD_EXPORT pid_t
_Fork(void)
{
	WARD_FORK(_Fork, real_fork_then_reset());
}
