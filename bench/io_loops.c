/*
 * io_loops: the cost of one intercepted file call, measured from inside the
 * process.
 *
 * The same binary is run bare and under LD_PRELOAD=libward.so (bench/run.sh
 * alternates the two); the difference between the figures is what the
 * wrappers add to open+close, stat, a 4 KiB pread and readdir.  The files are
 * fresh temporary ones, written before timing, so every call hits the page
 * cache and the kernel's cost stays the same in both runs.  readdir is the
 * call a tree walk makes most; most calls return an entry from libc's buffer
 * without entering the kernel, so what the wrapper adds to it is its own
 * instructions, while the other three add it after a system call (whose
 * cost on some machines includes refilling the TLB the wrapper then needs).
 *
 * Two sets of figures come out of one run:
 *
 *   plain   the calls by their ordinary names: libc's bare, the wrappers'
 *           under the preload.  Compared across two processes by run.sh.
 *   direct  the same calls through pointers taken from libc itself
 *           (dlopen of libc.so.6 + dlsym), which bypass any preloaded
 *           wrapper.  Bare, plain and direct are the same code, and their
 *           ratio shows how fine the method is; under the preload,
 *           plain/direct is the wrappers' cost.
 *
 * Why both: on a shared virtual machine a whole process can land a few per
 * cent faster or slower than the next one (placement, neighbours), as much
 * as the effect being measured.  Plain and direct slices of a few
 * milliseconds take turns inside one process, so they share its luck, and
 * the median of the per-pair ratios is a far steadier figure.  The loops of
 * the four kinds take turns too, so a burst of noise lands on all of them.
 *
 * Output, one machine-readable line:
 *   io_loops iterations=N open_close_ns=.. stat_ns=.. pread_4k_ns=.. readdir_ns=..
 *            direct_open_close_ns=.. (and the other three)
 *            paired_open_close_x=.. (and the other three)
 *            added_open_close_ns=.. (and the other three)
 * (one line; ns are medians over slices, x the median of plain/direct per
 * pair of slices, added the median of plain-direct per pair: what the
 * wrapper costs in nanoseconds when one is preloaded, about 0 when not).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define SLICES 21     /* pairs of slices per loop; odd, so the median is one of them */
#define WARMUP 2000   /* calls of each kind before timing starts */
#define BLOCK 4096
#define DIR_FILES 999 /* plus the data file, "." and "..": 1002 entries a pass,
                       * so a refill's fixed cost is spread over ~1000 calls */

/* The build uses 64-bit file offsets, so the program's open, stat, pread and
 * readdir are libc's open64, stat64, pread64 and readdir64: the direct
 * pointers must be too. */
_Static_assert(sizeof(off_t) == 8, "io_loops expects _FILE_OFFSET_BITS=64");

struct calls {
	int (*open)(const char *, int, ...);
	int (*close)(int);
	int (*stat)(const char *, struct stat *);
	ssize_t (*pread)(int, void *, size_t, off_t);
	struct dirent *(*readdir)(DIR *);
};

enum loop { OPEN_CLOSE, STAT, PREAD, READDIR, LOOPS };
static const char *const loop_names[LOOPS] = { "open_close", "stat", "pread_4k", "readdir" };

static char dir_path[256];  /* the temporary directory */
static char path[300];      /* the data file in it */
static char block[BLOCK];
static int fd;
static DIR *dir;

static void
remove_files(void)
{
	char name[320];
	for (int i = 0; i < DIR_FILES; i++) {
		snprintf(name, sizeof(name), "%s/f%03d", dir_path, i);
		unlink(name);
	}
	unlink(path);
	rmdir(dir_path);
}

static void
fail(const char *what)
{
	fprintf(stderr, "io_loops: %s: %s\n", what, strerror(errno));
	remove_files();
	exit(1);
}

