/*
 * Unit tests of core/counters: the figures every dump is made of.
 *
 * Real threads hammer the counters as the wrappers do (one begin/end window
 * per intercepted call) and the tests check what a dump would show: exact
 * totals, snapshots that never catch half of a call (A and B added in the same
 * window are always equal), figures that survive their thread's exit (slots
 * are reused, and threads beyond the private slots share an overflow slot),
 * signal handlers nesting inside a window, and reset.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "counters.h"

#define A 0
#define B (WARD_COUNTER_LEVEL(0) - 1) /* far from A: a snapshot reads them apart */

static uint64_t
total(unsigned int index)
{
	static uint64_t out[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	ward_counters_snapshot(out, copy);
	return out[index];
}

/* One intercepted call's worth of counting. */
static void
count_call(uint64_t a, uint64_t b)
{
	struct ward_counter_slot *s = ward_counters_slot();
	ward_counters_begin(s);
	ward_counters_add(s, A, a);
	ward_counters_add(s, B, b);
	ward_counters_end(s);
}

#define HAMMER_CALLS 200000

static void *
hammer(void *unused)
{
	(void)unused;
	for (int i = 0; i < HAMMER_CALLS; i++)
		count_call(1, 3);
	return NULL;
}

static void
run_threads(unsigned int n, void *(*fn)(void *), void *arg)
{
	pthread_t t[128];
	cr_assert(n <= 128);
	for (unsigned int i = 0; i < n; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, fn, arg), 0);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

Test(counters, exact_totals_from_2_to_8_threads, .timeout = 60)
{
	static const unsigned int threads[] = { 2, 3, 4, 8 };
	for (size_t k = 0; k < sizeof(threads) / sizeof(threads[0]); k++) {
		uint64_t a0 = total(A), b0 = total(B);
		run_threads(threads[k], hammer, NULL);
		uint64_t want = (uint64_t)threads[k] * HAMMER_CALLS;
		cr_assert_eq(total(A) - a0, want, "%u threads: A grew by %llu, want %llu", threads[k],
		             (unsigned long long)(total(A) - a0), (unsigned long long)want);
		cr_assert_eq(total(B) - b0, 3 * want, "%u threads: B wrong", threads[k]);
	}
}

/* ---- snapshot consistency ---- */

static atomic_bool writers_done;
static atomic_ulong snapshots_taken; /* writers go on until the reader has run */
static atomic_ulong pair_calls;

struct reader_report {
	uint64_t snapshots;
	uint64_t torn;       /* A != B: half a call was seen */
	uint64_t backwards;  /* a figure went down between snapshots */
};

static void *
snapshot_reader(void *arg)
{
	struct reader_report *rep = arg;
	static __thread uint64_t out[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	uint64_t last = 0;
	while (!atomic_load(&writers_done)) {
		ward_counters_snapshot(out, copy);
		rep->snapshots++;
		atomic_fetch_add(&snapshots_taken, 1);
		rep->torn += out[A] != out[B];
		rep->backwards += out[A] < last;
		last = out[A];
	}
	return NULL;
}

/* Runs until it has made HAMMER_CALLS calls and the reader has taken
 * enough snapshots to mean something (a loaded machine may start the
 * reader late). */
static void *
pair_writer(void *unused)
{
	(void)unused;
	unsigned long calls = 0;
	while (calls < HAMMER_CALLS || atomic_load(&snapshots_taken) < 100) {
		count_call(1, 1);
		calls++;
	}
	atomic_fetch_add(&pair_calls, calls);
	return NULL;
}

static void
check_consistent_under(unsigned int writers, void *(*writer)(void *))
{
	pthread_t reader;
	struct reader_report rep = { 0 };
	atomic_store(&writers_done, false);
	atomic_store(&snapshots_taken, 0);
	cr_assert_eq(pthread_create(&reader, NULL, snapshot_reader, &rep), 0);
	run_threads(writers, writer, NULL);
	atomic_store(&writers_done, true);
	pthread_join(reader, NULL);
	cr_assert_gt(rep.snapshots, 10, "the reader hardly ran (%llu snapshots)",
	             (unsigned long long)rep.snapshots);
	cr_assert_eq(rep.torn, 0, "%llu of %llu snapshots saw A != B", (unsigned long long)rep.torn,
	             (unsigned long long)rep.snapshots);
	cr_assert_eq(rep.backwards, 0, "a figure went backwards %llu times",
	             (unsigned long long)rep.backwards);
	cr_assert_eq(total(A), total(B));
}

Test(counters, snapshot_never_sees_half_a_call, .timeout = 60)
{
	uint64_t before = total(A);
	atomic_store(&pair_calls, 0);
	check_consistent_under(3, pair_writer);
	cr_assert_eq(total(A) - before, atomic_load(&pair_calls));
}

/* A signal handler that counts a whole call must nest inside the interrupted
 * call's window (counters.h: "Signal handlers that interrupt an update nest
 * inside the same window"; TRAPS 22: handlers call write/open/close).
 * Signals land anywhere, including between the steps that open or close the
 * interrupted call's window.  Inside the handler's own begin/end the slot
 * must read as "inside an update" (window depth above 0), or a concurrent snapshot
 * can take half of the handler's call.  Checked in the handler itself, so
 * the result does not depend on a reader's timing. */
static atomic_ulong handled;
static atomic_ulong handled_outside_window;

static void
on_signal(int sig)
{
	(void)sig;
	struct ward_counter_slot *s = ward_counters_slot();
	ward_counters_begin(s);
	if ((ck_pr_load_64(&s->window) & WARD_WINDOW_DEPTH) == 0)
		atomic_fetch_add(&handled_outside_window, 1);
	ward_counters_add(s, A, 1);
	ward_counters_add(s, B, 1);
	ward_counters_end(s);
	atomic_fetch_add(&handled, 1);
}

struct signal_target {
	pthread_t thread;
	atomic_bool stop;
};

static void *
signal_sender(void *arg)
{
	struct signal_target *t = arg;
	while (!atomic_load(&t->stop)) {
		pthread_kill(t->thread, SIGUSR1);
		usleep(5);
	}
	return NULL;
}

/* Writer making calls while signals hit it; it runs until it has been
 * interrupted often enough to mean something (a loaded machine may schedule
 * the sender late), counting its own calls. */
#define SIGNALS_WANTED 5000
static atomic_ulong writer_calls;

static void *
interrupted_writer(void *unused)
{
	(void)unused;
	struct signal_target target = { .thread = pthread_self() };
	pthread_t sender;
	pthread_create(&sender, NULL, signal_sender, &target);
	unsigned long calls = 0;
	while (calls < HAMMER_CALLS || atomic_load(&handled) < SIGNALS_WANTED) {
		count_call(1, 1);
		calls++;
	}
	atomic_store(&target.stop, true);
	pthread_join(sender, NULL);
	atomic_fetch_add(&writer_calls, calls);
	return NULL;
}

static void
handle_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	run_threads(2, interrupted_writer, NULL);
	cr_assert_geq(atomic_load(&handled), SIGNALS_WANTED);
}

Test(counters, signal_handler_calls_are_all_counted, .timeout = 60)
{
	handle_signals();
	cr_assert_eq(total(A), atomic_load(&writer_calls) + atomic_load(&handled));
	cr_assert_eq(total(B), total(A));
}

Test(counters, signal_handler_counts_inside_a_window, .timeout = 60)
{
	handle_signals();
	cr_assert_eq(atomic_load(&handled_outside_window), 0,
	             "%lu of %lu handler calls were counted outside an update window (depth "
	             "0): a snapshot could see half of them",
	             (unsigned long)atomic_load(&handled_outside_window),
	             (unsigned long)atomic_load(&handled));
}

/* ---- threads that end ---- */

static void *
add_and_exit(void *arg)
{
	uint64_t n = (uint64_t)(uintptr_t)arg;
	count_call(n, 0);
	return NULL;
}

Test(counters, figures_survive_their_threads)
{
	uint64_t before = total(A);
	/* more threads over time than there are private slots: slots are reused */
	for (unsigned int i = 0; i < 3 * WARD_COUNTER_SLOTS; i++) {
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, add_and_exit, (void *)(uintptr_t)(i + 1)), 0);
		pthread_join(t, NULL);
	}
	unsigned int n = 3 * WARD_COUNTER_SLOTS;
	cr_assert_eq(total(A) - before, (uint64_t)n * (n + 1) / 2);
}

