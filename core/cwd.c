/*
 * cwd.c: the remembered working directory.  See cwd.h.
 */
#include "cwd.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "exact.h"
#include "path.h"
#include "seqlock.h"
#include "syscall.h"

static int busy;           /* ward_cwd_refresh's own space is in use */
static unsigned int begun; /* refreshes and forgets begun: the remembered name is good only if it is the newest's */

static struct {
	unsigned int sequence;
	unsigned int version; /* the refresh that stored it */
	uint64_t expires;     /* CLOCK_MONOTONIC_COARSE ns: trusted until then */
	size_t length;
	char path[WARD_NAME_MAX];
} cwd;

static uint64_t
now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t); /* the vDSO's: no system call */
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

bool
ward_cwd_refresh_in(char *name, char *entries, size_t entries_size)
{
	unsigned int mine = __atomic_add_fetch(&begun, 1, __ATOMIC_SEQ_CST); /* from here on the old name is not trusted */
	long n = ward_syscall(SYS_getcwd, name, WARD_PATH_MAX);
	if (n < 0 && errno == ENAMETOOLONG && entries != NULL) /* deeper than the kernel names: walked up by ".." */
		n = ward_exact_name(AT_FDCWD, name, WARD_NAME_MAX, entries, entries_size) == 0 ? 1 : -1;
	if (n <= 0 || name[0] != '/')
		return false; /* nothing stored: the kernel is asked until the next refresh */
	unsigned int s;
	if (!ward_seqlock_write(&cwd.sequence, &s))
		return true;
	if ((int)(mine - cwd.version) > 0) { /* a newer refresh may have stored already */
		cwd.version = mine;
		cwd.expires = now_ns() + WARD_CWD_TTL_NS;
		cwd.length = strnlen(name, WARD_NAME_MAX - 1);
		memcpy(cwd.path, name, cwd.length);
		cwd.path[cwd.length] = '\0';
	}
	ward_seqlock_write_end(&cwd.sequence, s);
	return true;
}

void
ward_cwd_refresh(void)
{
	static char name[WARD_NAME_MAX], entries[4096] __attribute__((aligned(32)));
	if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE) != 0) {
		ward_cwd_forget(); /* another thread uses the space: the kernel answers until the next refresh */
		return;
	}
	ward_cwd_refresh_in(name, entries, sizeof(entries));
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

void
ward_cwd_forget(void)
{
	__atomic_add_fetch(&begun, 1, __ATOMIC_SEQ_CST);
}

void
ward_cwd_after_fork(void)
{
	ward_seqlock_repair(&cwd.sequence);
	busy = 0; /* (a thread of the parent may have been using it: it is not in the child) */
	ward_cwd_refresh();
}

bool
ward_cwd_copy(char *out, size_t cap)
{
	for (int attempt = 0; attempt < WARD_SEQLOCK_READ_TRIES; attempt++) {
		unsigned int s = ward_seqlock_read_begin(&cwd.sequence);
		if (s & 1)
			continue;
		bool newest = cwd.version == __atomic_load_n(&begun, __ATOMIC_SEQ_CST) && cwd.expires > now_ns();
		size_t n = cwd.length;
		if (newest && n > 0 && n < cap) {
			memcpy(out, cwd.path, n);
			out[n] = '\0';
		}
		if (ward_seqlock_read_valid(&cwd.sequence, s))
			return newest && n > 0 && n < cap && out[0] == '/';
	}
	return false;
}
