/*
 * rawsys.c: system calls made outside libc, seen under `ward run --strict`
 * (SPEC 5.6).
 *
 * A program that makes the `syscall` instruction itself (inline assembly,
 * Go's runtime) never reaches a wrapper; Landlock refuses its accesses but
 * says nothing.  In a strict run (WARD_STRICT=1) every dynamically linked
 * process therefore turns on Syscall User Dispatch for each of its threads,
 * with libc's executable text as the one region whose system calls the
 * kernel lets through.  Any other system call becomes a SIGSYS whose handler
 * (on_sigsys) hands the call to the same code as libc's syscall()
 * (libc_syscall.c: the same checks as the wrappers, the records, the
 * `syscall` row of the figures), names it as a raw system call in the
 * record, and puts the result in RAX.  The dynamic loader's own calls
 * (dlopen's library search and mappings) trap too, and are made as asked:
 * the loader is part of the C runtime like libc, and dlopen's wrapper
 * decided what it loads.
 *
 * The shim's own system calls: the kernel decides by the address of the
 * instruction alone (no selector byte: the prctl's selector is NULL), and
 * core/syscall.h's gate makes every one of the shim's calls by calling a
 * `syscall; ret` found in libc's text.  Measured against the alternatives
 * (docs/PERFORMANCE.md): a trap costs some 2.5 to 4.5 us, so treating the shim's
 * own calls as traps to emulate would add that to every decided open; a
 * selector toggled around them costs about what the gate does (two stores
 * against a call and a return), but a signal arriving as one of the shim's
 * calls returns would run the program's handler with the selector open,
 * and every new thread would need a byte of its own before its first call.
 * With no selector there is no window and nothing a thread can share.
 *
 * What the kernel does (checked on 6.18 with a test program): dispatch is
 * not inherited by fork, by a new thread, nor across exec.  So it is turned
 * on again in a fork child (ward_rawsys_after_fork), at the start of every
 * thread made by pthread_create or thrd_create (the wrappers below start
 * it through thread_start), and by the new image's constructor.  A SIGSYS
 * that is blocked or ignored when dispatch sends it kills the process (the
 * kernel resets it to the default action): so the program never gets to
 * block it (sigprocmask, pthread_sigmask, a handler's mask, raw
 * rt_sigprocmask and rt_sigaction are all rewritten without it) nor to
 * replace the handler (sigaction, signal and raw rt_sigaction of SIGSYS
 * keep what the program asked for as its own, which gets every SIGSYS
 * that is not dispatch's).  The handler runs with SA_NODEFER, so a raw call
 * in a signal handler that interrupts it is caught too.
 *
 * What is emulated and what is not: rt_sigreturn (a program's own signal
 * trampoline, as Go's) is made by libc's own trampoline on the program's
 * frame.  fork, vfork, and clone making a process of its own on the
 * caller's stack are made as fork (a vfork child gets memory of its own,
 * which every correct vfork child tolerates).  clone sharing memory or on
 * a stack of its own (a thread made without libc) cannot be started from a
 * signal handler: refused with a record (EPERM); clone3 fails with ENOSYS,
 * on which callers fall back to clone.  prctl(PR_SET_SYSCALL_USER_DISPATCH)
 * by the program, raw or through libc, would end the watch: refused with a
 * record (EPERM).  Landlock holds all of these underneath whatever the
 * shim does.  Threads made by libc's clone() or by glibc for itself, and a
 * vfork child inside libc before its exec, run without dispatch.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <threads.h>
#include <ucontext.h>

#include "shim.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2 /* si_code of dispatch's SIGSYS */
#endif
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* libc's syscall() (libc_syscall.S jumps to it for a clone it cannot make). */
long (*ward_libc_syscall)(long, ...) __attribute__((visibility("hidden")));
static unsigned long text_start, text_len; /* libc's executable text */
static unsigned long loader_start, loader_len; /* the dynamic loader's */
static void *libc_restorer;                /* glibc's rt_sigreturn trampoline */
bool ward_rawsys_on;

/* The system call this thread's handler is emulating, + 1 (0: none). */
static __thread long emulating __attribute__((tls_model("initial-exec")));

