/*
 * race_make: mkdir, symlink and link into work/flip while a flipper swaps
 * it (a directory) with work/lnk, a symlink to DIR/secret (issue 11, case
 * 12).  The victim loop takes the three calls in turn, each time first
 * removing the name from the real directory (through a descriptor held on
 * it); a call that succeeded while the new name is not in the real
 * directory (as its descriptor lists it) made it in the secret's: a win.  The test also checks the
 * secret's listing afterwards.
 *
 *   race_make run DIR MS FLIPPER
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race.h"

static const char *flip, *lnk, *file, *made[3];
static const char *const names[3] = { "newdir", "newsym", "newlink" };
static int real_dir;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	race_mkdir("work/flip");
	race_put("work/file", HARMLESS_TEXT, 0644);
	snprintf(t, sizeof(t), "%s/secret", dir);
	race_symlink(t, "work/lnk");
}

static void
prepare(struct race_run *r)
{
	(void)r;
	flip = race_path("work/flip");
	lnk = race_path("work/lnk");
	file = race_path("work/file");
	made[0] = race_path("work/flip/newdir");
	made[1] = race_path("work/flip/newsym");
	made[2] = race_path("work/flip/newlink");
	real_dir = open(flip, O_RDONLY | O_DIRECTORY);
	if (real_dir < 0)
		race_die(flip);
}

static void
flip_names(void)
{
	race_exchange(flip, lnk);
}

static int
make(int which)
{
	switch (which) {
	case 0:
		return mkdir(made[0], 0755);
	case 1:
		return symlink("harmless-target", made[1]);
	default:
		return link(file, made[2]);
	}
}

static void
victim(struct race_run *r)
{
	for (unsigned int i = 0; !race_over(); i++) {
		int which = (int)(i % 3);
		unlinkat(real_dir, names[which], which == 0 ? AT_REMOVEDIR : 0);
		if (race_dir_has(real_dir, names[which]))
			continue; /* not removed (refused while flipping): try again later */
		r->n.attempts++;
		if (make(which) != 0) {
			race_failed(r);
			continue;
		}
		if (race_dir_has(real_dir, names[which]))
			r->n.allowed++;
		else
			r->n.wins++;
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
