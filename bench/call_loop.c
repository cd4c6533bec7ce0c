/*
 * call_loop: N calls of one libc file operation and nothing else, for
 * bench/instructions.sh to count under callgrind.
 *
 *   bench_call_loop OPERATION N DIR
 *
 * DIR is a directory the caller made (the script gives every run the
 * same path, so that paths, and what hashing them costs, are the same in
 * every run).  The files are made there before the loop, unless they are
 * there already: the script makes them with a bare run of N = 0 first, so
 * that no set-up needs what the measured case may lack (a checked O_CREAT
 * open needs openat2, which valgrind 3.19 does not have); the loop makes
 * the calls of one operation and tests each result, nothing more.  The
 * script runs it with N and 11·N and divides the difference of the two
 * instruction totals by 10·N: start-up, set-up and any one-time cost of a
 * preloaded library cancel out, and what is left is one operation.
 *
 * Operations:
 *   open_close  open(DIR/data, O_RDONLY) + close
 *   stat        stat(DIR/data)
 *   pread       pread of 4 KiB at offset 0 from DIR/data, opened before
 *   readdir     one readdir() call in DIR/many (997 files: 1,000 entries,
 *               and the end of the directory counts as a call, so a pass is
 *               1,000 calls and N a multiple of 1,000 pays whole refills);
 *               rewinddir after the end
 *   listdir     opendir(DIR/small) + readdir to the end (8 files: 11
 *               calls) + closedir: a tree walk's visit of a small directory
 *   raw_open_close, raw_stat, raw_getppid
 *               openat + close, newfstatat, getppid made with the syscall
 *               instruction itself, never through libc (what
 *               bench/strict_cost.sh times under --strict, where each one
 *               is a SIGSYS the shim's handler decides and makes)
 *   malloc_free a malloc(64) + free pair: a ring of 256 live blocks, each
 *               iteration frees one (in a fixed scattered order) and puts a
 *               fresh one in its place; one byte of each written and read
 *               (bare: glibc's allocator, the SPEC 8 reference)
 *
 * Linked with nothing of ward's: the same binary runs bare, under an empty
 * preloaded library and under libward.so, before and after a change.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BLOCK 4096
#define MANY_FILES 997 /* plus "." and "..": 999 entries, and the end: 1,000 calls a pass */
#define SMALL_FILES 8

static char block[BLOCK];

static void
fail(const char *what, const char *path)
{
	fprintf(stderr, "call_loop: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void
make_file(const char *path, size_t size)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == size)
		return; /* made by an earlier run */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		fail("create", path);
	if (size > 0 && write(fd, block, size) != (ssize_t)size)
		fail("write", path);
	close(fd);
}

static void
make_dir(const char *dir, const char *name, int files)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct stat st;
	if (!(stat(path, &st) == 0 && S_ISDIR(st.st_mode)) && mkdir(path, 0700) != 0)
		fail("mkdir", path); /* (made by an earlier run, or now) */
	for (int i = 0; i < files; i++) {
		snprintf(path, sizeof(path), "%s/%s/f%03d", dir, name, i);
		make_file(path, 0);
	}
}

static void
loop_open_close(const char *path, long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			fail("open", path);
		if (close(fd) != 0)
			fail("close", path);
	}
}

static void
loop_stat(const char *path, long n)
{
	struct stat st;
	for (long i = 0; i < n; i++)
		if (stat(path, &st) != 0)
			fail("stat", path);
}

#if defined(__x86_64__)
static long
raw4(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return ret;
}

static void
loop_raw(const char *op, const char *path, long n)
{
	struct stat st;
	for (long i = 0; i < n; i++) {
		if (strcmp(op, "raw_getppid") == 0) {
			raw4(SYS_getppid, 0, 0, 0, 0);
		} else if (strcmp(op, "raw_stat") == 0) {
			if (raw4(SYS_newfstatat, AT_FDCWD, (long)path, (long)&st, 0) != 0)
				fail("raw stat", path);
		} else {
			long fd = raw4(SYS_openat, AT_FDCWD, (long)path, O_RDONLY, 0);
			if (fd < 0 || raw4(SYS_close, fd, 0, 0, 0) != 0)
				fail("raw open", path);
		}
	}
}
#endif

