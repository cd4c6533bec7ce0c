/*
 * malloc: the cost of a malloc+free pair, measured from inside the process.
 *
 * Linked with nothing of ward's, so the same binary runs bare (glibc's
 * allocator), under LD_PRELOAD=libjemalloc.so.2, and under
 * LD_PRELOAD=libward.so with either of its allocators; bench/run.sh runs the
 * four side by side.  The difference between the figures is the allocator
 * plus, under ward, the counting of every call.
 *
 * The pattern is not malloc-then-free of one block, which any allocator
 * serves from the head of one free list: each thread keeps a ring of RING
 * live blocks and, every iteration, frees one picked at random and puts a
 * fresh block of the same size in its place, so blocks come back in an
 * order unlike the one they went out in.  Every block gets one byte written
 * when it is handed out and read back before it is freed (the sum is
 * checked), so no allocation can be optimised away and each one touches its
 * memory.
 *
 *   ring   1 or 2 threads, each with its own ring, started together slice
 *          by slice (each thread pinned to its own CPU when it can be).
 *   cross  2 threads: one allocates and writes, hands each block over a
 *          single-producer queue, the other reads and frees it; every free
 *          is of a block another thread allocated.
 *
 *   malloc [ITERATIONS [SIZE]]
 *
 * ITERATIONS is the ring pairs per thread per size (default 1000000; the
 * 64 KiB size runs a quarter of them).  A cross hand-over moves a sixteenth
 * as many blocks, a 256th from 4 KiB up (glibc's allocator can take tens of
 * microseconds per pair there).  SIZE runs that one size only.
 *
 * Output, one machine-readable line per mode, size and thread count:
 *   malloc mode=ring size=64 threads=2 ns=N
 *   malloc mode=cross size=64 threads=2 ns=N
 * where N is ns per malloc+free pair as one thread sees it (ring: the median
 * over SLICES slices of each thread's time per pair, after one untimed slice,
 * the threads' figures averaged; cross: the median of three hand-overs, each
 * timed whole, threads started and joined, over its pairs).  A block whose
 * byte did not come back makes the program fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define SLICES 15         /* timed slices per ring run; odd, so the median is one of them */
#define RING 256          /* live blocks per thread */
#define QUEUE 256         /* blocks in flight between the cross threads */
#define BATCH 16          /* blocks between two publications of a cross thread's count */
#define MAX_THREADS 2

static const size_t sizes[] = { 8, 64, 512, 4096, 65536 };
#define SIZES (sizeof(sizes) / sizeof(sizes[0]))

static void
die(const char *what, int error)
{
	fprintf(stderr, "malloc: %s: %s\n", what, strerror(error));
	exit(1);
}

static inline void
cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* Pins the calling thread to CPU n, if the machine has it; a bench that
 * cannot pin still measures, only more noisily. */
static void
pin(int n)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(n, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* One block, its first byte written with tag. */
static inline unsigned char *
take(size_t size, unsigned char tag)
{
	unsigned char *p = malloc(size);
	if (p == NULL)
		die("malloc", ENOMEM);
	p[0] = tag;
	return p;
}

/* xorshift64: a cheap random ring index, the same sequence on every side. */
static inline uint64_t
next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

/* ---- ring: each thread replaces random blocks of its own ring ---- */

/* One per thread, each on lines of its own: a counter the other thread's
 * loop shared a line with would be timed as the allocator's cost. */
struct ring_thread {
	pthread_t id;
	int index;
	size_t size;
	long pairs;              /* per slice */
	pthread_barrier_t *start;
	double ns[SLICES];       /* per pair, each slice */
	uint64_t written, read;  /* tag sums: every byte written must be read back */
} __attribute__((aligned(64)));

struct tags {
	uint64_t written, read;
};

/* pairs replacements of random blocks; the loop's figures stay in
 * registers and on this thread's stack. */
static void
ring_slice(unsigned char **ring, size_t size, long pairs, uint64_t *state, struct tags *sum)
{
	uint64_t x = *state, written = 0, read = 0;
	for (long i = 0; i < pairs; i++) {
		x = next_random(&x);
		unsigned char **slot = &ring[x % RING];
		read += (*slot)[0];
		free(*slot);
		unsigned char tag = (unsigned char)(x >> 32);
		*slot = take(size, tag);
		written += tag;
	}
	*state = x;
	sum->written += written;
	sum->read += read;
}

static void *
ring_run(void *arg)
{
	struct ring_thread *t = arg;
	pin(t->index);
	unsigned char *ring[RING];
	struct tags sum = { 0, 0 };
	uint64_t state = 0x9e3779b97f4a7c15u + (uint64_t)t->index;
	for (int i = 0; i < RING; i++) {
		ring[i] = take(t->size, (unsigned char)i);
		sum.written += (unsigned char)i;
	}
	ring_slice(ring, t->size, t->pairs, &state, &sum); /* warm-up: the allocator's caches filled */
	for (int s = 0; s < SLICES; s++) {
		pthread_barrier_wait(t->start);
		uint64_t begin = now_ns();
		ring_slice(ring, t->size, t->pairs, &state, &sum);
		t->ns[s] = (double)(now_ns() - begin) / (double)t->pairs;
	}
	for (int i = 0; i < RING; i++) {
		sum.read += ring[i][0];
		free(ring[i]);
	}
	t->written = sum.written;
	t->read = sum.read;
	return NULL;
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

/* ns per pair, one thread's view: the threads' medians averaged. */
static double
ring_measure(size_t size, int threads, long iterations)
{
	struct ring_thread t[MAX_THREADS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++) {
		t[i] = (struct ring_thread){ .index = i, .size = size, .start = &start,
		                             .pairs = iterations / (SLICES + 1) };
		int error = pthread_create(&t[i].id, NULL, ring_run, &t[i]);
		if (error != 0)
			die("pthread_create", error);
	}
	double sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i].id, NULL);
		if (t[i].written != t[i].read) {
			fprintf(stderr, "malloc: size %zu: a block lost its byte\n", size);
			exit(1);
		}
		sum += median(t[i].ns, SLICES);
	}
	pthread_barrier_destroy(&start);
	return sum / threads;
}

