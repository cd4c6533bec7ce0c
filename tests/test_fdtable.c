/*
 * Unit tests of core/fdtable: what the shim believes each descriptor is.
 *
 * The table feeds the "open now" and "most open at once" figures and, later,
 * policy decisions on fds, so it must follow open/dup/close exactly, handle any
 * fd number (the first chunk is static, the others mapped on demand), stay exact when threads open and
 * close distinct fds at once, and never hand a reader half of one entry and
 * half of another.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "fdtable.h"

static struct ward_fd_info info;

Test(fdtable, set_then_get)
{
	ward_fdtable_set(5, WARD_FD_FILE, O_RDONLY);
	cr_assert(ward_fdtable_get(5, &info));
	cr_assert_eq(info.kind, WARD_FD_FILE);
	cr_assert_eq(info.flags, O_RDONLY);
}

Test(fdtable, unknown_and_invalid_fds_are_harmless)
{
	cr_assert_not(ward_fdtable_get(6, &info));
	cr_assert_not(ward_fdtable_get(-1, &info));
	cr_assert_not(ward_fdtable_get(WARD_FDTABLE_MAX_FDS, &info));
	cr_assert_not(ward_fdtable_clear(6));
	cr_assert_not(ward_fdtable_clear(-3));
	ward_fdtable_set(-1, WARD_FD_FILE, 0);
	ward_fdtable_set(WARD_FDTABLE_MAX_FDS, WARD_FD_FILE, 0);
	ward_fdtable_set_cloexec(6, true);
	cr_assert_not(ward_fdtable_get(6, &info));
	cr_assert_eq(ward_fdtable_open_now(), 0);
}

Test(fdtable, clear_forgets_once)
{
	ward_fdtable_set(3, WARD_FD_DIR, O_RDONLY | O_DIRECTORY);
	cr_assert(ward_fdtable_clear(3));
	cr_assert_not(ward_fdtable_get(3, &info));
	cr_assert_not(ward_fdtable_clear(3), "a second clear must report nothing tracked");
}

Test(fdtable, dup_copies_the_entry_with_its_own_cloexec)
{
	ward_fdtable_set(3, WARD_FD_FILE, O_RDWR | O_CLOEXEC);
	ward_fdtable_dup(3, 7, false);
	cr_assert(ward_fdtable_get(7, &info));
	cr_assert_eq(info.kind, WARD_FD_FILE);
	cr_assert_eq(info.flags, O_RDWR, "dup without cloexec must drop O_CLOEXEC");
	ward_fdtable_dup(3, 8, true);
	cr_assert(ward_fdtable_get(8, &info));
	cr_assert_eq(info.flags, O_RDWR | O_CLOEXEC);
	/* the original is untouched */
	cr_assert(ward_fdtable_get(3, &info));
	cr_assert_eq(info.flags, O_RDWR | O_CLOEXEC);
	cr_assert_eq(ward_fdtable_open_now(), 3);
}

Test(fdtable, dup_over_a_tracked_fd_replaces_it)
{
	ward_fdtable_set(3, WARD_FD_FILE, O_RDONLY);
	ward_fdtable_set(4, WARD_FD_FILE, O_WRONLY);
	ward_fdtable_dup(4, 3, false);
	cr_assert(ward_fdtable_get(3, &info));
	cr_assert_eq(info.flags, O_WRONLY);
	cr_assert_eq(ward_fdtable_open_now(), 2, "dup2 over an open fd opens nothing new");
	cr_assert_eq(ward_fdtable_open_peak(), 2);
}

Test(fdtable, dup_of_an_unknown_fd_is_still_an_open_fd)
{
	ward_fdtable_dup(40, 41, false);
	cr_assert(ward_fdtable_get(41, &info));
	cr_assert_eq(info.kind, WARD_FD_INHERITED);
	cr_assert_eq(ward_fdtable_open_now(), 1);
}

Test(fdtable, dup_onto_itself_changes_nothing)
{
	ward_fdtable_set(3, WARD_FD_FILE, O_RDONLY | O_CLOEXEC);
	ward_fdtable_dup(3, 3, false);
	cr_assert(ward_fdtable_get(3, &info));
	cr_assert_eq(info.flags, O_RDONLY | O_CLOEXEC);
	cr_assert_eq(ward_fdtable_open_now(), 1);
}