static void
make_files(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir_path, sizeof(dir_path), "%s/ward-bench-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir_path) == NULL) {
		fprintf(stderr, "io_loops: mkdtemp %s: %s\n", dir_path, strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/data", dir_path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		fail("create");
	memset(block, 'w', sizeof(block));
	if (write(fd, block, BLOCK) != BLOCK)
		fail("write");
	char name[320];
	for (int i = 0; i < DIR_FILES; i++) {
		snprintf(name, sizeof(name), "%s/f%03d", dir_path, i);
		int f = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (f < 0)
			fail("create");
		close(f);
	}
	dir = opendir(dir_path);
	if (dir == NULL)
		fail("opendir");
}

/* Every result is checked: a failing call would be cheaper than a real one
 * and the comparison would be meaningless.  Returns the calls made: n, or
 * for readdir n rounded up to whole passes over the directory, so that every
 * slice pays for the same share of refills (rewinddir is not intercepted). */
static long
run_loop(const struct calls *c, enum loop loop, long n)
{
	struct stat st;
	long calls = 0;
	switch (loop) {
	case OPEN_CLOSE:
		for (; calls < n; calls++) {
			int f = c->open(path, O_RDONLY);
			if (f < 0)
				fail("open");
			if (c->close(f) != 0)
				fail("close");
		}
		break;
	case STAT:
		for (; calls < n; calls++)
			if (c->stat(path, &st) != 0)
				fail("stat");
		break;
	case PREAD:
		for (; calls < n; calls++)
			if (c->pread(fd, block, BLOCK, 0) != BLOCK)
				fail("pread");
		break;
	case READDIR:
		while (calls < n) {
			rewinddir(dir);
			errno = 0;
			do
				calls++; /* the end of the directory is a call too */
			while (c->readdir(dir) != NULL);
			if (errno != 0)
				fail("readdir");
		}
		break;
	case LOOPS:
		break;
	}
	return calls;
}

/* ns per call of one slice */
static double
time_slice(const struct calls *c, enum loop loop, long n)
{
	uint64_t start = now_ns();
	long calls = run_loop(c, loop, n);
	return (double)(now_ns() - start) / (double)calls;
}

static void
resolve_direct(struct calls *direct)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	if (libc == NULL) {
		fprintf(stderr, "io_loops: cannot find libc.so.6: %s\n", dlerror());
		exit(1);
	}
	/* Through a union: ISO C has no cast from void * to a function pointer. */
	union {
		void *object;
		int (*open)(const char *, int, ...);
		int (*close)(int);
		int (*stat)(const char *, struct stat *);
		ssize_t (*pread)(int, void *, size_t, off_t);
		struct dirent *(*readdir)(DIR *);
	} sym;
	if ((sym.object = dlsym(libc, "open64")) == NULL)
		goto missing;
	direct->open = sym.open;
	if ((sym.object = dlsym(libc, "close")) == NULL)
		goto missing;
	direct->close = sym.close;
	if ((sym.object = dlsym(libc, "stat64")) == NULL)
		goto missing;
	direct->stat = sym.stat;
	if ((sym.object = dlsym(libc, "pread64")) == NULL)
		goto missing;
	direct->pread = sym.pread;
	if ((sym.object = dlsym(libc, "readdir64")) == NULL)
		goto missing;
	direct->readdir = sym.readdir;
	return;
missing:
	fprintf(stderr, "io_loops: libc.so.6 lacks a symbol: %s\n", dlerror());
	exit(1);
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), compare_double);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	if (iterations < SLICES) {
		fprintf(stderr, "usage: io_loops [ITERATIONS >= %d]\n", SLICES);
		return 2;
	}
	long per_slice = iterations / SLICES;

	/* By name: whatever the dynamic linker bound them to (the wrappers when
	 * preloaded).  Taking the address resolves like a call would. */
	const struct calls plain = { open, close, stat, pread, readdir };
	struct calls direct;
	resolve_direct(&direct);
	make_files();

	for (int l = 0; l < LOOPS; l++) {
		run_loop(&plain, (enum loop)l, WARMUP);
		run_loop(&direct, (enum loop)l, WARMUP);
	}

	static double plain_ns[LOOPS][SLICES], direct_ns[LOOPS][SLICES];
	static double pair_x[LOOPS][SLICES], pair_added[LOOPS][SLICES];
	for (int s = 0; s < SLICES; s++) {
		for (int l = 0; l < LOOPS; l++) {
			/* Which side goes first flips every pair: whatever the first
			 * slice pays (a cold line, a timer tick) lands on both. */
			if (s % 2 == 0) {
				plain_ns[l][s] = time_slice(&plain, (enum loop)l, per_slice);
				direct_ns[l][s] = time_slice(&direct, (enum loop)l, per_slice);
			} else {
				direct_ns[l][s] = time_slice(&direct, (enum loop)l, per_slice);
				plain_ns[l][s] = time_slice(&plain, (enum loop)l, per_slice);
			}
			pair_x[l][s] = plain_ns[l][s] / direct_ns[l][s];
			pair_added[l][s] = plain_ns[l][s] - direct_ns[l][s];
		}
	}

	closedir(dir);
	close(fd);
	remove_files();
	printf("io_loops iterations=%ld", per_slice * SLICES);
	for (int l = 0; l < LOOPS; l++)
		printf(" %s_ns=%.1f", loop_names[l], median(plain_ns[l], SLICES));
	for (int l = 0; l < LOOPS; l++)
		printf(" direct_%s_ns=%.1f", loop_names[l], median(direct_ns[l], SLICES));
	for (int l = 0; l < LOOPS; l++)
		printf(" paired_%s_x=%.4f", loop_names[l], median(pair_x[l], SLICES));
	for (int l = 0; l < LOOPS; l++)
		printf(" added_%s_ns=%.1f", loop_names[l], median(pair_added[l], SLICES));
	printf("\n");
	return 0;
}
