/*
 * alloc_figures: allocations whose figures the program knows, for the
 * memory tests.  It prints what the dump must say, computed from
 * malloc_usable_size (the figures count usable bytes), on one line:
 *   allocations=A frees=F bytes_allocated=B bytes_freed=D live_bytes=L peak_bytes=P
 * Nothing else in it allocates (no stdio: snprintf into the stack and write).
 *
 *   alloc_figures exact            every function of the family, one thread
 *   alloc_figures threads T N      T threads allocate N blocks each; every
 *                                  block is freed by another thread than
 *                                  the one that allocated it
 *   alloc_figures limit            allocate 1 MiB blocks until refused, then
 *                                  check what a refusal looks like
 *   alloc_figures fork             the child frees a block of its parent's
 *   alloc_figures thread_blocks N  N threads, one after the other, each leave
 *                                  a 200 KiB block live and end; prints how
 *                                  many got theirs
 *   alloc_figures churn            some 30 MiB allocated and freed in rounds,
 *                                  the peak in the fourth (many folds of the
 *                                  shim's byte figures, see shim/alloc.c)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t allocations, frees, bytes_allocated, bytes_freed, live, peak;

static void
say(const char *text)
{
	if (write(1, text, strlen(text)) < 0)
		_exit(3);
}

static void *
got(void *p)
{
	if (p == NULL) {
		say("allocation failed\n");
		_exit(2);
	}
	size_t n = malloc_usable_size(p);
	allocations++;
	bytes_allocated += n;
	live += n;
	if (live > peak)
		peak = live;
	return p;
}

static void
release(void *p)
{
	if (p == NULL) {
		free(p);
		return;
	}
	size_t n = malloc_usable_size(p);
	frees++;
	bytes_freed += n;
	live -= n;
	free(p);
}

/* realloc: one free of the old block and one allocation, in one step. */
static void *
resized(void *p, size_t size)
{
	size_t old = malloc_usable_size(p);
	void *q = realloc(p, size);
	if (q == NULL)
		_exit(2);
	size_t n = malloc_usable_size(q);
	frees++;
	bytes_freed += old;
	allocations++;
	bytes_allocated += n;
	live = live - old + n;
	if (live > peak)
		peak = live;
	return q;
}

static void
print_expected(void)
{
	char line[256];
	snprintf(line, sizeof(line),
	         "allocations=%zu frees=%zu bytes_allocated=%zu bytes_freed=%zu live_bytes=%zu peak_bytes=%zu\n",
	         allocations, frees, bytes_allocated, bytes_freed, live, peak);
	say(line);
}

static int
exact(void)
{
	static void *block[100];
	for (int i = 0; i < 100; i++)
		block[i] = got(malloc((size_t)i * 37 + 1));
	for (int i = 0; i < 50; i++)
		release(block[i]);
	/* a large block (its own mapping): neither handing it out nor taking
	 * it back changes errno */
	errno = 4242;
	void *big = got(malloc(3 << 20));
	release(big);
	if (errno != 4242) {
		say("errno changed by malloc or free\n");
		return 6;
	}
	void *zeroed = got(calloc(10, 100));
	block[60] = resized(block[60], 5000);
	block[61] = resized(block[61], 8);
	void *a = got(aligned_alloc(64, 256));
	void *e = NULL;
	if (posix_memalign(&e, 128, 1000) != 0)
		return 2;
	got(e);
	void *m = got(memalign(32, 77));
	void *v = got(valloc(100));
	void *pv = got(pvalloc(5000));
	void *ra = got(reallocarray(NULL, 10, 10));
	ra = resized(ra, 400);
	void *z = got(malloc(0));
	void *volatile nothing = NULL; /* volatile: free(NULL) is not optimised away */
	free(nothing);
	void *gone = got(malloc(300));
	size_t gone_size = malloc_usable_size(gone);
	if (realloc(gone, 0) != NULL) /* glibc's meaning: frees, returns NULL */
		return 5;
	frees++;
	bytes_freed += gone_size;
	live -= gone_size;
	if ((size_t)a % 64 || (size_t)e % 128 || (size_t)m % 32 || (size_t)v % 4096 || (size_t)pv % 4096)
		return 4;
	void *keep[] = { zeroed, a, e, m, v, pv, ra, z };
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		release(keep[i]);
	for (int i = 50; i < 90; i++)
		release(block[i]);
	print_expected(); /* blocks 90-99 stay live */
	return 0;
}

/* ---- threads: every block freed by the next thread ---- */

static int nthreads, per_thread;
static void **made[64];
static size_t made_bytes[64];
static pthread_barrier_t all_made;

static void *
worker(void *arg)
{
	int me = (int)(long)arg;
	for (int i = 0; i < per_thread; i++) {
		made[me][i] = malloc((size_t)(i % 500) * 8 + 16);
		if (made[me][i] == NULL)
			_exit(2);
		made_bytes[me] += malloc_usable_size(made[me][i]);
	}
	pthread_barrier_wait(&all_made);
	int other = (me + 1) % nthreads;
	for (int i = 0; i < per_thread; i++)
		free(made[other][i]);
	return NULL;
}

