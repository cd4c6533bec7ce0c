/*
 * race_spawn: posix_spawn with an addopen of work/d/S.txt on the child's
 * stdin while a flipper swaps work/d (a directory with a harmless S.txt)
 * for work/dlnk, a symlink to DIR/secret (RENAME_EXCHANGE).  The child is
 * cat; what it prints is what the child's descriptor held: the secret's
 * bytes are a win.
 *
 *   race_spawn run DIR MS FLIPPER
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "race.h"

extern char **environ;
static const char *d, *dlnk, *target;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	race_mkdir("work/d");
	race_put("work/d/S.txt", HARMLESS_TEXT, 0644);
	snprintf(t, sizeof(t), "%s/secret", dir);
	race_symlink(t, "work/dlnk");
}

static void
prepare(struct race_run *r)
{
	(void)r;
	d = race_path("work/d");
	dlnk = race_path("work/dlnk");
	target = race_path("work/d/S.txt");
}

static void
flip_names(void)
{
	race_exchange(d, dlnk);
}

static void
victim(struct race_run *r)
{
	char *argv[] = { "cat", NULL };
	while (!race_over()) {
		r->n.attempts++;
		int p[2];
		if (pipe(p) != 0)
			race_die("pipe");
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, target, O_RDONLY, 0);
		posix_spawn_file_actions_adddup2(&fa, p[1], 1);
		posix_spawn_file_actions_addclose(&fa, p[0]);
		pid_t pid;
		int err = posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, environ);
		posix_spawn_file_actions_destroy(&fa);
		close(p[1]);
		if (err != 0) {
			close(p[0]);
			errno = err;
			race_failed(r);
			continue;
		}
		char buf[256];
		size_t len = 0;
		ssize_t n;
		while (len < sizeof(buf) && (n = read(p[0], buf + len, sizeof(buf) - len)) > 0)
			len += (size_t)n;
		close(p[0]);
		int status;
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0) { /* the child's open failed */
			r->n.other++;
			continue;
		}
		race_classify_read(r, buf, len, 0, 0);
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
