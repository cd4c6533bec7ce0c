/*
 * deleted_exec MODE PROG COPY: runs a copy of PROG (given the argument
 * "escaped") by a raw execveat of a descriptor, the system call itself,
 * as code that never calls libc's exec would: MODE "deleted" copies PROG
 * to COPY and unlinks it before the exec; "memfd" copies it into a memfd.
 * The new image's /proc/self/exe then names no file ("COPY (deleted)",
 * "/memfd:payload (deleted)").  Exit 1 when the exec failed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static long
raw_execveat(long fd, const char *name, char *const argv[], char *const envp[], long flags)
{
	long r;
	register long r10 __asm__("r10") = (long)envp;
	register long r8 __asm__("r8") = flags;
	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "a"((long)SYS_execveat), "D"(fd), "S"(name), "d"(argv), "r"(r10), "r"(r8)
	                 : "rcx", "r11", "memory");
	return r;
}

static int
copy(int in, int out)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	return n == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	int in = open(argv[2], O_RDONLY), fd;
	if (in < 0)
		return 2;
	if (strcmp(argv[1], "memfd") == 0) {
		fd = memfd_create("payload", 0);
		if (fd < 0 || copy(in, fd) != 0)
			return 2;
	} else {
		int out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0755);
		if (out < 0 || copy(in, out) != 0 || close(out) != 0)
			return 2;
		fd = open(argv[3], O_RDONLY);
		if (fd < 0 || unlink(argv[3]) != 0)
			return 2;
	}
	char *av[] = { "payload", "escaped", NULL };
	long r = raw_execveat(fd, "", av, environ, AT_EMPTY_PATH);
	fprintf(stderr, "deleted_exec: execveat: %ld\n", r);
	return 1;
}
