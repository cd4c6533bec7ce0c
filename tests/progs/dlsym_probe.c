/*
 * dlsym_probe: `dlsym_probe read|write PATH` opens PATH through the
 * `open` that dlsym(RTLD_NEXT, "open") returns, as programs that look
 * past an interposer do.  Prints "ok" and exits 0, or "OP PATH: ERROR"
 * and exits 1.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int (*real_open)(const char *, int, ...) = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	if (real_open == NULL)
		return 2;
	int write_it = strcmp(argv[1], "write") == 0;
	int fd = real_open(argv[2], write_it ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644);
	if (fd < 0) {
		printf("%s %s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	if (write_it && write(fd, "dlsym\n", 6) != 6)
		return 1;
	puts("ok");
	return 0;
}
