/*
 * chroot_route: chroot into DIR, then read NAME relative to the new root.
 *   chroot_route DIR NAME
 * Prints "chroot: result R errno E", then "open: ..." and what it read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long r = chroot(argv[1]);
	printf("chroot: result %ld errno %d\n", r, r == -1 ? errno : 0);
	if (r == 0 && chdir("/") != 0)
		return 3;
	int fd = open(argv[2], O_RDONLY);
	printf("open: result %d errno %d\n", fd < 0 ? -1 : 0, fd < 0 ? errno : 0);
	char buf[256];
	long n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	if (n > 0) {
		buf[n] = '\0';
		printf("got: %s", buf);
	}
	return 0;
}
