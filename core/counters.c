/*
 * counters: slot pool, claiming, and consistent snapshots.
 * See counters.h for the design.
 */
#include "counters.h"

#include <pthread.h>
#include <string.h>

/* A pool: n slots for threads, then one overflow slot shared by the rest. */
struct pool {
	struct ward_counter_slot *slot;
	unsigned int n;
	unsigned int used; /* high-water mark of claimed slot indices */
	unsigned int overflowed; /* 1 once the overflow slot was handed out */
	uint32_t *claimed;       /* placed: bit k set once slot k was handed out (bit n: the overflow) */
};

static struct ward_counter_slot private_slots[WARD_COUNTER_SLOTS + 1];
static struct pool private_pool = { private_slots, WARD_COUNTER_SLOTS, 0, 0, NULL };
/* Memory placed by the caller (shared with the launcher: see tree.h); new
 * claims go there once it is set. */
static struct pool placed_pool;
__thread struct ward_counter_slot *ward_counters_mine __attribute__((tls_model("initial-exec")));

/* A thread-specific key only to learn when a thread ends. */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static void (*exit_hook)(void);

void
ward_counters_on_thread_exit(void (*fn)(void))
{
	exit_hook = fn;
}

static void
thread_ended(void *unused)
{
	(void)unused;
	if (exit_hook != NULL)
		exit_hook();
	ward_counters_release_thread();
}

static void
make_exit_key(void)
{
	exit_key_ok = pthread_key_create(&exit_key, thread_ended) == 0;
}

/* Slot i of p is handed out: say so where the reader of a placed area
 * looks (before the slot's first figure is written). */
static void
mark_claimed(struct pool *p, unsigned int i)
{
	if (p->claimed == NULL || i >= 32) /* only a placed area says (its slots are fewer than 32) */
		return;
	uint32_t bit = 1u << i;
	if (!(ck_pr_load_32(p->claimed) & bit))
		ck_pr_or_32(p->claimed, bit);
}

static struct ward_counter_slot *
claim_from(struct pool *p)
{
	for (unsigned int i = 0; i < p->n; i++) {
		if (ck_pr_load_uint(&p->slot[i].owned) == 0 && ck_pr_cas_uint(&p->slot[i].owned, 0, 1)) {
			unsigned int used = ck_pr_load_uint(&p->used);
			while (used < i + 1 && !ck_pr_cas_uint_value(&p->used, used, i + 1, &used))
				;
			mark_claimed(p, i);
			return &p->slot[i];
		}
	}
	ck_pr_store_uint(&p->slot[p->n].shared, 1); /* before its first use, by every thread it goes to */
	ck_pr_store_uint(&p->overflowed, 1);
	mark_claimed(p, p->n);
	return &p->slot[p->n];
}

/* The slot is this thread's before anything else happens: a signal handler
 * that interrupts the rest (pthread_once below, or the lazy binding of its
 * functions) finds it and must not claim again, let alone wait in the
 * pthread_once its own thread is inside. */
static struct ward_counter_slot *
claim(void)
{
	struct pool *p = ck_pr_load_ptr(&placed_pool.slot) != NULL ? &placed_pool : &private_pool;
	struct ward_counter_slot *s = ward_counters_mine = claim_from(p);
	pthread_once(&exit_key_once, make_exit_key);
	if (exit_key_ok)
		pthread_setspecific(exit_key, (void *)1);
	return s;
}

struct ward_counter_slot *
ward_counters_claim(void)
{
	return claim();
}

void
ward_counters_release_thread(void)
{
	struct ward_counter_slot *s = ward_counters_mine;
	ward_counters_mine = NULL;
	if (s != NULL && !s->shared)
		ck_pr_store_uint(&s->owned, 0);
}

/* Copy one slot, retrying while its owner is inside an update.  Bounded:
 * an owner that left a window open for good (a signal handler that
 * longjmp'd out of one) must not hang the dump at exit; the copy is then
 * the last one taken, at most one call's figures apart. */
static void
read_slot(const struct ward_counter_slot *s, uint64_t *copy)
{
	for (long attempt = 0; attempt < 10000000; attempt++) {
		uint64_t before = ck_pr_load_64((uint64_t *)&s->window);
		if (before & WARD_WINDOW_DEPTH) {
			ck_pr_stall();
			continue;
		}
		ck_pr_fence_load();
		for (unsigned int i = 0; i < WARD_COUNTERS_MAX; i++)
			copy[i] = ck_pr_load_64((uint64_t *)&s->value[i]);
		ck_pr_fence_load();
		if (ck_pr_load_64((uint64_t *)&s->window) == before)
			return;
	}
}

void
ward_counters_combine(uint64_t total[WARD_COUNTERS_MAX], const uint64_t value[WARD_COUNTERS_MAX])
{
	unsigned int i = 0;
	for (; i < WARD_COUNTER_LEVEL(0); i++)
		total[i] += value[i];
	for (; i < WARD_COUNTERS_MAX; i++)
		if (value[i] > total[i])
			total[i] = value[i];
}

