/*
 * alloc.c: the malloc family, replaced together.
 *
 * Which allocator: one serves the whole process image, chosen by WARD_MALLOC
 * on the family's first call, which may come from ld.so before any
 * constructor has run (so the environment is read here, not at start-up):
 *   jemalloc  the private copy linked into libward.so (ward_je_*, see
 *             scripts/private-jemalloc.sh); its calls to mmap, open, ... go
 *             to the raw versions at the end of this file, never to the
 *             wrappers (TRAPS 9), and nothing here needs dlsym (TRAPS 8);
 *   libc      glibc's own allocator through its exported __libc_* entries.
 * Because one allocator serves every function of the family, a block from
 * any of them (or from glibc itself: fopen's FILE, strdup, getline) can be
 * freed or resized by any other.
 *
 * Accounting is in usable bytes (what malloc_usable_size says), so a block
 * counts the same when it is handed out and when it comes back.  Each
 * thread counts calls, blocks and bytes in its own counter slot: no shared
 * cache line is written per call, and live = allocated - freed at the dump
 * (exited threads' slots keep their figures).  malloc and free add only
 * their calls (their blocks are derived: ward_layout_derive).  Bytes: with
 * glibc, malloc_usable_size per call; with jemalloc, its own per-thread
 * counters, folded into the slot every FOLD bytes they move, when the
 * thread ends and at the dump (settle, below).  The shim's own blocks (made
 * and freed inside its own work, ward_busy) are served but not counted.
 *
 * Peak and limit need a running view of the live heap: the shared word
 * heap.folded, which each thread's folds move, plus the thread's own
 * change since its last fold.  Exact in a single-threaded program; short
 * of the truth by less than FOLD for each thread otherwise.  Peaks are
 * raised per thread in its slot on every allocation (a level: slots
 * combine by max); `limit memory` refuses an allocation that takes the
 * view past the limit, so a program with T threads can pass the limit by
 * less than (T-1) * FOLD.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* How far a thread's unfolded change may grow before it is folded. */
#define FOLD (256 * 1024)

/* ---- the private jemalloc (renamed by scripts/private-jemalloc.sh) ---- */
void *ward_je_malloc(size_t);
void *ward_je_calloc(size_t, size_t);
void *ward_je_realloc(void *, size_t);
void *ward_je_mallocx(size_t, int);
size_t ward_je_nallocx(size_t, int);
size_t ward_je_sallocx(const void *, int);
void ward_je_free(void *);
int ward_je_mallctl(const char *, void *, size_t *, void *, size_t);
#define MALLOCX_ALIGN(a) ((int)(__builtin_ffsl((long)(a)) - 1))

/* ---- glibc's allocator ----
 * Its __libc_* entries, found once with dlsym(RTLD_NEXT) when it is
 * chosen: libward.so exports those names itself (programs that call them
 * get the family's wrappers, aliases.S), so a plain reference here would
 * bind to the shim's own. */
static struct {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
} libc_alloc;
#define __libc_malloc(n) libc_alloc.malloc(n)
#define __libc_free(p) libc_alloc.free(p)
#define __libc_calloc(count, size) libc_alloc.calloc(count, size)
#define __libc_realloc(p, n) libc_alloc.realloc(p, n)
#define __libc_memalign(alignment, n) libc_memalign(alignment, n)

/* The aligned entries are looked up on their first call, not when the
 * allocator is chosen: few programs call them, and each dlsym is some
 * 1,500 instructions of every process's start-up under WARD_MALLOC=libc. */
