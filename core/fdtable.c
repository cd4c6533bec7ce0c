/*
 * fdtable: chunked, never-freed entries behind per-entry sequence counters.
 * See fdtable.h for the design.
 */
#include "fdtable.h"
#include "syscall.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ck_pr.h>

#define CHUNK_SHIFT 6
#define CHUNK_ENTRIES (1u << CHUNK_SHIFT)
#define CHUNKS (WARD_FDTABLE_MAX_FDS / CHUNK_ENTRIES)

struct entry {
	unsigned int sequence; /* odd while a writer holds the entry */
	int kind;
	int flags;
	int truncated;
	uint64_t bytes_read;
	uint64_t bytes_written;
	char path[WARD_FD_PATH_MAX];
} __attribute__((aligned(64)));

struct chunk {
	struct entry entry[CHUNK_ENTRIES];
};

static struct chunk *directory[CHUNKS];
static uint64_t open_now;
static uint64_t open_peak;

/* Raw mmap: the shim may interpose mmap itself. */
static void *
map_zeroed(size_t size)
{
	long p = ward_syscall(SYS_mmap, NULL, size, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return (p < 0 && p > -4096) ? NULL : (void *)p;
}

static struct entry *
lookup(int fd, bool create)
{
	if (fd < 0 || fd >= WARD_FDTABLE_MAX_FDS)
		return NULL;
	unsigned int c = (unsigned int)fd >> CHUNK_SHIFT;
	struct chunk *chunk = ck_pr_load_ptr(&directory[c]);
	if (chunk == NULL) {
		if (!create)
			return NULL;
		struct chunk *fresh = map_zeroed(sizeof(struct chunk));
		if (fresh == NULL)
			return NULL;
		if (ck_pr_cas_ptr_value(&directory[c], NULL, fresh, &chunk)) {
			chunk = fresh;
		} else {
			ward_syscall(SYS_munmap, fresh, sizeof(struct chunk));
		}
	}
	return &chunk->entry[(unsigned int)fd & (CHUNK_ENTRIES - 1)];
}

/* Take the entry for writing.  Two threads only write the same fd when the
 * program races close against dup2 on it; give up rather than spin forever
 * (a signal handler may have interrupted the other writer on this thread). */
static bool
write_begin(struct entry *e)
{
	for (int spin = 0; spin < (1 << 16); spin++) {
		unsigned int s = ck_pr_load_uint(&e->sequence);
		if (!(s & 1) && ck_pr_cas_uint(&e->sequence, s, s + 1)) {
			ck_pr_fence_store();
			return true;
		}
		ck_pr_stall();
	}
	return false;
}

static void
write_end(struct entry *e)
{
	ck_pr_fence_store();
	ck_pr_store_uint(&e->sequence, e->sequence + 1);
}

static void
count_open(int before, int after)
{
	if (before == WARD_FD_UNKNOWN && after != WARD_FD_UNKNOWN) {
		uint64_t now = ck_pr_faa_64(&open_now, 1) + 1;
		uint64_t peak = ck_pr_load_64(&open_peak);
		while (now > peak && !ck_pr_cas_64_value(&open_peak, peak, now, &peak))
			;
	} else if (before != WARD_FD_UNKNOWN && after == WARD_FD_UNKNOWN) {
		ck_pr_dec_64(&open_now);
	}
}

static void
fill(struct entry *e, int kind, int flags, const char *path, size_t len, bool truncated)
{
	count_open(e->kind, kind);
	e->kind = kind;
	e->flags = flags;
	if (len >= WARD_FD_PATH_MAX) {
		len = WARD_FD_PATH_MAX - 1;
		truncated = true;
	}
	memcpy(e->path, path, len);
	e->path[len] = '\0';
	e->truncated = truncated;
	ck_pr_store_64(&e->bytes_read, 0);
	ck_pr_store_64(&e->bytes_written, 0);
}

void
ward_fdtable_set(int fd, int kind, int flags, const char *path)
{
	struct entry *e = lookup(fd, true);
	if (e == NULL || !write_begin(e))
		return;
	if (path == NULL)
		path = "";
	fill(e, kind, flags, path, strlen(path), false);
	write_end(e);
}

bool
ward_fdtable_clear(int fd)
{
	struct entry *e = lookup(fd, false);
	if (e == NULL || ck_pr_load_int(&e->kind) == WARD_FD_UNKNOWN || !write_begin(e))
		return false;
	bool tracked = e->kind != WARD_FD_UNKNOWN;
	count_open(e->kind, WARD_FD_UNKNOWN);
	e->kind = WARD_FD_UNKNOWN;
	e->path[0] = '\0';
	write_end(e);
	return tracked;
}

bool
ward_fdtable_tracked(int fd)
{
	const struct entry *e = lookup(fd, false);
	return e != NULL && ck_pr_load_int((int *)&e->kind) != WARD_FD_UNKNOWN;
}

bool
ward_fdtable_get(int fd, struct ward_fd_info *out)
{
	const struct entry *e = lookup(fd, false);
	if (e == NULL)
		return false;
	for (int attempt = 0; attempt < 100000; attempt++) {
		unsigned int before = ck_pr_load_uint(&e->sequence);
		if (before & 1) {
			ck_pr_stall();
			continue;
		}
		ck_pr_fence_load();
		out->kind = e->kind;
		out->flags = e->flags;
		out->truncated = e->truncated;
		memcpy(out->path, e->path, WARD_FD_PATH_MAX);
		ck_pr_fence_load();
		if (ck_pr_load_uint(&e->sequence) != before)
			continue;
		out->path[WARD_FD_PATH_MAX - 1] = '\0';
		out->bytes_read = ck_pr_load_64((uint64_t *)&e->bytes_read);
		out->bytes_written = ck_pr_load_64((uint64_t *)&e->bytes_written);
		return out->kind != WARD_FD_UNKNOWN;
	}
	return false;
}

bool
ward_fdtable_dup(int oldfd, int newfd, bool cloexec)
{
	static __thread struct ward_fd_info source __attribute__((tls_model("initial-exec")));
	if (oldfd == newfd)
		return false;
	if (!ward_fdtable_get(oldfd, &source)) {
		/* The duplicate of an fd we never saw is still an open fd. */
		source.kind = WARD_FD_INHERITED;
		source.flags = 0;
		source.path[0] = '\0';
		source.truncated = false;
	}
	struct entry *e = lookup(newfd, true);
	if (e == NULL || !write_begin(e))
		return false;
	bool replaced = e->kind != WARD_FD_UNKNOWN;
	int flags = cloexec ? (source.flags | O_CLOEXEC) : (source.flags & ~O_CLOEXEC);
	fill(e, source.kind, flags, source.path, strlen(source.path), source.truncated);
	write_end(e);
	return replaced;
}

void
ward_fdtable_set_cloexec(int fd, bool cloexec)
{
	struct entry *e = lookup(fd, false);
	if (e == NULL || ck_pr_load_int(&e->kind) == WARD_FD_UNKNOWN || !write_begin(e))
		return;
	e->flags = cloexec ? (e->flags | O_CLOEXEC) : (e->flags & ~O_CLOEXEC);
	write_end(e);
}

void
ward_fdtable_add_bytes(int fd, uint64_t read, uint64_t written)
{
	struct entry *e = lookup(fd, false);
	if (e == NULL)
		return;
	if (read)
		ck_pr_add_64(&e->bytes_read, read);
	if (written)
		ck_pr_add_64(&e->bytes_written, written);
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
	return ck_pr_load_64(&open_now);
}

uint64_t
ward_fdtable_open_peak(void)
{
	return ck_pr_load_64(&open_peak);
}

void
ward_fdtable_reset_figures(void)
{
	uint64_t now = ck_pr_load_64(&open_now);
	ck_pr_store_64(&open_peak, now);
	for (unsigned int c = 0; c < CHUNKS; c++) {
		struct chunk *chunk = ck_pr_load_ptr(&directory[c]);
		if (chunk == NULL)
			continue;
		for (unsigned int i = 0; i < CHUNK_ENTRIES; i++) {
			ck_pr_store_64(&chunk->entry[i].bytes_read, 0);
			ck_pr_store_64(&chunk->entry[i].bytes_written, 0);
			/* a writer that vanished in the fork leaves an odd sequence */
			chunk->entry[i].sequence &= ~1u;
		}
	}
}
