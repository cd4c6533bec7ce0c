/*
 * routes.h: decisions for the ways to reach a file that are not a plain
 * path argument: libc's syscall(), Unix socket addresses, file handles,
 * dlopen, and the process-wide changes the shim cannot follow (chroot,
 * personality).  Each check has the shape of shim.h's: 0 to go on, or the
 * errno the call fails with (recorded by the check that refused).
 */
#ifndef WARD_SHIM_ROUTES_H
#define WARD_SHIM_ROUTES_H

#include <stdbool.h>
#include <sys/socket.h>

#include "shim.h"

struct file_handle;

/* ---- Unix socket paths (sockets.c) ---- */
/* An AF_UNIX address naming a file needs ops on it (bind: create, without
 * following; connect/sendto: write, following).  Other families, abstract
 * and unnamed addresses are no files. */
int ward_check_sockaddr(struct ward_frame *f, unsigned int ops, const struct sockaddr *addr, socklen_t len);
int ward_check_msghdr(struct ward_frame *f, const struct msghdr *msg);
int ward_check_mmsghdr(struct ward_frame *f, const struct mmsghdr *msgs, unsigned int count);

/* ---- file handles (handles.c) ---- */
/* open_by_handle_at: decided on the file the handle leads to; when allowed
 * the call is made here (f->done). */
int ward_check_handle_open(struct ward_frame *f, int mount_fd, struct file_handle *handle, int flags);
/* name_to_handle_at: a stat of its path (AT_SYMLINK_FOLLOW, AT_EMPTY_PATH). */
int ward_check_name_to_handle(struct ward_frame *f, int dirfd, const char *path, int flags);

/* ---- process-wide changes (process.c) ---- */
int ward_check_chroot(struct ward_frame *f, const char *path);
/* mount, umount2, pivot_root and the new mount API (through syscall()):
 * refused with EPERM and recorded under a policy; op names the call. */
int ward_refuse_remount(struct ward_frame *f, const char *op, const char *what);
int ward_check_personality(struct ward_frame *f, unsigned long persona);
/* Keeping libward.so in the tree (not under --strict): RLIMIT_AS and
 * RLIMIT_DATA may not be lowered below the floor (pid 0: this process),
 * seccomp filters are refused (mode: SECCOMP_MODE_FILTER, which is also
 * SECCOMP_SET_MODE_FILTER's number); EPERM, EACCES, recorded. */
#define WARD_RLIMIT_FLOOR (256ull << 20)
struct rlimit;
int ward_check_rlimit(struct ward_frame *f, long pid, int resource, const struct rlimit *want);
int ward_check_seccomp(struct ward_frame *f, unsigned long mode);
/* ptrace attach and seize, process_vm_readv/writev, pidfd_getfd: another
 * process's memory or descriptors, refused with EPERM and recorded under
 * a policy; op names the call, pid the target (pidfd_getfd: its pidfd). */
int ward_refuse_reach(struct ward_frame *f, const char *op, long pid);
int ward_check_ptrace(struct ward_frame *f, long request, long pid);
/* clone (libc's, or through syscall(), clone3 too) sharing the descriptor
 * table without sharing memory: refused with EPERM and recorded under a
 * policy that restricts anything (held.c says why); else 0. */
int ward_check_clone_files(struct ward_frame *f, unsigned long flags);
/* ioctl TIOCSTI, TIOCLINUX set/paste selection: input pushed into a
 * terminal, refused with EPERM and recorded under a policy.  Called only
 * for those two requests (WARD_IOCTL_TYPES). */
int ward_check_ioctl(struct ward_frame *f, unsigned long request, const void *arg);
#define WARD_IOCTL_TYPES(request) ((request) == 0x5412 /* TIOCSTI */ || (request) == 0x541C /* TIOCLINUX */)

/* ---- dlopen (dlopen.c) ---- */
int ward_check_dlopen(struct ward_frame *f, const char *file, int mode, const void *caller);
/* dlerror's message after a refused dlopen (NULL when none is pending). */
char *ward_dlopen_refusal_message(void);

/* ---- syscall(SYS_execve / SYS_execveat) (wrappers.c, beside the exec family) ---- */
long ward_syscall_exec(int dirfd, const char *path, char *const argv[], char *const envp[], int flags);

#endif
