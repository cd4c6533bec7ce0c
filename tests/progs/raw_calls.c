/*
 * raw_calls: system calls made with the syscall instruction itself, never
 * through libc, in the ways a program can reach them: from the main
 * thread, a second thread, a fork child (libc's fork and a raw one), a new
 * image after exec, with SIGSYS handled or blocked by the program, through
 * a signal trampoline of its own, and a raw clone of a thread.
 *
 *   raw_calls read PATH          openat + read: prints "read PATH: ok <bytes>"
 *   raw_calls open PATH          openat for reading
 *   raw_calls mkdir PATH | unlink PATH | rename FROM TO
 *   raw_calls thread PATH        the open, made by a second thread
 *   raw_calls smallthread PATH   ... by a thread on a 32 KiB stack, which the
 *                                signal frame and the handler share (glibc
 *                                puts static TLS there too: libward.so's 15 KB
 *                                of it make a 16 KiB stack fail to start)
 *   raw_calls fork PATH          ... by the child of libc's fork
 *   raw_calls rawfork PATH       ... by the child of a raw fork
 *   raw_calls exec PATH          ... by the image this one execs
 *   raw_calls rawexec PROGRAM    a raw execve of PROGRAM (as `PROGRAM read /dev/null`)
 *   raw_calls handler PATH       SIGSYS handled (sigaction, raw rt_sigaction)
 *                                and blocked (sigprocmask, raw rt_sigprocmask)
 *                                by the program first
 *   raw_calls killsys            SIGSYS sent by kill() to a handler the program
 *                                installed with sigaction (not dispatch's: it
 *                                reaches the program's handler)
 *   raw_calls undispatch PATH    turns Syscall User Dispatch off (prctl through
 *                                libc, then raw), then the raw open
 *   raw_calls trampoline         a signal handler returning through the
 *                                program's own rt_sigreturn
 *   raw_calls clone              a raw clone of a thread (CLONE_VM)
 *   raw_calls clone-files        a raw clone sharing the descriptor table, not memory
 *
 * Each result is one line on stdout: "OP PATH: ok ..." or "OP PATH: ERROR".
 * The exit status is 0 whatever the calls answered (2: bad usage), so that
 * `ward run` tells refusals by its own exit status (3).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long
raw6(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return ret;
}

static void
say(const char *op, const char *path, long r, const char *extra)
{
	if (r < 0)
		printf("%s %s: %s\n", op, path, strerror((int)-r));
	else
		printf("%s %s: ok%s%s\n", op, path, extra ? " " : "", extra ? extra : "");
	fflush(stdout);
}

static void
raw_open(const char *op, const char *path)
{
	long fd = raw6(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0);
	say(op, path, fd, NULL);
	if (fd >= 0)
		raw6(SYS_close, fd, 0, 0, 0);
}

static void
raw_read(const char *path)
{
	static char data[256];
	long fd = raw6(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0);
	long n = fd < 0 ? fd : raw6(SYS_read, fd, (long)data, sizeof(data) - 1, 0);
	if (n >= 0)
		data[n] = '\0';
	say("read", path, n, n >= 0 ? data : NULL);
	if (fd >= 0)
		raw6(SYS_close, fd, 0, 0, 0);
}

static void *
thread_main(void *path)
{
	raw_open("thread", path);
	return NULL;
}

static void *
small_thread_main(void *path)
{
	raw_open("smallthread", path);
	raw_read(path);
	return NULL;
}

static volatile sig_atomic_t program_handler_ran;

static void
program_handler(int sig)
{
	(void)sig;
	program_handler_ran = 1;
}

/* The program's own SIGSYS handler and mask, asked for every way. */
static void
take_sigsys(void)
{
	struct sigaction sa = { .sa_handler = program_handler }, old;
	sigaction(SIGSYS, &sa, NULL);
	sigaction(SIGSYS, NULL, &old);
	printf("sigaction: %s\n", old.sa_handler == program_handler ? "own handler reported" : "other handler");
	/* raw rt_sigaction, as the kernel takes it: handler, flags, restorer, mask */
	struct {
		void *handler;
		unsigned long flags, restorer, mask;
	} k = { (void *)program_handler, 0, 0, 0 };
	say("rt_sigaction", "SIGSYS", raw6(SYS_rt_sigaction, SIGSYS, (long)&k, 0, 8), NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigprocmask(SIG_BLOCK, &set, NULL);
	uint64_t bits = 1ull << (SIGSYS - 1);
	say("rt_sigprocmask", "SIGSYS", raw6(SYS_rt_sigprocmask, SIG_BLOCK, (long)&bits, 0, 8), NULL);
}

/* A handler that returns through the program's own trampoline: a raw
 * rt_sigreturn, as Go's runtime makes it. */
extern void raw_restorer(void);
__asm__(".text\n"
        "raw_restorer:\n"
        "\tmovq $15, %rax\n"
        "\tsyscall\n");

static void
trampoline(void)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} k = { (void *)program_handler, 0x04000000 /* SA_RESTORER */, (void *)raw_restorer, 0 };
	long r = raw6(SYS_rt_sigaction, SIGUSR1, (long)&k, 0, 8);
	if (r == 0)
		r = raw6(SYS_kill, raw6(SYS_getpid, 0, 0, 0, 0), SIGUSR1, 0, 0);
	say("trampoline", "SIGUSR1", r, program_handler_ran ? "handler ran and returned" : "handler did not run");
}

