/*
 * scratch.c: the per-thread working memory of checks and records.
 *
 * Nothing PATH_MAX-sized may live on a wrapper's stack: programs run
 * threads on 8 KiB clone stacks (TRAPS 12).  Each thread maps its scratch
 * on first use (kept out of static TLS, which every thread of every process
 * would otherwise zero at start) and gives it back when it ends.  There is
 * one set per nesting level, so a signal handler that makes a checked call
 * in the middle of a check has its own; deeper than that, a check cannot be
 * made and the caller refuses.
 *
 * An exec's environment (the program's pointers plus the tree's entries,
 * and the LD_PRELOAD line) is as big as the program makes it: it is built
 * in an exec room, a mapping per thread and nesting level, kept for the
 * next exec and replaced by a bigger one when an exec needs more.  A
 * vfork child uses its parent's (it runs on the parent's thread, which
 * waits): a room it maps or replaces is the parent's from then on.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>

#include "shim.h"

static __thread struct ward_scratch *area __attribute__((tls_model("initial-exec")));
static __thread int depth __attribute__((tls_model("initial-exec")));
static __thread struct exec_room {
	void *base;
	size_t size;
} rooms[WARD_SCRATCH_NESTING] __attribute__((tls_model("initial-exec")));
static __thread int room_depth __attribute__((tls_model("initial-exec")));
static pthread_key_t key;
/* The key is made when the first scratch or room is mapped, not at
 * start-up: pthread_key_create writes a page of libc's data, a fault in
 * every process, most of which (/bin/true, a shell that only execs) never
 * map either.  0 not made, 1 being made, 2 made, 3 failed. */
static int key_state;

/* The thread ends: its scratch and rooms go. */
static void
release(void *unused)
{
	(void)unused;
	if (area != NULL)
		ward_syscall(SYS_munmap, area, WARD_SCRATCH_NESTING * sizeof(struct ward_scratch));
	area = NULL;
	for (int i = 0; i < WARD_SCRATCH_NESTING; i++) {
		if (rooms[i].base != NULL)
			ward_syscall(SYS_munmap, rooms[i].base, rooms[i].size);
		rooms[i].base = NULL;
		rooms[i].size = 0;
	}
}

/* Have release run when the thread ends (not from a vfork child, whose
 * TLS and libc state are its parent's: pthread_setspecific may allocate).
 * pthread_key_create takes no lock (glibc claims a key with an atomic
 * exchange), so a signal handler may come here too.  A thread that finds
 * the key being made by another (or by the code it interrupted) tries
 * again at its next room. */
static void
release_at_exit(void)
{
	if (ward_in_vfork)
		return;
	int state = __atomic_load_n(&key_state, __ATOMIC_ACQUIRE);
	if (state == 0 && __atomic_compare_exchange_n(&key_state, &state, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		state = pthread_key_create(&key, release) == 0 ? 2 : 3;
		__atomic_store_n(&key_state, state, __ATOMIC_RELEASE);
	}
	if (state == 2 && pthread_getspecific(key) == NULL)
		pthread_setspecific(key, &key);
}

/* The thread's first check: its scratch mapped.  Out of line, so that
 * the common case (ward_scratch_enter's) saves no registers. */
static __attribute__((noinline)) bool
map_area(void)
{
	long p = ward_syscall(SYS_mmap, NULL, WARD_SCRATCH_NESTING * sizeof(struct ward_scratch),
	                      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == -1)
		return false;
	area = (struct ward_scratch *)p;
	release_at_exit();
	return true;
}

static inline struct ward_scratch *
at(int level)
{
	if (__builtin_expect(area == NULL, 0) && !map_area())
		return NULL;
	return &area[level];
}

/* ward_scratch_enter of a thread whose scratch is not mapped yet. */
static __attribute__((noinline)) struct ward_scratch *
enter_first(void)
{
	struct ward_scratch *s = at(depth);
	if (s != NULL)
		depth++;
	return s;
}

struct ward_scratch *
ward_scratch_enter(void)
{
	int level = depth;
	struct ward_scratch *all = area;
	if (level >= WARD_SCRATCH_NESTING)
		return NULL;
	if (__builtin_expect(all == NULL, 0))
		return enter_first(); /* (a tail call: the common case saves no registers) */
	depth = level + 1;
	return &all[level];
}

struct ward_scratch *
ward_scratch_current(void)
{
	return depth > 0 && area != NULL ? &area[depth - 1] : NULL;
}

void
ward_scratch_leave(void)
{
	depth--;
}

/* The outermost set's exec buffer, for code that is never nested inside a
 * check (exec's PATH search). */
char *
ward_scratch_exec_buffer(void)
{
	struct ward_scratch *s = at(WARD_SCRATCH_NESTING - 1);
	return s != NULL ? s->exec_path : NULL;
}

/* This thread's next exec room, of at least bytes, or NULL (nested too
 * deep, no memory): the caller then refuses.  Every enter that succeeds
 * has one leave. */
void *
ward_scratch_exec_room_enter(size_t bytes)
{
	if (room_depth >= WARD_SCRATCH_NESTING)
		return NULL;
	struct exec_room *room = &rooms[room_depth];
	if (room->size < bytes) {
		size_t size = (bytes + 65535) & ~(size_t)65535;
		long p = ward_syscall(SYS_mmap, NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == -1)
			return NULL;
		if (room->base != NULL)
			ward_syscall(SYS_munmap, room->base, room->size);
		room->base = (void *)p;
		room->size = size;
	}
	release_at_exit();
	room_depth++;
	return room->base;
}

void
ward_scratch_exec_room_leave(void)
{
	room_depth--;
}
