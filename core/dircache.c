/*
 * dircache: see dircache.h.  The clock is CLOCK_MONOTONIC_COARSE (read from
 * the vDSO, no system call).
 */
#include "dircache.h"
#include "seqlock.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#include <ck_pr.h>

struct entry {
	unsigned int sequence; /* odd while written */
	unsigned int generation;
	uint64_t expires;
	uint16_t dir_len;
	uint16_t real_len;
	char dir[WARD_DIRCACHE_PATH];
	char real[WARD_DIRCACHE_PATH];
};

static struct entry table[WARD_DIRCACHE_ENTRIES];
static unsigned int generation = 1;

static uint64_t
now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* 8 bytes at a time (the tail's bytes one by one: at most 7), loads inside
 * dir[0..len). */
static struct entry *
slot(const char *dir, size_t len)
{
	const uint64_t mul = 0xff51afd7ed558ccdull;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t word;
		memcpy(&word, dir + i, sizeof(word));
		h = (h ^ word) * mul;
		h ^= h >> 29;
	}
	uint64_t tail = 0; /* the last 0-7 bytes, in two overlapping loads or three byte loads, none past the end */
	size_t n = len - i;
	if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, dir + i, 4);
		memcpy(&hi, dir + len - 4, 4);
		tail = (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
	} else if (n > 0) {
		tail = (uint64_t)(unsigned char)dir[i] | (uint64_t)(unsigned char)dir[i + n / 2] << 8 |
		       (uint64_t)(unsigned char)dir[len - 1] << 16;
	}
	h = (h ^ tail) * mul;
	h ^= h >> 32;
	return &table[h % WARD_DIRCACHE_ENTRIES];
}

static bool
cacheable(const char *dir, size_t len)
{
	return len < WARD_DIRCACHE_PATH && !(len >= 5 && memcmp(dir, "/proc", 5) == 0 && (len == 5 || dir[5] == '/'));
}

/* The entry this thread found last: tried before hashing, since a program
 * mostly works in one directory for a while (a thread-local of 4 bytes). */
static __thread unsigned int last_hit __attribute__((tls_model("initial-exec")));

/* e's real path into out if e holds dir (read inside its window); its length or 0. */
static size_t
probe(const struct entry *e, const char *dir, size_t len, char *out)
{
	unsigned int before = ward_seqlock_read_begin(&e->sequence);
	if (before & 1)
		return 0; /* being filled: a miss */
	bool hit = e->generation == ck_pr_load_uint(&generation) && e->dir_len == len &&
	           memcmp(e->dir, dir, len) == 0 && e->expires > now_ns();
	size_t real_len = e->real_len;
	if (hit && real_len < WARD_DIRCACHE_PATH) {
		memcpy(out, e->real, real_len);
		out[real_len] = '\0';
	}
	return hit && real_len > 0 && real_len < WARD_DIRCACHE_PATH && ward_seqlock_read_valid(&e->sequence, before)
	               ? real_len
	               : 0;
}

size_t
ward_dircache_get(const char *dir, size_t len, char *out)
{
	if (!cacheable(dir, len))
		return 0;
	const struct entry *last = &table[last_hit % WARD_DIRCACHE_ENTRIES];
	size_t real_len = probe(last, dir, len, out);
	if (real_len != 0)
		return real_len;
	const struct entry *e = slot(dir, len);
	if (e == last)
		return 0;
	last_hit = (unsigned int)(e - table);
	return probe(e, dir, len, out);
}

unsigned int
ward_dircache_generation(void)
{
	return ck_pr_load_uint(&generation);
}

void
ward_dircache_put(const char *dir, size_t len, const char *real, unsigned int resolved_at)
{
	size_t real_len = strlen(real);
	if (!cacheable(dir, len) || !cacheable(real, real_len) || real_len >= WARD_DIRCACHE_PATH ||
	    resolved_at != ward_dircache_generation())
		return; /* (a directory that leads into /proc, such as /dev/fd, means something else in each process) */
	struct entry *e = slot(dir, len);
	unsigned int s;
	if (!ward_seqlock_try_write(&e->sequence, &s))
		return; /* someone else is filling it: skip, it is only a cache */
	e->generation = resolved_at;
	e->expires = now_ns() + WARD_DIRCACHE_TTL_NS;
	e->dir_len = (uint16_t)len;
	e->real_len = (uint16_t)real_len;
	memcpy(e->dir, dir, len);
	memcpy(e->real, real, real_len);
	ward_seqlock_write_end(&e->sequence, s);
}

void
ward_dircache_invalidate(void)
{
	ck_pr_inc_uint(&generation);
}
