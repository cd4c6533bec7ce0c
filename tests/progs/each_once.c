/*
 * each_once: calls a wide set of intercepted functions a known number of
 * times, each succeeding, so the test can check that every one is counted
 * exactly as often as it was called: not missed because libc reached the
 * kernel through a hidden alias (TRAPS 2), and not counted twice because one
 * wrapped function used another (creat -> open, fopen -> open, scandir ->
 * opendir; TRAPS 13).  The expected figures are in tests/test_figures.c.
 *
 *   each_once DIR      (an empty, writable directory)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

static char path[4][4096];

#define MUST(expr)                                                  \
	do {                                                        \
		if (!(expr)) {                                      \
			fprintf(stderr, "each_once: %s failed\n", #expr); \
			exit(1);                                    \
		}                                                   \
	} while (0)

static void
descriptors(void)
{
	char buf[8];
	int fd = creat(path[0], 0644);            /* creat */
	MUST(fd >= 0);
	MUST(write(fd, "hello", 5) == 5);          /* write */
	FILE *f = fdopen(fd, "w");                 /* fdopen */
	MUST(f != NULL);
	MUST(fclose(f) == 0);                      /* fclose 1 */
	f = fopen(path[0], "r");                   /* fopen */
	MUST(f != NULL);
	int copy = dup(fileno(f));                 /* dup */
	MUST(copy >= 0);
	MUST(pread(copy, buf, 5, 0) == 5);         /* pread */
	struct iovec iov = { buf, 3 };
	MUST(lseek(copy, 0, SEEK_SET) == 0);
	MUST(readv(copy, &iov, 1) == 3);           /* readv */
	MUST(close(copy) == 0);                    /* close 1 */
	MUST(fclose(f) == 0);                      /* fclose 2 */
	int p[2];
	MUST(pipe(p) == 0);                        /* pipe */
	MUST(dup2(p[1], p[0]) == p[0]);            /* dup2 */
	MUST(close(p[0]) == 0 && close(p[1]) == 0); /* close 2, 3 */
}

static void
temporaries(const char *dir)
{
	char template[4096];
	snprintf(template, sizeof(template), "%s/tmp.XXXXXX", dir);
	int fd = mkstemp(template);                /* mkstemp */
	MUST(fd >= 0);
	MUST(unlink(template) == 0);               /* unlink */
	MUST(close(fd) == 0);                      /* close 4 */
	FILE *t = tmpfile();                       /* tmpfile */
	MUST(t != NULL);
	MUST(fclose(t) == 0);                      /* fclose 3 */
	snprintf(template, sizeof(template), "%s/dir.XXXXXX", dir);
	MUST(mkdtemp(template) != NULL);           /* mkdtemp */
	MUST(rmdir(template) == 0);                /* rmdir */
}

static void
names(const char *dir)
{
	struct stat st;
	char buf[4096];
	MUST(mkdir(path[1], 0755) == 0);           /* mkdir */
	MUST(rename(path[0], path[2]) == 0);       /* rename */
	MUST(symlink(path[2], path[3]) == 0);      /* symlink */
	MUST(readlink(path[3], buf, sizeof(buf)) > 0); /* readlink */
	MUST(lstat(path[3], &st) == 0);            /* lstat */
	MUST(stat(path[3], &st) == 0);             /* stat */
	MUST(access(path[2], R_OK) == 0);          /* access */
	MUST(chmod(path[2], 0600) == 0);           /* chmod */
	MUST(truncate(path[2], 2) == 0);           /* truncate */
	MUST(utimes(path[2], NULL) == 0);          /* utimes */
	char *real = realpath(path[3], NULL);      /* realpath */
	MUST(real != NULL);
	free(real);
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort); /* scandir */
	MUST(n > 0);
	while (n--)
		free(list[n]);
	free(list);
	MUST(remove(path[3]) == 0);                /* remove */
}

static void
directory(void)
{
	DIR *d = opendir(path[1]);                 /* opendir */
	MUST(d != NULL);
	int entries = 0;
	while (readdir(d) != NULL)                 /* readdir: ".", "..", then NULL */
		entries++;
	MUST(entries == 2);
	MUST(closedir(d) == 0);                    /* closedir */
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	static const char *const names_in_dir[4] = { "created", "subdir", "renamed", "link" };
	for (int i = 0; i < 4; i++)
		snprintf(path[i], sizeof(path[i]), "%s/%s", argv[1], names_in_dir[i]);
	descriptors();
	temporaries(argv[1]);
	names(argv[1]);
	directory();
	return 0;
}
