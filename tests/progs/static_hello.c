/*
 * static_hello: a statically linked program.  The loader never preloads
 * anything into it, so under a policy its exec is an unconfined exec.
 */
#include <stdio.h>

int
main(void)
{
	puts("static hello");
	return 0;
}
