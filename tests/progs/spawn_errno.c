/*
 * spawn_errno: errno after successful posix_spawn, posix_spawnp, system
 * and popen/pclose, set to a sentinel before each call.  Printed one line
 * per call, so a run under the shim can be compared with a bare one.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

#define SENTINEL 4242

int
main(void)
{
	char *argv[] = { "true", NULL };
	pid_t pid;
	errno = SENTINEL;
	int r = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
	printf("posix_spawn %d %d\n", r, errno);
	waitpid(pid, NULL, 0);
	errno = SENTINEL;
	r = posix_spawnp(&pid, "true", NULL, NULL, argv, environ);
	printf("posix_spawnp %d %d\n", r, errno);
	waitpid(pid, NULL, 0);
	errno = SENTINEL;
	r = system("true");
	printf("system %d %d\n", r, errno);
	errno = SENTINEL;
	FILE *p = popen("true", "r");
	printf("popen %d %d\n", p != NULL, errno);
	errno = SENTINEL;
	r = p != NULL ? pclose(p) : -1;
	printf("pclose %d %d\n", r, errno);
	return 0;
}
