/*
 * cwd.c: the remembered working directory.  See cwd.h.
 */
#include "cwd.h"

#include <fcntl.h>
#include <string.h>

#include "exact.h"
#include "path.h"
#include "seqlock.h"
#include "syscall.h"

static struct {
	unsigned int sequence;
	bool valid;
	size_t length;
	char path[WARD_NAME_MAX];
} cwd;

void
ward_cwd_refresh(void)
{
	/* written only while the lock is held */
	static char fresh[WARD_NAME_MAX], entries[4096] __attribute__((aligned(8)));
	unsigned int s;
	if (!ward_seqlock_write(&cwd.sequence, &s))
		return;
	long n = ward_syscall(SYS_getcwd, fresh, WARD_PATH_MAX);
	if (n < 0 && errno == ENAMETOOLONG) /* deeper than the kernel names: walked up by ".." */
		n = ward_exact_name(AT_FDCWD, fresh, sizeof(fresh), entries, sizeof(entries)) == 0 ? 1 : -1;
	cwd.valid = n > 0 && fresh[0] == '/';
	if (cwd.valid) {
		cwd.length = strnlen(fresh, sizeof(fresh) - 1);
		memcpy(cwd.path, fresh, cwd.length + 1);
	}
	ward_seqlock_write_end(&cwd.sequence, s);
}

void
ward_cwd_forget(void)
{
	unsigned int s;
	if (ward_seqlock_write(&cwd.sequence, &s)) {
		cwd.valid = false;
		ward_seqlock_write_end(&cwd.sequence, s);
	}
}

void
ward_cwd_after_fork(void)
{
	ward_seqlock_repair(&cwd.sequence);
	ward_cwd_refresh();
}

bool
ward_cwd_copy(char *out, size_t cap)
{
	for (int attempt = 0; attempt < WARD_SEQLOCK_READ_TRIES; attempt++) {
		unsigned int s = ward_seqlock_read_begin(&cwd.sequence);
		if (s & 1)
			continue;
		bool valid = cwd.valid;
		size_t n = cwd.length;
		if (valid && n < cap) {
			memcpy(out, cwd.path, n);
			out[n] = '\0';
		}
		if (ward_seqlock_read_valid(&cwd.sequence, s))
			return valid && n < cap && out[0] == '/';
	}
	return false;
}
