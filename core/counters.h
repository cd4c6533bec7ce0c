/*
 * counters: per-process event counters with no shared cache line on the
 * update path.
 *
 * Each thread owns one slot (a cache-aligned array of uint64_t) claimed on its
 * first update and given back when the thread ends; the process total is the
 * sum of all slots.  The owner updates its slot with plain (non-locked) adds
 * inside a per-slot sequence window, so a reader summing the slots sees every
 * group of updates (one intercepted call) either entirely or not at all.
 * Signal handlers that interrupt an update nest inside the same window.
 * Threads beyond WARD_COUNTER_SLOTS share one overflow slot updated with
 * atomic adds (correct, just slower).
 *
 * Slots are never freed: a released slot keeps its figures and the next
 * thread that claims it adds onto them, so nothing is lost when threads exit.
 */
#ifndef WARD_CORE_COUNTERS_H
#define WARD_CORE_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#include <ck_pr.h>

#define WARD_COUNTERS_MAX 640 /* counters per slot; the shim lays them out */
#define WARD_COUNTER_SLOTS 64 /* threads that get a private slot */

struct ward_counter_slot {
	unsigned int sequence;  /* odd while the owner is inside an update */
	unsigned int nest;      /* owner only: update depth (signal handlers) */
	unsigned int owned;     /* 1 while a live thread owns the slot */
	unsigned int shared;    /* 1 for the overflow slot: atomic adds, no window */
	uint64_t value[WARD_COUNTERS_MAX];
} __attribute__((aligned(64)));

/* This thread's slot, claimed on first use. Never NULL. */
struct ward_counter_slot *ward_counters_slot(void);

static inline void
ward_counters_begin(struct ward_counter_slot *s)
{
	if (s->nest++ == 0 && !s->shared) {
		ck_pr_store_uint(&s->sequence, s->sequence + 1);
		ck_pr_fence_store();
	}
}

static inline void
ward_counters_end(struct ward_counter_slot *s)
{
	if (--s->nest == 0 && !s->shared) {
		ck_pr_fence_store();
		ck_pr_store_uint(&s->sequence, s->sequence + 1);
	}
}

/*
 * One add.  On x86-64 a single non-locked add instruction: a signal can only
 * land before or after it, and the slot has a single writing thread.
 */
static inline void
ward_counters_add(struct ward_counter_slot *s, unsigned int index, uint64_t n)
{
	if (__builtin_expect(s->shared, 0)) {
		ck_pr_add_64(&s->value[index], n);
		return;
	}
#if defined(__x86_64__)
	__asm__ __volatile__("addq %1, %0" : "+m"(s->value[index]) : "er"(n));
#else
	__atomic_fetch_add(&s->value[index], n, __ATOMIC_RELAXED);
#endif
}

/* Sum of all slots, each read inside its sequence window. */
void ward_counters_snapshot(uint64_t out[WARD_COUNTERS_MAX]);

/* Thread exit: the slot goes back to the pool with its figures. */
void ward_counters_release_thread(void);

/* Zero every slot; only the calling thread keeps its slot (fork child, exec). */
void ward_counters_reset(void);

#endif
