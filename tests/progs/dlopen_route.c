/*
 * dlopen_route: load a library by path or bare name.
 *   dlopen_route FILE
 * Prints "dlopen: ok" or "dlopen: failed: DLERROR"; the library's
 * constructor (ctor_lib.c) prints its own line if it runs.
 */
#include <dlfcn.h>
#include <stdio.h>

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW);
	const char *why = h == NULL ? dlerror() : NULL;
	if (h != NULL)
		printf("dlopen: ok\n");
	else
		printf("dlopen: failed: %s\n", why != NULL ? why : "(no dlerror message)");
	return 0;
}
