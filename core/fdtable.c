/*
 * fdtable: chunked, never-freed entries of one atomic word each.
 * See fdtable.h for the design.
 */
#include "fdtable.h"
#include "syscall.h"

#include <fcntl.h>
#include <stddef.h>
#include <sys/mman.h>

#include <ck_pr.h>

#define CHUNK_SHIFT WARD_FDTABLE_CHUNK_SHIFT
#define CHUNK_ENTRIES WARD_FDTABLE_CHUNK_ENTRIES
#define CHUNKS (WARD_FDTABLE_MAX_FDS / CHUNK_ENTRIES)

/* An entry: kind in the top byte, open flags (all below bit 24) beneath;
 * 0 is an fd the table does not know. */
#define KIND_SHIFT WARD_FDTABLE_KIND_SHIFT
#define FLAGS_MASK WARD_FDTABLE_FLAGS_MASK
#define CLOEXEC_TRIES 64 /* a racing writer of the same fd wins after that */

/* The chunk of fds 0-1023 is static, so their lookup is one bounds test
 * and start-up maps no chunk.  The directory is in a section of its own,
 * which shim/start-up.ld places among start-up's small variables on the
 * page the loader writes at the end of .data (its first entry, a
 * relocation, is written there at load). */
struct ward_fdtable_chunk ward_fdtable_first __attribute__((aligned(64)));
struct ward_fdtable_chunk *ward_fdtable_directory[CHUNKS] __attribute__((section(".data.ward_fdtable_directory"),
                                                                         aligned(64))) = { &ward_fdtable_first };
uint64_t ward_fdtable_now;
uint64_t ward_fdtable_peak;
#define directory ward_fdtable_directory

static uint32_t
pack(int kind, int flags)
{
	return ward_fdtable_pack(kind, flags);
}

static int
kind_of(uint32_t word)
{
	return (int)(word >> KIND_SHIFT);
}

/* Raw mmap: the shim may interpose mmap itself.  And errno is left
 * alone: the wrappers' lean path (shim/wrappers.c) never saves it. */
static void *
map_zeroed(size_t size)
{
	long p = ward_syscall_raw(SYS_mmap, 0, (long)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return WARD_SYSCALL_FAILED(p) ? NULL : (void *)p;
}

uint32_t *
ward_fdtable_entry_slow(int fd)
{
	if (fd < 0 || fd >= WARD_FDTABLE_MAX_FDS)
		return NULL;
	unsigned int c = (unsigned int)fd >> CHUNK_SHIFT;
	struct ward_fdtable_chunk *chunk = ck_pr_load_ptr(&directory[c]);
	if (chunk == NULL) {
		struct ward_fdtable_chunk *fresh = map_zeroed(sizeof(struct ward_fdtable_chunk));
		if (fresh == NULL)
			return NULL;
		if (ck_pr_cas_ptr_value(&directory[c], NULL, fresh, &chunk))
			chunk = fresh;
		else
			ward_syscall_raw(SYS_munmap, (long)fresh, sizeof(struct ward_fdtable_chunk), 0, 0, 0, 0);
	}
	return &chunk->entry[(unsigned int)fd & (CHUNK_ENTRIES - 1)];
}

static uint32_t *
lookup(int fd, bool create)
{
	return ward_fdtable_entry(fd, create);
}

void
ward_fdtable_new_peak(uint64_t now)
{
	uint64_t peak = ck_pr_load_64(&ward_fdtable_peak);
	while (now > peak && !ck_pr_cas_64_value(&ward_fdtable_peak, peak, now, &peak))
		;
}

/* Replace an entry; returns what it was. */
static uint32_t
replace(uint32_t *e, uint32_t word)
{
	uint32_t before = ck_pr_fas_32(e, word);
	ward_fdtable_count(before, word);
	return before;
}

bool
ward_fdtable_tracked(int fd)
{
	uint32_t *e = lookup(fd, false);
	return e != NULL && ck_pr_load_32(e) != 0;
}

bool
ward_fdtable_get(int fd, struct ward_fd_info *out)
{
	uint32_t *e = lookup(fd, false);
	uint32_t word = e != NULL ? ck_pr_load_32(e) : 0;
	out->kind = kind_of(word);
	out->flags = (int)(word & FLAGS_MASK);
	return word != 0;
}

bool
ward_fdtable_dup(int oldfd, int newfd, bool cloexec)
{
	if (oldfd == newfd)
		return false;
	struct ward_fd_info source;
	if (!ward_fdtable_get(oldfd, &source)) /* the duplicate of an fd we never saw is still an open fd */
		source = (struct ward_fd_info){ WARD_FD_INHERITED, 0 };
	uint32_t *e = lookup(newfd, true);
	if (e == NULL)
		return false;
	int flags = cloexec ? (source.flags | O_CLOEXEC) : (source.flags & ~O_CLOEXEC);
	return replace(e, pack(source.kind, flags)) != 0;
}

void
ward_fdtable_set_cloexec(int fd, bool cloexec)
{
	uint32_t *e = lookup(fd, false);
	if (e == NULL)
		return;
	for (int attempt = 0; attempt < CLOEXEC_TRIES; attempt++) {
		uint32_t word = ck_pr_load_32(e);
		if (word == 0)
			return;
		uint32_t fresh = cloexec ? (word | O_CLOEXEC) : (word & ~(uint32_t)O_CLOEXEC);
		if (fresh == word || ck_pr_cas_32(e, word, fresh))
			return;
	}
}

unsigned int
ward_fdtable_clear_range(unsigned int first, unsigned int last, bool cloexec_only)
{
	unsigned int cleared = 0;
	if (last >= WARD_FDTABLE_MAX_FDS)
		last = WARD_FDTABLE_MAX_FDS - 1;
	for (unsigned int fd = first; fd <= last && first <= last;) {
		if (ck_pr_load_ptr(&directory[fd >> CHUNK_SHIFT]) == NULL) {
			fd = (fd | (CHUNK_ENTRIES - 1)) + 1; /* skip the missing chunk */
			continue;
		}
		if (cloexec_only)
			ward_fdtable_set_cloexec((int)fd, true);
		else if (ward_fdtable_clear((int)fd))
			cleared++;
		if (fd == last)
			break;
		fd++;
	}
	return cleared;
}

uint64_t
ward_fdtable_open_now(void)
{
	return ck_pr_load_64(&ward_fdtable_now);
}

uint64_t
ward_fdtable_open_peak(void)
{
	return ck_pr_load_64(&ward_fdtable_peak);
}

void
ward_fdtable_reset_figures(void)
{
	ck_pr_store_64(&ward_fdtable_peak, ck_pr_load_64(&ward_fdtable_now));
}