/* A signal action as the kernel's rt_sigaction takes it. */
struct kernel_action {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};
#define SIGSYS_BIT (1ull << (SIGSYS - 1))
static struct kernel_action program_sigsys; /* what the program asked SIGSYS to do */

/* ---- the shim's own calls, made from libc's text ---- */

/* A `syscall; ret` in libc's text, for core/syscall.h's gate (any such
 * bytes will do: the kernel looks at where the instruction is, and the
 * gate only calls it). */
static void *
find_gate(void)
{
	static const unsigned char pair[] = { 0x0f, 0x05, 0xc3 };
	return memmem((const void *)text_start, text_len, pair, sizeof(pair));
}

static bool
dispatch_on(void)
{
	return ward_libc_syscall(SYS_prctl, PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, text_start, text_len,
	                         0L) == 0;
}

/* ---- what the record says (records.c) ---- */

#define RAW_NAMES(X)                                                                                              \
	X(open) X(openat) X(creat) X(openat2) X(open_by_handle_at) X(name_to_handle_at) X(unlink) X(unlinkat)     \
	X(rmdir) X(rename) X(renameat) X(renameat2) X(mkdir) X(mkdirat) X(mknod) X(mknodat) X(link) X(linkat)     \
	X(symlink) X(symlinkat) X(chmod) X(fchmodat) X(fchmodat2) X(chown) X(lchown) X(fchownat) X(truncate)      \
	X(utime) X(utimes) X(futimesat) X(utimensat) X(setxattr) X(lsetxattr) X(removexattr) X(lremovexattr)      \
	X(fchmod) X(fchown) X(ftruncate) X(fsetxattr) X(fremovexattr) X(stat) X(lstat) X(newfstatat) X(statx)     \
	X(access) X(faccessat) X(faccessat2) X(chdir) X(readlink) X(readlinkat) X(getxattr) X(lgetxattr)          \
	X(listxattr) X(llistxattr) X(statfs) X(inotify_add_watch) X(execve) X(execveat) X(bind) X(connect)        \
	X(sendto) X(sendmsg) X(sendmmsg) X(mmap) X(mprotect) X(pkey_mprotect) X(personality) X(chroot) X(mount)   \
	X(umount2) X(pivot_root) X(clone) X(clone3) X(fork) X(vfork) X(dup) X(dup2) X(dup3) X(close) X(prctl)

const char *
ward_rawsys_call_name(void)
{
	if (__builtin_expect(emulating == 0, 1))
		return NULL;
	switch (emulating - 1) {
#define NAME(x) \
	case SYS_##x: \
		return #x;
		RAW_NAMES(NAME)
#undef NAME
	default:
		return "syscall";
	}
}

/* ---- SIGSYS ---- */

/* A SIGSYS that is not dispatch's (seccomp's SECCOMP_RET_TRAP, a kill):
 * what the program asked for. */
static void
forward(int sig, siginfo_t *info, void *context)
{
	struct kernel_action a = program_sigsys;
	if (a.handler == SIG_IGN)
		return;
	if (a.handler != SIG_DFL) {
		if (a.flags & SA_SIGINFO)
			((void (*)(int, siginfo_t *, void *))a.handler)(sig, info, context);
		else
			((void (*)(int))a.handler)(sig);
		return;
	}
	struct kernel_action dfl = { .handler = SIG_DFL };
	ward_syscall_raw(SYS_rt_sigaction, SIGSYS, (long)&dfl, 0, 8, 0, 0);
	ward_syscall_raw(SYS_tgkill, ward_syscall_raw(SYS_getpid, 0, 0, 0, 0, 0, 0),
	                 ward_syscall_raw(SYS_gettid, 0, 0, 0, 0, 0, 0), SIGSYS, 0, 0, 0);
}

/* rt_sigaction: SIGSYS stays the shim's (the program's wish is kept as its
 * own handler), and no handler's mask blocks it. */
static long
sigaction_call(long sig, long act, long old, long size)
{
	if (sig == SIGSYS) {
		struct kernel_action was = program_sigsys;
		if (act != 0)
			program_sigsys = *(const struct kernel_action *)act;
		if (old != 0)
			*(struct kernel_action *)old = was;
		return 0;
	}
	struct kernel_action copy;
	if (act != 0) {
		copy = *(const struct kernel_action *)act;
		copy.mask &= ~SIGSYS_BIT;
		act = (long)&copy;
	}
	return ward_syscall_raw(SYS_rt_sigaction, sig, act, old, size, 0, 0);
}

