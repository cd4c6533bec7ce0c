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
 * The usual environment fits in the process's first room, static memory
 * taken with a compare-and-swap by one exec at a time (not by a vfork
 * child, which would leave it taken in its parent, nor nested): a fork
 * child of a shell execs once and maps nothing (the mmap was a system
 * call of every such exec).
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
static __thread bool room_first __attribute__((tls_model("initial-exec"))); /* depth 0 is first_room */
#define FIRST_ROOM 16384
static char first_room[FIRST_ROOM] __attribute__((aligned(64)));
static int first_room_taken; /* on start-up's page of small variables (start-up.ld) */
static pthread_key_t key;
static bool key_made;

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
 * TLS is its parent's: pthread_setspecific may allocate). */
static void
release_at_exit(void)
{
	if (key_made && !ward_in_vfork && pthread_getspecific(key) == NULL)
		pthread_setspecific(key, &key);
}

void
ward_scratch_init(void)
{
	if (!key_made)
		key_made = pthread_key_create(&key, release) == 0;
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
	int free_ = 0;
	if (room_depth == 0 && !ward_in_vfork && bytes <= FIRST_ROOM &&
	    __atomic_compare_exchange_n(&first_room_taken, &free_, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		room_first = true;
		room_depth++;
		return first_room;
	}
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
	if (--room_depth == 0 && room_first) {
		/* After a failed exec: free again.  A child of a raw clone with
		 * CLONE_VM (not marked as vfork's are) gives its room back before
		 * its exec, which still reads it: the first room then stays taken
		 * (its parent's threads map rooms of their own from then on). */
		room_first = false;
		if (!ward_in_foreign_child())
			__atomic_store_n(&first_room_taken, 0, __ATOMIC_RELEASE);
	}
}

/* A fork child: the first room is free (the thread that had it is gone;
 * the forking thread is not inside an exec). */
void
ward_scratch_after_fork_child(void)
{
	room_first = false;
	if (first_room_taken != 0)
		first_room_taken = 0;
}
