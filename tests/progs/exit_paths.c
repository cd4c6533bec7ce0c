/*
 * exit_paths: the ways a process image ends, each after a known open+close
 * (SPEC 3: one dump per image, at exit, at _exit/_Exit, just before exec;
 * TRAPS 19: destructors do not run on _exit or exec).
 *
 *   exit_paths exit FILE        exit(0)
 *   exit_paths _exit FILE       _exit(3)
 *   exit_paths _Exit FILE       _Exit(4)
 *   exit_paths exec FILE        execl(itself, "after"): the new image opens
 *                               FILE twice and exits 0
 *   exit_paths exec-missing FILE  execl of a missing program fails; open
 *                               FILE once more; exit(0)
 *   exit_paths exec-noexec FILE BAD  execv of BAD (executable, not a program:
 *                               ENOEXEC); open FILE once more; exit(0)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
touch(const char *file, int times)
{
	for (int i = 0; i < times; i++) {
		int fd = open(file, O_RDONLY);
		if (fd < 0 || close(fd) != 0)
			exit(9);
	}
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1], *file = argv[2];
	if (strcmp(mode, "after") == 0) {
		touch(file, 2);
		return 0;
	}
	touch(file, 1);
	if (strcmp(mode, "exit") == 0)
		exit(0);
	if (strcmp(mode, "_exit") == 0)
		_exit(3);
	if (strcmp(mode, "_Exit") == 0)
		_Exit(4);
	if (strcmp(mode, "exec") == 0) {
		execl("/proc/self/exe", "exit_paths", "after", file, (char *)NULL);
		return 8;
	}
	if (strcmp(mode, "exec-missing") == 0) {
		execl("/nonexistent/program", "program", (char *)NULL);
		touch(file, 1);
		exit(0);
	}
	if (strcmp(mode, "exec-noexec") == 0 && argc == 4) {
		char *args[] = { argv[3], NULL };
		execv(argv[3], args);
		touch(file, 1);
		exit(0);
	}
	return 2;
}
