/*
 * fdtable: what the process's file descriptors are, indexed by number.
 *
 * O(1) by fd: a fixed directory of chunk pointers, chunks of 1024 entries
 * mapped on first use and never freed, so a reader can never touch released
 * memory and no reclamation scheme is needed.  An entry is one 32-bit word
 * (kind and open flags) read and replaced atomically: no lock, no sequence
 * counter, nothing a signal handler or a thread lost in fork can leave half
 * written.  Nothing here allocates with malloc.
 *
 * It holds only what the shim uses: whether an fd is open (limit fds, the
 * files figures) and its flags.  Names and per-descriptor bytes were kept
 * once and read by nothing: they cost a copy per open and a locked add per
 * read or write.
 *
 * Descriptors the table never saw (inherited, or made by raw syscalls) read
 * as WARD_FD_UNKNOWN; every operation on them is harmless.
 */
#ifndef WARD_CORE_FDTABLE_H
#define WARD_CORE_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define WARD_FDTABLE_MAX_FDS (1 << 20) /* larger fds are not tracked */

enum ward_fd_kind {
	WARD_FD_UNKNOWN = 0, /* not tracked */
	WARD_FD_FILE,
	WARD_FD_DIR,
	WARD_FD_PIPE,
	WARD_FD_SOCKET,
	WARD_FD_MEMFD,
	WARD_FD_INHERITED, /* open when the shim started */
	WARD_FD_OTHER,
};

struct ward_fd_info {
	int kind;
	int flags; /* open flags; O_CLOEXEC reflects FD_CLOEXEC */
};

/* Record a new descriptor (open, socket, pipe end...). Replaces any entry. */
void ward_fdtable_set(int fd, int kind, int flags);
/* Forget a descriptor; true if it was tracked. */
bool ward_fdtable_clear(int fd);
/* newfd now refers to what oldfd does (dup family); cloexec per the call.
 * True when newfd was tracked before: dup2 closed it. */
bool ward_fdtable_dup(int oldfd, int newfd, bool cloexec);
void ward_fdtable_set_cloexec(int fd, bool cloexec);
/* Is fd tracked as open? */
bool ward_fdtable_tracked(int fd);
/* Copy an entry out; false if the fd is not tracked. */
bool ward_fdtable_get(int fd, struct ward_fd_info *out);
/* Clear (or mark close-on-exec) every tracked fd in [first, last]; returns
 * how many were cleared. */
unsigned int ward_fdtable_clear_range(unsigned int first, unsigned int last, bool cloexec_only);

/* Tracked descriptors open now, and the most open at once. */
uint64_t ward_fdtable_open_now(void);
uint64_t ward_fdtable_open_peak(void);
/* Fork child: keep entries (the fds are inherited), the peak starts at now. */
void ward_fdtable_reset_figures(void);

#endif