/* ---- cross: one thread allocates, the other frees ---- */

struct queue {
	unsigned char *slot[QUEUE];
	size_t size;
	long pairs;
	/* Each side's own line: what it publishes and its tag sum. */
	struct {
		uint64_t count;   /* blocks pushed (producer) or freed (consumer) */
		uint64_t tags;
	} produced __attribute__((aligned(64))), consumed __attribute__((aligned(64)));
};

/* Waits a little, then gives the CPU away: on a machine with as many CPUs
 * as threads a preempted peer must get to run. */
static void
wait_turn(unsigned *spins)
{
	if (++*spins < 64)
		cpu_relax();
	else {
		*spins = 0;
		sched_yield();
	}
}

/* Each side publishes its count every BATCH blocks (and at the end), so the
 * queue's own cache-line traffic stays small beside the allocator's. */
static void *
cross_produce(void *arg)
{
	struct queue *q = arg;
	pin(0);
	for (long i = 0; i < q->pairs; i++) {
		unsigned char tag = (unsigned char)i;
		unsigned char *p = take(q->size, tag);
		q->produced.tags += tag;
		unsigned spins = 0;
		while (i - (long)__atomic_load_n(&q->consumed.count, __ATOMIC_ACQUIRE) >= QUEUE)
			wait_turn(&spins);
		q->slot[i % QUEUE] = p;
		if ((i + 1) % BATCH == 0 || i + 1 == q->pairs)
			__atomic_store_n(&q->produced.count, (uint64_t)i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *
cross_consume(void *arg)
{
	struct queue *q = arg;
	pin(1);
	for (long i = 0; i < q->pairs; i++) {
		unsigned spins = 0;
		while ((long)__atomic_load_n(&q->produced.count, __ATOMIC_ACQUIRE) <= i)
			wait_turn(&spins);
		unsigned char *p = q->slot[i % QUEUE];
		q->consumed.tags += p[0];
		free(p);
		if ((i + 1) % BATCH == 0 || i + 1 == q->pairs)
			__atomic_store_n(&q->consumed.count, (uint64_t)i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* One hand-over of pairs blocks: wall ns per pair. */
static double
cross_once(size_t size, long pairs)
{
	static struct queue q;
	q = (struct queue){ .size = size, .pairs = pairs };
	pthread_t producer, consumer;
	uint64_t begin = now_ns();
	int error = pthread_create(&consumer, NULL, cross_consume, &q);
	if (error == 0)
		error = pthread_create(&producer, NULL, cross_produce, &q);
	if (error != 0)
		die("pthread_create", error);
	pthread_join(producer, NULL);
	pthread_join(consumer, NULL);
	double ns = (double)(now_ns() - begin) / (double)pairs;
	if (q.produced.tags != q.consumed.tags) {
		fprintf(stderr, "malloc: cross size %zu: a block lost its byte\n", size);
		exit(1);
	}
	return ns;
}

/* The median of three hand-overs, after one to warm up. */
static double
cross_measure(size_t size, long iterations)
{
	long pairs = size >= 4096 ? iterations / 256 : iterations / 16;
	double ns[3];
	cross_once(size, pairs);
	for (int i = 0; i < 3; i++)
		ns[i] = cross_once(size, pairs);
	return median(ns, 3);
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	long only = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	if (iterations < 1024 * (SLICES + 1) || only < 0) {
		fprintf(stderr, "usage: malloc [ITERATIONS >= %d [SIZE]]\n", 1024 * (SLICES + 1));
		return 2;
	}
	for (size_t s = 0; s < SIZES; s++) {
		if (only != 0 && sizes[s] != (size_t)only)
			continue;
		long n = sizes[s] >= 65536 ? iterations / 4 : iterations;
		for (int threads = 1; threads <= MAX_THREADS; threads++)
			printf("malloc mode=ring size=%zu threads=%d ns=%.2f\n", sizes[s], threads,
			       ring_measure(sizes[s], threads, n));
		printf("malloc mode=cross size=%zu threads=2 ns=%.2f\n", sizes[s], cross_measure(sizes[s], n));
		fflush(stdout);
	}
	return 0;
}
