/*
 * race_mktemp: mkstemp and mkdtemp through a directory a flipper swaps for
 * a symlink to DIR (readable, not writable) (RENAME_EXCHANGE of work/d and
 * work/l).  A new entry in DIR is a win.
 *
 *   race_mktemp run DIR MS FLIPPER file|dir
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "race.h"

static bool make_dir;
static int top = -1, entries;
static const char *d, *l, *pattern;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	race_mkdir("work/d");
	race_symlink(dir, "work/l");
}

static void
prepare(struct race_run *r)
{
	if (r->argc != 1 || (strcmp(r->argv[0], "file") != 0 && strcmp(r->argv[0], "dir") != 0))
		race_die("usage: run DIR MS FLIPPER file|dir");
	make_dir = strcmp(r->argv[0], "dir") == 0;
	d = race_path("work/d");
	l = race_path("work/l");
	pattern = race_path("work/d/tXXXXXX");
	top = open(race_path(""), O_RDONLY | O_DIRECTORY);
	if (top < 0)
		race_die("open");
	entries = race_dir_entries(top);
}

static void
flip_names(void)
{
	race_exchange(d, l);
}

static void
victim(struct race_run *r)
{
	char name[4200];
	bool won = false;
	while (!race_over()) {
		r->n.attempts++;
		snprintf(name, sizeof(name), "%s", pattern);
		bool made;
		if (make_dir) {
			made = mkdtemp(name) != NULL;
		} else {
			int fd = mkstemp(name);
			made = fd >= 0;
			if (made)
				close(fd);
		}
		if (!made)
			race_failed(r);
		else if (strstr(name, "XXXXXX") == NULL)
			r->n.allowed++;
		else
			r->n.other++; /* made, yet the template was not filled in */
		bool now = race_dir_entries(top) != entries;
		if (now && !won)
			r->n.wins++;
		won = now;
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