/* rt_sigprocmask: never with SIGSYS blocked. */
static long
sigprocmask_call(long how, long set, long old, long size)
{
	uint64_t copy;
	if (set != 0 && how != SIG_UNBLOCK) {
		copy = *(const uint64_t *)set & ~SIGSYS_BIT;
		set = (long)&copy;
	}
	return ward_syscall_raw(SYS_rt_sigprocmask, how, set, old, size, 0, 0);
}

/* A thread made without libc: refused with a record. */
static long
refuse_thread(void)
{
	struct ward_frame f;
	ward_frame_enter(&f, WARD_ID_syscall);
	struct ward_refusal why = { .op = "clone", .what = "a thread made outside libc",
		                    .by = "ward (a raw clone sharing memory cannot be watched)",
		                    .rule = "raw clone (CLONE_VM or a stack of its own)", .err = EPERM };
	struct ward_scratch *s = ward_scratch_enter();
	f.deny = ward_refuse(&f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	f.deny = EPERM; /* whatever the mode: it cannot be made from here */
	ward_frame_refuse(&f);
	return -EPERM;
}

/* prctl(PR_SET_SYSCALL_USER_DISPATCH) by the program would turn the watch
 * off (or point it elsewhere) for its thread: refused, with a record. */
static long
refuse_dispatch_change(void)
{
	struct ward_frame f;
	ward_frame_enter(&f, WARD_ID_prctl);
	struct ward_refusal why = { .op = "syscalls", .what = "PR_SET_SYSCALL_USER_DISPATCH",
		                    .by = "ward (it would end the watch on raw system calls)",
		                    .rule = "prctl PR_SET_SYSCALL_USER_DISPATCH under --strict", .err = EPERM };
	struct ward_scratch *s = ward_scratch_enter();
	ward_refuse(&f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	f.deny = EPERM; /* whatever the mode */
	ward_frame_refuse(&f);
	return -EPERM;
}

long ward_syscall_call(long n, long a, long b, long c, long d, long e, long g);

/* The call the program made, decided and made: the kernel's result (or
 * -errno). */
static long
decide_and_make(long n, long a, long b, long c, long d, long e, long g)
{
	switch (n) {
	case SYS_rt_sigaction:
		return sigaction_call(a, b, c, d);
	case SYS_rt_sigprocmask:
		return sigprocmask_call(a, b, c, d);
	case SYS_vfork:
		n = SYS_fork;
		break;
	case SYS_clone:
		if ((a & CLONE_VM) || b != 0)
			return refuse_thread();
		break;
	case SYS_clone3:
		return -ENOSYS;
	case SYS_prctl:
		if (a == PR_SET_SYSCALL_USER_DISPATCH)
			return refuse_dispatch_change();
		break;
	default:
		break;
	}
	long r = ward_syscall_call(n, a, b, c, d, e, g);
	return r == -1 ? -errno : r;
}

static long
emulate(long n, long a, long b, long c, long d, long e, long g)
{
	long outer = emulating, r;
	emulating = n + 1;
	r = decide_and_make(n, a, b, c, d, e, g);
	emulating = outer;
	return r;
}

static void
on_sigsys(int sig, siginfo_t *info, void *context)
{
	if (info->si_code != SYS_USER_DISPATCH) {
		forward(sig, info, context);
		return;
	}
	ucontext_t *uc = context;
	greg_t *r = uc->uc_mcontext.gregs;
	if ((uintptr_t)info->si_call_addr - loader_start < loader_len) {
		/* the loader's own (dlopen's search, mappings): part of the C
		 * runtime like libc, whose dlopen decided what it loads */
		r[REG_RAX] = ward_syscall_raw(info->si_syscall, r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8],
		                              r[REG_R9]);
		return;
	}
	if (info->si_syscall == SYS_rt_sigreturn) {
		/* the program's own trampoline: libc's makes the call on the
		 * same frame (the stack pointer is where the program left it) */
		r[REG_RIP] = (greg_t)libc_restorer;
		return;
	}
	int saved_errno = errno;
	r[REG_RAX] = emulate(info->si_syscall, r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], r[REG_R9]);
	errno = saved_errno;
}

