/*
 * personality_route: ask for READ_IMPLIES_EXEC, then map memory RW and
 * report how the kernel mapped it.
 *   personality_route libc|syscall
 * Prints "personality: result R errno E" and "mapping: PERMS" from
 * /proc/self/maps ("rw-p" or "rwxp").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	long r = strcmp(argv[1], "syscall") == 0 ? syscall(SYS_personality, READ_IMPLIES_EXEC)
	                                         : personality(READ_IMPLIES_EXEC);
	printf("personality: result %ld errno %d\n", r == -1 ? -1L : 0L, r == -1 ? errno : 0);
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mapping: failed errno %d\n", errno);
		return 0;
	}
	/* the line whose range holds p (the kernel may merge the mapping with
	 * a neighbour of the same protection: it need not start at p) */
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "r");
	while (maps != NULL && fgets(line, sizeof(line), maps) != NULL) {
		unsigned long from, to;
		char perms[5];
		if (sscanf(line, "%lx-%lx %4s", &from, &to, perms) == 3 && from <= (unsigned long)p &&
		    (unsigned long)p < to)
			printf("mapping: %.4s\n", perms);
	}
	return 0;
}