Test(fdtable, cloexec_follows_fcntl)
{
	ward_fdtable_set(9, WARD_FD_FILE, O_RDONLY);
	ward_fdtable_set_cloexec(9, true);
	cr_assert(ward_fdtable_get(9, &info));
	cr_assert(info.flags & O_CLOEXEC);
	ward_fdtable_set_cloexec(9, false);
	cr_assert(ward_fdtable_get(9, &info));
	cr_assert_not(info.flags & O_CLOEXEC);
	cr_assert_eq(info.flags & O_ACCMODE, O_RDONLY);
}

Test(fdtable, clear_range_counts_what_it_cleared)
{
	for (int fd = 10; fd <= 20; fd++)
		ward_fdtable_set(fd, WARD_FD_FILE, O_RDONLY);
	ward_fdtable_set(100, WARD_FD_FILE, O_RDONLY);
	ward_fdtable_set(5000, WARD_FD_FILE, O_RDONLY);
	cr_assert_eq(ward_fdtable_open_now(), 13);
	cr_assert_eq(ward_fdtable_clear_range(12, 100, false), 10);
	cr_assert(ward_fdtable_get(10, &info));
	cr_assert(ward_fdtable_get(11, &info));
	cr_assert_not(ward_fdtable_get(12, &info));
	cr_assert_not(ward_fdtable_get(100, &info));
	cr_assert(ward_fdtable_get(5000, &info));
	cr_assert_eq(ward_fdtable_open_now(), 3);
	/* closefrom(0): everything, whatever the range's end */
	cr_assert_eq(ward_fdtable_clear_range(0, ~0u, false), 3);
	cr_assert_eq(ward_fdtable_open_now(), 0);
	cr_assert_eq(ward_fdtable_clear_range(5, 4, false), 0, "an empty range clears nothing");
}

Test(fdtable, clear_range_cloexec_only_marks)
{
	ward_fdtable_set(3, WARD_FD_FILE, O_RDONLY);
	ward_fdtable_set(70, WARD_FD_FILE, O_RDONLY);
	cr_assert_eq(ward_fdtable_clear_range(3, ~0u, true), 0);
	cr_assert_eq(ward_fdtable_open_now(), 2);
	cr_assert(ward_fdtable_get(3, &info));
	cr_assert(info.flags & O_CLOEXEC);
	cr_assert(ward_fdtable_get(70, &info));
	cr_assert(info.flags & O_CLOEXEC);
}

Test(fdtable, open_now_and_peak_arithmetic)
{
	ward_fdtable_set(3, WARD_FD_FILE, O_RDONLY);
	ward_fdtable_set(4, WARD_FD_FILE, O_RDONLY);
	ward_fdtable_set(5, WARD_FD_FILE, O_RDONLY);
	cr_assert_eq(ward_fdtable_open_now(), 3);
	cr_assert_eq(ward_fdtable_open_peak(), 3);
	ward_fdtable_set(4, WARD_FD_SOCKET, O_RDWR); /* replace: same count */
	cr_assert_eq(ward_fdtable_open_now(), 3);
	ward_fdtable_clear(3);
	ward_fdtable_clear(5);
	cr_assert_eq(ward_fdtable_open_now(), 1);
	cr_assert_eq(ward_fdtable_open_peak(), 3, "the peak stays");
	for (int fd = 10; fd < 14; fd++)
		ward_fdtable_set(fd, WARD_FD_FILE, O_RDONLY);
	cr_assert_eq(ward_fdtable_open_now(), 5);
	cr_assert_eq(ward_fdtable_open_peak(), 5);
	ward_fdtable_clear(10);
	ward_fdtable_reset_figures(); /* fork child: the peak starts from now */
	cr_assert_eq(ward_fdtable_open_now(), 4);
	cr_assert_eq(ward_fdtable_open_peak(), 4);
	cr_assert(ward_fdtable_get(11, &info), "entries survive a reset of the figures");
}

