/*
 * hide_route: make a refused open whose violation record cannot be
 * written: a file size limit of 0 with SIGXFSZ ignored (every append to a
 * regular file fails with EFBIG), then open FILE.
 *   hide_route FILE
 * Prints "open: result R errno E" (stdout is a pipe: no limit applies).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit none = { 0, RLIM_INFINITY };
	if (setrlimit(RLIMIT_FSIZE, &none) != 0)
		return 3;
	int fd = open(argv[1], O_RDONLY);
	printf("open: result %d errno %d\n", fd < 0 ? -1 : 0, fd < 0 ? errno : 0);
	return 0;
}
