/*
 * race_read: read a name of the allowed tree while a flipper swaps it for
 * a symlink to the secret (issue 11, cases 1-5).  A read of the secret's
 * bytes, or a descriptor on the secret's inode, is a win.
 *
 *   race_read run DIR MS FLIPPER CALL SHAPE [proc]
 *   CALL   open: open + read; fopen: fopen + fread; openat2: openat2
 *          through syscall() with RESOLVE_NO_MAGICLINKS, + read
 *   SHAPE  file: work/flip is exchanged (RENAME_EXCHANGE) with work/lnk, a
 *                symlink to DIR/secret/S.txt; the victim reads work/flip
 *          dir: work/d (a directory holding a harmless S.txt) is exchanged
 *                with work/dlnk, a symlink to DIR/secret; the victim reads
 *                work/d/S.txt
 *          dirrename: the same swap made by four plain renames
 *                (d -> d.real, dlnk -> d, d -> dlnk, d.real -> d)
 *   proc   the victim's path goes through the magic link /proc/self/root
 *   deep   the same names in work/deep/.../ (25 levels of 200 bytes: over
 *          5,000 bytes, more than any system call takes), where the victim
 *          and the flipper work by relative names (setup needs `deep` too)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race.h"

static const char *flip, *lnk, *d, *dlnk, *dreal, *target;
static bool use_fopen, use_openat2;
static enum { FILE_SWAP, DIR_SWAP, DIR_RENAME } shape;

#define DEEP_LEVELS 25

/* Into work/deep/ and down its levels (made when make is set), one chdir
 * at a time. */
static void
go_deep(bool make)
{
	char name[201];
	memset(name, 'd', 200);
	name[200] = '\0';
	if ((make && mkdir(race_path("work/deep"), 0755) != 0) || chdir(race_path("work/deep")) != 0)
		race_die("work/deep");
	for (int i = 0; i < DEEP_LEVELS; i++)
		if ((make && mkdir(name, 0755) != 0) || chdir(name) != 0)
			race_die("deep level");
}

static void
put_here(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		race_die(name);
}

static void
setup(const char *dir, int argc, char **argv)
{
	char t[4096];
	race_put("work/flip", HARMLESS_TEXT, 0644);
	snprintf(t, sizeof(t), "%s/secret/S.txt", dir);
	race_symlink(t, "work/lnk");
	race_mkdir("work/d");
	race_put("work/d/S.txt", HARMLESS_TEXT, 0644);
	snprintf(t, sizeof(t), "%s/secret", dir);
	race_symlink(t, "work/dlnk");
	if (argc >= 1 && strcmp(argv[0], "deep") == 0) {
		go_deep(true);
		put_here("flip", HARMLESS_TEXT);
		snprintf(t, sizeof(t), "%s/secret/S.txt", dir);
		if (symlink(t, "lnk") != 0 || mkdir("d", 0755) != 0)
			race_die("deep names");
		put_here("d/S.txt", HARMLESS_TEXT);
		snprintf(t, sizeof(t), "%s/secret", dir);
		if (symlink(t, "dlnk") != 0)
			race_die("deep dlnk");
	}
}

static void
prepare(struct race_run *r)
{
	if (r->argc != 2 && r->argc != 3)
		race_die("usage: run DIR MS FLIPPER open|fopen file|dir|dirrename [proc|deep]");
	use_fopen = strcmp(r->argv[0], "fopen") == 0;
	use_openat2 = strcmp(r->argv[0], "openat2") == 0;
	shape = strcmp(r->argv[1], "file") == 0  ? FILE_SWAP
	        : strcmp(r->argv[1], "dir") == 0 ? DIR_SWAP
	                                         : DIR_RENAME;
	flip = race_path("work/flip");
	lnk = race_path("work/lnk");
	d = race_path("work/d");
	dlnk = race_path("work/dlnk");
	dreal = race_path("work/d.real");
	target = shape == FILE_SWAP ? flip : race_path("work/d/S.txt");
	if (r->argc == 3 && strcmp(r->argv[2], "deep") == 0) {
		go_deep(false); /* the flipper, thread or child, works from here too */
		flip = "flip";
		lnk = "lnk";
		d = "d";
		dlnk = "dlnk";
		dreal = "d.real";
		target = shape == FILE_SWAP ? flip : "d/S.txt";
	}
	if (r->argc == 3 && strcmp(r->argv[2], "proc") == 0) {
		static char through[4200];
		snprintf(through, sizeof(through), "/proc/self/root%s", target);
		target = through;
	}
}

static void
flip_names(void)
{
	switch (shape) {
	case FILE_SWAP:
		race_exchange(flip, lnk);
		break;
	case DIR_SWAP:
		race_exchange(d, dlnk);
		break;
	case DIR_RENAME:
		rename(d, dreal);
		rename(dlnk, d);
		rename(d, dlnk);
		rename(dreal, d);
		break;
	}
}

static void
victim(struct race_run *r)
{
	char buf[256];
	struct stat st;
	while (!race_over()) {
		r->n.attempts++;
		size_t len = 0;
		if (use_fopen) {
			FILE *f = fopen(target, "r");
			if (f == NULL) {
				race_failed(r);
				continue;
			}
			fstat(fileno(f), &st);
			len = fread(buf, 1, sizeof(buf), f);
			fclose(f);
		} else {
			struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_NO_MAGICLINKS };
			int fd = use_openat2 ? (int)syscall(SYS_openat2, AT_FDCWD, target, &how, sizeof(how))
			                     : open(target, O_RDONLY);
			if (fd < 0) {
				race_failed(r);
				continue;
			}
			fstat(fd, &st);
			ssize_t n = read(fd, buf, sizeof(buf));
			len = n > 0 ? (size_t)n : 0;
			close(fd);
		}
		race_classify_read(r, buf, len, st.st_dev, st.st_ino);
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
