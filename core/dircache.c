/*
 * dircache: see dircache.h.  The clock is CLOCK_MONOTONIC_COARSE (read from
 * the vDSO, no system call).
 *
 * An entry keeps both names in one buffer, the directory and then its real
 * path (none when it is the directory itself, the common case), so a long
 * entry touches only the pages its names fill.
 */
#include "dircache.h"
#include "seqlock.h"

#include <string.h>
#include <time.h>

#include <ck_pr.h>

struct header {
	unsigned int sequence; /* odd while written */
	unsigned int generation;
	uint64_t expires;
	uint64_t key;
	uint16_t dir_len;
	uint16_t real_len; /* 0 when same */
	bool same;         /* the real path is the directory itself */
};

struct entry {
	struct header h;
	char names[2 * WARD_DIRCACHE_PATH];
};

struct long_entry {
	struct header h;
	char names[2 * WARD_DIRCACHE_LONG_PATH];
};

static struct entry table[WARD_DIRCACHE_ENTRIES];
static struct long_entry long_table[WARD_DIRCACHE_LONG_ENTRIES];
static unsigned int generation = 1;
static uint64_t next_key = 1;

static uint64_t
now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* 8 bytes at a time (the tail's bytes one by one: at most 7), loads inside
 * dir[0..len). */
static uint64_t
hash(const char *dir, size_t len)
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
	return h ^ (h >> 32);
}

static bool
cacheable(const char *dir, size_t len)
{
	return len < WARD_DIRCACHE_LONG_PATH &&
	       !(len >= 5 && memcmp(dir, "/proc", 5) == 0 && (len == 5 || dir[5] == '/'));
}

/* The entry a directory of len bytes goes to, and its names' room. */
struct place {
	struct header *h;
	char *names;
	size_t room;
};

static struct place
place_of(const char *dir, size_t len)
{
	if (len < WARD_DIRCACHE_PATH) {
		struct entry *e = &table[hash(dir, len) % WARD_DIRCACHE_ENTRIES];
		return (struct place){ &e->h, e->names, sizeof(e->names) };
	}
	struct long_entry *e = &long_table[hash(dir, len) % WARD_DIRCACHE_LONG_ENTRIES];
	return (struct place){ &e->h, e->names, sizeof(e->names) };
}

/* The entries this thread found last, one per table: tried before hashing,
 * since a program mostly works in one directory for a while (thread-local,
 * 8 bytes). */
static __thread unsigned int last_hit __attribute__((tls_model("initial-exec")));
static __thread unsigned int last_long_hit __attribute__((tls_model("initial-exec")));

/* e's real path into out if e holds dir (read inside its window).
 * same_at_any_age: an entry that is its own real path is not timed
 * (ward_dircache_get_exact). */
static inline __attribute__((always_inline)) bool
probe(const struct header *e, const char *names, size_t room, const char *dir, size_t len, char *out,
      struct ward_dircache_hit *hit, bool same_at_any_age)
{
	unsigned int before = ward_seqlock_read_begin(&e->sequence);
	if (before & 1)
		return false; /* being filled: a miss */
	if (e->dir_len != len || e->generation != ck_pr_load_uint(&generation) || memcmp(names, dir, len) != 0)
		return false;
	bool same = e->same;
	if (!(same_at_any_age && same) && e->expires <= now_ns())
		return false;
	size_t real_len = e->real_len;
	uint64_t key = e->key;
	if (!same) {
		if (real_len == 0 || real_len > room - len)
			return false; /* (torn by a writer: the window below would say so) */
		memcpy(out, names + len, real_len);
		out[real_len] = '\0';
	}
	if (!ward_seqlock_read_valid(&e->sequence, before))
		return false;
	*hit = (struct ward_dircache_hit){ .len = same ? len : real_len, .same = same, .key = key };
	return true;
}

static inline __attribute__((always_inline)) bool
get(const char *dir, size_t len, char *out, struct ward_dircache_hit *hit, bool same_at_any_age)
{
	/* (only the length: a /proc name is never put, so no entry holds one) */
	if (len >= WARD_DIRCACHE_LONG_PATH)
		return false;
	if (len < WARD_DIRCACHE_PATH) {
		const struct entry *last = &table[last_hit % WARD_DIRCACHE_ENTRIES];
		if (probe(&last->h, last->names, sizeof(last->names), dir, len, out, hit, same_at_any_age))
			return true;
		const struct entry *e = &table[hash(dir, len) % WARD_DIRCACHE_ENTRIES];
		if (e == last)
			return false;
		last_hit = (unsigned int)(e - table);
		return probe(&e->h, e->names, sizeof(e->names), dir, len, out, hit, same_at_any_age);
	}
	const struct long_entry *last = &long_table[last_long_hit % WARD_DIRCACHE_LONG_ENTRIES];
	if (probe(&last->h, last->names, sizeof(last->names), dir, len, out, hit, same_at_any_age))
		return true;
	const struct long_entry *e = &long_table[hash(dir, len) % WARD_DIRCACHE_LONG_ENTRIES];
	if (e == last)
		return false;
	last_long_hit = (unsigned int)(e - long_table);
	return probe(&e->h, e->names, sizeof(e->names), dir, len, out, hit, same_at_any_age);
}

bool
ward_dircache_get(const char *dir, size_t len, char *out, struct ward_dircache_hit *hit)
{
	return get(dir, len, out, hit, false);
}

bool
ward_dircache_get_exact(const char *dir, size_t len, char *out, struct ward_dircache_hit *hit)
{
	return get(dir, len, out, hit, true);
}

unsigned int
ward_dircache_generation(void)
{
	return ck_pr_load_uint(&generation);
}

/* The entry (written by us: its window is held) already names real: its key
 * still does. */
static bool
holds_real(const struct header *h, const char *names, size_t room, const char *real, size_t real_len)
{
	if (h->key == 0 || h->dir_len > room)
		return false;
	if (h->same)
		return h->dir_len == real_len && memcmp(names, real, real_len) == 0;
	return h->real_len == real_len && real_len <= room - h->dir_len &&
	       memcmp(names + h->dir_len, real, real_len) == 0;
}

void
ward_dircache_put(const char *dir, size_t len, const char *real, size_t real_len, unsigned int resolved_at)
{
	if (!cacheable(dir, len) || resolved_at != ward_dircache_generation())
		return;
	bool same = real_len == len && memcmp(dir, real, len) == 0;
	struct place p = place_of(dir, len);
	/* (a directory that leads into /proc, such as /dev/fd, means something
	 * else in each process) */
	bool fits = real_len > 0 && cacheable(real, real_len) && (same || real_len <= p.room - len);
	unsigned int s;
	if (!ward_seqlock_try_write(&p.h->sequence, &s))
		return; /* someone else is filling it: skip, it is only a cache */
	if (!fits) {
		p.h->dir_len = 0; /* what it held for dir may be what has changed */
	} else {
		if (!holds_real(p.h, p.names, p.room, real, real_len))
			p.h->key = __atomic_fetch_add(&next_key, 1, __ATOMIC_RELAXED);
		p.h->generation = resolved_at;
		p.h->expires = now_ns() + WARD_DIRCACHE_TTL_NS;
		p.h->dir_len = (uint16_t)len;
		p.h->real_len = (uint16_t)(same ? 0 : real_len);
		p.h->same = same;
		memcpy(p.names, dir, len);
		if (!same)
			memcpy(p.names + len, real, real_len);
	}
	ward_seqlock_write_end(&p.h->sequence, s);
}

void
ward_dircache_invalidate(void)
{
	ck_pr_inc_uint(&generation);
}
