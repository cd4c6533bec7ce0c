/*
 * walk_chdir: relative opens inside glibc's walkers while they change
 * directory (nftw with FTW_CHDIR, fts without FTS_NOCHDIR).
 *
 *   walk_chdir nftw|fts DIR
 *
 * For every regular file named "probe" the walk reaches, opens "data"
 * relative to where the walker is now (the probe's directory) and prints
 * "DIRNAME: CONTENT" or "DIRNAME: errno".  Prints "cwd ok" at the end when
 * the working directory is back where it was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fts.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
probe(const char *path)
{
	char copy[4096], text[64] = "";
	snprintf(copy, sizeof(copy), "%s", path);
	const char *dir = basename(dirname(copy));
	FILE *f = fopen("data", "r");
	if (f == NULL) {
		printf("%s: %d\n", dir, errno);
		return;
	}
	if (fgets(text, sizeof(text), f) == NULL)
		text[0] = '\0';
	fclose(f);
	text[strcspn(text, "\n")] = '\0';
	printf("%s: %s\n", dir, text);
}

static int
on_entry(const char *path, const struct stat *st, int type, struct FTW *info)
{
	(void)st;
	(void)info;
	if (type == FTW_F && strcmp(path + strlen(path) - 5, "probe") == 0)
		probe(path);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	char before[4096], after[4096];
	if (getcwd(before, sizeof(before)) == NULL)
		return 3;
	if (strcmp(argv[1], "nftw") == 0) {
		if (nftw(argv[2], on_entry, 8, FTW_CHDIR | FTW_PHYS) != 0)
			return 4;
	} else {
		char *roots[] = { argv[2], NULL };
		FTS *fts = fts_open(roots, FTS_PHYSICAL, NULL);
		if (fts == NULL)
			return 4;
		FTSENT *e;
		while ((e = fts_read(fts)) != NULL)
			if (e->fts_info == FTS_F && strcmp(e->fts_name, "probe") == 0)
				probe(e->fts_path);
		fts_close(fts);
	}
	if (getcwd(after, sizeof(after)) != NULL && strcmp(before, after) == 0)
		puts("cwd ok");
	return 0;
}
