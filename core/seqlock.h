/*
 * seqlock: a sequence counter guarding a small record that is read far more
 * often than written, with bounded waiting on both sides.
 *
 * The counter is even when the record is whole and odd while a writer has
 * it.  Readers copy the record and retry when the counter moved; writers
 * take the counter from even to odd with one compare-and-swap.  Nothing
 * blocks for ever: a reader gives up after WARD_SEQLOCK_READ_TRIES and a
 * writer that only tries once (try_write) skips its update, so a writer
 * that vanished (a thread lost in fork, a signal handler that interrupted
 * its own writer) costs a miss, never a hang.  ward_seqlock_repair() makes
 * a counter even again in a fork child.
 */
#ifndef WARD_CORE_SEQLOCK_H
#define WARD_CORE_SEQLOCK_H

#include <stdbool.h>

#include <ck_pr.h>

#define WARD_SEQLOCK_READ_TRIES 100000  /* copies a reader attempts before giving up */
#define WARD_SEQLOCK_WRITE_TRIES 100000 /* compare-and-swaps a waiting writer attempts */

/* A reader: the counter to copy under (odd: a writer has it, retry). */
static inline unsigned int
ward_seqlock_read_begin(const unsigned int *sequence)
{
	unsigned int s = ck_pr_load_uint(sequence);
	ck_pr_fence_load();
	return s;
}

/* After the copy: true when it is whole. */
static inline bool
ward_seqlock_read_valid(const unsigned int *sequence, unsigned int begun)
{
	ck_pr_fence_load();
	return !(begun & 1) && ck_pr_load_uint(sequence) == begun;
}

/* One attempt to take the record for writing: false when someone has it. */
static inline bool
ward_seqlock_try_write(unsigned int *sequence, unsigned int *begun)
{
	unsigned int s = ck_pr_load_uint(sequence);
	if ((s & 1) || !ck_pr_cas_uint(sequence, s, s + 1))
		return false;
	ck_pr_fence_store();
	*begun = s;
	return true;
}

/* Take the record for writing, waiting (bounded) for another writer. */
static inline bool
ward_seqlock_write(unsigned int *sequence, unsigned int *begun)
{
	for (int attempt = 0; attempt < WARD_SEQLOCK_WRITE_TRIES; attempt++)
		if (ward_seqlock_try_write(sequence, begun))
			return true;
	return false;
}

static inline void
ward_seqlock_write_end(unsigned int *sequence, unsigned int begun)
{
	ck_pr_fence_store();
	ck_pr_store_uint(sequence, begun + 2);
}

/* A fork child: a writer that vanished in the fork left the counter odd. */
static inline void
ward_seqlock_repair(unsigned int *sequence)
{
	*sequence &= ~1u;
}

#endif
