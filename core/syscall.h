/*
 * syscall.h: the one way ward makes a system call for its own work.
 *
 * Never through libc's syscall(): libward.so interposes that function (a
 * program's syscall(SYS_openat, ...) is decided like openat), so the shim's
 * own calls must not reach it.  ward_syscall(number, args...) behaves like
 * libc's syscall(): the result, or -1 with errno set.  ward_syscall_raw()
 * returns the kernel's answer as is (-errno on failure) and touches no
 * errno at all: for the allocator's calls and signal-handler paths.
 *
 * Where the instruction is made: in line, or, when ward_syscall_gate is
 * set, by calling the `syscall; ret` it points to.  Under Syscall User
 * Dispatch (`ward run --strict`, shim/rawsys.c) the kernel lets through
 * only the system calls made from libc's text, and the gate is such a pair
 * of instructions there: the shim's own calls pass with no per-thread state
 * to switch and no C code between.  Unset, it costs a compare with memory
 * and a branch that is never taken.
 */
#ifndef WARD_CORE_SYSCALL_H
#define WARD_CORE_SYSCALL_H

#include <errno.h>
#include <sys/syscall.h>

/* The address of a `syscall; ret` in libc's text, or NULL (rawsys.c). */
extern void *ward_syscall_gate __attribute__((visibility("hidden")));

static inline long
ward_syscall_raw(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	/* The gate's path is out of line, below the red zone, and "asm inline"
	 * keeps the compiler's inlining decisions what they were without it. */
	__asm__ volatile inline("cmpq $0, ward_syscall_gate(%%rip)\n\t"
	                        "jne .Lward_gate%=\n\t"
	                        "syscall\n"
	                        ".Lward_gated%=:\n\t"
	                        ".pushsection .text.unlikely,\"ax\",@progbits\n"
	                        ".Lward_gate%=:\n\t"
	                        "leaq -128(%%rsp), %%rsp\n\t"
	                        "call *ward_syscall_gate(%%rip)\n\t"
	                        "leaq 128(%%rsp), %%rsp\n\t"
	                        "jmp .Lward_gated%=\n\t"
	                        ".popsection"
	                        : "=a"(ret)
	                        : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                        : "rcx", "r11", "memory", "cc");
	return ret;
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
	return x0;
#else
#error "ward_syscall_raw: add this architecture's system call instruction"
#endif
}

/* Is a raw result an error (-4095..-1)? */
#define WARD_SYSCALL_FAILED(r) ((unsigned long)(r) > -4096UL)

static inline long
ward_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long r = ward_syscall_raw(n, a, b, c, d, e, f);
	if (WARD_SYSCALL_FAILED(r)) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#define WARD_SYSCALL_PICK(n, a, b, c, d, e, f, ...) \
	ward_syscall6((long)(n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))
/* ward_syscall(number, up to six arguments): like libc's syscall(). */
#define ward_syscall(...) WARD_SYSCALL_PICK(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)

#endif