/* ---- start-up, threads, fork ---- */

/* The executable segment of the object holding address inside (libc's),
 * and the loader's (the object loaded at AT_BASE). */
static int
find_text(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	uintptr_t inside = (uintptr_t)data;
	bool loader = info->dlpi_addr == getauxval(AT_BASE);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + p->p_vaddr;
		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		if (loader) {
			loader_start = start;
			loader_len = p->p_memsz;
		}
		if (inside - start < p->p_memsz) {
			text_start = start;
			text_len = p->p_memsz;
		}
	}
	return 0;
}

/* What the kernel lets a strict process's shim do: a note in the records
 * when this process runs without dispatch (kernel-confined only). */
static void
note_unwatched(const char *why)
{
	struct ward_frame f;
	ward_frame_enter(&f, WARD_ID_syscall);
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		return;
	ward_record_note(&f, s, "kernel-confined", "syscalls", ward_config.exe, why);
	ward_scratch_leave();
}

void
ward_rawsys_init(void)
{
	const char *strict = ward_env("WARD_STRICT");
	if (strict == NULL || strcmp(strict, "1") != 0)
		return;
	const char *preload = getenv("LD_PRELOAD"); /* the live one: valgrind adds its own to the program's */
	if (preload != NULL && strstr(preload, "/vgpreload_") != NULL) {
		/* valgrind hands the prctl to the kernel, whose dispatch would
		 * then trap valgrind's own calls: the run would die of SIGSYS */
		note_unwatched("raw system calls unseen: under valgrind");
		return;
	}
	ward_libc_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	int (*real_sigaction)(int, const struct sigaction *, struct sigaction *) = WARD_REAL(sigaction);
	int (*real_sigprocmask)(int, const sigset_t *, sigset_t *) = WARD_REAL(sigprocmask);
	if (ward_libc_syscall != NULL)
		dl_iterate_phdr(find_text, (void *)ward_libc_syscall);
	void *gate = text_len != 0 ? find_gate() : NULL;
	if (gate == NULL) {
		note_unwatched(text_len == 0 ? "raw system calls unseen: libc's text not found"
		                             : "raw system calls unseen: no syscall instruction to call in libc");
		return;
	}
	/* SA_ONSTACK: on the thread's alternate stack when it has one (Go's
	 * goroutine stacks have no room for a signal frame) */
	struct sigaction handler = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK }, was, now;
	real_sigaction(SIGSYS, &handler, &was);
	real_sigaction(SIGSYS, NULL, &now);
	libc_restorer = now.sa_restorer;
	program_sigsys = (struct kernel_action){ .handler = (void *)was.sa_handler, .flags = (unsigned long)was.sa_flags };
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	real_sigprocmask(SIG_UNBLOCK, &sys, NULL);
	if (!dispatch_on()) {
		note_unwatched("raw system calls unseen: no Syscall User Dispatch");
		return;
	}
	ward_syscall_gate = gate;
	ward_rawsys_on = true;
}

void
ward_rawsys_after_fork(void)
{
	if (ward_rawsys_on && !dispatch_on())
		note_unwatched("raw system calls unseen: dispatch lost after fork");
}

struct start {
	void *(*fn)(void *);
	thrd_start_t c11_fn; /* thrd_create's, returning an int (or NULL) */
	void *arg;
};

static void *
thread_start(void *p)
{
	struct start s = *(struct start *)p;
	ward_busy++; /* the shim's own block: served, not counted */
	free(p);
	ward_busy--;
	dispatch_on();
	if (s.c11_fn != NULL)
		return (void *)(intptr_t)s.c11_fn(s.arg);
	return s.fn(s.arg);
}

static int
create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), thrd_start_t c11_fn, void *arg)
{
	ward_busy++;
	struct start *s = malloc(sizeof(*s));
	ward_busy--;
	if (s == NULL)
		return EAGAIN;
	*s = (struct start){ fn, c11_fn, arg };
	int r = WARD_REAL(pthread_create)(thread, attr, thread_start, s);
	if (r != 0) {
		ward_busy++;
		free(s);
		ward_busy--;
	}
	return r;
}

