/*
 * fsutil: scratch directories and whole-file reads for the tests.
 *
 * Every test that touches the disk works in its own mkdtemp directory under
 * /tmp and removes it afterwards, so tests can run in parallel and leave
 * nothing behind.
 */
#ifndef WARD_TESTS_FSUTIL_H
#define WARD_TESTS_FSUTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* A fresh /tmp/ward-test.XXXXXX; aborts on failure.  Free with tmpdir_remove. */
char *tmpdir_make(void);
/* rm -rf dir, then free it. */
void tmpdir_remove(char *dir);

/* out = dir/name (aborts if it does not fit). */
void path_in(char out[PATH_MAX], const char *dir, const char *name);

bool file_write(const char *path, const void *data, size_t len);
/* Whole file, NUL-terminated; NULL if it cannot be read. */
char *file_read(const char *path, size_t *len);
/* Same size and bytes. */
bool files_equal(const char *a, const char *b);

/* n lines of pseudo-random words, deterministic for a seed (malloc'd). */
char *text_lines(unsigned int n, unsigned int seed, size_t *len);

#endif
