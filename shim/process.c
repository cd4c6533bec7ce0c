/*
 * process.c: calls that change how the whole process works, which the
 * shim's decisions could not follow afterwards.
 *
 * chroot: after it the kernel resolves every path (and getcwd and the
 * /proc/self/fd links the shim reads) against the new root, while the policy
 * names paths of the real root: every later decision would be made on the
 * wrong file.  So under a policy chroot is refused: first decided as a stat
 * of its directory (a denied directory is refused with EACCES and recorded,
 * like chdir), then, allowed or not by the rules, refused with EPERM, what
 * an unprivileged process gets anyway, with a record of its own (audit
 * mode records it and lets it go).  Without a policy, or under one that
 * restricts no operation on any path (examples/observe.ward: default
 * allow), there is no decision it could mislead: it is only counted.
 * The mount calls made through syscall() are refused the same way
 * (ward_refuse_remount).
 *
 * ptrace (PTRACE_ATTACH, PTRACE_SEIZE), process_vm_readv, process_vm_writev
 * and pidfd_getfd reach into another process: its memory (code injected
 * into the launcher, or into a process outside the tree, runs without the
 * shim) or its descriptors (opened by a process the policy does not
 * decide).  Under a policy they are refused with EPERM and a record of op
 * the call's name; PTRACE_TRACEME and requests on a child already traced
 * go on (a debugger started under ward traces its own children).  The
 * launcher also makes itself non-dumpable (cli/launch.c), so the kernel
 * refuses an unprivileged raw attach to it as well.
 *
 * ioctl TIOCSTI pushes bytes into a terminal's input, and TIOCLINUX with
 * subcode 2 (set the selection) or 3 (paste it) does the same on a virtual
 * console: a confined process would type commands that the user's shell,
 * outside the tree, runs after ward exits.  Under a policy they are refused
 * with EPERM and a record of op ioctl; every other request goes on untouched
 * (the wrapper compares the request first, nothing else).
 *
 * Keeping the shim in the tree: a process that lowers RLIMIT_AS or
 * RLIMIT_DATA far enough makes the loader of its children fail to map
 * libward.so, which the loader then ignores ("cannot be preloaded ...:
 * ignored") and runs the program without it; a seccomp filter can make the
 * loader's mmap or open of libward.so fail the same way.  Under a policy
 * (not under ward run --strict, WARD_STRICT=1, where the kernel holds the
 * tree whatever runs in it) setrlimit, setrlimit64, prlimit, prlimit64 (and
 * through syscall()) may not lower either soft or hard limit below
 * WARD_RLIMIT_FLOOR, and seccomp filters (prctl PR_SET_SECCOMP with
 * SECCOMP_MODE_FILTER, seccomp SECCOMP_SET_MODE_FILTER) are refused; both
 * with a record.  The floor: /bin/echo under the shim with a policy needs
 * 32 MiB of address space and 16 MiB of data to start (below that the
 * shim itself cannot start and the program is stopped: no escape), and
 * between about 3 and 6 MiB of address space the loader drops libward.so
 * and the program runs without it.  256 MiB is eight times what the
 * smallest program needs and leaves no limit that window could be reached
 * from; a limit already below it (set before ward run) is kept.
 *
 * clone with CLONE_FILES but not CLONE_VM makes a child that shares the
 * descriptor table and has a copy of the memory: the shim's record of the
 * descriptors its checks act through (held.c) is the parent's, and the
 * child's copy no longer follows it, so the child's close or dup2 could
 * put its own descriptor at the number a check of the parent is about to
 * act on (and the other way round).  Under a policy that restricts
 * anything it is refused with EPERM and a record of op clone, through
 * libc's clone(), syscall(SYS_clone) and syscall(SYS_clone3) alike (and
 * the raw system call under --strict); a thread (CLONE_VM) and a process
 * of its own (no CLONE_FILES) go on.  Without such a policy no check acts
 * through a descriptor, and it is only counted.
 *
 * personality: READ_IMPLIES_EXEC makes every readable mapping executable, so
 * an RW mmap becomes RWX without PROT_EXEC ever being asked for.  Under
 * `memory wx deny` setting it is refused like any other W^X request (EACCES,
 * recorded).  A process that starts with the flag (a 32-bit parent, or a
 * kernel that keeps it across exec) has it cleared at start-up, with the
 * same record; in audit mode it is recorded and left alone.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include "routes.h"
#include "../core/syscall.h"
#include "../policy/policy.h"

/* A call that would change which file a path names: EPERM, recorded. */
static int
refuse_root_change(struct ward_frame *f, const char *op, const char *what)
{
	struct ward_refusal why = { .op = op, .what = what != NULL ? what : "",
		                    .by = "ward (paths would name other files afterwards)", .rule = op, .err = EPERM };
	struct ward_scratch *s = ward_scratch_enter();
	int r = ward_refuse(f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	return r;
}

int
ward_check_chroot(struct ward_frame *f, const char *path)
{
	if (ward_config.policy == NULL || !f->active || ward_restricted == 0)
		return 0; /* no rule to mislead: a policy that restricts no path (observe.ward) only counts it */
	int r = ward_check_path(f, WARD_OP_STAT, AT_FDCWD, path, true);
	return r != 0 ? r : refuse_root_change(f, "chroot", path);
}

int
ward_refuse_remount(struct ward_frame *f, const char *op, const char *what)
{
	if (ward_config.policy == NULL || !f->active)
		return 0;
	return refuse_root_change(f, op, what);
}

/* A call that reaches into another process: EPERM, recorded. */
int
ward_refuse_reach(struct ward_frame *f, const char *op, long pid)
{
	if (ward_config.policy == NULL || !f->active)
		return 0;
	char what[32];
	snprintf(what, sizeof(what), "%s %ld", strcmp(op, "pidfd_getfd") == 0 ? "pidfd" : "pid", pid);
	struct ward_refusal why = { .op = op, .what = what,
		                    .by = "ward (another process's memory and descriptors are not the policy's to decide)",
		                    .rule = op, .err = EPERM };
	struct ward_scratch *s = ward_scratch_enter();
	int r = ward_refuse(f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	return r;
}

int
ward_check_ptrace(struct ward_frame *f, long request, long pid)
{
	if (request != PTRACE_ATTACH && request != PTRACE_SEIZE)
		return 0; /* PTRACE_TRACEME, and requests on a tracee this process already holds */
	return ward_refuse_reach(f, "ptrace", pid);
}

_Static_assert(WARD_IOCTL_TYPES(TIOCSTI) && WARD_IOCTL_TYPES(TIOCLINUX), "routes.h's ioctl numbers");

int
ward_check_ioctl(struct ward_frame *f, unsigned long request, const void *arg)
{
	if (ward_config.policy == NULL || !f->active)
		return 0;
	const char *what = "TIOCSTI";
	if (request == TIOCLINUX) {
		/* the subcode is the first byte arg points to; read without trusting
		 * the pointer (a bad one is the kernel's EFAULT, not a crash here) */
		unsigned char sub = 0;
		struct iovec local = { &sub, 1 }, remote = { (void *)arg, 1 };
		if (ward_syscall(SYS_process_vm_readv, ward_syscall(SYS_getpid), &local, 1, &remote, 1, 0) != 1 ||
		    (sub != 2 && sub != 3))
			return 0;
		what = sub == 2 ? "TIOCLINUX set selection" : "TIOCLINUX paste selection";
	} else if (request != TIOCSTI) {
		return 0;
	}
	struct ward_refusal why = { .op = "ioctl", .what = what,
		                    .by = "ward (input pushed into a terminal runs outside the tree)", .rule = "ioctl",
		                    .err = EPERM };
	struct ward_scratch *s = ward_scratch_enter();
	int r = ward_refuse(f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	return r;
}

static bool
kernel_holds_the_tree(void)
{
	const char *env = ward_env("WARD_STRICT");
	return env != NULL && strcmp(env, "1") == 0;
}

static int
refuse_keeping(struct ward_frame *f, const char *op, const char *what, const char *by, int err)
{
	struct ward_refusal why = { .op = op, .what = what, .by = by, .rule = op, .err = err };
	struct ward_scratch *s = ward_scratch_enter();
	int r = ward_refuse(f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	return r;
}

int
ward_check_rlimit(struct ward_frame *f, long pid, int resource, const struct rlimit *want)
{
	if (want == NULL || (resource != RLIMIT_AS && resource != RLIMIT_DATA))
		return 0;
	if (ward_config.policy == NULL || !f->active || kernel_holds_the_tree())
		return 0;
	struct rlimit now;
	if (ward_syscall(SYS_prlimit64, pid, resource, NULL, &now) != 0)
		return 0; /* the kernel's own error (no such process) comes first */
	const rlim_t floor = WARD_RLIMIT_FLOOR;
	bool soft = want->rlim_cur < floor && want->rlim_cur < now.rlim_cur;
	bool hard = want->rlim_max < floor && want->rlim_max < now.rlim_max;
	if (!soft && !hard)
		return 0;
	char what[96];
	snprintf(what, sizeof(what), "%s %s %llu", resource == RLIMIT_AS ? "RLIMIT_AS" : "RLIMIT_DATA",
	         soft ? "soft" : "hard", (unsigned long long)(soft ? want->rlim_cur : want->rlim_max));
	return refuse_keeping(f, "rlimit", what,
	                      "ward (below 256 MiB the loader may run the tree's programs without libward.so)", EPERM);
}

int
ward_check_seccomp(struct ward_frame *f, unsigned long mode)
{
	if (mode != SECCOMP_MODE_FILTER || ward_config.policy == NULL || !f->active || kernel_holds_the_tree())
		return 0;
	return refuse_keeping(f, "seccomp", "filter",
	                      "ward (a filter could keep libward.so out of the tree's programs; ward run --strict allows them)",
	                      EACCES);
}

int
ward_check_personality(struct ward_frame *f, unsigned long persona)
{
	if ((unsigned int)persona == 0xffffffffu || !(persona & READ_IMPLIES_EXEC))
		return 0; /* a query, or nothing that widens mappings */
	return ward_check_wx(f, PROT_WRITE | PROT_EXEC);
}

/* After the shim's own start-up (lifecycle.c's constructor comes first in
 * the link, and so in .init_array), with the policy loaded. */
__attribute__((constructor)) static void
inherited_personality(void)
{
	if (ward_config.policy == NULL || !ward_config.policy->memory_wx_deny)
		return;
	long current = ward_syscall(SYS_personality, 0xffffffffL);
	if (current < 0 || !(current & READ_IMPLIES_EXEC))
		return;
	struct ward_frame f;
	ward_frame_enter(&f, WARD_ID_personality);
	if (ward_check_wx(&f, PROT_WRITE | PROT_EXEC) != 0)
		ward_syscall(SYS_personality, current & ~(long)READ_IMPLIES_EXEC);
	errno = f.saved_errno;
}

/* ---- clone sharing the descriptor table, not memory ---- */

int
ward_check_clone_files(struct ward_frame *f, unsigned long flags)
{
	if (!(flags & CLONE_FILES) || (flags & CLONE_VM) || ward_restricted == 0 || !f->active)
		return 0;
	struct ward_refusal why = { .op = "clone", .what = "CLONE_FILES without CLONE_VM",
		                    .by = "ward (a child sharing the descriptor table but not memory cannot see "
		                          "the descriptors checks act through)",
		                    .rule = "clone CLONE_FILES", .err = EPERM };
	struct ward_scratch *s = ward_scratch_enter();
	int r = ward_refuse(f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	return r;
}

/* The child runs fn on its own stack and never comes back through this
 * frame; the parent returns through it. */
WARD_EXPORT int
clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	va_start(ap, arg); /* read as glibc's clone reads them: whether passed or not */
	pid_t *parent_tid = va_arg(ap, pid_t *);
	void *tls = va_arg(ap, void *);
	pid_t *child_tid = va_arg(ap, pid_t *);
	va_end(ap);
	struct ward_frame frame_;
	ward_frame_enter(&frame_, WARD_ID_clone);
	frame_.deny = ward_check_clone_files(&frame_, (unsigned long)flags);
	if (frame_.deny) {
		ward_frame_refuse(&frame_);
		return -1;
	}
	errno = frame_.saved_errno;
	int r = WARD_REAL(clone)(fn, stack, flags, arg, parent_tid, tls, child_tid);
	ward_frame_count(&frame_, r == -1);
	ward_frame_done(&frame_);
	return r;
}
