/*
 * jemalloc_sys.c: what the private jemalloc calls instead of the wrapped
 * functions (scripts/private-jemalloc.sh renames its calls to these, see
 * shim/jemalloc.map).  It runs before the shim's constructor, under its own
 * non-recursive init lock (TRAPS 9): nothing here may allocate, take a lock
 * or reach a wrapper.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

#include "../core/syscall.h"

/* Raw system calls: the allocator's own mappings and files are not the
 * program's, are not counted, and are never refused by the policy.  They
 * keep errno as it was, so that no allocation that succeeds and no free
 * changes it (jemalloc tells failures by the results, and sets ENOMEM
 * itself when an allocation fails). */

#define RAW __attribute__((visibility("hidden")))

static long
raw(long number, long a, long b, long c, long d, long e, long f)
{
	int saved_errno = errno;
	long r = ward_syscall(number, a, b, c, d, e, f);
	errno = saved_errno;
	return r;
}

RAW void *
ward_je_sys_mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
{
	return (void *)raw(SYS_mmap, (long)addr, (long)length, prot, flags, fd, offset);
}

RAW int
ward_je_sys_munmap(void *addr, size_t length)
{
	return (int)raw(SYS_munmap, (long)addr, (long)length, 0, 0, 0, 0);
}

RAW int
ward_je_sys_mprotect(void *addr, size_t length, int prot)
{
	return (int)raw(SYS_mprotect, (long)addr, (long)length, prot, 0, 0, 0);
}

RAW int
ward_je_sys_madvise(void *addr, size_t length, int advice)
{
	return (int)raw(SYS_madvise, (long)addr, (long)length, advice, 0, 0, 0);
}

RAW int
ward_je_sys_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (__OPEN_NEEDS_MODE(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return (int)raw(SYS_openat, AT_FDCWD, (long)path, flags, mode, 0, 0);
}

RAW int
ward_je_sys_creat(const char *path, mode_t mode)
{
	return ward_je_sys_open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

RAW int
ward_je_sys_close(int fd)
{
	return (int)raw(SYS_close, fd, 0, 0, 0, 0, 0);
}

RAW ssize_t
ward_je_sys_readlink(const char *path, char *buf, size_t len)
{
	return raw(SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, (long)len, 0, 0);
}

/* jemalloc's own syscall() uses (pages_boot, profiling): never the
 * program's syscall(), which the shim decides. */
RAW long
ward_je_sys_syscall(long number, ...)
{
	va_list ap;
	va_start(ap, number);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	return raw(number, a, b, c, d, e, f);
}

RAW void
ward_je_sys_exit(int status)
{
	for (;;)
		ward_syscall(SYS_exit_group, status);
}
