/*
 * race_unresolved: a call whose path the check finds failing by itself (a
 * descriptor number not open, a symlink loop) while a flipper makes it
 * lead into the denied tree an instant later.  A check that let such a
 * call go on to the kernel unchecked ("it fails anyway") is won: the
 * kernel resolves the program's path afresh, and by then it names the
 * secret.  A read of the secret's bytes is a win.
 *
 *   race_unresolved run DIR MS thread fd
 *       descriptor number N is, in turn, a directory holding a harmless
 *       S.txt (DIR/work/d), not open, DIR/secret (opened O_PATH: a stat,
 *       which the policy allows), not open; the victim opens S.txt at N
 *   race_unresolved run DIR MS proc|thread loop
 *       DIR/work/flip is exchanged, in turn, with a symlink that loops
 *       (work/loop -> flip: a loop once it is at work/flip) and with a symlink to DIR/secret/S.txt; the
 *       victim opens work/flip
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race.h"

enum { N = 57 };
static bool by_fd;
static int harmless_dir = -1, secret_dir = -1;
static const char *flip, *loop, *lnk;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	race_mkdir("work/d");
	race_put("work/d/S.txt", HARMLESS_TEXT, 0644);
	race_put("work/flip", HARMLESS_TEXT, 0644);
	race_symlink("flip", "work/loop"); /* at work/flip it names itself */
	snprintf(t, sizeof(t), "%s/secret/S.txt", dir);
	race_symlink(t, "work/lnk");
}

static void
prepare(struct race_run *r)
{
	if (r->argc != 1 || (strcmp(r->argv[0], "fd") != 0 && strcmp(r->argv[0], "loop") != 0))
		race_die("usage: run DIR MS FLIPPER fd|loop");
	by_fd = strcmp(r->argv[0], "fd") == 0;
	flip = race_path("work/flip");
	loop = race_path("work/loop");
	lnk = race_path("work/lnk");
	if (by_fd) {
		harmless_dir = open(race_path("work/d"), O_PATH | O_DIRECTORY);
		secret_dir = open(race_path("secret"), O_PATH | O_DIRECTORY);
		if (harmless_dir < 0 || secret_dir < 0)
			race_die("open the directories");
		if (!r->flipping)
			dup2(harmless_dir, N);
	}
}

static void
flip_names(void)
{
	if (by_fd) {
		dup2(harmless_dir, N);
		close(N);
		dup2(secret_dir, N);
		close(N);
	} else {
		race_exchange(flip, loop);
		race_exchange(flip, lnk);
	}
}

static void
victim(struct race_run *r)
{
	char buf[256];
	struct stat st;
	while (!race_over()) {
		r->n.attempts++;
		int fd = by_fd ? openat(N, "S.txt", O_RDONLY) : open(flip, O_RDONLY);
		if (fd < 0) {
			race_failed(r);
			continue;
		}
		fstat(fd, &st);
		ssize_t n = read(fd, buf, sizeof(buf));
		close(fd);
		race_classify_read(r, buf, n > 0 ? (size_t)n : 0, st.st_dev, st.st_ino);
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
