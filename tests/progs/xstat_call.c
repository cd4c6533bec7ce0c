/*
 * xstat_call: an "old binary" that calls the pre-2.33 stat entry points
 * directly, as programs built against older glibc do (TRAPS 3: glibc 2.36
 * still exports __xstat and friends, and a shim that only wraps stat counts
 * nothing for them).
 *
 *   xstat_call FILE K
 *
 * Calls __xstat, __xstat64 and __lxstat K times each on FILE and __fxstat
 * once on an open descriptor; prints "size S" (as __xstat saw it).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAT_VER 1 /* _STAT_VER_LINUX on x86-64 */

int __xstat(int ver, const char *path, struct stat *buf);
int __xstat64(int ver, const char *path, struct stat64 *buf);
int __lxstat(int ver, const char *path, struct stat *buf);
int __fxstat(int ver, int fd, struct stat *buf);

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long k = strtol(argv[2], NULL, 10);
	struct stat st;
	struct stat64 st64;
	for (long i = 0; i < k; i++)
		if (__xstat(STAT_VER, argv[1], &st) != 0 || __xstat64(STAT_VER, argv[1], &st64) != 0 ||
		    __lxstat(STAT_VER, argv[1], &st) != 0)
			return 1;
	int fd = open(argv[1], O_RDONLY);
	if (fd < 0 || __fxstat(STAT_VER, fd, &st) != 0 || close(fd) != 0)
		return 1;
	printf("size %lld\n", (long long)st.st_size);
	return 0;
}