static void *
next_function(void **slot, const char *name)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (fn == NULL) {
		fn = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

static void *
libc_memalign(size_t alignment, size_t n)
{
	void *(*fn)(size_t, size_t) = (void *(*)(size_t, size_t))next_function((void **)&libc_alloc.memalign,
	                                                                         "__libc_memalign");
	return fn(alignment, n);
}

static void *
libc_valloc(size_t n)
{
	void *(*fn)(size_t) = (void *(*)(size_t))next_function((void **)&libc_alloc.valloc, "__libc_valloc");
	return fn(n);
}

static void *
libc_pvalloc(size_t n)
{
	void *(*fn)(size_t) = (void *(*)(size_t))next_function((void **)&libc_alloc.pvalloc, "__libc_pvalloc");
	return fn(n);
}

enum allocator { UNCHOSEN = 0, JEMALLOC, LIBC };

static struct {
	int allocator;                           /* enum allocator, set once */
	size_t (*libc_usable)(void *);           /* glibc's malloc_usable_size */
	char bad_value[40];                      /* an unknown WARD_MALLOC, for the constructor to report */
	uint64_t limit;                          /* limit memory, bytes; 0: none */
	int refusal_recorded;
	int plain;                               /* jemalloc and no limit: malloc's short path */
	int64_t folded __attribute__((aligned(64))); /* live heap bytes folded in by threads */
	char pad[64 - sizeof(int64_t)];
} heap;

/* This thread's heap state, in one thread-local (one address to find).
 * With jemalloc: where its thread counters were when they were last folded
 * into the slot (seen_*), and the marks the short path compares them with
 * (see settle, below).  With glibc: its change of live bytes since it last
 * folded. */
static __thread struct {
	uint64_t allocated_mark;   /* the allocated counter past this: settle */
	uint64_t deallocated_mark; /* the deallocated counter past this: settle */
	int64_t live_mark;         /* the thread's allocated - deallocated past this: a new peak */
	int64_t view_offset;       /* the view is that difference plus this */
	uint64_t seen_allocated, seen_deallocated;
	int settling;              /* inside settle (a signal handler's call leaves it alone) */
	int ended;                 /* the thread's exit hook ran: every call settles */
	int64_t change;            /* glibc: change of live bytes since the last fold */
} thread_heap __attribute__((tls_model("initial-exec")));
#define heap_change thread_heap.change

/* jemalloc already adds every block's usable size to two counters of the
 * calling thread (what mallctl's thread.allocatedp / thread.deallocatedp
 * point at); what they moved by across a call is what the call handed out
 * and took back, with no size lookup of ours.  They live in jemalloc's
 * thread record, the static TLS variable tsd_tls, at fixed offsets, read
 * here directly: asking mallctl for their addresses runs jemalloc's ctl_init
 * (some 150,000 instructions and 40 page faults of statistics set-up, in
 * every process that allocates at all).  The offsets are those of Debian's
 * jemalloc 5.3.0 (scripts/private-jemalloc.sh refuses another version;
 * tests/test_memory.c's exact heap figures would show a wrong one); a new
 * version's are printed by the probe in docs/PERFORMANCE.md ("Start-up").
 * A new thread's record starts from zero, as the seen values below do. */
extern __thread char je_tsd_tls[] __attribute__((tls_model("initial-exec"), visibility("hidden")));
#define JE_TSD_THREAD_ALLOCATED 824
#define JE_TSD_THREAD_DEALLOCATED 840

static inline uint64_t
je_thread_allocated(void)
{
	uint64_t v;
	memcpy(&v, je_tsd_tls + JE_TSD_THREAD_ALLOCATED, sizeof(v));
	return v;
}

static inline uint64_t
je_thread_deallocated(void)
{
	uint64_t v;
	memcpy(&v, je_tsd_tls + JE_TSD_THREAD_DEALLOCATED, sizeof(v));
	return v;
}

/* The private copy's built-in configuration (its malloc_conf symbol, read
 * before /etc/malloc.conf and the program's MALLOC_CONF, which still win):
 * glibc's opendir allocates its ~32 KiB directory buffer (32,816 bytes, the
 * 40 KiB size class) and jemalloc's default tcache_max is 32 KiB, so every
 * opendir/closedir went to the arena (+2,100 instructions); with 64 KiB the
 * thread cache keeps it, and 64 KiB blocks too (see docs/PERFORMANCE.md). */
__attribute__((visibility("hidden"))) const char *ward_je_malloc_conf = "tcache_max:65536";

/* ---- choosing, on the first call ---- */

extern char **__environ;

/* entry is WARD_MALLOC=VALUE: VALUE into out. */
static bool
choice_in(const char *entry, char *out, size_t cap)
{
	static const char key[] = "WARD_MALLOC=";
	if (strncmp(entry, key, sizeof(key) - 1) != 0)
		return false;
	/* copied by hand: snprintf's text and tables were three page faults
	 * of start-up under WARD_MALLOC=libc */
	const char *value = entry + sizeof(key) - 1;
	size_t n = strnlen(value, cap - 1);
	memcpy(out, value, n);
	out[n] = '\0';
	return true;
}

/* WARD_MALLOC's value: from environ once libc has set it up, otherwise from
 * the kernel's copy of the initial environment. */
static bool
read_choice(char *out, size_t cap)
{
	if (__environ != NULL) {
		for (char **e = __environ; *e != NULL; e++)
			if (choice_in(*e, out, cap))
				return true;
		return false;
	}
	static char env[64 * 1024];
	long fd = ward_syscall(SYS_open, (long)"/proc/self/environ", O_RDONLY | O_CLOEXEC, 0, 0);
	if (fd < 0)
		return false;
	long n = 0, r;
	while (n < (long)sizeof(env) - 1 && (r = ward_syscall(SYS_read, fd, (long)env + n, (long)sizeof(env) - 1 - n, 0)) > 0)
		n += r;
	ward_syscall(SYS_close, fd, 0, 0, 0);
	env[n] = '\0';
	for (char *e = env; e < env + n; e += strlen(e) + 1)
		if (choice_in(e, out, cap))
			return true;
	return false;
}

static __attribute__((noinline)) int
choose(void)
{
	int saved_errno = errno;
	char value[sizeof(heap.bad_value)] = "";
	int a = JEMALLOC;
	if (read_choice(value, sizeof(value)) && strcmp(value, "libc") == 0)
		a = LIBC;
	else if (value[0] != '\0' && strcmp(value, "jemalloc") != 0)
		snprintf(heap.bad_value, sizeof(heap.bad_value), "%s", value);
	if (a == LIBC) {
		/* A successful dlsym does not allocate on glibc 2.36; should one
		 * ever do, the nested call finds the allocator chosen and counts
		 * its block as 0 bytes (live bytes would then be off by it). */
		*(void **)&libc_alloc.malloc = dlsym(RTLD_NEXT, "__libc_malloc");
		*(void **)&libc_alloc.free = dlsym(RTLD_NEXT, "__libc_free");
		*(void **)&libc_alloc.calloc = dlsym(RTLD_NEXT, "__libc_calloc");
		*(void **)&libc_alloc.realloc = dlsym(RTLD_NEXT, "__libc_realloc");
		__atomic_store_n(&heap.allocator, LIBC, __ATOMIC_RELEASE);
		void *fn = dlsym(RTLD_NEXT, "malloc_usable_size");
		__atomic_store_n(&heap.libc_usable, (size_t(*)(void *))fn, __ATOMIC_RELEASE);
	}
	int expected = UNCHOSEN;
	__atomic_compare_exchange_n(&heap.allocator, &expected, a, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	a = __atomic_load_n(&heap.allocator, __ATOMIC_ACQUIRE);
	if (a == JEMALLOC && __atomic_load_n(&heap.limit, __ATOMIC_SEQ_CST) == 0) {
		__atomic_store_n(&heap.plain, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&heap.limit, __ATOMIC_SEQ_CST) != 0) /* set meanwhile (see ward_alloc_set_limit) */
			__atomic_store_n(&heap.plain, 0, __ATOMIC_SEQ_CST);
	}
	errno = saved_errno;
	return a;
}

/* Is jemalloc serving the family? */
static inline bool
jemalloc(void)
{
	int a = heap.allocator;
	return likely(a == JEMALLOC) || (a == UNCHOSEN && choose() == JEMALLOC);
}

const char *
ward_alloc_bad_choice(void)
{
	return heap.bad_value[0] ? heap.bad_value : NULL;
}

/* The allocator serving the family (chosen now if nothing allocated yet). */
const char *
ward_alloc_name(void)
{
	return jemalloc() ? "jemalloc" : "libc";
}

/* ---- sizes ---- */

/* A block's usable size (limit checks, malloc_usable_size, libc's figures). */
static size_t
usable(void *p)
{
	if (p == NULL)
		return 0;
	if (heap.allocator == JEMALLOC)
		return ward_je_sallocx(p, 0);
	size_t (*fn)(void *) = heap.libc_usable;
	return fn != NULL ? fn(p) : 0;
}

/* How far a counter moved since last seen (jemalloc starts a thread's
 * counters again if the thread allocates after its own clean-up). */
static inline size_t
moved(uint64_t now, uint64_t *seen)
{
	uint64_t by = now >= *seen ? now - *seen : now;
	*seen = now;
	return (size_t)by;
}

/* ---- accounting ---- */

/* One call of the family served by glibc, inside one counting window: a
 * block given back (freed usable bytes) and/or one handed out (got bytes);
 * also the calls figures of any call that moved no bytes.  Always inlined:
 * each call site passes constants for most of it. */
static inline __attribute__((always_inline)) void
account(enum ward_call_id id, bool gave_back, size_t freed, bool handed_out, size_t got, bool failed)
{
	if (unlikely(ward_busy))
		return; /* the shim's own blocks (the policy, ...): not the program's */
	struct ward_counter_slot *s = ward_counters_slot();
	bool shared = s->shared; /* read once: the adds below do not change it */
	/* malloc's allocations and free's frees are their calls (ward_layout_derive) */
	bool count_block_in = handed_out && id != WARD_ID_malloc, count_block_out = gave_back && id != WARD_ID_free;
	if (unlikely(shared)) { /* a thread beyond the private slots: atomic adds */
		ward_counters_add(s, WARD_IDX_CALLS(id), 1);
		ward_counters_add(s, WARD_IDX_ERRORS(id), failed);
		ward_counters_add(s, WARD_IDX_FREES, count_block_out);
		ward_counters_add(s, WARD_IDX_HEAP_FREED, freed);
		ward_counters_add(s, WARD_IDX_ALLOCATIONS, count_block_in);
		ward_counters_add(s, WARD_IDX_HEAP_ALLOCATED, got);
	} else { /* the slot is this thread's: plain adds in its window */
		ward_counters_raw_add(&s->window, 1);
		ward_counters_raw_add(&s->value[WARD_IDX_CALLS(id)], 1);
		if (unlikely(failed))
			ward_counters_raw_add(&s->value[WARD_IDX_ERRORS(id)], 1);
		if (gave_back) {
			if (count_block_out)
				ward_counters_raw_add(&s->value[WARD_IDX_FREES], 1);
			ward_counters_raw_add(&s->value[WARD_IDX_HEAP_FREED], freed);
		}
		if (handed_out) {
			if (count_block_in)
				ward_counters_raw_add(&s->value[WARD_IDX_ALLOCATIONS], 1);
			ward_counters_raw_add(&s->value[WARD_IDX_HEAP_ALLOCATED], got);
		}
	}
	if (got || freed) {
		int64_t change = heap_change + (int64_t)got - (int64_t)freed;
		if (got) {
			int64_t view = __atomic_load_n(&heap.folded, __ATOMIC_RELAXED) + change;
			uint64_t *peak = &s->value[WARD_IDX_HEAP_PEAK];
			if (unlikely(shared))
				ward_counters_raise(s, WARD_IDX_HEAP_PEAK, view > 0 ? (uint64_t)view : 0);
			else if (view > 0 && (uint64_t)view > *peak) /* the slot's owner alone writes it; a volatile */
				ck_pr_store_64(peak, (uint64_t)view); /* store stays inside the window, like the adds */
		}
		if (unlikely(change > FOLD || change < -FOLD)) {
			__atomic_fetch_add(&heap.folded, change, __ATOMIC_RELAXED);
			change = 0;
		}
		heap_change = change;
	}
	if (!shared)
		ward_counters_raw_add(&s->window, WARD_WINDOW_CLOSE);
}

/* ---- accounting with jemalloc ----
 * Calls, allocations and frees are counted per call.  Bytes are not: the
 * bytes a thread's calls moved are in jemalloc's two thread counters
 * already, and are folded into the thread's slot (bytes allocated, bytes
 * freed) and into the shared view (heap.folded) by settle() when either
 * counter has moved FOLD bytes since the last fold, when the thread ends,
 * at the dump (and every exit path), and on every call of a thread past its
 * exit hook.  What a call then does on top of jemalloc's own work: its
 * calls figures (malloc and free: one add, no window), one or two compares
 * of the counters with the thread's marks, and for an allocation the peak
 * test.
 * The view (live heap bytes as this thread sees them) is the thread's
 * allocated - deallocated plus view_offset: the shared total as of its last
 * settle less its own difference then.  live_mark is that difference at
 * the slot's peak: an allocation past it is a new peak, raised in the slot
 * at once, so a single-threaded program's peak is exact.
 * What is not folded yet is at most FOLD bytes of each counter of each
 * thread: only a figure read while the thread still runs can lack it (the
 * dump of another thread, the tree's record of a process killed). */

/* A thread's change of live bytes since it last folded. */
static inline int64_t
je_change(uint64_t allocated, uint64_t deallocated)
{
	return (int64_t)((allocated - thread_heap.seen_allocated) - (deallocated - thread_heap.seen_deallocated));
}

/* The marks again, just after a fold (the seen values are the counters,
 * folded the shared view): the next fold after FOLD more bytes of either
 * counter (at once if the thread ended), the peak test. */
static void
set_marks(struct ward_counter_slot *s, uint64_t allocated, uint64_t deallocated, int64_t folded)
{
	int64_t live = (int64_t)(allocated - deallocated);
	thread_heap.view_offset = folded - live; /* the seen values are the counters: no change unfolded */
	thread_heap.live_mark = (int64_t)ck_pr_load_64(&s->value[WARD_IDX_HEAP_PEAK]) - thread_heap.view_offset;
	thread_heap.allocated_mark = thread_heap.ended ? 0 : allocated + FOLD;
	thread_heap.deallocated_mark = thread_heap.ended ? 0 : deallocated + FOLD;
}

/* Fold what jemalloc's counters moved by since the last fold into the
 * slot and the shared view, raise the peak to the view, and set the marks
 * again.  A signal handler's call inside it leaves it alone (its bytes are
 * in the counters: the next fold has them). */
static __attribute__((noinline)) void
settle(void)
{
	if (thread_heap.settling)
		return;
	thread_heap.settling = 1;
	struct ward_counter_slot *s = ward_counters_slot();
	uint64_t allocated = je_thread_allocated(), deallocated = je_thread_deallocated();
	size_t got = moved(allocated, &thread_heap.seen_allocated);
	size_t freed = moved(deallocated, &thread_heap.seen_deallocated);
	int64_t change = (int64_t)got - (int64_t)freed, folded;
	if (change != 0)
		folded = __atomic_add_fetch(&heap.folded, change, __ATOMIC_RELAXED);
	else
		folded = __atomic_load_n(&heap.folded, __ATOMIC_RELAXED);
	ward_counters_begin(s);
	ward_counters_add(s, WARD_IDX_HEAP_ALLOCATED, got);
	ward_counters_add(s, WARD_IDX_HEAP_FREED, freed);
	if (got != 0 && folded > 0)
		ward_counters_raise(s, WARD_IDX_HEAP_PEAK, (uint64_t)folded);
	ward_counters_end(s);
	set_marks(s, allocated, deallocated, folded);
	thread_heap.settling = 0;
}

/* The calls figures of a jemalloc call the short path does not take (a
 * failure, the slot not claimed yet or shared), then as the short path:
 * past a mark, a settle (always for a slot just claimed); a new peak
 * raised (in the shared slot, by compare-and-swap). */
static __attribute__((noinline)) void
je_counted_slowly(enum ward_call_id id, bool gave_back, bool handed_out, bool failed)
{
	bool claimed = ward_counters_mine != NULL;
	struct ward_counter_slot *s = ward_counters_slot();
	ward_counters_begin(s);
	ward_counters_add(s, WARD_IDX_CALLS(id), 1);
	if (failed)
		ward_counters_add(s, WARD_IDX_ERRORS(id), 1);
	if (gave_back && id != WARD_ID_free) /* malloc's and free's: ward_layout_derive */
		ward_counters_add(s, WARD_IDX_FREES, 1);
	if (handed_out && id != WARD_ID_malloc)
		ward_counters_add(s, WARD_IDX_ALLOCATIONS, 1);
	ward_counters_end(s);
	if (failed)
		return;
	uint64_t allocated = je_thread_allocated(), deallocated = je_thread_deallocated();
	if (!claimed || allocated > thread_heap.allocated_mark || deallocated > thread_heap.deallocated_mark) {
		settle();
		return;
	}
	int64_t live = (int64_t)(allocated - deallocated);
	if (handed_out && live > thread_heap.live_mark) {
		thread_heap.live_mark = live;
		ward_counters_raise(s, WARD_IDX_HEAP_PEAK, (uint64_t)(live + thread_heap.view_offset));
	}
}

/* After a jemalloc call of the program's (not the shim's own: see
 * je_busy_*): count it; past a mark, settle.  gave_back and handed_out say
 * what the call did if it did not fail (constants where they can be).
 * Always inlined. */
static inline __attribute__((always_inline)) void
je_counted(enum ward_call_id id, bool gave_back, bool handed_out, bool failed)
{
	if (unlikely(failed)) { /* nothing moved: the callers' flags say what a success does */
		je_counted_slowly(id, false, false, true);
		return;
	}
	struct ward_counter_slot *s = ward_counters_mine;
	if (unlikely(s == NULL || s->shared)) {
		je_counted_slowly(id, gave_back, handed_out, failed);
		return;
	}
	/* malloc and free: the call is the block (ward_layout_derive), one add
	 * and no window, but for a new peak (two words) */
	bool alone = id == WARD_ID_malloc || id == WARD_ID_free;
	bool settle_now = false, new_peak = false;
	int64_t live = 0;
	if (gave_back)
		settle_now = je_thread_deallocated() > thread_heap.deallocated_mark;
	if (handed_out) {
		uint64_t allocated = je_thread_allocated();
		live = (int64_t)(allocated - je_thread_deallocated());
		if (unlikely(allocated > thread_heap.allocated_mark))
			settle_now = true;
		else
			new_peak = unlikely(live > thread_heap.live_mark);
	}
	if (alone && likely(!new_peak)) {
		ward_counters_raw_add(&s->value[WARD_IDX_CALLS(id)], 1);
	} else {
		ward_counters_raw_add(&s->window, 1);
		ward_counters_raw_add(&s->value[WARD_IDX_CALLS(id)], 1);
		if (gave_back && id != WARD_ID_free)
			ward_counters_raw_add(&s->value[WARD_IDX_FREES], 1);
		if (handed_out && id != WARD_ID_malloc)
			ward_counters_raw_add(&s->value[WARD_IDX_ALLOCATIONS], 1);
		if (new_peak) { /* the slot's owner alone writes it */
			thread_heap.live_mark = live;
			ck_pr_store_64(&s->value[WARD_IDX_HEAP_PEAK], (uint64_t)(live + thread_heap.view_offset));
		}
		ward_counters_raw_add(&s->window, WARD_WINDOW_CLOSE);
	}
	if (unlikely(settle_now))
		settle();
}

/* The shim's own blocks (ward_busy) are served but not counted: what the
 * program's calls moved is folded before, what the shim's call moved is
 * skipped after. */
static __attribute__((noinline)) void
je_busy_before(void)
{
	settle();
}

static __attribute__((noinline)) void
je_busy_after(void)
{
	if (thread_heap.settling)
		return;
	thread_heap.settling = 1;
	uint64_t allocated = je_thread_allocated(), deallocated = je_thread_deallocated();
	thread_heap.seen_allocated = allocated;
	thread_heap.seen_deallocated = deallocated;
	set_marks(ward_counters_slot(), allocated, deallocated, __atomic_load_n(&heap.folded, __ATOMIC_RELAXED));
	thread_heap.settling = 0;
}

/* The view of the live heap now, for limit memory. */
static int64_t
view_now(void)
{
	int64_t folded = __atomic_load_n(&heap.folded, __ATOMIC_RELAXED);
	if (heap.allocator == JEMALLOC)
		return folded + je_change(je_thread_allocated(), je_thread_deallocated());
	return folded + heap_change;
}

/* limit memory: would n more bytes (aligned to align, 0: none; less the
 * block old that a realloc gives back) pass the limit?  Then the call fails
 * with ENOMEM: recorded the first time, counted as denied every time. */
static __attribute__((noinline)) bool
over_limit(enum ward_call_id id, size_t n, size_t align, void *old)
{
	size_t more = n;
	if (heap.allocator == JEMALLOC)
		more = ward_je_nallocx(n ? n : 1, align ? MALLOCX_ALIGN(align) : 0);
	if (view_now() + (int64_t)more - (int64_t)usable(old) <= (int64_t)heap.limit || ward_busy)
		return false;
	/* 0 in audit mode: recorded, and the allocation goes on */
	return ward_refuse_memory(id, heap.limit, !__atomic_exchange_n(&heap.refusal_recorded, 1, __ATOMIC_RELAXED)) != 0;
}

/* A macro, so that nothing of the check runs without a limit. */
#define REFUSED(id, n, align, old) (unlikely(heap.limit != 0) && over_limit(id, n, align, old))

/* The limit first, then the short path's flag: a choose() that set the
 * flag meanwhile reads the limit after it and clears the flag itself. */
void
ward_alloc_set_limit(uint64_t bytes)
{
	__atomic_store_n(&heap.limit, bytes, __ATOMIC_SEQ_CST);
	if (bytes != 0)
		__atomic_store_n(&heap.plain, 0, __ATOMIC_SEQ_CST);
}

/* This thread's change into the shared view and its bytes into its slot.
 * Also when a thread ends, or the blocks it leaves live would be missing
 * from every other thread's view; with jemalloc every call it makes after
 * that settles at once. */
static void
fold(void)
{
	if (heap.allocator == JEMALLOC) {
		settle();
		return;
	}
	if (heap_change != 0) {
		__atomic_fetch_add(&heap.folded, heap_change, __ATOMIC_RELAXED);
		heap_change = 0;
	}
}

static void
thread_ends(void)
{
	thread_heap.ended = 1;
	fold();
}

void
ward_alloc_init(void)
{
	ward_counters_on_thread_exit(thread_ends);
}

/* Before the dump: the dumping thread's bytes into its slot. */
void
ward_alloc_fold(void)
{
	if (heap.allocator != JEMALLOC || ward_in_vfork != 0)
		return;
	if (je_thread_allocated() == thread_heap.seen_allocated && je_thread_deallocated() == thread_heap.seen_deallocated)
		return; /* nothing to fold: no slot to claim or page to touch at exit */
	settle();
}

/* The figures start from zero (a fork child, or after the dump before an
 * exec): the heap does not, so the new image starts from the current view
 * (the forking thread's: other threads' unfolded changes, under FOLD each,
 * are not in it), kept in the counters as its starting level. */
void
ward_alloc_figures_reset(void)
{
	if (heap.allocator == JEMALLOC && !thread_heap.settling) {
		/* what moved since the last fold is the old image's: into the
		 * view, not into the new figures */
		uint64_t allocated = je_thread_allocated(), deallocated = je_thread_deallocated();
		__atomic_fetch_add(&heap.folded, je_change(allocated, deallocated), __ATOMIC_RELAXED);
		thread_heap.seen_allocated = allocated;
		thread_heap.seen_deallocated = deallocated;
	} else {
		fold();
	}
	struct ward_counter_slot *slot = ward_counters_slot();
	int64_t folded = __atomic_load_n(&heap.folded, __ATOMIC_RELAXED);
	ward_counters_begin(slot);
	ward_counters_add(slot, WARD_IDX_HEAP_BASE, (uint64_t)folded);
	ward_counters_end(slot);
	if (heap.allocator == JEMALLOC)
		set_marks(slot, je_thread_allocated(), je_thread_deallocated(), folded);
	heap.refusal_recorded = 0;
}

/* ---- the family ---- */

/* malloc with a limit, with glibc, before the choice, or for the shim. */
static __attribute__((noinline)) void *
malloc_slowly(size_t n)
{
	if (REFUSED(WARD_ID_malloc, n, 0, NULL))
		return NULL;
	void *p;
	if (jemalloc()) {
		if (ward_busy) {
			je_busy_before();
			p = ward_je_malloc(n);
			je_busy_after();
		} else {
			p = ward_je_malloc(n);
			je_counted(WARD_ID_malloc, false, true, p == NULL);
		}
	} else {
		p = __libc_malloc(n);
		account(WARD_ID_malloc, false, 0, p != NULL, usable(p), p == NULL);
	}
	return p;
}

WARD_EXPORT void *
malloc(size_t n)
{
	if (unlikely(heap.plain != 1))
		return malloc_slowly(n);
	if (unlikely(ward_busy))
		return malloc_slowly(n);
	void *p = ward_je_malloc(n);
	je_counted(WARD_ID_malloc, false, true, p == NULL);
	return p;
}

/* Give block p back, counted as a call of id (free, or realloc to 0 bytes). */
static inline __attribute__((always_inline)) void
give_back(enum ward_call_id id, void *p)
{
	/* free never changes errno (POSIX.1-2024): glibc's keeps it, and the
	 * system calls jemalloc makes go through the errno-keeping ones below */
	if (jemalloc()) {
		if (unlikely(ward_busy)) {
			je_busy_before();
			ward_je_free(p);
			je_busy_after();
		} else {
			ward_je_free(p);
			je_counted(id, true, false, false);
		}
	} else {
		size_t n = usable(p);
		__libc_free(p);
		account(id, true, n, false, 0, false);
	}
}

static __attribute__((noinline)) void
free_slowly(void *p)
{
	if (p == NULL) { /* a free call that gave nothing back (ward_layout_derive) */
		if (ward_busy)
			return;
		struct ward_counter_slot *s = ward_counters_slot();
		ward_counters_begin(s);
		ward_counters_add(s, WARD_IDX_CALLS(WARD_ID_free), 1);
		ward_counters_add(s, WARD_IDX_FREE_NULL, 1);
		ward_counters_end(s);
	} else {
		give_back(WARD_ID_free, p);
	}
}

WARD_EXPORT void
free(void *p)
{
	if (unlikely(p == NULL || heap.allocator != JEMALLOC || ward_busy)) {
		free_slowly(p);
		return;
	}
	ward_je_free(p);
	je_counted(WARD_ID_free, true, false, false);
}

WARD_EXPORT void *
calloc(size_t count, size_t size)
{
	size_t n;
	if (!__builtin_mul_overflow(count, size, &n) && REFUSED(WARD_ID_calloc, n, 0, NULL))
		return NULL;
	void *p;
	if (jemalloc()) {
		bool busy = ward_busy;
		if (busy)
			je_busy_before();
		p = ward_je_calloc(count, size);
		if (busy)
			je_busy_after();
		else
			je_counted(WARD_ID_calloc, false, true, p == NULL);
	} else {
		p = __libc_calloc(count, size);
		account(WARD_ID_calloc, false, 0, p != NULL, usable(p), p == NULL);
	}
	return p;
}

/* realloc and reallocarray: the old block stays intact when this fails. */
static void *
resize(enum ward_call_id id, void *p, size_t n)
{
	if (p != NULL && n == 0) { /* glibc's meaning under both allocators: free, return NULL */
		give_back(id, p);
		return NULL;
	}
	if (REFUSED(id, n, 0, p))
		return NULL;
	void *q;
	if (jemalloc()) {
		bool busy = ward_busy;
		if (busy)
			je_busy_before();
		q = ward_je_realloc(p, n);
		if (busy)
			je_busy_after();
		else
			je_counted(id, p != NULL, true, q == NULL);
	} else {
		size_t old = usable(p);
		q = __libc_realloc(p, n);
		account(id, p != NULL && q != NULL, q != NULL ? old : 0, q != NULL, usable(q), q == NULL);
	}
	return q;
}

WARD_EXPORT void *
realloc(void *p, size_t n)
{
	return resize(WARD_ID_realloc, p, n);
}

WARD_EXPORT void *
reallocarray(void *p, size_t count, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(count, size, &n)) {
		account(WARD_ID_reallocarray, false, 0, false, 0, true);
		errno = ENOMEM;
		return NULL;
	}
	return resize(WARD_ID_reallocarray, p, n);
}

