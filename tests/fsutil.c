/*
 * fsutil: scratch directories and whole-file helpers (see fsutil.h).
 */
#define _GNU_SOURCE
#include "fsutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *
tmpdir_make(void)
{
	char *dir = strdup("/tmp/ward-test.XXXXXX");
	if (dir == NULL || mkdtemp(dir) == NULL)
		abort();
	return dir;
}

static int
remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

void
tmpdir_remove(char *dir)
{
	if (dir == NULL)
		return;
	if (strncmp(dir, "/tmp/ward-test.", 15) == 0)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

void
path_in(char out[PATH_MAX], const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		abort();
}

bool
file_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return false;
	bool ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

char *
file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0, got;
	char *data = malloc(cap + 1);
	while (data != NULL && (got = fread(data + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			data = realloc(data, (cap *= 2) + 1);
	}
	fclose(f);
	if (data == NULL)
		return NULL;
	data[n] = '\0';
	if (len != NULL)
		*len = n;
	return data;
}

bool
files_equal(const char *a, const char *b)
{
	size_t la, lb;
	char *da = file_read(a, &la), *db = file_read(b, &lb);
	bool same = da != NULL && db != NULL && la == lb && memcmp(da, db, la) == 0;
	free(da);
	free(db);
	return same;
}

char *
text_lines(unsigned int n, unsigned int seed, size_t *len)
{
	static const char *const words[] = { "alpha", "bravo", "charlie", "delta", "echo",
		"foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima" };
	size_t cap = (size_t)n * 64 + 1, used = 0;
	char *text = malloc(cap);
	if (text == NULL)
		abort();
	for (unsigned int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned int w1 = (seed >> 16) % 12, w2 = (seed >> 8) % 12;
		used += (size_t)snprintf(text + used, cap - used, "%s %u %s\n", words[w1],
		                         (seed >> 4) % 100000, words[w2]);
	}
	*len = used;
	return text;
}
