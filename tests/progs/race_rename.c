/*
 * race_rename: rename through work/flip while a flipper swaps it (a
 * directory) with work/lnk, a symlink to DIR/secret, which holds an x too
 * (issue 11, case 9, and the destination side of it).
 *
 *   race_rename run DIR MS FLIPPER [out|into]
 *   out  (default) rename(work/flip/x, work/y): the victim loop puts x
 *        back in the real directory through a descriptor held on it,
 *        renames by name and looks at what arrived: the secret's x (by
 *        identity), or a rename that left the real directory's x where it
 *        was, is a win (nothing may leave the secret directory).
 *   into rename(work/mine, work/flip/x), a fresh work/mine each time: a
 *        rename that succeeded while the real directory's x (as its
 *        descriptor lists it) is not mine replaced the secret's x: a win.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race.h"

static const char *flip, *lnk, *inner, *outer;
static int real_dir;
static bool into;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	race_mkdir("work/flip");
	snprintf(t, sizeof(t), "%s/secret", dir);
	race_symlink(t, "work/lnk");
}

static void
prepare(struct race_run *r)
{
	into = r->argc > 0 && strcmp(r->argv[0], "into") == 0;
	flip = race_path("work/flip");
	lnk = race_path("work/lnk");
	inner = race_path("work/flip/x");
	outer = race_path(into ? "work/mine" : "work/y");
	real_dir = open(flip, O_RDONLY | O_DIRECTORY);
	if (real_dir < 0)
		race_die(flip);
}

static void
flip_names(void)
{
	race_exchange(flip, lnk);
}

static void
out_once(struct race_run *r)
{
	struct stat st;
	int fd = openat(real_dir, "x", O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	if (!race_dir_has(real_dir, "x"))
		return; /* not put back (refused while flipping): later */
	r->n.attempts++;
	if (rename(inner, outer) != 0) {
		race_failed(r);
		return;
	}
	if ((lstat(outer, &st) == 0 && race_is_secret("x", st.st_dev, st.st_ino)) || race_dir_has(real_dir, "x"))
		r->n.wins++;
	else
		r->n.allowed++;
}

static void
into_once(struct race_run *r)
{
	struct stat st;
	unlink(outer);
	int fd = open(outer, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || fstat(fd, &st) != 0)
		race_die(outer);
	close(fd);
	r->n.attempts++;
	if (rename(outer, inner) != 0) {
		race_failed(r);
		return;
	}
	if (race_dir_ino(real_dir, "x") == st.st_ino)
		r->n.allowed++;
	else
		r->n.wins++;
}

static void
victim(struct race_run *r)
{
	while (!race_over())
		(into ? into_once : out_once)(r);
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
