/*
 * modes: creates files through every open-like entry point with an explicit
 * mode, so a test can compare the permissions on disk with a bare run.  A
 * wrapper that drops or garbles the variadic mode (open's third argument,
 * O_TMPFILE needing one too: TRAPS 24) changes the files a program makes.
 *
 *   modes DIR     prints "NAME MODE" for each file it made (umask 022)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void
show(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) != 0) {
		printf("%s missing\n", name);
		return;
	}
	printf("%s %o\n", name, (unsigned)(st.st_mode & 07777));
}

static int
made(int fd)
{
	return fd >= 0 && close(fd) == 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *dir = argv[1];
	char path[4096];
	umask(022);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	int ok = dfd >= 0;
	snprintf(path, sizeof(path), "%s/open", dir);
	ok &= made(open(path, O_WRONLY | O_CREAT | O_EXCL, 0640));
	snprintf(path, sizeof(path), "%s/open64", dir);
	ok &= made(open64(path, O_WRONLY | O_CREAT, 0604));
	ok &= made(openat(dfd, "openat", O_RDWR | O_CREAT, 0750));
	ok &= made(openat64(dfd, "openat64", O_RDWR | O_CREAT, 0711));
	snprintf(path, sizeof(path), "%s/creat", dir);
	ok &= made(creat(path, 0620));
	snprintf(path, sizeof(path), "%s/mkdir", dir);
	ok &= mkdir(path, 0705) == 0;
	int tmp = open(dir, O_TMPFILE | O_WRONLY, 0641);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tmp);
	ok &= tmp >= 0 && linkat(AT_FDCWD, path, dfd, "tmpfile", AT_SYMLINK_FOLLOW) == 0;
	ok &= made(tmp) && close(dfd) == 0;
	static const char *const names[] = { "open", "open64", "openat", "openat64", "creat",
		                             "mkdir", "tmpfile" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		show(dir, names[i]);
	return ok ? 0 : 1;
}
