/*
 * counters: ward's per-thread counter slots against the obvious alternatives,
 * with 1 and 2 threads each adding 1 to the same logical counter M times.
 *
 *   shared_atomic  one counter, __atomic_fetch_add (a locked add): the floor
 *                  every design is compared with (SPEC 8: slots >= 5x this
 *                  with 2 threads).
 *   combining      flat combining: each thread publishes its request in its
 *                  own slot; whoever wins a try-lock applies every pending
 *                  request.  Good for complex structures, shown here so the
 *                  choice against it rests on a figure.
 *   slots          ward's core/counters.h exactly as a wrapper uses it:
 *                  ward_counters_slot(), begin, one non-locked add, end.
 *   slots_locked   the same slots and window, but a locked add instead of
 *                  the plain one: what the non-locked add buys.
 *
 *   counters [M] [REPEATS]      (defaults 10000000 and 5)
 *
 * Variants take turns within each repeat so that machine noise spreads over
 * all of them; each figure printed is the median over the repeats.  Totals
 * are checked after every run (slots through ward_counters_snapshot, as the
 * dump reads them); any mismatch prints an error and exits 1.
 *
 * Output, machine readable:
 *   counters variant=NAME threads=T mops=X
 *   counters ratio slots/shared_atomic threads=2 x=R
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"

#define MAX_THREADS 2
#define MAX_REPEATS 99

/* Counter indices of the slot variants; distinct so one cannot mask the
 * other's total. */
#define INDEX_SLOTS 0
#define INDEX_SLOTS_LOCKED 1

enum variant { SHARED_ATOMIC, COMBINING, SLOTS, SLOTS_LOCKED, VARIANTS };
static const char *const variant_names[VARIANTS] = {
	"shared_atomic", "combining", "slots", "slots_locked",
};

static inline void
cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- (a) one shared atomic counter ---- */

static uint64_t shared_counter __attribute__((aligned(64)));

static void
shared_atomic_run(uint64_t m)
{
	for (uint64_t i = 0; i < m; i++)
		__atomic_fetch_add(&shared_counter, 1, __ATOMIC_RELAXED);
}

/* ---- (b) flat combining ---- */

/* A request is the amount to add; 0 means none pending.  The combiner stores
 * the counter's new value in result, then clears request with release order,
 * so the owner that sees 0 also sees its result. */
struct combining_slot {
	uint64_t request;
	uint64_t result;
} __attribute__((aligned(64)));

static struct combining_slot combining_slots[MAX_THREADS];
static int combining_lock __attribute__((aligned(64)));
static uint64_t combining_value __attribute__((aligned(64))); /* under the lock */
static int combining_threads;

static void
combine(void)
{
	for (int i = 0; i < combining_threads; i++) {
		struct combining_slot *s = &combining_slots[i];
		uint64_t n = __atomic_load_n(&s->request, __ATOMIC_ACQUIRE);
		if (n == 0)
			continue;
		combining_value += n;
		s->result = combining_value;
		__atomic_store_n(&s->request, 0, __ATOMIC_RELEASE);
	}
}

static uint64_t
combining_add(struct combining_slot *mine, uint64_t n)
{
	__atomic_store_n(&mine->request, n, __ATOMIC_RELEASE);
	for (;;) {
		/* Test before test-and-set: spinning on a read keeps the lock's
		 * line shared instead of bouncing it on every attempt. */
		if (__atomic_load_n(&combining_lock, __ATOMIC_RELAXED) == 0 &&
		    __atomic_exchange_n(&combining_lock, 1, __ATOMIC_ACQUIRE) == 0) {
			combine(); /* serves our own request among the others */
			__atomic_store_n(&combining_lock, 0, __ATOMIC_RELEASE);
		}
		if (__atomic_load_n(&mine->request, __ATOMIC_ACQUIRE) == 0)
			return mine->result;
		cpu_relax();
	}
}

static void
combining_run(uint64_t m, int self)
{
	struct combining_slot *mine = &combining_slots[self];
	uint64_t last = 0;
	for (uint64_t i = 0; i < m; i++)
		last = combining_add(mine, 1);
	/* The value after our last add can never be below the number of adds we
	 * made: a cheap sanity check that results come back. */
	if (last < m) {
		fprintf(stderr, "counters: error: combining returned %" PRIu64 " after %" PRIu64 " adds\n",
		        last, m);
		exit(1);
	}
}

/* ---- (c) ward's slots, as a wrapper uses them ---- */

static void
slots_run(uint64_t m)
{
	for (uint64_t i = 0; i < m; i++) {
		/* Looked up on every add, as every wrapper call does. */
		struct ward_counter_slot *s = ward_counters_slot();
		ward_counters_begin(s);
		ward_counters_add(s, INDEX_SLOTS, 1);
		ward_counters_end(s);
	}
}

/* ---- (d) the same slots with a locked add ---- */

static void
slots_locked_run(uint64_t m)
{
	for (uint64_t i = 0; i < m; i++) {
		struct ward_counter_slot *s = ward_counters_slot();
		ward_counters_begin(s);
		__atomic_fetch_add(&s->value[INDEX_SLOTS_LOCKED], 1, __ATOMIC_RELAXED);
		ward_counters_end(s);
	}
}