static void
add_pool(const struct pool *p, uint64_t out[WARD_COUNTERS_MAX], uint64_t *copy)
{
	if (p->slot == NULL)
		return;
	unsigned int used = ck_pr_load_uint((unsigned int *)&p->used);
	for (unsigned int n = 0; n <= used && n <= p->n; n++) {
		const struct ward_counter_slot *s = n < used ? &p->slot[n] : &p->slot[p->n];
		read_slot(s, copy);
		ward_counters_combine(out, copy);
	}
}

void
ward_counters_snapshot(uint64_t out[WARD_COUNTERS_MAX], uint64_t copy[WARD_COUNTERS_MAX])
{
	memset(out, 0, sizeof(uint64_t) * WARD_COUNTERS_MAX);
	add_pool(&private_pool, out, copy);
	add_pool(&placed_pool, out, copy);
}

void
ward_counters_sum(const struct ward_counter_slot *slots, unsigned int n, uint64_t out[WARD_COUNTERS_MAX],
                  uint64_t copy[WARD_COUNTERS_MAX])
{
	ward_counters_sum_claimed(slots, n, UINT32_MAX, out, copy);
}

void
ward_counters_sum_claimed(const struct ward_counter_slot *slots, unsigned int n, uint32_t claimed,
                          uint64_t out[WARD_COUNTERS_MAX], uint64_t copy[WARD_COUNTERS_MAX])
{
	memset(out, 0, sizeof(uint64_t) * WARD_COUNTERS_MAX);
	for (unsigned int k = 0; k < n; k++) {
		if (k < 32 && !(claimed & (1u << k)))
			continue; /* never handed out: all zero, and not a page to read */
		read_slot(&slots[k], copy);
		ward_counters_combine(out, copy);
	}
}

/* Zero the words of value that are not zero yet.  After a fork the slots
 * are the parent's pages, shared until written: reading them costs
 * nothing, and a page whose words are all zero already (most of a slot:
 * a process uses a few dozen of its 1,024 counters) is not copied. */
static void
zero_nonzero(uint64_t *value, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (value[i] != 0)
			value[i] = 0;
}

static void
reset_pool(struct pool *p)
{
	if (p->slot == NULL)
		return;
	unsigned int used = ck_pr_load_uint(&p->used);
	for (unsigned int n = 0; n < used; n++) {
		struct ward_counter_slot *s = &p->slot[n];
		zero_nonzero(s->value, WARD_COUNTERS_MAX);
		if (s == ward_counters_mine)
			continue; /* its owner's window stays as it is */
		if (s->window != 0)
			s->window = 0; /* a thread that vanished in the fork may have left it open */
		if (s->owned != 0)
			s->owned = 0;
	}
	if (ck_pr_load_uint(&p->overflowed)) /* never handed out: all zero, and untouched */
		zero_nonzero(p->slot[p->n].value, WARD_COUNTERS_MAX);
}

void
ward_counters_reset(void)
{
	reset_pool(&private_pool);
	reset_pool(&placed_pool);
}

void
ward_counters_reset_private(void)
{
	reset_pool(&private_pool);
}

void
ward_counters_unplace(void)
{
	if (ck_pr_load_ptr(&placed_pool.slot) == NULL)
		return;
	ck_pr_store_ptr(&placed_pool.slot, NULL); /* (never written from here again) */
	placed_pool = (struct pool){ 0 };
	bool counting = ward_counters_mine != NULL;
	ward_counters_mine = NULL; /* a slot of the area: not this process's */
	reset_pool(&private_pool);
	if (counting)
		claim();
}

void
ward_counters_place(struct ward_counter_slot *area, unsigned int n, bool move_figures, uint32_t *claimed)
{
	struct ward_counter_slot *mine = ward_counters_mine;
	/* area is all zero (see counters.h): writing zeros again would only
	 * touch every page of it (26 KB of a tree record, ~7 faults).  Nor is
	 * the overflow slot's shared flag set here, 33 KB into a tree record
	 * (a page of its own, one fault a process): claim_from sets it before
	 * it hands the slot out, and nothing else reads it. */
	if (mine != NULL) { /* this thread goes on counting in the new place */
		if (move_figures) { /* our own memory: empty it and give it back */
			memcpy(area[0].value, mine->value, sizeof(mine->value));
			memset(mine->value, 0, sizeof(mine->value));
			if (!mine->shared)
				ck_pr_store_uint(&mine->owned, 0);
		}
		area[0].owned = 1;
		ward_counters_mine = &area[0];
	}
	placed_pool.n = n;
	placed_pool.used = mine != NULL ? 1 : 0;
	placed_pool.overflowed = 0;
	placed_pool.claimed = claimed;
	if (mine != NULL)
		mark_claimed(&placed_pool, 0);
	ck_pr_fence_store();
	ck_pr_store_ptr(&placed_pool.slot, area);
}
