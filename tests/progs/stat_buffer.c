/*
 * stat_buffer PATH...: stat and fstatat each PATH into a buffer filled with
 * 0xAA first; prints "CALL PATH rc=RC errno=E untouched=0|1" per call, so
 * a test can compare what the caller's buffer holds with and without the
 * shim (a failed or refused call leaves it as it was).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void
show(const char *call, const char *path, int rc, int err, const struct stat *st)
{
	struct stat fresh;
	memset(&fresh, 0xAA, sizeof(fresh));
	printf("%s %s rc=%d errno=%d untouched=%d\n", call, path, rc, rc == 0 ? 0 : err,
	       memcmp(&fresh, st, sizeof(fresh)) == 0);
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		memset(&st, 0xAA, sizeof(st));
		errno = 0;
		int rc = stat(argv[i], &st);
		show("stat", argv[i], rc, errno, &st);
		memset(&st, 0xAA, sizeof(st));
		errno = 0;
		rc = fstatat(AT_FDCWD, argv[i], &st, 0);
		show("fstatat", argv[i], rc, errno, &st);
	}
	return 0;
}