/* ---- running threads ---- */

struct worker {
	pthread_t thread;
	int self;
	enum variant variant;
	uint64_t m;
	uint64_t end_ns;
};

static int ready;
static int go;

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	/* Claim the counter slot before the clock starts: a wrapper's first
	 * call pays for it once, not every call. */
	(void)ward_counters_slot();
	__atomic_add_fetch(&ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		cpu_relax();
	switch (w->variant) {
	case SHARED_ATOMIC:
		shared_atomic_run(w->m);
		break;
	case COMBINING:
		combining_run(w->m, w->self);
		break;
	case SLOTS:
		slots_run(w->m);
		break;
	case SLOTS_LOCKED:
		slots_locked_run(w->m);
		break;
	case VARIANTS:
		break;
	}
	w->end_ns = now_ns();
	return NULL;
}

/* The CPUs this process may use, so that 2 threads land on 2 different
 * cores and really contend (on a 1-CPU machine they just take turns). */
static int cpus[MAX_THREADS];
static int ncpus;

static void
find_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && ncpus < MAX_THREADS; c++)
		if (CPU_ISSET(c, &set))
			cpus[ncpus++] = c;
}

static uint64_t
total_of(enum variant v)
{
	static __thread uint64_t value[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	switch (v) {
	case SHARED_ATOMIC:
		return __atomic_load_n(&shared_counter, __ATOMIC_ACQUIRE);
	case COMBINING:
		return combining_value;
	case SLOTS:
		ward_counters_snapshot(value, copy);
		return value[INDEX_SLOTS];
	case SLOTS_LOCKED:
		ward_counters_snapshot(value, copy);
		return value[INDEX_SLOTS_LOCKED];
	case VARIANTS:
		break;
	}
	return 0;
}

/* One timed run; returns millions of adds per second. */
static double
run(enum variant v, int threads, uint64_t m)
{
	struct worker workers[MAX_THREADS];
	uint64_t before = total_of(v);
	combining_threads = threads;
	ready = 0;
	go = 0;
	for (int i = 0; i < threads; i++) {
		workers[i] = (struct worker){ .self = i, .variant = v, .m = m };
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		if (ncpus >= threads) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(cpus[i], &set);
			pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		}
		if (pthread_create(&workers[i].thread, &attr, worker_main, &workers[i]) != 0) {
			fprintf(stderr, "counters: error: cannot start a thread\n");
			exit(1);
		}
		pthread_attr_destroy(&attr);
	}
	while (__atomic_load_n(&ready, __ATOMIC_ACQUIRE) < threads)
		cpu_relax();
	uint64_t start = now_ns();
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	uint64_t end = start;
	for (int i = 0; i < threads; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].end_ns > end)
			end = workers[i].end_ns;
	}

	uint64_t added = total_of(v) - before;
	uint64_t expected = (uint64_t)threads * m;
	if (added != expected) {
		fprintf(stderr, "counters: error: %s with %d threads counted %" PRIu64 ", expected %" PRIu64 "\n",
		        variant_names[v], threads, added, expected);
		exit(1);
	}
	return (double)expected / ((double)(end - start) / 1000.0);
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	uint64_t m = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	int repeats = argc > 2 ? atoi(argv[2]) : 5;
	if (m == 0 || repeats < 1 || repeats > MAX_REPEATS) {
		fprintf(stderr, "usage: counters [M > 0] [REPEATS 1..%d]\n", MAX_REPEATS);
		return 2;
	}
	find_cpus();
	if (ncpus < MAX_THREADS)
		fprintf(stderr, "counters: note: fewer than %d CPUs, threads will take turns\n", MAX_THREADS);

	static double mops[VARIANTS][MAX_THREADS + 1][MAX_REPEATS];
	for (int r = 0; r < repeats; r++)
		for (int threads = 1; threads <= MAX_THREADS; threads++)
			for (int v = 0; v < VARIANTS; v++)
				mops[v][threads][r] = run((enum variant)v, threads, m);

	double median[VARIANTS][MAX_THREADS + 1];
	for (int v = 0; v < VARIANTS; v++) {
		for (int threads = 1; threads <= MAX_THREADS; threads++) {
			qsort(mops[v][threads], (size_t)repeats, sizeof(double), compare_double);
			median[v][threads] = mops[v][threads][repeats / 2];
			printf("counters variant=%s threads=%d mops=%.1f\n", variant_names[v], threads,
			       median[v][threads]);
		}
	}
	printf("counters ratio slots/shared_atomic threads=2 x=%.2f\n",
	       median[SLOTS][2] / median[SHARED_ATOMIC][2]);
	printf("counters ratio slots/slots_locked threads=2 x=%.2f\n",
	       median[SLOTS][2] / median[SLOTS_LOCKED][2]);
	printf("counters totals exact: %d runs checked\n", repeats * MAX_THREADS * VARIANTS);
	return 0;
}
