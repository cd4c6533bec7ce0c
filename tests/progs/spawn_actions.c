/*
 * spawn_actions: posix_spawn with file actions that reach a file.
 *
 *   spawn_actions read FILE          cat with FILE opened on stdin
 *   spawn_actions truncate FILE      true with FILE opened O_WRONLY|O_TRUNC on fd 3
 *   spawn_actions create FILE        true with FILE opened O_CREAT on fd 3
 *   spawn_actions chdir DIR NAME     cat with NAME opened on stdin after addchdir_np(DIR)
 *   spawn_actions fchdir DIR NAME    the same after addfchdir_np(an fd of DIR)
 *   spawn_actions run DIR PROG       posix_spawn of PROG (relative: from DIR) after addchdir_np(DIR)
 *   spawn_actions closefrom 3 PROG   posix_spawn of PROG after addclosefrom_np(3)
 *
 * Prints "spawn E" (the error number posix_spawn returned; 0 when it
 * ran), then the child's output comes through, then "status S".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int
main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	char *cat[] = { "cat", NULL }, *tru[] = { "true", NULL };
	char **args = cat;
	if (strcmp(argv[1], "read") == 0) {
		posix_spawn_file_actions_addopen(&fa, 0, argv[2], O_RDONLY, 0);
	} else if (strcmp(argv[1], "truncate") == 0) {
		posix_spawn_file_actions_addopen(&fa, 3, argv[2], O_WRONLY | O_TRUNC, 0);
		args = tru;
	} else if (strcmp(argv[1], "create") == 0) {
		posix_spawn_file_actions_addopen(&fa, 3, argv[2], O_WRONLY | O_CREAT, 0644);
		args = tru;
	} else if (strcmp(argv[1], "chdir") == 0 && argc == 4) {
		posix_spawn_file_actions_addchdir_np(&fa, argv[2]);
		posix_spawn_file_actions_addopen(&fa, 0, argv[3], O_RDONLY, 0);
	} else if (strcmp(argv[1], "fchdir") == 0 && argc == 4) {
		int fd = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			return 3;
		posix_spawn_file_actions_addfchdir_np(&fa, fd);
		posix_spawn_file_actions_addopen(&fa, 0, argv[3], O_RDONLY, 0);
	} else if (strcmp(argv[1], "run") == 0 && argc == 4) {
		posix_spawn_file_actions_addchdir_np(&fa, argv[2]);
	} else if (strcmp(argv[1], "closefrom") == 0 && argc == 4) {
		posix_spawn_file_actions_addclosefrom_np(&fa, atoi(argv[2]));
	} else {
		return 2;
	}
	pid_t pid;
	int err = strcmp(argv[1], "run") == 0 || strcmp(argv[1], "closefrom") == 0
	                  ? posix_spawn(&pid, argv[3], &fa, NULL, tru, environ)
	                                      : posix_spawnp(&pid, args[0], &fa, NULL, args, environ);
	printf("spawn %d\n", err);
	fflush(stdout);
	if (err != 0)
		return 0;
	int status;
	waitpid(pid, &status, 0);
	printf("status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
