/*
 * open_many: open each PATH N times, O_RDONLY (and a read of one byte
 * that is never shown), and say what came of it:
 *
 *   open_many N PATH...   ->   "PATH opened=A denied=D other=O" a line each
 *
 * denied: EACCES (the tests run as root, so only the policy says it).
 * The same file again and again in one directory: the checked open's
 * common case, decided in one pass once the directory is remembered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	long n = strtol(argv[1], NULL, 10);
	for (int i = 2; i < argc; i++) {
		long opened = 0, denied = 0, other = 0;
		for (long k = 0; k < n; k++) {
			int fd = open(argv[i], O_RDONLY);
			if (fd < 0) {
				if (errno == EACCES)
					denied++;
				else
					other++;
				continue;
			}
			char c;
			if (read(fd, &c, 1) >= 0)
				opened++;
			close(fd);
		}
		printf("%s opened=%ld denied=%ld other=%ld\n", argv[i], opened, denied, other);
	}
	return 0;
}
