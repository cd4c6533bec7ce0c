/*
 * raw_probe: `raw_probe read|write PATH` opens PATH (for reading, or
 * created for writing) with the syscall instruction itself: no libc
 * function the shim could interpose.  Prints "ok" and exits 0 when the
 * kernel let it, or "OP PATH: ERROR" and exits 1.  Built dynamically
 * linked (raw_probe: the shim is loaded but never sees the call) and
 * statically (raw_probe_static: no shim at all).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static long
raw_openat(int dirfd, const char *path, long flags, long mode)
{
	long ret;
	register long r10 __asm__("r10") = mode;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(257L), "D"((long)dirfd), "S"(path), "d"(flags), "r"(r10)
	                 : "rcx", "r11", "memory");
	return ret;
}

static long
raw_write(long fd, const void *data, long len)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(1L), "D"(fd), "S"(data), "d"(len) : "rcx", "r11", "memory");
	return ret;
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int write = strcmp(argv[1], "write") == 0;
	long fd = raw_openat(AT_FDCWD, argv[2], write ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644);
	if (fd < 0) {
		printf("%s %s: %s\n", argv[1], argv[2], strerror((int)-fd));
		return 1;
	}
	if (write && raw_write(fd, "raw\n", 4) != 4)
		return 1;
	puts("ok");
	return 0;
}