Test(fdtable, fds_beyond_the_first_chunk)
{
	/* 1023 | 1024: the static first chunk's last entry, the first mapped one */
	static const int fds[] = { 63, 64, 65, 127, 128, 1000, 1023, 1024, 70000, WARD_FDTABLE_MAX_FDS - 1 };
	size_t n = sizeof(fds) / sizeof(fds[0]);
	char path[64];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/fd/%d", fds[i]);
		ward_fdtable_set(fds[i], WARD_FD_FILE, O_RDONLY);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/fd/%d", fds[i]);
		cr_assert(ward_fdtable_get(fds[i], &info), "fd %d lost", fds[i]);
	}
	cr_assert_not(ward_fdtable_get(66, &info));
	cr_assert_not(ward_fdtable_get(70001, &info));
	cr_assert_not(ward_fdtable_get(1025, &info));
	cr_assert_eq(ward_fdtable_open_now(), n);
	cr_assert_eq(ward_fdtable_clear_range(64, 70000, false), 8);
	cr_assert_not(ward_fdtable_get(1023, &info));
	cr_assert_not(ward_fdtable_get(1024, &info));
	cr_assert_eq(ward_fdtable_open_now(), 2);
}

/* ---- threads ---- */

#define THREADS 6
#define FDS_PER_THREAD 40
#define ROUNDS 3000

static void *
churn_own_fds(void *arg)
{
	int base = 1000 + (int)(uintptr_t)arg * 200; /* distinct fds per thread */
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < FDS_PER_THREAD; i++)
			ward_fdtable_set(base + i, WARD_FD_FILE, O_RDONLY);
		for (int i = 0; i < FDS_PER_THREAD; i++)
			if (!(round == ROUNDS - 1 && i % 4 == 0)) /* keep a quarter open at the end */
				cr_assert(ward_fdtable_clear(base + i));
	}
	return NULL;
}

Test(fdtable, threads_on_distinct_fds_keep_exact_counts, .timeout = 60)
{
	pthread_t t[THREADS];
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, churn_own_fds, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(ward_fdtable_open_now(), THREADS * FDS_PER_THREAD / 4);
	cr_assert_leq(ward_fdtable_open_peak(), THREADS * FDS_PER_THREAD);
	cr_assert_geq(ward_fdtable_open_peak(), FDS_PER_THREAD);
}

/* A writer flips fd 9 between two very different entries; readers must only
 * ever see one or the other, whole. */

static atomic_bool flipping_done;
static atomic_ulong readers_ready; /* readers that have made enough reads */

#define READS_WANTED 20000
#define READERS 3

/* Flip until every reader has read enough entries (or 20 s have passed:
 * the test's own timeout is the backstop). */
static void *
flipper(void *unused)
{
	(void)unused;
	for (unsigned long i = 0; atomic_load(&readers_ready) < READERS; i++) {
		if (i % 2)
			ward_fdtable_set(9, WARD_FD_FILE, O_RDONLY);
		else
			ward_fdtable_set(9, WARD_FD_PIPE, O_WRONLY);
		if (i % 7 == 0)
			ward_fdtable_clear(9);
	}
	atomic_store(&flipping_done, true);
	return NULL;
}

static bool
whole_entry(const struct ward_fd_info *i)
{
	if (i->kind == WARD_FD_FILE)
		return i->flags == O_RDONLY;
	if (i->kind == WARD_FD_PIPE)
		return i->flags == O_WRONLY;
	return false;
}

static void *
checker(void *arg)
{
	uint64_t *torn = arg;
	static __thread struct ward_fd_info seen;
	uint64_t reads = 0;
	while (!atomic_load(&flipping_done)) {
		if (ward_fdtable_get(9, &seen)) {
			if (++reads == READS_WANTED)
				atomic_fetch_add(&readers_ready, 1);
			torn[0] += !whole_entry(&seen);
		}
	}
	torn[1] = reads;
	return NULL;
}

Test(fdtable, readers_never_see_torn_entries, .timeout = 60)
{
	pthread_t w, r[READERS];
	uint64_t torn[READERS][2] = { { 0 } };
	pthread_create(&w, NULL, flipper, NULL);
	for (int i = 0; i < READERS; i++)
		pthread_create(&r[i], NULL, checker, torn[i]);
	pthread_join(w, NULL);
	for (int i = 0; i < READERS; i++) {
		pthread_join(r[i], NULL);
		cr_assert_eq(torn[i][0], 0, "reader %d saw %llu torn entries in %llu", i,
		             (unsigned long long)torn[i][0], (unsigned long long)torn[i][1]);
		cr_assert_geq(torn[i][1], READS_WANTED);
	}
}
