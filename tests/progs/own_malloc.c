/*
 * own_malloc: a program that defines the malloc family itself (a bump
 * allocator over a static arena; free does nothing).  The executable comes
 * first in the search order, before any preload (TRAPS 7): its malloc
 * serves everything, libc's internal allocations and the shim's own
 * included.  Under the shim it must run as without it; it prints what its
 * allocator handed out so the test can see the shim's family was not used.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char arena[64 << 20] __attribute__((aligned(64)));
static size_t used, handed_out;

void *
malloc(size_t n)
{
	size_t at = (used + 15) & ~(size_t)15;
	if (at + n + 16 > sizeof(arena))
		return NULL;
	used = at + n + 16;
	handed_out++;
	memcpy(arena + at, &n, sizeof(n));
	return arena + at + 16;
}

void
free(void *p)
{
	(void)p;
}

void *
calloc(size_t count, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	void *p = malloc(n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

void *
realloc(void *p, size_t n)
{
	void *q = malloc(n);
	if (q != NULL && p != NULL) {
		size_t old;
		memcpy(&old, (char *)p - 16, sizeof(old));
		memcpy(q, p, old < n ? old : n);
	}
	return q;
}

int
main(int argc, char **argv)
{
	FILE *f = fopen(argc > 1 ? argv[1] : "/etc/hostname", "r");
	if (f == NULL)
		return 1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	char *copy = strdup("own allocator");
	printf("read %zd bytes; %s; blocks from the program's malloc: %s\n", n, copy,
	       handed_out >= 3 ? "yes" : "no");
	free(line);
	free(copy);
	return 0;
}
