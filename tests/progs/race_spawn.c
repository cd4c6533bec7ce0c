/*
 * race_spawn: posix_spawn with an addopen of work/d/S.txt on the child's
 * stdin while a flipper swaps work/d (a directory with a harmless S.txt)
 * for work/dlnk, a symlink to DIR/secret (RENAME_EXCHANGE).  The child is
 * cat; what it prints is what the child's descriptor held: the secret's
 * bytes are a win.
 *
 *   race_spawn run DIR MS FLIPPER [name]
 *
 * name: the actions start with addclosefrom_np(3) (so the open is made by
 * name in the child), and the flipper is a thread rewriting the action's
 * own copy of the path (glibc's strdup, reached through glibc's struct
 * __spawn_action) between the harmless file and DIR/secret/S.txt, both of
 * the same length, instead of swapping directories.
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
static bool by_name;
static char good[4200], bad[4200];
static char *volatile live; /* the current action's path string */

struct spawn_action { /* glibc's struct __spawn_action (posix/spawn_int.h) */
	int tag;
	union {
		struct { int fd; char *path; int oflag; mode_t mode; } open_action;
		char pad[24];
	} action;
};

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
	by_name = r->argc == 1 && strcmp(r->argv[0], "name") == 0;
	d = race_path("work/d");
	dlnk = race_path("work/dlnk");
	target = race_path("work/d/S.txt");
	/* the same length: work/d/S.txt and secret/S.txt */
	snprintf(good, sizeof(good), "%s", race_path("work/d/S.txt"));
	snprintf(bad, sizeof(bad), "%s", race_path("secret/S.txt"));
	size_t gl = strlen(good), bl = strlen(bad);
	if (bl < gl) { /* pad the secret's name with "/" (the same file) */
		char *s = strrchr(bad, '/');
		memmove(s + (gl - bl), s, strlen(s) + 1);
		memset(s, '/', gl - bl);
	}
	if (strlen(bad) != strlen(good))
		race_die("names of different lengths");
}

static void
flip_names(void)
{
	if (!by_name) {
		race_exchange(d, dlnk);
		return;
	}
	char *p = live;
	size_t n = strlen(good);
	if (p != NULL)
		memcpy(p, memcmp(p, good, n) == 0 ? bad : good, n);
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
		if (by_name) { /* stdout first: the closefrom closes the pipe's own numbers */
			posix_spawn_file_actions_adddup2(&fa, p[1], 1);
			posix_spawn_file_actions_addclosefrom_np(&fa, 3);
			posix_spawn_file_actions_addopen(&fa, 0, good, O_RDONLY, 0);
			live = ((struct spawn_action *)fa.__actions)[2].action.open_action.path;
		} else {
			posix_spawn_file_actions_addopen(&fa, 0, target, O_RDONLY, 0);
			posix_spawn_file_actions_adddup2(&fa, p[1], 1);
			posix_spawn_file_actions_addclose(&fa, p[0]);
		}
		pid_t pid;
		int err = posix_spawn(&pid, "/bin/cat", &fa, NULL, argv, environ);
		live = NULL;
		if (!by_name) /* (the flipper may still write into the name: never freed) */
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
