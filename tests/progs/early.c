/*
 * early: a preloaded library whose constructor and destructor make
 * intercepted calls, i.e. calls that may reach the shim before its own
 * constructor ran or after its destructor dumped (SPEC 7).  The file to
 * touch comes from EARLY_FILE.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void
touch(void)
{
	const char *file = getenv("EARLY_FILE");
	struct stat st;
	if (file == NULL)
		return;
	int fd = open(file, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) != 0 || close(fd) != 0)
		_exit(99);
}

__attribute__((constructor)) static void
early_start(void)
{
	touch();
}

__attribute__((destructor)) static void
early_stop(void)
{
	touch();
}

/* Something for a program linked with this library to call (needs_early). */
int
early_linked(void)
{
	return 0;
}
