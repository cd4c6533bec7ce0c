/*
 * fts_children_route: list a directory with glibc's fts_children.
 *   fts_children_route DIR
 * Prints "root: NAME" for each entry fts_children gives before the first
 * fts_read (the roots), "child: NAME" for the children of DIR, then
 * "read: NAME" for every entry the walk visits afterwards.
 */
#define _GNU_SOURCE
#include <fts.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	char *roots[] = { argv[1], NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (fts == NULL)
		return 3;
	for (FTSENT *e = fts_children(fts, 0); e != NULL; e = e->fts_link)
		printf("root: %s\n", e->fts_name);
	FTSENT *top = fts_read(fts);
	if (top == NULL)
		return 4;
	for (FTSENT *e = fts_children(fts, FTS_NAMEONLY); e != NULL; e = e->fts_link)
		printf("child: %s\n", e->fts_name);
	for (FTSENT *e = fts_children(fts, 0); e != NULL; e = e->fts_link)
		printf("child: %s\n", e->fts_name);
	for (FTSENT *e; (e = fts_read(fts)) != NULL;)
		if (e->fts_info != FTS_DP)
			printf("read: %s\n", e->fts_name);
	fts_close(fts);
	return 0;
}
