/*
 * counters: slot pool, claiming, and consistent snapshots.
 * See counters.h for the design.
 */
#include "counters.h"

#include <pthread.h>
#include <string.h>

static struct ward_counter_slot slots[WARD_COUNTER_SLOTS];
static struct ward_counter_slot overflow = { .shared = 1 };
static unsigned int slots_used; /* high-water mark of claimed slot indices */
__thread struct ward_counter_slot *ward_counters_mine __attribute__((tls_model("initial-exec")));

/* A thread-specific key only to learn when a thread ends. */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static bool exit_key_ok;

static void
thread_ended(void *unused)
{
	(void)unused;
	ward_counters_release_thread();
}

static void
make_exit_key(void)
{
	exit_key_ok = pthread_key_create(&exit_key, thread_ended) == 0;
}

static struct ward_counter_slot *
claim(void)
{
	pthread_once(&exit_key_once, make_exit_key);
	if (exit_key_ok)
		pthread_setspecific(exit_key, (void *)1);
	for (unsigned int i = 0; i < WARD_COUNTER_SLOTS; i++) {
		if (ck_pr_load_uint(&slots[i].owned) == 0 &&
		    ck_pr_cas_uint(&slots[i].owned, 0, 1)) {
			unsigned int used = ck_pr_load_uint(&slots_used);
			while (used < i + 1 && !ck_pr_cas_uint_value(&slots_used, used, i + 1, &used))
				;
			return &slots[i];
		}
	}
	return &overflow;
}

struct ward_counter_slot *
ward_counters_claim(void)
{
	return ward_counters_mine = claim();
}

void
ward_counters_release_thread(void)
{
	struct ward_counter_slot *s = ward_counters_mine;
	ward_counters_mine = NULL;
	if (s != NULL && s != &overflow)
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
ward_counters_snapshot(uint64_t out[WARD_COUNTERS_MAX])
{
	static __thread uint64_t copy[WARD_COUNTERS_MAX]
		__attribute__((tls_model("initial-exec")));
	memset(out, 0, sizeof(uint64_t) * WARD_COUNTERS_MAX);
	unsigned int used = ck_pr_load_uint(&slots_used);
	for (unsigned int n = 0; n <= used && n <= WARD_COUNTER_SLOTS; n++) {
		const struct ward_counter_slot *s = n < used ? &slots[n] : &overflow;
		read_slot(s, copy);
		for (unsigned int i = 0; i < WARD_COUNTERS_MAX; i++)
			out[i] += copy[i];
	}
}

void
ward_counters_reset(void)
{
	unsigned int used = ck_pr_load_uint(&slots_used);
	for (unsigned int n = 0; n < used; n++) {
		struct ward_counter_slot *s = &slots[n];
		memset(s->value, 0, sizeof(s->value));
		if (s == ward_counters_mine)
			continue; /* its owner's window stays as it is */
		s->window = 0; /* a thread that vanished in the fork may have left it open */
		s->owned = 0;
	}
	memset(overflow.value, 0, sizeof(overflow.value));
}
