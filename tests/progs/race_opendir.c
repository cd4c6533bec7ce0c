/*
 * race_opendir: list a directory of the allowed tree while a flipper swaps
 * it (RENAME_EXCHANGE) for a symlink to the secret directory (issue 11,
 * case 7).  work/flip is a directory holding "harmless"; work/lnk points at
 * DIR/secret.  An entry only the secret has (S.txt, victim), or a stream on
 * the secret directory's inode, is a win.
 *
 *   race_opendir run DIR MS FLIPPER
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "race.h"

static const char *flip, *lnk;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	race_mkdir("work/flip");
	race_put("work/flip/harmless", HARMLESS_TEXT, 0644);
	snprintf(t, sizeof(t), "%s/secret", dir);
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

static void
victim(struct race_run *r)
{
	struct stat st;
	while (!race_over()) {
		r->n.attempts++;
		DIR *dp = opendir(flip);
		if (dp == NULL) {
			race_failed(r);
			continue;
		}
		bool secret = fstat(dirfd(dp), &st) == 0 && race_is_secret("secret", st.st_dev, st.st_ino);
		bool harmless = false;
		struct dirent *e;
		while ((e = readdir(dp)) != NULL) {
			if (strcmp(e->d_name, "S.txt") == 0 || strcmp(e->d_name, "victim") == 0)
				secret = true;
			if (strcmp(e->d_name, "harmless") == 0)
				harmless = true;
		}
		closedir(dp);
		if (secret)
			r->n.wins++;
		else if (harmless)
			r->n.allowed++;
		else
			r->n.other++;
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
