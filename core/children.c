/*
 * children: see children.h.
 */
#include "children.h"

#include <ck_pr.h>

#define EMPTY 0
#define TOMBSTONE (-1)

static int table[WARD_CHILDREN_MAX];
static uint64_t live;
static uint64_t peak;
static uint64_t untracked; /* added while the table was full */
/* Blocks of 64 entries a pid was ever put into (bit b: entries 64b to
 * 64b + 63), so that a fork child's reset reads only those and writes only
 * the pids it finds: the whole 16 KB memset was five page faults a fork
 * (pages the parent never touched, or shares until written). */
#define BLOCK_SHIFT 6
static uint64_t used_blocks;
_Static_assert((WARD_CHILDREN_MAX >> BLOCK_SHIFT) <= 64, "one bit a block");

static unsigned int
home(pid_t pid)
{
	return ((unsigned int)pid * 2654435761u) & (WARD_CHILDREN_MAX - 1);
}

void
ward_children_add(pid_t pid)
{
	uint64_t now = ck_pr_faa_64(&live, 1) + 1, top = ck_pr_load_64(&peak);
	while (now > top && !ck_pr_cas_64_value(&peak, top, now, &top))
		;
	for (unsigned int n = 0, i = home(pid); n < WARD_CHILDREN_MAX; n++, i = (i + 1) & (WARD_CHILDREN_MAX - 1)) {
		int seen = ck_pr_load_int(&table[i]);
		if ((seen == EMPTY || seen == TOMBSTONE) && ck_pr_cas_int(&table[i], seen, pid)) {
			uint64_t bit = 1ull << (i >> BLOCK_SHIFT);
			if (!(ck_pr_load_64(&used_blocks) & bit))
				ck_pr_or_64(&used_blocks, bit);
			return;
		}
	}
	ck_pr_inc_64(&untracked);
}

bool
ward_children_remove(pid_t pid)
{
	for (unsigned int n = 0, i = home(pid); n < WARD_CHILDREN_MAX; n++, i = (i + 1) & (WARD_CHILDREN_MAX - 1)) {
		int seen = ck_pr_load_int(&table[i]);
		if (seen == EMPTY)
			break;
		if (seen == pid && ck_pr_cas_int(&table[i], pid, TOMBSTONE)) {
			ck_pr_dec_64(&live);
			return true;
		}
	}
	/* a child added while the table was full */
	uint64_t u = ck_pr_load_64(&untracked);
	while (u > 0) {
		if (ck_pr_cas_64_value(&untracked, u, u - 1, &u)) {
			ck_pr_dec_64(&live);
			return true;
		}
	}
	return false;
}

uint64_t
ward_children_live(void)
{
	return ck_pr_load_64(&live);
}

uint64_t
ward_children_peak(void)
{
	return ck_pr_load_64(&peak);
}

/* The pids go (they are the parent's children); tombstones may stay, they
 * are free entries to ward_children_add and a step to a search. */
void
ward_children_reset(void)
{
	for (uint64_t blocks = used_blocks; blocks != 0; blocks &= blocks - 1) {
		unsigned int first = (unsigned int)__builtin_ctzll(blocks) << BLOCK_SHIFT;
		for (unsigned int i = first; i < first + (1u << BLOCK_SHIFT); i++)
			if (table[i] > 0)
				table[i] = EMPTY;
	}
	live = peak = untracked = 0;
}

unsigned int
ward_children_prune(bool (*gone)(pid_t pid))
{
	unsigned int dropped = 0;
	for (unsigned int i = 0; i < WARD_CHILDREN_MAX; i++) {
		int pid = ck_pr_load_int(&table[i]);
		if (pid > 0 && gone(pid) && ck_pr_cas_int(&table[i], pid, TOMBSTONE)) {
			ck_pr_dec_64(&live);
			dropped++;
		}
	}
	return dropped;
}