/* clone(CLONE_VM) on a stack of its own, or clone(CLONE_FILES) on a copy
 * of this one; the child exits at once. */
static void
raw_clone(bool files)
{
	static char stack[16384] __attribute__((aligned(16)));
	long flags = files ? CLONE_FILES | SIGCHLD : CLONE_VM | SIGCHLD;
	char *top = files ? NULL : stack + sizeof(stack);
	long ret;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile("syscall\n\t"
	                 "testq %%rax, %%rax\n\t"
	                 "jnz 1f\n\t"
	                 "movl $60, %%eax\n\t"
	                 "xorl %%edi, %%edi\n\t"
	                 "syscall\n"
	                 "1:"
	                 : "=a"(ret)
	                 : "a"((long)SYS_clone), "D"(flags), "S"(top), "d"(0L),
	                   "r"(r10), "r"(r8)
	                 : "rcx", "r11", "memory");
	if (ret > 0)
		waitpid((pid_t)ret, NULL, __WALL);
	say("clone", files ? "CLONE_FILES" : "CLONE_VM", ret, NULL);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *op = argv[1], *path = argc > 2 ? argv[2] : "";
	if (strcmp(op, "read") == 0)
		raw_read(path);
	else if (strcmp(op, "open") == 0)
		raw_open("open", path);
	else if (strcmp(op, "mkdir") == 0)
		say(op, path, raw6(SYS_mkdir, (long)path, 0755, 0, 0), NULL);
	else if (strcmp(op, "unlink") == 0)
		say(op, path, raw6(SYS_unlink, (long)path, 0, 0, 0), NULL);
	else if (strcmp(op, "rename") == 0 && argc > 3)
		say(op, path, raw6(SYS_rename, (long)path, (long)argv[3], 0, 0), NULL);
	else if (strcmp(op, "thread") == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_main, (void *)path) != 0)
			return 2;
		pthread_join(t, NULL);
	} else if (strcmp(op, "smallthread") == 0) {
		pthread_attr_t attr;
		pthread_t t;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 32768);
		if (pthread_create(&t, &attr, small_thread_main, (void *)path) != 0)
			return 2;
		pthread_join(t, NULL);
	} else if (strcmp(op, "fork") == 0 || strcmp(op, "rawfork") == 0) {
		long pid = op[0] == 'f' ? fork() : raw6(SYS_fork, 0, 0, 0, 0);
		if (pid == 0) {
			raw_open(op, path);
			_exit(0);
		}
		if (pid < 0)
			return 2;
		waitpid((pid_t)pid, NULL, 0);
	} else if (strcmp(op, "exec") == 0) {
		execl("/proc/self/exe", "raw_calls", "open", path, (char *)NULL);
		return 2;
	} else if (strcmp(op, "rawexec") == 0) {
		char *args[] = { (char *)path, "read", "/dev/null", NULL };
		extern char **environ;
		say(op, path, raw6(SYS_execve, (long)path, (long)args, (long)environ, 0), NULL);
	} else if (strcmp(op, "handler") == 0) {
		take_sigsys();
		raw_open("handler", path);
		printf("program's SIGSYS handler %s\n", program_handler_ran ? "ran" : "did not run");
	} else if (strcmp(op, "undispatch") == 0) {
		int r = prctl(59 /* PR_SET_SYSCALL_USER_DISPATCH */, 0 /* OFF */, 0UL, 0UL, 0UL);
		say("prctl", "dispatch off", r == 0 ? 0 : -errno, NULL);
		say("raw prctl", "dispatch off", raw6(SYS_prctl, 59, 0, 0, 0), NULL);
		raw_open("undispatch", path);
	} else if (strcmp(op, "killsys") == 0) {
		struct sigaction sa = { .sa_handler = program_handler };
		sigaction(SIGSYS, &sa, NULL);
		kill(getpid(), SIGSYS);
		printf("killsys: program's SIGSYS handler %s\n", program_handler_ran ? "ran" : "did not run");
	} else if (strcmp(op, "trampoline") == 0)
		trampoline();
	else if (strcmp(op, "clone") == 0)
		raw_clone(false);
	else if (strcmp(op, "clone-files") == 0)
		raw_clone(true);
	else
		return 2;
	return 0;
}
