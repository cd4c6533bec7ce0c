/*
 * race_exec: exec of work/flip while a flipper swaps it (RENAME_EXCHANGE)
 * with work/lnk, a symlink to DIR/secret/forbidden (issue 11, case 10).
 * work/flip starts as a copy of the allowed payload (exits 0), forbidden
 * is a copy of the forbidden one (exits 42): a child that exits 42 ran the
 * forbidden program, a win; 126 is an exec refused with EACCES.  The
 * victim starts it by fork+execv, vfork+execv and posix_spawn in turn.
 *
 *   race_exec setup DIR ALLOWED_PAYLOAD FORBIDDEN_PAYLOAD
 *   race_exec run DIR MS FLIPPER
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "race.h"

static const char *flip, *lnk;

static void
setup(const char *dir, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "race_exec setup DIR ALLOWED FORBIDDEN\n");
		exit(2);
	}
	char t[4096];
	race_copy(argv[0], "work/flip", 0755);
	race_copy(argv[1], "secret/forbidden", 0755);
	snprintf(t, sizeof(t), "%s/secret/forbidden", dir);
	race_symlink(t, "work/lnk");
}

static void
prepare(struct race_run *r)
{
	(void)r;
	flip = race_path("work/flip");
	lnk = race_path("work/lnk");
}

static void
flip_names(void)
{
	race_exchange(flip, lnk);
}

/* Start work/flip the i-th way: fork+execv, vfork+execv, posix_spawn.
 * -1 with errno when it could not be started at all. */
static pid_t
start(unsigned int i)
{
	static char *argv[] = { "payload", NULL };
	extern char **environ;
	pid_t pid;
	switch (i % 3) {
	case 0:
		pid = fork();
		break;
	case 1:
		pid = vfork();
		break;
	default: {
		int e = posix_spawn(&pid, flip, NULL, NULL, argv, environ);
		if (e != 0) {
			errno = e;
			return -1;
		}
		return pid;
	}
	}
	if (pid == 0) {
		execv(flip, argv);
		_exit(errno == EACCES ? 126 : 127);
	}
	return pid;
}

static void
victim(struct race_run *r)
{
	for (unsigned int i = 0; !race_over(); i++) {
		r->n.attempts++;
		pid_t pid = start(i);
		if (pid < 0) {
			race_failed(r);
			continue;
		}
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
			r->n.other++;
			continue;
		}
		switch (WEXITSTATUS(status)) {
		case 0:
			r->n.allowed++;
			break;
		case 42:
			r->n.wins++;
			break;
		case 126:
			r->n.refused++;
			break;
		default:
			r->n.other++;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
