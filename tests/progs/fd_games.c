/*
 * fd_games: programs that close or replace descriptors the shim cares about
 * (TRAPS 19, SPEC 7: "programs that close or dup2 over fds 0-2").
 *
 *   fd_games close-stderr FILE   close(2), open FILE (it lands on fd 2), write
 *   fd_games dup2-stderr FILE    dup2 FILE's fd over 2, write to 2
 *   fd_games freopen-stderr FILE freopen(FILE, "w", stderr), fputs to stderr
 *   fd_games close-range         close_range(0, ~0U): every descriptor
 *   fd_games close-fd N FILE     close(N), open FILE and put it on N, write
 *   fd_games dup2-tracked A B    open A (read) and B (write), dup2(B, A),
 *                                write through A's number, close both
 *
 * Each writes "program data\n" where it says and exits normally: the stats
 * dump must still reach the original stderr and never land in FILE.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char data[] = "program data\n";

static int
write_data(int fd)
{
	return write(fd, data, strlen(data)) == (ssize_t)strlen(data) ? 0 : 1;
}

/* The file takes number n: directly when n is the lowest free number,
 * else moved there with dup2 (onto a number that is now closed). */
static int
close_fd(int n, const char *file)
{
	close(n);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return 3;
	if (fd != n && (dup2(fd, n) != n || close(fd) != 0))
		return 3;
	return write_data(n);
}

static int
dup2_stderr(const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, 2) != 2 || close(fd) != 0)
		return 3;
	return write_data(2);
}

static int
freopen_stderr(const char *file)
{
	if (freopen(file, "w", stderr) == NULL || fileno(stderr) != 2)
		return 3;
	return fputs(data, stderr) < 0 || fflush(stderr) != 0;
}

static int
dup2_tracked(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY);
	int fb = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fa < 0 || fb < 0 || dup2(fb, fa) != fa)
		return 3;
	if (write_data(fa) != 0 || close(fb) != 0 || close(fa) != 0)
		return 4;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "close-stderr") == 0)
		return close_fd(2, argv[2]);
	if (argc == 3 && strcmp(argv[1], "dup2-stderr") == 0)
		return dup2_stderr(argv[2]);
	if (argc == 3 && strcmp(argv[1], "freopen-stderr") == 0)
		return freopen_stderr(argv[2]);
	if (argc == 2 && strcmp(argv[1], "close-range") == 0)
		return close_range(0, ~0U, 0) == 0 ? 0 : 3;
	if (argc == 4 && strcmp(argv[1], "close-fd") == 0)
		return close_fd(atoi(argv[2]), argv[3]);
	if (argc == 4 && strcmp(argv[1], "dup2-tracked") == 0)
		return dup2_tracked(argv[2], argv[3]);
	return 2;
}