/* ---- the libc side: the program's signal calls and threads ---- */
/* Not counted (their rows stay empty): they are here to keep SIGSYS the
 * shim's under --strict, and change nothing otherwise. */

static void
to_kernel(const struct sigaction *a, struct kernel_action *k)
{
	k->handler = (void *)a->sa_handler;
	k->flags = (unsigned long)a->sa_flags;
	k->restorer = NULL;
	memcpy(&k->mask, &a->sa_mask, sizeof(k->mask));
}

static void
from_kernel(const struct kernel_action *k, struct sigaction *a)
{
	memset(a, 0, sizeof(*a));
	a->sa_handler = (void (*)(int))k->handler;
	a->sa_flags = (int)k->flags;
	memcpy(&a->sa_mask, &k->mask, sizeof(k->mask));
}

WARD_EXPORT int
sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (__builtin_expect(!ward_rawsys_on, 1))
		return WARD_REAL(sigaction)(sig, act, old);
	if (sig == SIGSYS) {
		struct kernel_action was = program_sigsys;
		if (act != NULL)
			to_kernel(act, &program_sigsys);
		if (old != NULL)
			from_kernel(&was, old);
		return 0;
	}
	struct sigaction copy;
	if (act != NULL) {
		copy = *act;
		sigdelset(&copy.sa_mask, SIGSYS);
		act = &copy;
	}
	return WARD_REAL(sigaction)(sig, act, old);
}

WARD_EXPORT __sighandler_t
signal(int sig, __sighandler_t handler)
{
	if (__builtin_expect(!ward_rawsys_on, 1) || sig != SIGSYS)
		return WARD_REAL(signal)(sig, handler);
	__sighandler_t was = (__sighandler_t)program_sigsys.handler;
	program_sigsys = (struct kernel_action){ .handler = (void *)handler, .flags = SA_RESTART };
	return was;
}

WARD_EXPORT int
sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;
	if (__builtin_expect(ward_rawsys_on, 0) && set != NULL && how != SIG_UNBLOCK) {
		copy = *set;
		sigdelset(&copy, SIGSYS);
		set = &copy;
	}
	return WARD_REAL(sigprocmask)(how, set, old);
}

WARD_EXPORT int
pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;
	if (__builtin_expect(ward_rawsys_on, 0) && set != NULL && how != SIG_UNBLOCK) {
		copy = *set;
		sigdelset(&copy, SIGSYS);
		set = &copy;
	}
	return WARD_REAL(pthread_sigmask)(how, set, old);
}

WARD_EXPORT int
pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (__builtin_expect(!ward_rawsys_on, 1))
		return WARD_REAL(pthread_create)(thread, attr, fn, arg);
	return create(thread, attr, fn, NULL, arg);
}

/* prctl's wrapper (calls.def): the same refusal in its frame. */
int
ward_rawsys_check_prctl(struct ward_frame *f, int option)
{
	if (__builtin_expect(!ward_rawsys_on, 1) || option != PR_SET_SYSCALL_USER_DISPATCH)
		return 0;
	struct ward_refusal why = { .op = "syscalls", .what = "PR_SET_SYSCALL_USER_DISPATCH",
		                    .by = "ward (it would end the watch on raw system calls)",
		                    .rule = "prctl PR_SET_SYSCALL_USER_DISPATCH under --strict", .err = EPERM };
	struct ward_scratch *s = ward_scratch_enter();
	ward_refuse(f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	return EPERM; /* whatever the mode */
}

/* glibc's thrd_create calls its pthread_create inside libc, where no
 * wrapper sees it. */
WARD_EXPORT int
thrd_create(thrd_t *thread, thrd_start_t fn, void *arg)
{
	if (__builtin_expect(!ward_rawsys_on, 1))
		return WARD_REAL(thrd_create)(thread, fn, arg);
	int r = create((pthread_t *)thread, NULL, NULL, fn, arg);
	return r == 0 ? thrd_success : r == ENOMEM ? thrd_nomem : thrd_error;
}
