/*
 * known_calls: makes an exact, known number of intercepted calls so a test
 * can compare every figure of the dump with what really happened.
 *
 *   known_calls FILE N M K B
 *
 * N successful opens (each closed), M opens of a missing file (fail with
 * ENOENT), K stats of FILE, then one more open that reads exactly B bytes
 * in reads of at most 4096 bytes (FILE must hold at least B bytes).  Nothing
 * is printed.  The same source is built four ways (plain, with
 * _FILE_OFFSET_BITS=64, with -O2 -D_FORTIFY_SOURCE=2, and with both), so the
 * tests see which symbol each build really calls: open / open64 / __open_2 /
 * __open64_2, stat / stat64, read / __read_chk.  The open flags are not a compile-time constant, as in
 * most real programs: that is what makes a fortified build call __open_2.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile int read_only = O_RDONLY;
static volatile size_t chunk = 4096; /* not a constant: fortified read stays __read_chk */

static int
open_and_close(const char *path, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		int fd = open(path, read_only);
		if (fd < 0 || close(fd) != 0)
			return -1;
	}
	return 0;
}

static int
fail_to_open(const char *path, unsigned long n)
{
	char missing[4096];
	snprintf(missing, sizeof(missing), "%s.does-not-exist", path);
	for (unsigned long i = 0; i < n; i++)
		if (open(missing, read_only) != -1)
			return -1;
	return 0;
}

static int
stat_many(const char *path, unsigned long n)
{
	struct stat st;
	for (unsigned long i = 0; i < n; i++)
		if (stat(path, &st) != 0)
			return -1;
	return 0;
}

static int
read_exactly(const char *path, unsigned long bytes)
{
	char buf[4096];
	int fd = open(path, read_only);
	if (fd < 0)
		return -1;
	while (bytes > 0) {
		size_t want = bytes < chunk ? bytes : chunk;
		ssize_t got = read(fd, buf, want);
		if (got != (ssize_t)want)
			return -1;
		bytes -= want;
	}
	return close(fd);
}

int
main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: known_calls FILE N M K B\n");
		return 2;
	}
	const char *path = argv[1];
	if (open_and_close(path, strtoul(argv[2], NULL, 10)) != 0 ||
	    fail_to_open(path, strtoul(argv[3], NULL, 10)) != 0 ||
	    stat_many(path, strtoul(argv[4], NULL, 10)) != 0 ||
	    read_exactly(path, strtoul(argv[5], NULL, 10)) != 0) {
		perror("known_calls");
		return 1;
	}
	return 0;
}
