/*
 * counters: per-process event counters with no shared cache line on the
 * update path.
 *
 * Each thread owns one slot (a cache-aligned array of uint64_t) claimed on its
 * first update and given back when the thread ends; the process total is the
 * sum of all slots.  The owner updates its slot with plain (non-locked) adds
 * inside a per-slot window, so a reader summing the slots sees every group of
 * updates (one intercepted call) either entirely or not at all.  Signal
 * handlers that interrupt an update nest inside the same window.
 * Threads beyond WARD_COUNTER_SLOTS share one overflow slot updated with
 * atomic adds (correct, just slower).
 *
 * Slots are never freed: a released slot keeps its figures and the next
 * thread that claims it adds onto them, so nothing is lost when threads exit.
 */
#ifndef WARD_CORE_COUNTERS_H
#define WARD_CORE_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ck_pr.h>

#define WARD_COUNTERS_MAX 1024 /* counters per slot; the shim lays them out (3 a call) */
#define WARD_COUNTER_SLOTS 64 /* threads that get a private slot */
/* The last WARD_COUNTER_LEVELS values of a slot are levels (a peak, say):
 * slots combine them by maximum, not sum, and their owner raises them with
 * ward_counters_raise. */
#define WARD_COUNTER_LEVELS 4
#define WARD_COUNTER_LEVEL(i) (WARD_COUNTERS_MAX - WARD_COUNTER_LEVELS + (i))

struct ward_counter_slot {
	/* The update window in one word, changed by single add instructions
	 * (a signal lands before or after each, never inside): the low 16 bits
	 * are the owner's update depth, the rest a generation that every
	 * completed update advances.  A reader accepts a copy taken with depth 0
	 * and the same word before and after. */
	uint64_t window;
	unsigned int owned;     /* 1 while a live thread owns the slot */
	unsigned int shared;    /* 1 for the overflow slot: atomic adds, no window */
	uint64_t value[WARD_COUNTERS_MAX];
} __attribute__((aligned(64)));

#define WARD_WINDOW_DEPTH 0xffffull
#define WARD_WINDOW_CLOSE ((1ull << 16) - 1) /* depth - 1, generation + 1 */

/* This thread's slot, claimed on first use. Never NULL. */
extern __thread struct ward_counter_slot *ward_counters_mine __attribute__((tls_model("initial-exec")));
struct ward_counter_slot *ward_counters_claim(void);

static inline struct ward_counter_slot *
ward_counters_slot(void)
{
	struct ward_counter_slot *s = ward_counters_mine;
	return __builtin_expect(s != NULL, 1) ? s : ward_counters_claim();
}

/* A plain add to memory the slot's owner alone writes: one instruction on
 * x86-64, so signal handlers on the same thread cannot tear it.  No
 * "memory" clobber: the operand names the word it changes, and volatile
 * asm statements keep their order among themselves (a window's opening,
 * its adds, its closing); a clobber made the compiler reload the caller's
 * frame after every add. */
static inline void
ward_counters_raw_add(uint64_t *word, uint64_t n)
{
#if defined(__x86_64__)
	__asm__ __volatile__("addq %1, %0" : "+m"(*word) : "er"(n));
#else
	__atomic_fetch_add(word, n, __ATOMIC_RELAXED);
#endif
}

static inline void
ward_counters_begin(struct ward_counter_slot *s)
{
	if (!s->shared)
		ward_counters_raw_add(&s->window, 1);
}

static inline void
ward_counters_end(struct ward_counter_slot *s)
{
	if (!s->shared)
		ward_counters_raw_add(&s->window, WARD_WINDOW_CLOSE);
}

static inline void
ward_counters_add(struct ward_counter_slot *s, unsigned int index, uint64_t n)
{
	if (__builtin_expect(s->shared, 0))
		ck_pr_add_64(&s->value[index], n);
	else
		ward_counters_raw_add(&s->value[index], n);
}

/* The same, for a caller that read s->shared once already (the wrappers'
 * template keeps it in a register across the call). */
static inline void
ward_counters_add_known(struct ward_counter_slot *s, bool shared, unsigned int index, uint64_t n)
{
	if (__builtin_expect(shared, 0))
		ck_pr_add_64(&s->value[index], n);
	else
		ward_counters_raw_add(&s->value[index], n);
}

/* Raise a level to at least n. */
static inline void
ward_counters_raise(struct ward_counter_slot *s, unsigned int index, uint64_t n)
{
	uint64_t *word = &s->value[index], old = ck_pr_load_64(word);
	if (__builtin_expect(!s->shared, 1)) {
		if (n > old)
			ck_pr_store_64(word, n);
		return;
	}
	while (n > old && !ck_pr_cas_64_value(word, old, n, &old))
		;
}

/* Fold one slot's copy into a total: sums, and maximum for the levels. */
void ward_counters_combine(uint64_t total[WARD_COUNTERS_MAX], const uint64_t value[WARD_COUNTERS_MAX]);

/* Sum of all slots, each read inside its sequence window into copy (room
 * the caller gives: a thread-local buffer would put 6 KB of static TLS
 * into every thread of every process, set up whether it dumps or not). */
void ward_counters_snapshot(uint64_t out[WARD_COUNTERS_MAX], uint64_t copy[WARD_COUNTERS_MAX]);

/* Sum of n slots laid out as a pool (n - 1 thread slots and the overflow,
 * or any array), each read inside its window: for a reader in another
 * process, such as the launcher reading a process tree. */
void ward_counters_sum(const struct ward_counter_slot *slots, unsigned int n, uint64_t out[WARD_COUNTERS_MAX],
                       uint64_t copy[WARD_COUNTERS_MAX]);
/* The same, reading only the slots whose bit is set in claimed (as
 * ward_counters_place's claimed word records them; slots 32 and up are
 * always read): a slot never handed out is all zero, and its pages need
 * not be touched (a tree record's unused slots were some nine page faults
 * of the launcher's a process). */
void ward_counters_sum_claimed(const struct ward_counter_slot *slots, unsigned int n, uint32_t claimed,
                               uint64_t out[WARD_COUNTERS_MAX], uint64_t copy[WARD_COUNTERS_MAX]);

/* Thread exit: the slot goes back to the pool with its figures. */
void ward_counters_release_thread(void);

/* Called on a thread's way out, just before its slot goes back (the shim
 * folds the thread's allocation figures there). */
void ward_counters_on_thread_exit(void (*fn)(void));

/* Zero every slot; only the calling thread keeps its slot (fork child, exec). */
void ward_counters_reset(void);
/* The same for the process's own slots only, not for the placed area:
 * after a ward_counters_place of a fresh (all-zero) area, whose pages a
 * reset would only touch. */
void ward_counters_reset_private(void);

/* Count from now on in area (n thread slots, then one overflow: n + 1 in
 * all), memory the caller owns, e.g. shared with another process, and
 * all zero when given (a fresh record of the tree's file, which is made by
 * ftruncate and whose records are never reused).  The
 * calling thread moves there at once (with its figures when move_figures;
 * without them when the old place is not this process's own, as after a
 * fork); other threads keep the slots they have, and snapshots add both.
 * claimed (may be NULL; in memory the reader sees, zero when given): bit k
 * is set before slot k (n: the overflow) is first used, for
 * ward_counters_sum_claimed. */
void ward_counters_place(struct ward_counter_slot *area, unsigned int n, bool move_figures, uint32_t *claimed);
/* Counting in the process's own memory again, the placed area left as it
 * is: a fork child that got no area of its own (its parent's is shared
 * with it).  Its own slots are reset and the calling thread gets one. */
void ward_counters_unplace(void);

#endif
