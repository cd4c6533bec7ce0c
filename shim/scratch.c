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
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>

#include "shim.h"

static __thread struct ward_scratch *area __attribute__((tls_model("initial-exec")));
static __thread int depth __attribute__((tls_model("initial-exec")));
static pthread_key_t key;
static bool key_made;

static void
release(void *p)
{
	ward_syscall(SYS_munmap, p, WARD_SCRATCH_NESTING * sizeof(struct ward_scratch));
	area = NULL;
}

void
ward_scratch_init(void)
{
	if (!key_made)
		key_made = pthread_key_create(&key, release) == 0;
}

static struct ward_scratch *
at(int level)
{
	if (__builtin_expect(area == NULL, 0)) {
		long p = ward_syscall(SYS_mmap, NULL, WARD_SCRATCH_NESTING * sizeof(struct ward_scratch),
		                      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == -1)
			return NULL;
		area = (struct ward_scratch *)p;
		if (key_made && !ward_in_vfork) /* a vfork child's TLS is its parent's: no key for it */
			pthread_setspecific(key, area);
	}
	return &area[level];
}

struct ward_scratch *
ward_scratch_enter(void)
{
	if (depth >= WARD_SCRATCH_NESTING)
		return NULL;
	struct ward_scratch *s = at(depth);
	if (s != NULL)
		depth++;
	return s;
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
