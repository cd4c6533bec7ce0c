/*
 * dispatch_loop: what Syscall User Dispatch itself costs, in one process,
 * for bench/strict_cost.sh.
 *
 *   bench_dispatch_loop N ROUNDS DIR
 *
 * Each round times N libc open+close and N libc stat of DIR/data with
 * dispatch off, then on (libc's text as the allowed region, as the shim
 * sets it under --strict: the calls pass, at whatever the kernel's check
 * costs), then N raw getppid made outside libc with dispatch on and a
 * handler that only makes the call from libc's text: the floor of any
 * dispatch-based catcher's round trip.  Prints the median ns per call of
 * each.  Linked with nothing of ward's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "clock.h"

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif

static unsigned long text_start, text_len;

static int
find_text(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	unsigned long inside = (unsigned long)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		unsigned long start = info->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && inside - start < p->p_memsz) {
			text_start = start;
			text_len = p->p_memsz;
		}
	}
	return 0;
}

static void
on_sigsys(int sig, siginfo_t *info, void *context)
{
	(void)sig;
	ucontext_t *uc = context;
	greg_t *r = uc->uc_mcontext.gregs;
	long v = syscall(info->si_syscall, r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], r[REG_R9]);
	r[REG_RAX] = v == -1 ? -errno : v;
}

static void
dispatch(int on)
{
	if (prctl(PR_SET_SYSCALL_USER_DISPATCH, on ? PR_SYS_DISPATCH_ON : PR_SYS_DISPATCH_OFF, on ? text_start : 0,
	          on ? text_len : 0, NULL) != 0) {
		perror("dispatch_loop: prctl");
		exit(1);
	}
}

static long
raw_getppid(void)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
	return ret;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#define CASES 5
static const char *const names[CASES] = { "open_close off", "open_close on", "stat off", "stat on", "raw_getppid trap" };

int
main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	long n = strtol(argv[1], NULL, 10), rounds = strtol(argv[2], NULL, 10);
	char path[4096];
	snprintf(path, sizeof(path), "%s/data", argv[3]);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || n <= 0 || rounds <= 0)
		return 2;
	close(fd);
	dl_iterate_phdr(find_text, (void *)syscall);
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_NODEFER };
	sigaction(SIGSYS, &sa, NULL);
	double *ns = calloc((size_t)(CASES * rounds), sizeof(double));
	struct stat st;
	for (long k = 0; k < rounds; k++) {
		for (int c = 0; c < CASES; c++) {
			dispatch(c % 2 == 1 || c == 4);
			uint64_t t0 = now_ns();
			for (long i = 0; i < n; i++) {
				if (c < 2) {
					int f = open(path, O_RDONLY);
					if (f < 0 || close(f) != 0)
						return 1;
				} else if (c < 4) {
					if (stat(path, &st) != 0)
						return 1;
				} else {
					raw_getppid();
				}
			}
			ns[c * rounds + k] = (double)(now_ns() - t0) / (double)n;
			dispatch(0);
		}
	}
	for (int c = 0; c < CASES; c++) {
		qsort(ns + c * rounds, (size_t)rounds, sizeof(double), by_value);
		printf("%-18s %8.0f ns\n", names[c], ns[c * rounds + rounds / 2]);
	}
	return 0;
}