static bool
power_of_two(size_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* A call that failed before reaching the allocator (bad alignment, size overflow). */
static void *
failed_early(enum ward_call_id id, int err)
{
	account(id, false, 0, false, 0, true);
	errno = err;
	return NULL;
}

/* Aligned blocks (alignment a power of two); libc_fn: glibc's own entry for
 * valloc and pvalloc, which round the size as they document. */
static void *
aligned(enum ward_call_id id, size_t alignment, size_t n, void *(*libc_fn)(size_t))
{
	if (alignment < sizeof(void *))
		alignment = sizeof(void *);
	if (REFUSED(id, n, alignment, NULL))
		return NULL;
	void *p;
	if (jemalloc()) {
		bool busy = ward_busy;
		if (busy)
			je_busy_before();
		p = ward_je_mallocx(n ? n : 1, MALLOCX_ALIGN(alignment));
		if (busy)
			je_busy_after();
		else
			je_counted(id, false, true, p == NULL);
	} else {
		p = libc_fn != NULL ? libc_fn(n) : __libc_memalign(alignment, n);
		account(id, false, 0, p != NULL, usable(p), p == NULL);
	}
	if (p == NULL)
		errno = ENOMEM; /* mallocx does not set it */
	return p;
}

WARD_EXPORT int
posix_memalign(void **out, size_t alignment, size_t n)
{
	if (!power_of_two(alignment) || alignment % sizeof(void *) != 0) {
		account(WARD_ID_posix_memalign, false, 0, false, 0, true);
		return EINVAL;
	}
	int saved_errno = errno; /* posix_memalign reports, it does not set errno */
	void *p = aligned(WARD_ID_posix_memalign, alignment, n, NULL);
	errno = saved_errno;
	if (p == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

WARD_EXPORT void *
aligned_alloc(size_t alignment, size_t n)
{
	if (!power_of_two(alignment))
		return failed_early(WARD_ID_aligned_alloc, EINVAL);
	return aligned(WARD_ID_aligned_alloc, alignment, n, NULL);
}

WARD_EXPORT void *
memalign(size_t alignment, size_t n)
{
	if (!power_of_two(alignment)) { /* glibc rounds such an alignment up */
		size_t a = sizeof(void *);
		while (a < alignment && a != 0)
			a <<= 1;
		if (a == 0)
			return failed_early(WARD_ID_memalign, EINVAL);
		alignment = a;
	}
	return aligned(WARD_ID_memalign, alignment, n, NULL);
}

WARD_EXPORT void *
valloc(size_t n)
{
	return aligned(WARD_ID_valloc, (size_t)sysconf(_SC_PAGESIZE), n, libc_valloc);
}

WARD_EXPORT void *
pvalloc(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded;
	if (__builtin_add_overflow(n, page - 1, &rounded))
		return failed_early(WARD_ID_pvalloc, ENOMEM);
	rounded &= ~(page - 1);
	if (jemalloc())
		return aligned(WARD_ID_pvalloc, page, rounded ? rounded : page, NULL);
	return aligned(WARD_ID_pvalloc, page, n, libc_pvalloc);
}

WARD_EXPORT size_t
malloc_usable_size(void *p)
{
	jemalloc();
	size_t n = usable(p);
	account(WARD_ID_malloc_usable_size, false, 0, false, 0, false);
	return n;
}
