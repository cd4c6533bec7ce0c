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
static __thread struct ward_counter_slot *my_slot
	__attribute__((tls_model("initial-exec")));

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
ward_counters_slot(void)
{
	struct ward_counter_slot *s = my_slot;
	if (__builtin_expect(s == NULL, 0))
		s = my_slot = claim();
	return s;
}

void
ward_counters_release_thread(void)
{
	struct ward_counter_slot *s = my_slot;
	my_slot = NULL;
	if (s != NULL && s != &overflow)
		ck_pr_store_uint(&s->owned, 0);
}

/* Copy one slot, retrying while its owner is inside an update.  Bounded: a
 * thread frozen mid-update (it cannot be, but a reader must never hang at
 * exit) costs at most one call's worth of figures. */
static void
read_slot(const struct ward_counter_slot *s, uint64_t *copy)
{
	for (int attempt = 0; attempt < 100000; attempt++) {
		unsigned int before = ck_pr_load_uint(&s->sequence);
		if (before & 1) {
			ck_pr_stall();
			continue;
		}
		ck_pr_fence_load();
		for (unsigned int i = 0; i < WARD_COUNTERS_MAX; i++)
			copy[i] = ck_pr_load_64(&s->value[i]);
		ck_pr_fence_load();
		if (ck_pr_load_uint(&s->sequence) == before)
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
		if (s == my_slot)
			continue; /* its owner's window and depth stay as they are */
		s->sequence = 0;
		s->nest = 0;
		s->owned = 0;
	}
	memset(overflow.value, 0, sizeof(overflow.value));
	overflow.nest = 0;
}
