/*
 * tryop: make the one call an operation stands for and say whether the
 * policy refused it.
 *
 *   tryop OP PATH    OP: read (open O_RDONLY), write (open O_WRONLY),
 *                    stat (stat), create (mkdir), remove (unlink, or rmdir
 *                    for a directory), exec (execv)
 *
 * Prints "denied" when the call failed with EACCES (the tests run as root,
 * so only the policy says EACCES), else "ok" (whatever else happened).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
attempt(const char *op, const char *path)
{
	struct stat st;
	if (strcmp(op, "read") == 0)
		return open(path, O_RDONLY);
	if (strcmp(op, "write") == 0)
		return open(path, O_WRONLY);
	if (strcmp(op, "stat") == 0)
		return stat(path, &st);
	if (strcmp(op, "create") == 0)
		return mkdir(path, 0755);
	if (strcmp(op, "remove") == 0)
		return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path);
	if (strcmp(op, "exec") == 0) {
		char *argv[] = { (char *)path, NULL };
		fflush(stdout);
		return execv(path, argv);
	}
	errno = EINVAL;
	return -2;
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int r = attempt(argv[1], argv[2]);
	if (r == -2)
		return 2;
	puts(r < 0 && errno == EACCES ? "denied" : "ok");
	return 0;
}
