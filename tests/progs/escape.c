/*
 * escape: try to run `cat FILE` outside the shim's reach.
 *   escape system|popen|spawn|execve FILE
 * system and popen after clearenv(), posix_spawn and execve with an empty
 * environment.  Under a policy that denies FILE, cat must still be refused.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	char command[4200];
	snprintf(command, sizeof(command), "cat %s", argv[2]);
	char *cat[] = { "cat", argv[2], NULL };
	char *empty[] = { NULL };
	if (strcmp(argv[1], "system") == 0) {
		clearenv();
		int status = system(command);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
	}
	if (strcmp(argv[1], "popen") == 0) {
		clearenv();
		FILE *p = popen(command, "r");
		if (p == NULL)
			return 98;
		char buf[256];
		size_t n = fread(buf, 1, sizeof(buf), p);
		fwrite(buf, 1, n, stdout);
		int status = pclose(p);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
	}
	if (strcmp(argv[1], "spawn") == 0) {
		pid_t pid;
		if (posix_spawn(&pid, "/bin/cat", NULL, NULL, cat, empty) != 0)
			return 97;
		int status;
		waitpid(pid, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
	}
	if (strcmp(argv[1], "execve") == 0) {
		clearenv();
		execve("/bin/cat", cat, empty);
		return 96;
	}
	return 2;
}
