/*
 * layout.h: where each figure lives in a counter slot.
 *
 * Three counters per intercepted function (calls, errors, denied), in the
 * order of calls.def, then the process-wide figures.  Shared by the shim,
 * which counts, and the launcher, which reads a process tree's figures.
 */
#ifndef WARD_SHIM_LAYOUT_H
#define WARD_SHIM_LAYOUT_H

#include "../core/counters.h"

enum ward_call_id {
#define WARD_CALL(ret, name, params, args, fail, pre, post) WARD_ID_##name,
#define WARD_CALL_VOID(name, params, args, pre, post) WARD_ID_##name,
#define WARD_CALL_CUSTOM(name) WARD_ID_##name,
#include "calls.def"
#undef WARD_CALL
#undef WARD_CALL_VOID
#undef WARD_CALL_CUSTOM
	WARD_NCALLS
};

enum ward_counter_index {
	WARD_IDX_FILES_OPENED = 3 * WARD_NCALLS,
	WARD_IDX_FILES_CLOSED,
	WARD_IDX_BYTES_READ,
	WARD_IDX_BYTES_WRITTEN,
	WARD_IDX_DECISIONS,     /* policy decisions made */
	WARD_IDX_POLICY_DENIED, /* operations refused (enforce, kill) */
	WARD_IDX_AUDITED,       /* operations let through in audit mode */
	WARD_IDX_FORKS,         /* children made by fork, vfork, _Fork */
	WARD_IDX_EXECS,         /* exec calls that were about to replace the image */
	WARD_IDX_SPAWNS,        /* children made by posix_spawn, system, popen */
	WARD_IDX_ALLOCATIONS,   /* blocks the malloc family handed out (realloc: one), malloc's aside: see ward_layout_derive */
	WARD_IDX_FREES,         /* blocks given back (realloc: the old one), free's aside */
	WARD_IDX_HEAP_ALLOCATED, /* usable bytes of the blocks handed out */
	WARD_IDX_HEAP_FREED,    /* usable bytes of the blocks given back */
	WARD_IDX_HEAP_BASE,     /* live heap bytes the image started with (a fork child: the parent's) */
	WARD_IDX_FREE_NULL,     /* free(NULL) calls: free calls that gave nothing back */
	WARD_IDX_END,
	/* a level: the most live heap bytes a thread saw (see alloc.c) */
	WARD_IDX_HEAP_PEAK = WARD_COUNTER_LEVEL(0)
};
_Static_assert(WARD_IDX_END <= WARD_COUNTER_LEVEL(0), "counter slot too small for the call table");

/* The functions' names, in id order: one string of them all and each
 * one's offset in it (WARD_NAME_AT_name counts the bytes of the names
 * before it), so no table of pointers: a pointer table costs the loader
 * a relocation per name, in every process, in each file that uses it. */
enum ward_call_name_at {
#define WARD_CALL(ret, name, params, args, fail, pre, post) WARD_NAME_AT_##name, WARD_NAME_END_##name = WARD_NAME_AT_##name + sizeof(#name) - 1,
#define WARD_CALL_VOID(name, params, args, pre, post) WARD_NAME_AT_##name, WARD_NAME_END_##name = WARD_NAME_AT_##name + sizeof(#name) - 1,
#define WARD_CALL_CUSTOM(name) WARD_NAME_AT_##name, WARD_NAME_END_##name = WARD_NAME_AT_##name + sizeof(#name) - 1,
#include "calls.def"
#undef WARD_CALL
#undef WARD_CALL_VOID
#undef WARD_CALL_CUSTOM
};
static const char ward_call_text[] __attribute__((unused)) =
#define WARD_CALL(ret, name, params, args, fail, pre, post) #name "\0"
#define WARD_CALL_VOID(name, params, args, pre, post) #name "\0"
#define WARD_CALL_CUSTOM(name) #name "\0"
#include "calls.def"
#undef WARD_CALL
#undef WARD_CALL_VOID
#undef WARD_CALL_CUSTOM
	;
static const unsigned short ward_call_at[WARD_NCALLS] __attribute__((unused)) = {
#define WARD_CALL(ret, name, params, args, fail, pre, post) WARD_NAME_AT_##name,
#define WARD_CALL_VOID(name, params, args, pre, post) WARD_NAME_AT_##name,
#define WARD_CALL_CUSTOM(name) WARD_NAME_AT_##name,
#include "calls.def"
#undef WARD_CALL
#undef WARD_CALL_VOID
#undef WARD_CALL_CUSTOM
};

static inline const char *
ward_call_name(int id)
{
	return ward_call_text + ward_call_at[id];
}

#define WARD_IDX_CALLS(id) (3 * (id))
#define WARD_IDX_ERRORS(id) (3 * (id) + 1)
#define WARD_IDX_DENIED(id) (3 * (id) + 2)

/* malloc and free, the most frequent calls of all, count only their calls
 * (one add, so no window: shim/alloc.c): every malloc call that did not
 * fail handed out a block, every free call but free(NULL) gave one back.
 * A reader of summed slots (the dump, the launcher's tree report) adds
 * them to the other functions' allocations and frees with this, once. */
static inline void
ward_layout_derive(uint64_t value[WARD_COUNTERS_MAX])
{
	value[WARD_IDX_ALLOCATIONS] += value[WARD_IDX_CALLS(WARD_ID_malloc)] - value[WARD_IDX_ERRORS(WARD_ID_malloc)];
	value[WARD_IDX_FREES] += value[WARD_IDX_CALLS(WARD_ID_free)] - value[WARD_IDX_FREE_NULL];
}

#endif