static void
loop_pread(const char *path, long n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		fail("open", path);
	for (long i = 0; i < n; i++)
		if (pread(fd, block, BLOCK, 0) != BLOCK)
			fail("pread", path);
	close(fd);
}

static void
loop_readdir(const char *path, long n)
{
	DIR *dir = opendir(path);
	if (dir == NULL)
		fail("opendir", path);
	errno = 0;
	for (long i = 0; i < n; i++)
		if (readdir(dir) == NULL) {
			if (errno != 0)
				fail("readdir", path);
			rewinddir(dir);
		}
	closedir(dir);
}

static void
loop_malloc_free(long n)
{
	enum { RING = 256, SIZE = 64 };
	static char *ring[RING];
	unsigned int sum = 0;
	for (long i = 0; i < n; i++) {
		unsigned int at = (unsigned int)(i * 97) % RING;
		char *fresh = malloc(SIZE);
		if (fresh == NULL)
			fail("malloc", "64 bytes");
		fresh[0] = (char)i;
		if (ring[at] != NULL) {
			sum += (unsigned char)ring[at][0];
			free(ring[at]);
		}
		ring[at] = fresh;
	}
	for (unsigned int at = 0; at < RING; at++)
		free(ring[at]);
	if (sum == 1) /* keeps the reads */
		fputs("", stderr);
}

static void
loop_listdir(const char *path, long n)
{
	for (long i = 0; i < n; i++) {
		DIR *dir = opendir(path);
		if (dir == NULL)
			fail("opendir", path);
		errno = 0;
		while (readdir(dir) != NULL)
			;
		if (errno != 0)
			fail("readdir", path);
		closedir(dir);
	}
}

int
main(int argc, char **argv)
{
	char *end;
	long n = argc == 4 ? strtol(argv[2], &end, 10) : -1;
	if (argc != 4 || *end != '\0' || n < 0) {
		fputs("usage: bench_call_loop open_close|stat|pread|readdir|listdir|malloc_free|raw_open_close|raw_stat|raw_getppid N "
		      "DIR\n",
		      stderr);
		return 2;
	}
	const char *op = argv[1], *dir = argv[3];
	/* at a fixed alignment: a stack array is only 16-byte aligned, and
	 * where the stack starts moves with every run (ASLR), so the shim's
	 * 32-byte-block scans of the path cost one of two amounts by chance
	 * (about 44 instructions apart per checked stat) */
	char path[PATH_MAX] __attribute__((aligned(64)));
	memset(block, 'w', sizeof(block));
	if (strcmp(op, "readdir") == 0) {
		make_dir(dir, "many", MANY_FILES);
		snprintf(path, sizeof(path), "%s/many", dir);
		loop_readdir(path, n);
	} else if (strcmp(op, "malloc_free") == 0) {
		loop_malloc_free(n);
	} else if (strcmp(op, "listdir") == 0) {
		make_dir(dir, "small", SMALL_FILES);
		snprintf(path, sizeof(path), "%s/small", dir);
		loop_listdir(path, n);
	} else {
		snprintf(path, sizeof(path), "%s/data", dir);
		make_file(path, BLOCK);
		if (strcmp(op, "open_close") == 0)
			loop_open_close(path, n);
		else if (strcmp(op, "stat") == 0)
			loop_stat(path, n);
		else if (strcmp(op, "pread") == 0)
			loop_pread(path, n);
#if defined(__x86_64__)
		else if (strncmp(op, "raw_", 4) == 0)
			loop_raw(op, path, n);
#endif
		else {
			fprintf(stderr, "call_loop: unknown operation %s\n", op);
			return 2;
		}
	}
	return 0;
}
