/*
 * fdtable: what the process's file descriptors are, indexed by number.
 *
 * O(1) by fd: a fixed directory of chunk pointers, chunks of 1024 entries
 * (the first static, the others mapped on first use) never freed, so a
 * reader can never touch released
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
#include <stddef.h>
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
static inline void ward_fdtable_set(int fd, int kind, int flags);
/* Forget a descriptor; true if it was tracked. */
static inline bool ward_fdtable_clear(int fd);
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

/* ---- the fast paths, inline (an open and a close each run one) ----
 *
 * An entry is a word of its chunk; chunks come from the slow path (a raw
 * mmap) the first time an fd of theirs is set.  open_now and open_peak
 * are shared words: the most open at once must be exact for the whole
 * process (SPEC 6), which per-thread counts cannot give, so an open pays
 * one locked add and a load of the peak (a CAS only at a new peak). */
#define WARD_FDTABLE_CHUNK_SHIFT 10
#define WARD_FDTABLE_CHUNK_ENTRIES (1u << WARD_FDTABLE_CHUNK_SHIFT)
#define WARD_FDTABLE_KIND_SHIFT 24
#define WARD_FDTABLE_FLAGS_MASK ((1u << WARD_FDTABLE_KIND_SHIFT) - 1)

struct ward_fdtable_chunk {
	uint32_t entry[WARD_FDTABLE_CHUNK_ENTRIES];
};

#define WARD_FDTABLE_HIDDEN __attribute__((visibility("hidden")))
extern struct ward_fdtable_chunk *ward_fdtable_directory[WARD_FDTABLE_MAX_FDS / WARD_FDTABLE_CHUNK_ENTRIES]
	WARD_FDTABLE_HIDDEN;
/* The chunk of fds 0-1023, where nearly every descriptor is: static (its
 * directory entry points at it), so their lookup is one bounds test. */
extern struct ward_fdtable_chunk ward_fdtable_first WARD_FDTABLE_HIDDEN;
extern uint64_t ward_fdtable_now WARD_FDTABLE_HIDDEN, ward_fdtable_peak WARD_FDTABLE_HIDDEN;
/* The entry of fd in a chunk mapped now (NULL: out of memory, or fd out of range). */
uint32_t *ward_fdtable_entry_slow(int fd) WARD_FDTABLE_HIDDEN;
void ward_fdtable_new_peak(uint64_t now) WARD_FDTABLE_HIDDEN;

static inline uint32_t *
ward_fdtable_entry(int fd, bool create)
{
	if (__builtin_expect((unsigned int)fd < WARD_FDTABLE_CHUNK_ENTRIES, 1))
		return &ward_fdtable_first.entry[fd];
	if ((unsigned int)fd >= WARD_FDTABLE_MAX_FDS)
		return NULL;
	struct ward_fdtable_chunk *chunk =
		__atomic_load_n(&ward_fdtable_directory[(unsigned int)fd >> WARD_FDTABLE_CHUNK_SHIFT], __ATOMIC_ACQUIRE);
	if (__builtin_expect(chunk == NULL, 0))
		return create ? ward_fdtable_entry_slow(fd) : NULL;
	return &chunk->entry[(unsigned int)fd & (WARD_FDTABLE_CHUNK_ENTRIES - 1)];
}

/* The open-now and peak figures for an entry that went from before to after. */
static inline void
ward_fdtable_count(uint32_t before, uint32_t after)
{
	if (before == 0 && after != 0) {
		uint64_t now = __atomic_add_fetch(&ward_fdtable_now, 1, __ATOMIC_RELAXED);
		if (__builtin_expect(now > __atomic_load_n(&ward_fdtable_peak, __ATOMIC_RELAXED), 0))
			ward_fdtable_new_peak(now);
	} else if (before != 0 && after == 0) {
		__atomic_sub_fetch(&ward_fdtable_now, 1, __ATOMIC_RELAXED);
	}
}

static inline uint32_t
ward_fdtable_pack(int kind, int flags)
{
	return kind == WARD_FD_UNKNOWN ? 0
	                               : ((uint32_t)kind << WARD_FDTABLE_KIND_SHIFT) |
	                                         ((uint32_t)flags & WARD_FDTABLE_FLAGS_MASK);
}

static inline void
ward_fdtable_set(int fd, int kind, int flags)
{
	uint32_t *e = ward_fdtable_entry(fd, true);
	if (e != NULL) {
		uint32_t word = ward_fdtable_pack(kind, flags);
		ward_fdtable_count(__atomic_exchange_n(e, word, __ATOMIC_ACQ_REL), word);
	}
}

static inline bool
ward_fdtable_clear(int fd)
{
	uint32_t *e = ward_fdtable_entry(fd, false);
	if (e == NULL || __atomic_load_n(e, __ATOMIC_RELAXED) == 0)
		return false;
	uint32_t before = __atomic_exchange_n(e, 0, __ATOMIC_ACQ_REL);
	ward_fdtable_count(before, 0);
	return before != 0;
}

#endif