static int
threads(int t, int n)
{
	nthreads = t;
	per_thread = n;
	if (t < 1 || t > 64 || n < 0)
		return 2;
	/* the arrays come from mmap-free static storage: only the workers' blocks count */
	static void *storage[64][20000];
	if (n > 20000)
		return 2;
	pthread_barrier_init(&all_made, NULL, (unsigned)t);
	pthread_t id[64];
	for (int i = 0; i < t; i++) {
		made[i] = storage[i];
		pthread_create(&id[i], NULL, worker, (void *)(long)i);
	}
	for (int i = 0; i < t; i++)
		pthread_join(id[i], NULL);
	for (int i = 0; i < t; i++) {
		allocations += (size_t)n;
		frees += (size_t)n;
		bytes_allocated += made_bytes[i];
		bytes_freed += made_bytes[i];
	}
	print_expected();
	return 0;
}

/* ---- limit ---- */

static int
limit(void)
{
	static void *block[4096];
	int n = 0;
	errno = 0;
	while (n < 4096 && (block[n] = malloc(1 << 20)) != NULL)
		memset(block[n++], 'x', 1 << 20);
	char line[256];
	snprintf(line, sizeof(line), "refused after %d MiB: %s\n", n, errno == ENOMEM ? "ENOMEM" : "other errno");
	say(line);
	if (n == 0 || n == 4096)
		return 1;
	/* realloc that cannot grow leaves the old block as it was */
	void *grown = realloc(block[0], 64 << 20);
	int intact = grown == NULL && errno == ENOMEM && ((char *)block[0])[(1 << 20) - 1] == 'x';
	errno = EINTR;
	void *aligned = NULL;
	int r = posix_memalign(&aligned, 64, 64 << 20);
	int kept = errno == EINTR;
	void *zeroed = calloc(64, 1 << 20);
	snprintf(line, sizeof(line), "realloc %s, posix_memalign %s (errno %s), calloc %s\n",
	         intact ? "kept the old block" : "broke the old block", r == ENOMEM ? "ENOMEM" : "other",
	         kept ? "kept" : "changed", zeroed == NULL && errno == ENOMEM ? "ENOMEM" : "other");
	say(line);
	for (int i = 0; i < n; i++)
		free(block[i]);
	void *again = malloc(1 << 20);
	say(again != NULL ? "after freeing: allocates again\n" : "after freeing: still refused\n");
	free(again);
	return 0;
}

/* ---- threads that end leaving blocks live ---- */

static void *
leave_block(void *arg)
{
	*(void **)arg = malloc(200 << 10);
	return NULL;
}

static int
thread_blocks(int n)
{
	static void *block[1024];
	int ok = 0;
	for (int i = 0; i < n && i < 1024; i++) {
		pthread_t t;
		pthread_create(&t, NULL, leave_block, &block[i]);
		pthread_join(t, NULL);
		ok += block[i] != NULL;
	}
	char line[64];
	snprintf(line, sizeof(line), "blocks=%d\n", ok);
	say(line);
	return 0;
}

/* ---- churn: megabytes through the allocator, the peak in the middle ---- */

static int
churn(void)
{
	static void *block[6000], *kept[80];
	int nkept = 0;
	for (int round = 0; round < 8; round++) {
		int n = round == 3 ? 6000 : 1500 + round * 300;
		for (int i = 0; i < n; i++)
			block[i] = got(malloc((size_t)((i * 131 + round * 17) % 3000) + 1));
		for (int i = 0; i < n; i += 7)
			block[i] = resized(block[i], (size_t)(i % 500) + 4000);
		for (int i = 0; i < n; i++)
			if (i < 10)
				kept[nkept++] = block[i];
			else
				release(block[i]);
	}
	for (int i = 0; i < nkept; i += 2)
		release(kept[i]);
	print_expected(); /* half the kept blocks stay live */
	return 0;
}

/* ---- fork ---- */

static int
forked(void)
{
	void *parent_block = got(malloc(1 << 20));
	pid_t pid = fork();
	if (pid == 0) {
		free(parent_block);
		char *volatile child_block = malloc(100); /* volatile: the pair is not optimised away */
		child_block[0] = 1;
		free(child_block);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	release(parent_block);
	print_expected();
	return WIFEXITED(status) ? WEXITSTATUS(status) : 5;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "exact") == 0)
		return exact();
	if (argc >= 4 && strcmp(argv[1], "threads") == 0)
		return threads(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 2 && strcmp(argv[1], "limit") == 0)
		return limit();
	if (argc >= 2 && strcmp(argv[1], "fork") == 0)
		return forked();
	if (argc >= 3 && strcmp(argv[1], "thread_blocks") == 0)
		return thread_blocks(atoi(argv[2]));
	if (argc >= 2 && strcmp(argv[1], "churn") == 0)
		return churn();
	say("usage: alloc_figures exact | threads T N | limit | fork | thread_blocks N | churn\n");
	return 2;
}
