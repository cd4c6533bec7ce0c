/*
 * clock.h: the one clock every benchmark program reads (monotonic, ns).
 * A header, not a library: each benchmark stays one file linked with
 * nothing of ward's.
 */
#ifndef WARD_BENCH_CLOCK_H
#define WARD_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
