/*
 * vfork_exec: the classic vfork + dup2 + exec of a pipeline stage (TRAPS 14:
 * the vfork child runs in the parent's memory, so whatever the shim does
 * there it does to the parent's figures).
 *
 *   vfork_exec exec   child: dup2 the pipe to stdout, close both ends, exec
 *                     /bin/echo hi; the parent reads the pipe
 *   vfork_exec fail   child: exec a missing program, then _exit(7)
 *   vfork_exec quiet  child: dup2 /dev/null over its stderr, exec /bin/true
 *                     (what python's subprocess does for stderr=DEVNULL)
 *
 * Prints "parent PID child PID reads R got TEXT" (or "... status S"), so the
 * test knows exactly which intercepted calls the parent itself made: pipe 1,
 * close 2, read R.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child never returns from here: it execs or _exits. */
static pid_t
spawn_echo(const int p[2])
{
	pid_t pid = vfork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("/bin/echo", "echo", "hi", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int
run_echo(void)
{
	int p[2];
	char got[64] = "";
	size_t have = 0;
	int reads = 0;
	if (pipe(p) != 0)
		return 1;
	pid_t pid = spawn_echo(p);
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], got + have, sizeof(got) - 1 - have);
		reads++;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	got[strcspn(got, "\n")] = '\0';
	printf("parent %ld child %ld reads %d got %s\n", (long)getpid(), (long)pid, reads, got);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int
run_failing(void)
{
	pid_t pid = vfork();
	if (pid == 0) {
		execl("/nonexistent/program", "program", (char *)NULL);
		_exit(7);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("parent %ld child %ld status %d\n", (long)getpid(), (long)pid, WEXITSTATUS(status));
	return WEXITSTATUS(status) == 7 ? 0 : 1;
}

static pid_t
spawn_quiet(int devnull)
{
	pid_t pid = vfork();
	if (pid == 0) {
		dup2(devnull, 2);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int
run_quiet(void)
{
	int devnull = open("/dev/null", O_WRONLY);
	if (devnull < 0)
		return 1;
	pid_t pid = spawn_quiet(devnull);
	close(devnull);
	int status;
	waitpid(pid, &status, 0);
	printf("parent %ld child %ld status %d\n", (long)getpid(), (long)pid, WEXITSTATUS(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "exec") == 0)
		return run_echo();
	if (argc == 2 && strcmp(argv[1], "fail") == 0)
		return run_failing();
	if (argc == 2 && strcmp(argv[1], "quiet") == 0)
		return run_quiet();
	return 2;
}
