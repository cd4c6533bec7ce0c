/*
 * race_unlink: unlink(work/flip/victim) while a flipper swaps work/flip (a
 * directory) with work/lnk, a symlink to DIR/secret, which holds a file
 * named victim too (issue 11, case 8).  The victim loop puts victim back in
 * the real directory through a descriptor held on it, then unlinks by name;
 * an unlink that succeeded while the real directory's victim is still
 * there (as its descriptor lists it) removed the secret's: a win.  (Without the shim that can happen
 * once: the secret's victim is then gone.)
 *
 *   race_unlink run DIR MS FLIPPER
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "race.h"

static const char *flip, *lnk, *name;
static int real_dir;

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
	(void)r;
	flip = race_path("work/flip");
	lnk = race_path("work/lnk");
	name = race_path("work/flip/victim");
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
victim(struct race_run *r)
{
	while (!race_over()) {
		int fd = openat(real_dir, "victim", O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		if (!race_dir_has(real_dir, "victim"))
			continue; /* not put back (refused while flipping): later */
		r->n.attempts++;
		if (unlink(name) != 0) {
			race_failed(r);
			continue;
		}
		if (race_dir_has(real_dir, "victim"))
			r->n.wins++;
		else
			r->n.allowed++;
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
