/*
 * alias_route: call glibc's second public names of wrapped functions.
 *   alias_route open|open64|fopen FILE    __open, __open64, _IO_fopen, then read: "got: ..."
 *   alias_route popen COMMAND             _IO_popen(COMMAND, "r"), what it printed
 *   alias_route malloc KIB                __libc_malloc and __libc_calloc of KIB KiB
 *   alias_route mmap rwx                  __mmap of a writable, executable page (GLIBC_PRIVATE)
 * Prints "NAME: result R errno E" (R is 0 for a descriptor or a pointer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern int __open(const char *path, int flags, ...);
extern int __open64(const char *path, int flags, ...);
extern FILE *_IO_fopen(const char *path, const char *mode);
extern FILE *_IO_popen(const char *command, const char *mode);
extern int _IO_fclose(FILE *stream);
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void __libc_free(void *p);
extern void *__mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r < 0 ? -1L : 0L, r < 0 ? errno : 0);
}

static void
dump(int fd)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		printf("got: %s", buf);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *mode = argv[1], *arg = argv[2];
	if (strcmp(mode, "open") == 0 || strcmp(mode, "open64") == 0) {
		int fd = mode[4] == '6' ? __open64(arg, O_RDONLY) : __open(arg, O_RDONLY);
		show(mode[4] == '6' ? "__open64" : "__open", fd);
		if (fd >= 0)
			dump(fd);
	} else if (strcmp(mode, "fopen") == 0) {
		FILE *f = _IO_fopen(arg, "r");
		show("_IO_fopen", f == NULL ? -1 : 0);
		if (f != NULL) {
			dump(fileno(f));
			_IO_fclose(f);
		}
	} else if (strcmp(mode, "popen") == 0) {
		FILE *f = _IO_popen(arg, "r");
		show("_IO_popen", f == NULL ? -1 : 0);
		if (f != NULL) {
			dump(fileno(f));
			pclose(f);
		}
	} else if (strcmp(mode, "malloc") == 0) {
		size_t n = strtoul(arg, NULL, 10) << 10;
		errno = 0;
		void *p = __libc_malloc(n);
		show("__libc_malloc", p == NULL ? -1 : 0);
		__libc_free(p);
		errno = 0;
		p = __libc_calloc(1, n);
		show("__libc_calloc", p == NULL ? -1 : 0);
		__libc_free(p);
	} else if (strcmp(mode, "mmap") == 0) {
		void *p = __mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		show("__mmap", p == MAP_FAILED ? -1 : 0);
	} else {
		return 2;
	}
	return 0;
}
