/*
 * fork_past_tree: more fork children than a `ward run` tree has records
 * for, between the parent's own opens.
 *
 *   fork_past_tree FILE FORKS BEFORE AFTER
 *
 * Opens and closes FILE BEFORE times, forks FORKS children one after the
 * other (each _exits 0 at once, waited for), then opens and closes FILE
 * AFTER times.  Prints "forks F failed X" and exits 0 when all went well.
 * The children past the tree's room count nowhere; the parent's figures
 * must still hold all BEFORE + AFTER opens.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static long
opens(const char *path, long n)
{
	long failed = 0;
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			failed++;
		else
			close(fd);
	}
	return failed;
}

int
main(int argc, char **argv)
{
	if (argc != 5)
		return 2;
	long forks = strtol(argv[2], NULL, 10), failed = opens(argv[1], strtol(argv[3], NULL, 10));
	for (long i = 0; i < forks; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	failed += opens(argv[1], strtol(argv[4], NULL, 10));
	printf("forks %ld failed %ld\n", forks, failed);
	return failed == 0 ? 0 : 1;
}
