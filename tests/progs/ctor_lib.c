/* A library whose constructor announces itself on stdout: loaded means run. */
#include <unistd.h>

__attribute__((constructor)) static void
announce(void)
{
	static const char line[] = "constructor ran\n";
	(void)!write(1, line, sizeof(line) - 1);
}
