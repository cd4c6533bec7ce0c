/*
 * raw_exec: exec PROGRAM with a system call instruction of its own, as Go's
 * runtime does, so no libc wrapper (and no shim check) sees the exec.
 *
 *   raw_exec PROGRAM [ARG...]
 *
 * The environment passed on is the program's own environ.  Exits 127 if
 * the exec fails.
 */
#include <sys/syscall.h>

extern char **environ;

static long
raw_execve(const char *path, char **argv, char **envp)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_execve), "D"(path), "S"(argv), "d"(envp) : "rcx", "r11", "memory");
	return ret;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	raw_execve(argv[1], argv + 1, environ);
	return 127;
}
