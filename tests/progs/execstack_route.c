/*
 * execstack_route: an executable stack under `memory wx deny`.
 *
 *   execstack_route maps         how many mappings are writable and executable
 *   execstack_route dlopen LIB   dlopen LIB (a library asking for an
 *                                executable stack), then the same count
 *
 * Built twice: plain, and linked -z execstack (the kernel maps its stack
 * executable at exec).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "dlopen") == 0)
		printf("dlopen %s\n", dlopen(argv[2], RTLD_NOW) != NULL ? "ok" : "refused");
	FILE *maps = fopen("/proc/self/maps", "r");
	if (maps == NULL)
		return 2;
	char line[512];
	int rwx = 0;
	while (fgets(line, sizeof(line), maps) != NULL)
		rwx += strstr(line, " rwxp ") != NULL;
	fclose(maps);
	printf("rwx %d\n", rwx);
	return 0;
}
