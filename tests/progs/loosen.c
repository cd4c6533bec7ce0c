/*
 * loosen: a preloaded library whose constructor tries to loosen the
 * confinement before the shim's own constructor runs: it points
 * WARD_POLICY at the policy named by LOOSEN_POLICY and HOME at "/" (a
 * policy's ~/ tree would then be everything).  The shim reads what the
 * process was started with, so neither changes anything.
 */
#include <stdlib.h>

__attribute__((constructor)) static void
loosen(void)
{
	const char *permissive = getenv("LOOSEN_POLICY");
	if (permissive != NULL)
		setenv("WARD_POLICY", permissive, 1);
	setenv("HOME", "/", 1);
}