static pthread_barrier_t all_alive;

static void *
add_while_all_alive(void *unused)
{
	(void)unused;
	pthread_barrier_wait(&all_alive); /* every thread holds a slot at once */
	for (int i = 0; i < 2000; i++)
		count_call(1, 2);
	pthread_barrier_wait(&all_alive);
	return NULL;
}

Test(counters, more_live_threads_than_slots_still_exact, .timeout = 60)
{
	const unsigned int n = WARD_COUNTER_SLOTS + 20; /* some use the overflow slot */
	uint64_t a0 = total(A), b0 = total(B);
	pthread_barrier_init(&all_alive, NULL, n);
	run_threads(n, add_while_all_alive, NULL);
	pthread_barrier_destroy(&all_alive);
	cr_assert_eq(total(A) - a0, (uint64_t)n * 2000);
	cr_assert_eq(total(B) - b0, (uint64_t)n * 4000);
}

/* A placed area (a tree record) whose overflow slot nobody marked shared
 * beforehand: the threads that land there mark it themselves, and the
 * figures stay exact. */
Test(counters, placed_overflow_slot_is_shared_and_exact, .timeout = 60)
{
	static struct ward_counter_slot area[3]; /* 2 thread slots and the overflow, all zero */
	static uint32_t claimed;
	count_call(4, 0);
	ward_counters_place(area, 2, true, &claimed);
	const unsigned int n = 8;
	pthread_barrier_init(&all_alive, NULL, n);
	run_threads(n, add_while_all_alive, NULL);
	pthread_barrier_destroy(&all_alive);
	cr_assert_eq(area[2].shared, 1, "the overflow slot was handed out, so it is shared");
	cr_assert_eq(total(A), 4 + (uint64_t)n * 2000);
	cr_assert_eq(total(B), (uint64_t)n * 4000);
	cr_assert_eq(claimed, 7, "slots 0, 1 and the overflow were handed out");
	static uint64_t out[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	ward_counters_sum_claimed(area, 3, claimed, out, copy);
	cr_assert_eq(out[A], 4 + (uint64_t)n * 2000, "the claimed slots hold every figure");
}

/* ---- reset (fork child, exec) ---- */

Test(counters, reset_zeroes_everything_and_counting_goes_on)
{
	count_call(5, 7);
	pthread_t t;
	pthread_create(&t, NULL, add_and_exit, (void *)(uintptr_t)11);
	pthread_join(t, NULL);
	cr_assert_geq(total(A), 16);

	ward_counters_reset();
	static uint64_t out[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	ward_counters_snapshot(out, copy);
	for (unsigned int i = 0; i < WARD_COUNTERS_MAX; i++)
		cr_assert_eq(out[i], 0, "counter %u is %llu after reset", i, (unsigned long long)out[i]);

	count_call(2, 0);
	pthread_create(&t, NULL, add_and_exit, (void *)(uintptr_t)3);
	pthread_join(t, NULL);
	cr_assert_eq(total(A), 5);
	run_threads(4, hammer, NULL);
	cr_assert_eq(total(A), 5 + 4ull * HAMMER_CALLS);
}

/* A fork child in a tree: a fresh record placed, then only the process's
 * own slots reset; the record is left as it was (all zero) and counting
 * goes on there. */
Test(counters, reset_private_leaves_the_placed_area)
{
	count_call(5, 7);
	pthread_t t;
	pthread_create(&t, NULL, add_and_exit, (void *)(uintptr_t)11);
	pthread_join(t, NULL);
	static struct ward_counter_slot area[WARD_COUNTER_SLOTS + 1];
	ward_counters_place(area, WARD_COUNTER_SLOTS, false, NULL);
	ward_counters_reset_private();
	static uint64_t out[WARD_COUNTERS_MAX], copy[WARD_COUNTERS_MAX];
	ward_counters_snapshot(out, copy);
	for (unsigned int i = 0; i < WARD_COUNTERS_MAX; i++)
		cr_assert_eq(out[i], 0, "counter %u is %llu after reset", i, (unsigned long long)out[i]);
	count_call(2, 1);
	pthread_create(&t, NULL, add_and_exit, (void *)(uintptr_t)3);
	pthread_join(t, NULL);
	cr_assert_eq(total(A), 5);
	cr_assert_eq(area[0].value[A] + area[1].value[A], 5, "counted in the placed area");
}

Test(counters, slot_is_stable_per_thread)
{
	struct ward_counter_slot *s = ward_counters_slot();
	cr_assert_not_null(s);
	cr_assert_eq(ward_counters_slot(), s);
}

/* ---- levels: combined by maximum, kept when threads end ---- */

#define LEVEL WARD_COUNTER_LEVEL(0)

static void *
raise_to(void *arg)
{
	struct ward_counter_slot *s = ward_counters_slot();
	uint64_t top = (uint64_t)(uintptr_t)arg;
	for (uint64_t v = 1; v <= top; v++)
		ward_counters_raise(s, LEVEL, v);
	ward_counters_raise(s, LEVEL, 1); /* lower: no effect */
	return NULL;
}

Test(counters, levels_combine_by_maximum_across_threads)
{
	ward_counters_reset();
	pthread_t t[3];
	static const uintptr_t tops[] = { 500, 7000, 2500 };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, raise_to, (void *)tops[i]), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(total(LEVEL), 7000, "the highest thread's level, not a sum: %llu",
	             (unsigned long long)total(LEVEL));
	raise_to((void *)(uintptr_t)100);
	cr_assert_eq(total(LEVEL), 7000);
	/* the overflow slot (threads beyond the private slots) raises atomically */
	struct ward_counter_slot shared = { .shared = 1 };
	ward_counters_raise(&shared, LEVEL, 9);
	ward_counters_raise(&shared, LEVEL, 4);
	cr_assert_eq(shared.value[LEVEL], 9);
	uint64_t sum[WARD_COUNTERS_MAX] = { 0 }, one[WARD_COUNTERS_MAX] = { 0 };
	one[A] = 2;
	one[LEVEL] = 30;
	ward_counters_combine(sum, one);
	one[LEVEL] = 20;
	ward_counters_combine(sum, one);
	cr_assert_eq(sum[A], 4);
	cr_assert_eq(sum[LEVEL], 30);
}
