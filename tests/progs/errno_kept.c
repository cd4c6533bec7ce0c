/*
 * errno_kept: prints errno after intercepted calls, so a test can compare a
 * run under the shim with a bare run (TRAPS 21: the shim must never change
 * errno).  Before each call errno is set to 1234; after a successful call it
 * must still be 1234, after a failing one it must be the real error.
 *
 *   errno_kept FILE DIR     (DIR writable: a bad program is made there)
 *
 * Output: one "CALL ok|fail ERRNO" line per call; exit 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void
report(const char *call, int failed, int err)
{
	printf("%s %s %d\n", call, failed ? "fail" : "ok", err);
}

#define CHECK(label, expr, failed_if)            \
	do {                                     \
		errno = 1234;                    \
		long r_ = (long)(expr);          \
		int e_ = errno;                  \
		report(label, r_ failed_if, e_); \
	} while (0)

static void
successes(const char *file, const char *dir)
{
	struct stat st;
	char buf[64];
	int fd = -1, p[2];
	CHECK("open", fd = open(file, O_RDONLY), < 0);
	CHECK("stat", stat(file, &st), != 0);
	CHECK("lstat", lstat(file, &st), != 0);
	CHECK("fstat", fstat(fd, &st), != 0);
	CHECK("access", access(file, R_OK), != 0);
	CHECK("read", read(fd, buf, 4), < 0);
	CHECK("pread", pread(fd, buf, 4, 1), < 0);
	CHECK("dup", fd = dup(fd), < 0);
	CHECK("close", close(fd), != 0);
	CHECK("pipe", pipe(p), != 0);
	CHECK("write", write(p[1], "x", 1), < 0);
	CHECK("close", close(p[0]) | close(p[1]), != 0);
	DIR *d = NULL;
	CHECK("opendir", (d = opendir(dir)) == NULL, != 0);
	CHECK("readdir", readdir(d) == NULL, != 0);
	CHECK("closedir", closedir(d), != 0);
	FILE *f = NULL;
	CHECK("fopen", (f = fopen(file, "r")) == NULL, != 0);
	CHECK("fclose", fclose(f), != 0);
	/* a stream with no descriptor: libc's fileno would say EBADF */
	char mem[16];
	FILE *m = fmemopen(mem, sizeof(mem), "w");
	CHECK("fclose(memstream)", fclose(m), != 0);
	char *real = NULL;
	CHECK("realpath", (real = realpath(file, NULL)) == NULL, != 0);
	free(real);
	CHECK("readlink", readlink("/proc/self/exe", buf, sizeof(buf)), < 0);
}

/* A file that is executable but no program: exec fails with ENOEXEC after
 * the shim has guessed it would work. */
static void
bad_program(const char *dir, char *path, size_t cap)
{
	snprintf(path, cap, "%s/not-a-program", dir);
	FILE *f = fopen(path, "w");
	if (f != NULL) {
		fputs("\x01\x02 not a program\n", f);
		fclose(f);
	}
	chmod(path, 0755);
}

static void
failures(const char *file, const char *dir)
{
	struct stat st;
	char buf[8], bad[4096];
	char *const args[] = { "x", NULL };
	bad_program(dir, bad, sizeof(bad));
	CHECK("open(missing)", open("/nonexistent/ward/file", O_RDONLY), < 0);
	CHECK("stat(missing)", stat("/nonexistent/ward/file", &st), != 0);
	CHECK("close(-1)", close(-1), != 0);
	CHECK("read(-1)", read(-1, buf, 1), < 0);
	CHECK("opendir(file)", opendir(file) == NULL, != 0);
	CHECK("fopen(missing)", fopen("/nonexistent/ward/file", "r") == NULL, != 0);
	CHECK("mkdir(exists)", mkdir("/tmp", 0755), != 0);
	CHECK("unlink(missing)", unlink("/nonexistent/ward/file"), != 0);
	CHECK("execv(missing)", execv("/nonexistent/ward/program", args), != 0);
	CHECK("execvp(missing)", execvp("no-such-program-ward-test", args), != 0);
	CHECK("execv(not-a-program)", execv(bad, args), != 0);
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	successes(argv[1], argv[2]);
	failures(argv[1], argv[2]);
	return 0;
}
