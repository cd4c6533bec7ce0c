/*
 * loosen: a preloaded library whose constructor tries to loosen the
 * confinement before the shim's own constructor runs: it points
 * WARD_POLICY at the policy named by LOOSEN_POLICY and HOME at "/" (a
 * policy's ~/ tree would then be everything).  With LOOSEN_UNSET set it
 * removes WARD_POLICY and the environment's first entry instead (unsetenv
 * moves the later entries down the array).  The shim reads what the
 * process was started with, so none of this changes anything.
 */
#include <stdlib.h>
#include <string.h>

extern char **environ;

__attribute__((constructor)) static void
loosen(void)
{
	if (getenv("LOOSEN_UNSET") != NULL) {
		char first[256];
		size_t n = environ[0] != NULL ? strcspn(environ[0], "=") : 0;
		if (n > 0 && n < sizeof(first)) {
			memcpy(first, environ[0], n);
			first[n] = '\0';
			unsetenv(first);
		}
		unsetenv("WARD_POLICY");
		return;
	}
	const char *permissive = getenv("LOOSEN_POLICY");
	if (permissive != NULL)
		setenv("WARD_POLICY", permissive, 1);
	setenv("HOME", "/", 1);
}
