/*
 * match.c: compiling a policy into the prefix table, and deciding.
 * See match.h for the design.
 */
#define _GNU_SOURCE /* memrchr */
#include "match.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <sys/platform/x86.h>
#define WARD_HAVE_X86 1
#endif

#define BUCKET_SLOTS 8

enum item_kind { ITEM_EXACT, ITEM_SUBTREE, ITEM_GLOB };

/* Strings (keys, patterns) are offsets from the matcher's strings base:
 * in a compiled image they are offsets into the image itself, so a process
 * maps the image read-only and uses it in place (no fix-up, no copy). */
struct item {
	uint32_t rule;    /* index in policy order */
	uint32_t pattern; /* the rule's pattern (a glob is matched against it) */
	uint8_t kind;
	uint8_t ops;
	uint8_t deny;
	uint8_t quiet;
};

struct entry {
	uint64_t hash;
	uint32_t key;     /* the first item's pattern: its first key_len bytes */
	uint32_t key_len;
	uint32_t first;   /* items[first .. first + count), in rule order */
	uint32_t count;
	uint8_t ops;      /* union of the items' ops: skip at a glance */
};

struct bucket {
	uint32_t tag[BUCKET_SLOTS];   /* 0 = empty */
	uint32_t entry[BUCKET_SLOTS];
} __attribute__((aligned(64)));

/* A bit per key length: prefixes of other lengths hold no rules.  The last
 * bit stands for every length from there on (a rule under a name that
 * long, $CWD many levels deep: rare, and then every longer prefix is
 * looked up). */
#define KEY_LENGTHS 4096

enum matcher_kind {
	MATCHER_BUILT,         /* owns its arrays and its pool of strings */
	MATCHER_IMAGE,         /* points into a mapped image; the struct itself was allocated */
	MATCHER_IMAGE_STORAGE, /* points into a mapped image; lives in the caller's storage */
};

/*
 * Every index and offset a decision follows is checked where it is used
 * (one compare each), so an image damaged after its header was checked
 * decides wrongly at worst, never reads outside the mapping: entries and
 * items in range, strings inside [strings_lo, strings_hi), which ends in a
 * NUL, and a probe sequence no longer than the table.
 */
struct ward_matcher {
	const struct ward_policy *policy;
	const char *strings;           /* the base of every string offset */
	uint32_t strings_lo, strings_hi;
	const uint64_t *key_length;    /* KEY_LENGTHS bits */
	const uint64_t *filter;        /* two bits per key's hash in one word: see filter_bits */
	size_t filter_mask;            /* words - 1 */
	const struct bucket *bucket;
	size_t mask;                   /* buckets - 1 */
	const struct entry *entry;
	uint32_t nentries;
	const struct item *item;
	uint32_t nitems;               /* = the policy's rules */
	enum matcher_kind kind;
	uint64_t serial;               /* this matcher's, for the directory cache */
};

/* ---- prefix hashes, 8 bytes at a time ----
 *
 * The hash of a prefix s[0..n): its whole 8-byte words folded in order,
 * then the last 0-7 bytes (zero-padded into one word) and n mixed in by
 * finish().  So a decision walking a path word by word has, at every '/'
 * it passes, the state of every whole word before it: a prefix's hash is
 * one finish() away, and each byte of the path is read once.  Loads never
 * reach past s[n - 1] (a path may end at the edge of a mapping). */

#define HASH_SEED 0x9e3779b97f4a7c15ull
#define HASH_MUL 0xff51afd7ed558ccdull
#define HASH_MUL2 0xc4ceb9fe1a85ec53ull
#define ONES 0x0101010101010101ull

static inline uint64_t
load64(const char *s)
{
	uint64_t w;
	memcpy(&w, s, sizeof(w));
	return w;
}

static inline uint32_t
load32(const char *s)
{
	uint32_t w;
	memcpy(&w, s, sizeof(w));
	return w;
}

/* s[0..n), 0 < n < 8, as the low bytes of a word (byte i at bits 8i),
 * the rest zero. */
static inline uint64_t
load_tail(const char *s, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n >= 4) /* two overlapping loads: the shared bytes agree */
		return (uint64_t)load32(s) | (uint64_t)load32(s + n - 4) << (8 * (n - 4));
	return (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << (8 * (n / 2)) |
	       (uint64_t)(unsigned char)s[n - 1] << (8 * (n - 1));
#else
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)(unsigned char)s[i] << (8 * i);
	return w;
#endif
}

/* 8 bytes as a word with byte i at bits 8i, whatever the CPU's order. */
static inline uint64_t
load_word(const char *s)
{
	uint64_t w = load64(s);
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* a[0..n) == b[0..n), a word at a time, reading neither past n (short
 * names: no call to memcmp). */
static inline bool
same_bytes(const char *a, const char *b, size_t n)
{
	if (n < 8)
		return n == 0 || load_tail(a, n) == load_tail(b, n);
	for (size_t i = 0; i + 8 < n; i += 8)
		if (load64(a + i) != load64(b + i))
			return false;
	return load64(a + n - 8) == load64(b + n - 8); /* the last 8, overlapping */
}

static inline uint64_t
mix(uint64_t h, uint64_t word)
{
	h = (h ^ word) * HASH_MUL;
	return h ^ (h >> 29);
}

static inline uint64_t
finish(uint64_t h, uint64_t tail, size_t n)
{
	h = (h ^ tail ^ ((uint64_t)n << 52)) * HASH_MUL;
	h ^= h >> 32;
	h *= HASH_MUL2;
	return h ^ (h >> 29);
}

/* The hash of s[0..n), as a decision finds it (the compiler's side). */
static uint64_t
prefix_hash(const char *s, size_t n)
{
	uint64_t h = HASH_SEED;
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		h = mix(h, load_word(s + i));
	return finish(h, i < n ? load_tail(s + i, n - i) : 0, n);
}

/* The bytes of word that are '/': 0x80 in each, exactly (no borrow
 * crosses bytes, so a '.' after a '/' is not taken for one). */
static inline uint64_t
slash_bytes(uint64_t word)
{
	uint64_t x = word ^ (ONES * '/');
	uint64_t low7 = ONES * 0x7f;
	return ~(((x & low7) + low7) | x) & (ONES * 0x80);
}

static uint32_t
tag_of(uint64_t hash)
{
	return (uint32_t)(hash >> 32) | 1;
}

/* The filter in front of the table: each key's hash sets two bits of one
 * word (picked by bits the bucket index and the tag use least), about 8
 * bits per key, so that a prefix no rule is filed under is mostly turned
 * away by one load from an array small enough to stay in the first levels
 * of cache when the table is not (10,000 keys: 16 KB against 128 KB of
 * buckets), before any bucket is read. */
static inline uint64_t
filter_bits(uint64_t hash)
{
	return 1ull << ((hash >> 8) & 63) | 1ull << ((hash >> 14) & 63);
}

static inline size_t
filter_word(uint64_t hash, size_t mask)
{
	return (size_t)(hash >> 20) & mask;
}

/* ---- bucket compare: three versions, identical results ---- */

static unsigned int
match_scalar(const struct bucket *b, uint32_t tag, unsigned int *empty)
{
	unsigned int hits = 0, free_slots = 0;
	for (unsigned int i = 0; i < BUCKET_SLOTS; i++) {
		hits |= (unsigned int)(b->tag[i] == tag) << i;
		free_slots |= (unsigned int)(b->tag[i] == 0) << i;
	}
	*empty = free_slots;
	return hits;
}

#ifdef WARD_HAVE_X86
__attribute__((target("sse2"))) static unsigned int
match_sse2(const struct bucket *b, uint32_t tag, unsigned int *empty)
{
	__m128i want = _mm_set1_epi32((int)tag), zero = _mm_setzero_si128();
	__m128i lo = _mm_load_si128((const __m128i *)&b->tag[0]);
	__m128i hi = _mm_load_si128((const __m128i *)&b->tag[4]);
	unsigned int hits = (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, want))) |
	                    (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, want))) << 4;
	*empty = (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(lo, zero))) |
	         (unsigned int)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(hi, zero))) << 4;
	return hits;
}

__attribute__((target("avx2"))) static unsigned int
match_avx2(const struct bucket *b, uint32_t tag, unsigned int *empty)
{
	__m256i tags = _mm256_load_si256((const __m256i *)b->tag);
	*empty = (unsigned int)_mm256_movemask_ps(
		_mm256_castsi256_ps(_mm256_cmpeq_epi32(tags, _mm256_setzero_si256())));
	return (unsigned int)_mm256_movemask_ps(
		_mm256_castsi256_ps(_mm256_cmpeq_epi32(tags, _mm256_set1_epi32((int)tag))));
}
#endif

typedef unsigned int (*bucket_match_fn)(const struct bucket *, uint32_t, unsigned int *);
static bucket_match_fn bucket_match;
static enum ward_simd simd_in_use;

/* glibc's own record of the CPU (no cpuid at every process start, which
 * __builtin_cpu_supports would bring along with libgcc's constructor). */
static bool
cpu_has(enum ward_simd simd)
{
#ifdef WARD_HAVE_X86
	if (simd == WARD_SIMD_AVX2)
		return CPU_FEATURE_ACTIVE(AVX2);
	if (simd == WARD_SIMD_SSE2)
		return CPU_FEATURE_ACTIVE(SSE2);
#endif
	return simd == WARD_SIMD_SCALAR;
}

bool
ward_matcher_set_simd(enum ward_simd simd)
{
	if (!cpu_has(simd))
		return false;
#ifdef WARD_HAVE_X86
	bucket_match = simd == WARD_SIMD_AVX2 ? match_avx2 : simd == WARD_SIMD_SSE2 ? match_sse2 : match_scalar;
#else
	bucket_match = match_scalar;
#endif
	simd_in_use = simd;
	return true;
}

enum ward_simd
ward_matcher_simd(void)
{
	if (bucket_match == NULL && !ward_matcher_set_simd(WARD_SIMD_AVX2) &&
	    !ward_matcher_set_simd(WARD_SIMD_SSE2))
		ward_matcher_set_simd(WARD_SIMD_SCALAR);
	return simd_in_use;
}

/* ---- lookup ---- */

/* s[off .. off + len) lies inside the strings. */
static inline bool
string_fits(const struct ward_matcher *m, uint32_t off, size_t len)
{
	return off >= m->strings_lo && off <= m->strings_hi && len <= m->strings_hi - off;
}

static inline __attribute__((always_inline)) const struct entry *
lookup(const struct ward_matcher *m, uint64_t hash, const char *key, size_t key_len)
{
	uint64_t bits = filter_bits(hash);
	if ((m->filter[filter_word(hash, m->filter_mask)] & bits) != bits)
		return NULL;
	uint32_t tag = tag_of(hash);
	size_t b = hash & m->mask;
	for (size_t probes = 0; probes <= m->mask; probes++, b = (b + 1) & m->mask) {
		unsigned int empty;
		unsigned int hits = bucket_match(&m->bucket[b], tag, &empty);
		while (hits) {
			uint32_t i = m->bucket[b].entry[__builtin_ctz(hits)];
			const struct entry *e = &m->entry[i < m->nentries ? i : 0];
			if (i < m->nentries && e->hash == hash && e->key_len == key_len && string_fits(m, e->key, key_len) &&
			    same_bytes(m->strings + e->key, key, key_len))
				return e;
			hits &= hits - 1;
		}
		if (empty)
			return NULL;
	}
	return NULL;
}

/* The winners so far: the first deny and the first allow in rule order. */
struct best {
	int deny, allow;
	bool deny_quiet;
};

/* Test the rules filed under one prefix of path[0..len), path[0..e->key_len)
 * being its key.  A glob's pattern starts with that key too, and its
 * literal components match the path's exactly: the match starts after
 * them, at the '/' (or the end) both have there (from the start if the
 * entry says more than len: a damaged image, never a read past the path). */
static void
try_entry(const struct ward_matcher *m, const struct entry *e, unsigned int op, const char *path, size_t len,
          bool whole_path, struct best *best)
{
	if (e->first > m->nitems || e->count > m->nitems - e->first)
		return;
	size_t skip = e->key_len <= len ? e->key_len : 0;
	for (uint32_t i = e->first; i < e->first + e->count; i++) {
		const struct item *it = &m->item[i];
		if (!(it->ops & op) || it->rule >= m->nitems)
			continue;
		int *winner = it->deny ? &best->deny : &best->allow;
		if (*winner >= 0 && *winner < (int)it->rule)
			continue;
		bool hit = it->kind == ITEM_SUBTREE || (it->kind == ITEM_EXACT && whole_path) ||
		           (it->kind == ITEM_GLOB && string_fits(m, it->pattern, skip + 1) &&
		            ward_glob_match(m->strings + it->pattern + skip, path + skip));
		if (hit) {
			*winner = (int)it->rule;
			if (it->deny)
				best->deny_quiet = it->quiet;
		}
	}
}

static inline bool
has_key_length(const struct ward_matcher *m, size_t i)
{
	size_t bit = i < KEY_LENGTHS ? i : KEY_LENGTHS - 1;
	return (m->key_length[bit / 64] >> (bit % 64)) & 1;
}

/* Every prefix of path[0..len) that ends at a '/' (the root "" first, if
 * any rule is filed there), and path[0..len) itself when whole: visit(e,
 * is_whole) for each one a rule is filed under.  One pass, a word at a
 * time: h is the state of the whole words before `at`; each '/' in the
 * word at `at` ends a prefix. */
#define SCAN_PREFIXES(m, path, len, whole, visit)                                                          \
	do {                                                                                               \
		uint64_t h_ = HASH_SEED;                                                                   \
		if (has_key_length(m, 0)) {                                                                \
			const struct entry *e_ = lookup(m, finish(h_, 0, 0), path, 0);                     \
			if (e_ != NULL)                                                                    \
				visit(e_, (len) == 0);                                                     \
		}                                                                                          \
		size_t at_ = 0;                                                                            \
		for (; at_ + 8 <= (len); at_ += 8) {                                                       \
			uint64_t word_ = load_word(path + at_);                                            \
			for (uint64_t sl_ = slash_bytes(word_); sl_ != 0; sl_ &= sl_ - 1) {                 \
				size_t k_ = (size_t)__builtin_ctzll(sl_) / 8, i_ = at_ + k_;                \
				if (i_ > 0 && has_key_length(m, i_)) {                                     \
					const struct entry *e_ =                                           \
						lookup(m, finish(h_, word_ & ((1ull << (8 * k_)) - 1), i_), \
						       path, i_);                                          \
					if (e_ != NULL)                                                    \
						visit(e_, false);                                          \
				}                                                                          \
			}                                                                                  \
			h_ = mix(h_, word_);                                                               \
		}                                                                                          \
		uint64_t tail_ = 0;                                                                        \
		if (at_ < (len)) {                                                                         \
			tail_ = load_tail(path + at_, (len) - at_);                                        \
			for (uint64_t sl_ = slash_bytes(tail_); sl_ != 0; sl_ &= sl_ - 1) {                 \
				size_t k_ = (size_t)__builtin_ctzll(sl_) / 8, i_ = at_ + k_;                \
				if (i_ > 0 && has_key_length(m, i_)) {                                     \
					const struct entry *e_ =                                           \
						lookup(m, finish(h_, tail_ & ((1ull << (8 * k_)) - 1), i_), \
						       path, i_);                                          \
					if (e_ != NULL)                                                    \
						visit(e_, false);                                          \
				}                                                                          \
			}                                                                                  \
		}                                                                                          \
		if ((whole) && (len) > 0 && has_key_length(m, (len))) {                                    \
			const struct entry *e_ = lookup(m, finish(h_, tail_, (len)), path, (len));          \
			if (e_ != NULL)                                                                    \
				visit(e_, true);                                                           \
		}                                                                                          \
	} while (0)

static struct ward_decision
decision_of(const struct ward_matcher *m, const struct best *best)
{
	if (best->deny >= 0)
		return (struct ward_decision){ false, best->deny_quiet, best->deny };
	if (best->allow >= 0)
		return (struct ward_decision){ true, false, best->allow };
	return (struct ward_decision){ !m->policy->default_deny, false, -1 };
}

/* The decision without the directory cache (the reference the cache is
 * built from, and what a path with a glob on its way takes). */
static struct ward_decision
decide_fully(const struct ward_matcher *m, unsigned int op, const char *path, size_t len)
{
	struct best best = { -1, -1, false };
#define VISIT_FULL(e, whole)                                          \
	do {                                                          \
		if ((e)->ops & op)                                    \
			try_entry(m, (e), op, path, len, (whole), &best); \
	} while (0)
	SCAN_PREFIXES(m, path, len, true, VISIT_FULL);
#undef VISIT_FULL
	return decision_of(m, &best);
}

/* ---- decisions per directory, cached ----
 *
 * Every prefix of a path but the path itself is a prefix of its directory
 * (what comes before the last '/'), so what the rules filed there decide
 * is the directory's alone: the first deny and allow, per operation, of
 * its subtree rules (an exact rule there never names the path; a glob
 * there must see the whole path: the state names the entries holding
 * globs, DIR_GLOB_ENTRIES at most, whose globs are tried again on the
 * path; operations with globs in more entries are decided in full).  A
 * path in a known directory costs that state, plus a look-up of the path
 * itself only when some rule is filed at its length.  A directory not
 * known costs one full decision, which fills its state on the way.  A
 * directory may sit in either way of its set (two ways: 1,024
 * directories, about 220 KB of .bss, touched a page at a time); it takes
 * a way no directory of the same matcher holds, and with both held its
 * own of the two (a bit of its hash) only when it misses there twice in a
 * row (no other directory's miss there between; the first is decided in
 * full, filling nothing, and a hit writes nothing): a directory worked in
 * takes its way at its second decision, and more directories than ways,
 * met in turn, keep some of them cached, where taking the way at every
 * miss kept none and paid the filling every time.  The state depends on
 * nothing but the matcher and the directory's name, so it never expires;
 * entries are keyed by the matcher's serial number (never reused, unlike
 * its address).  Each entry is behind a sequence counter: lock-free
 * reads, a writer that finds it taken skips
 * (a signal handler deciding inside a decision only misses). */
#define DIR_CACHE_SETS 512
#define DIR_CACHE_WAYS 2
#define DIR_CACHE_ENTRIES (DIR_CACHE_SETS * DIR_CACHE_WAYS)
#define DIR_CACHE_PATH 120
#define NOPS 6
#define DIR_GLOB_ENTRIES 2

struct dir_state {
	int32_t deny[NOPS], allow[NOPS]; /* rule indexes, -1: none */
	uint8_t deny_quiet;              /* bit per operation */
	uint8_t glob_ops;                /* operations with a glob filed on the way */
	uint8_t full_ops;                /* of those, the ones with globs in too many entries: decided in full */
	uint8_t nglobs;
	uint32_t glob_entry[DIR_GLOB_ENTRIES]; /* the entries holding globs, for glob_ops & ~full_ops */
};

struct dir_entry {
	unsigned int sequence; /* odd while written */
	unsigned int candidate; /* the last other directory that missed here (dir_candidate; a hint: relaxed, unchecked) */
	uint32_t len;
	uint64_t serial;
	uint64_t key; /* the caller's name for dir (ward_matcher_decide_known), 0: none */
	struct dir_state state;
	char dir[DIR_CACHE_PATH];
};

static struct dir_entry dir_cache[DIR_CACHE_ENTRIES];
static uint64_t next_serial = 1;
/* The entry this thread decided in last, tried before hashing (4 bytes of
 * thread-local: a program mostly works in one directory for a while). */
static __thread unsigned int last_dir __attribute__((tls_model("initial-exec")));

static uint64_t
new_serial(void)
{
	return __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
}

static uint64_t
dir_hash(const char *dir, size_t len)
{
	uint64_t h = HASH_SEED ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8)
		h = mix(h, load_word(dir + i));
	if (i < len) /* the last 8 bytes again when there are 8 (this hash is the process's own) */
		h = mix(h, len >= 8 ? load64(dir + len - 8) : load_tail(dir + i, len - i));
	return h;
}

/* The ways of the set a directory may be cached in. */
static struct dir_entry *
dir_set(uint64_t h)
{
	return &dir_cache[(h ^ (h >> 32)) % DIR_CACHE_SETS * DIR_CACHE_WAYS];
}

/* The way a directory not found in its set goes to: one no directory of
 * m holds (empty, or another matcher's), or else its own of the two
 * (a bit of its hash), taken at its second miss in a row there. */
static struct dir_entry *
dir_victim(struct dir_entry *set, const struct ward_matcher *m, uint64_t h)
{
	for (unsigned int w = 0; w < DIR_CACHE_WAYS; w++)
		if (__atomic_load_n(&set[w].serial, __ATOMIC_RELAXED) != m->serial)
			return &set[w];
	return &set[(h >> 40) % DIR_CACHE_WAYS];
}

/* The candidate a directory leaves in a slot it may not take yet. */
static unsigned int
dir_candidate(uint64_t h)
{
	return (unsigned int)(h >> 32) | 1;
}

/* Fold the rules filed under one prefix of a directory into its state. */
static void
note_dir_entry(const struct ward_matcher *m, const struct entry *e, struct dir_state *st)
{
	if (e->first > m->nitems || e->count > m->nitems - e->first)
		return;
	unsigned int glob_ops = 0;
	for (uint32_t i = e->first; i < e->first + e->count; i++) {
		const struct item *it = &m->item[i];
		if (it->rule >= m->nitems || it->rule > INT32_MAX)
			continue;
		if (it->kind == ITEM_GLOB) {
			glob_ops |= it->ops;
			continue;
		}
		if (it->kind != ITEM_SUBTREE)
			continue;
		for (unsigned int ops = it->ops & WARD_OP_ALL; ops != 0; ops &= ops - 1) {
			unsigned int k = (unsigned int)__builtin_ctz(ops);
			int32_t *w = it->deny ? &st->deny[k] : &st->allow[k];
			if (*w >= 0 && *w < (int32_t)it->rule)
				continue;
			*w = (int32_t)it->rule;
			if (it->deny)
				st->deny_quiet = (uint8_t)((st->deny_quiet & ~(1u << k)) | (unsigned int)it->quiet << k);
		}
	}
	if (glob_ops != 0) {
		if (st->nglobs < DIR_GLOB_ENTRIES)
			st->glob_entry[st->nglobs++] = (uint32_t)(e - m->entry);
		else
			st->full_ops |= (uint8_t)glob_ops;
		st->glob_ops |= (uint8_t)glob_ops;
	}
}

/* The full decision on path[0..len), filling on the way the state of its
 * directory (every prefix the scan visits but the whole path is one of
 * the directory's, itself included). */
static struct ward_decision
decide_filling(const struct ward_matcher *m, unsigned int op, const char *path, size_t len, struct dir_state *st)
{
	*st = (struct dir_state){ { -1, -1, -1, -1, -1, -1 }, { -1, -1, -1, -1, -1, -1 }, 0, 0, 0, 0, { 0, 0 } };
	struct best best = { -1, -1, false };
#define VISIT_FILL(e, whole)                                          \
	do {                                                          \
		if (!(whole))                                         \
			note_dir_entry(m, (e), st);                   \
		if ((e)->ops & op)                                    \
			try_entry(m, (e), op, path, len, (whole), &best); \
	} while (0)
	SCAN_PREFIXES(m, path, len, true, VISIT_FILL);
#undef VISIT_FILL
	return decision_of(m, &best);
}

/* What a decision for one operation takes from a directory's state. */
struct dir_part {
	struct best best;
	uint8_t glob_ops, full_ops, nglobs;
	uint32_t glob_entry[DIR_GLOB_ENTRIES];
};

static inline void
dir_part_of(const struct dir_state *st, unsigned int k, struct dir_part *out)
{
	out->best = (struct best){ st->deny[k], st->allow[k], (st->deny_quiet >> k) & 1 };
	out->glob_ops = st->glob_ops;
	if (!((out->glob_ops >> k) & 1))
		return; /* the rest is read only for an operation with globs */
	out->full_ops = st->full_ops;
	out->nglobs = st->nglobs;
	for (unsigned int i = 0; i < DIR_GLOB_ENTRIES; i++)
		out->glob_entry[i] = st->glob_entry[i];
}

/* Operation k's part of a cached state, if e holds dir's for m: known by
 * its key (equal keys name equal directories), or else by its name. */
static inline bool
dir_cache_read(const struct dir_entry *e, const struct ward_matcher *m, const char *dir, size_t len, uint64_t key,
               unsigned int k, struct dir_part *out, bool *same_key)
{
	unsigned int before = __atomic_load_n(&e->sequence, __ATOMIC_ACQUIRE);
	if (before & 1)
		return false;
	*same_key = key != 0 && e->key == key;
	if (e->serial != m->serial || e->len != len || !(*same_key || same_bytes(e->dir, dir, len)))
		return false; /* (a miss, torn or not, is safe: the caller decides in full) */
	dir_part_of(&e->state, k, out);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&e->sequence, __ATOMIC_RELAXED) == before;
}

/* Take e for writing: false when someone is writing it (another thread, or
 * the code a signal interrupted). */
static bool
dir_cache_take(struct dir_entry *e, unsigned int *s)
{
	*s = __atomic_load_n(&e->sequence, __ATOMIC_RELAXED);
	if ((*s & 1) || !__atomic_compare_exchange_n(&e->sequence, s, *s + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return true;
}

static void
dir_cache_write(struct dir_entry *e, const struct ward_matcher *m, const char *dir, size_t len, uint64_t key,
                const struct dir_state *st)
{
	unsigned int s;
	if (!dir_cache_take(e, &s))
		return;
	e->serial = m->serial;
	e->len = (uint32_t)len;
	e->key = key;
	__atomic_store_n(&e->candidate, 0, __ATOMIC_RELAXED);
	e->state = *st;
	memcpy(e->dir, dir, len);
	__atomic_store_n(&e->sequence, s + 2, __ATOMIC_RELEASE);
}

/* A hit by name under another key (the caller's cache refilled): the new
 * key, so that the next look-up is by key again. */
static void
dir_cache_rekey(struct dir_entry *e, const struct ward_matcher *m, const char *dir, size_t len, uint64_t key)
{
	unsigned int s;
	if (!dir_cache_take(e, &s))
		return;
	if (e->serial == m->serial && e->len == len && memcmp(e->dir, dir, len) == 0)
		e->key = key;
	__atomic_store_n(&e->sequence, s + 2, __ATOMIC_RELEASE);
}

/* path[0..len), its last '/' at dlen (len > 1). */
static struct ward_decision
decide_in_directory(const struct ward_matcher *m, unsigned int op, const char *path, size_t len, size_t dlen,
                    uint64_t key)
{
	if (dlen >= DIR_CACHE_PATH || op == 0 || (op & (op - 1)) != 0 || op > WARD_OP_ALL)
		return decide_fully(m, op, path, len);
	unsigned int k = (unsigned int)__builtin_ctz(op);
	struct dir_entry *slot = &dir_cache[last_dir % DIR_CACHE_ENTRIES];
	struct dir_part part;
	bool same_key;
	bool hit = dir_cache_read(slot, m, path, dlen, key, k, &part, &same_key);
	uint64_t dh = 0;
	if (!hit) { /* not the directory this thread decided in last: its own slot */
		dh = dir_hash(path, dlen);
		struct dir_entry *set = dir_set(dh), *last = slot;
		for (unsigned int w = 0; w < DIR_CACHE_WAYS && !hit; w++) {
			slot = &set[w];
			hit = slot != last && dir_cache_read(slot, m, path, dlen, key, k, &part, &same_key);
		}
		if (!hit)
			slot = dir_victim(set, m, dh);
		last_dir = (unsigned int)(slot - dir_cache);
	}
	if (!hit) { /* one full decision, the directory's state filled on the way */
		if (__atomic_load_n(&slot->serial, __ATOMIC_RELAXED) == m->serial &&
		    __atomic_exchange_n(&slot->candidate, dir_candidate(dh), __ATOMIC_RELAXED) != dir_candidate(dh))
			return decide_fully(m, op, path, len); /* another directory's: taken at a second miss in a row */
		struct dir_state st;
		struct ward_decision d = decide_filling(m, op, path, len, &st);
		dir_cache_write(slot, m, path, dlen, key, &st);
		return d;
	}
	if (key != 0 && !same_key)
		dir_cache_rekey(slot, m, path, dlen, key);
	if (part.glob_ops & op) { /* the globs on the way see the path */
		if (part.full_ops & op)
			return decide_fully(m, op, path, len);
		for (unsigned int i = 0; i < part.nglobs && i < DIR_GLOB_ENTRIES; i++) {
			const struct entry *e = &m->entry[part.glob_entry[i] < m->nentries ? part.glob_entry[i] : 0];
			if (part.glob_entry[i] < m->nentries && (e->ops & op))
				try_entry(m, e, op, path, len, false, &part.best);
		}
	}
	if (has_key_length(m, len)) { /* the path itself */
		const struct entry *e = lookup(m, prefix_hash(path, len), path, len);
		if (e != NULL && (e->ops & op))
			try_entry(m, e, op, path, len, true, &part.best);
	}
	return decision_of(m, &part.best);
}

struct ward_decision
ward_matcher_decide(const struct ward_matcher *m, unsigned int op, const char *path)
{
	if (bucket_match == NULL)
		ward_matcher_simd();
	size_t len = strlen(path);
	if (len == 1)
		len = 0;
	if (len == 0)
		return decide_fully(m, op, "/", 0); /* (globs see "" as the root) */
	const char *last = memrchr(path, '/', len);
	if (last == NULL)
		return decide_fully(m, op, path, len);
	return decide_in_directory(m, op, path, len, (size_t)(last - path), 0);
}

struct ward_decision
ward_matcher_decide_uncached(const struct ward_matcher *m, unsigned int op, const char *path)
{
	if (bucket_match == NULL)
		ward_matcher_simd();
	size_t len = strlen(path);
	if (len == 1)
		len = 0;
	return decide_fully(m, op, len == 0 ? "/" : path, len);
}

struct ward_decision
ward_matcher_decide_known(const struct ward_matcher *m, unsigned int op, const char *path, size_t len, size_t slash,
                          uint64_t dir_key)
{
	if (bucket_match == NULL)
		ward_matcher_simd();
	if (len <= 1)
		return decide_fully(m, op, "/", 0);
	return decide_in_directory(m, op, path, len, slash, dir_key);
}

/* ---- compiling ---- */

/* Where a pattern is filed, and as what. */
static enum item_kind
classify(const char *pattern, size_t *key_len)
{
	size_t len = strlen(pattern);
	if (len == 1) /* "/" */
		len = 0;
	if (strpbrk(pattern, "*?") == NULL) {
		*key_len = len;
		return ITEM_EXACT;
	}
	if (len >= 3 && strcmp(pattern + len - 3, "/**") == 0 && strpbrk(pattern, "*?") == pattern + len - 2) {
		*key_len = len - 3;
		return ITEM_SUBTREE;
	}
	/* the literal components before the first one with a wildcard */
	size_t wild = (size_t)(strpbrk(pattern, "*?") - pattern);
	size_t key = wild;
	while (key > 0 && pattern[key] != '/')
		key--;
	*key_len = key;
	return ITEM_GLOB;
}

struct pending {
	uint64_t hash;
	size_t key_len;
	uint32_t rule;
	uint8_t kind;
};

static int
by_key_then_rule(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static void
insert(struct bucket *bucket, size_t mask, const struct entry *e, uint32_t index)
{
	for (size_t b = e->hash & mask;; b = (b + 1) & mask) {
		for (unsigned int s = 0; s < BUCKET_SLOTS; s++) {
			if (bucket[b].tag[s] == 0) {
				bucket[b].tag[s] = tag_of(e->hash);
				bucket[b].entry[s] = index;
				return;
			}
		}
	}
}

/* A built matcher: the struct, then what it owns, in one allocation each. */
struct built {
	struct ward_matcher m;
	char *pool;                /* every rule's pattern, NUL after each */
	uint32_t *pattern_at;      /* rule i's pattern at pool + pattern_at[i] */
	struct bucket *bucket;
	struct entry *entry;
	struct item *item;
	uint64_t *filter;
	uint64_t key_length[KEY_LENGTHS / 64];
};

static void
built_free(struct built *b)
{
	free(b->filter);
	free(b->pool);
	free(b->pattern_at);
	free(b->bucket);
	free(b->entry);
	free(b->item);
	free(b);
}

struct ward_matcher *
ward_matcher_build(const struct ward_policy *policy)
{
	size_t n = policy->nrules;
	if (n >= UINT32_MAX / 2)
		return NULL;
	struct built *b = calloc(1, sizeof(*b));
	struct pending *pend = calloc(n ? n : 1, sizeof(*pend));
	size_t pool_len = 1; /* offset 0 is the empty string */
	for (size_t i = 0; i < n; i++)
		pool_len += strlen(policy->rule[i].pattern) + 1;
	if (b == NULL || pend == NULL || pool_len > UINT32_MAX) {
		free(pend);
		free(b);
		return NULL;
	}
	struct ward_matcher *m = &b->m;
	m->policy = policy;
	m->kind = MATCHER_BUILT;
	m->serial = new_serial();
	b->pool = malloc(pool_len);
	b->pattern_at = calloc(n ? n : 1, sizeof(uint32_t));
	size_t buckets = 1;
	while (buckets * BUCKET_SLOTS * 3 / 4 < n + 1)
		buckets *= 2;
	b->bucket = aligned_alloc(64, buckets * sizeof(struct bucket));
	b->entry = calloc(n ? n : 1, sizeof(struct entry));
	b->item = calloc(n ? n : 1, sizeof(struct item));
	size_t filter_words = 1; /* about 8 bits per key */
	while (filter_words * 8 < n)
		filter_words *= 2;
	b->filter = calloc(filter_words, sizeof(uint64_t));
	if (b->pool == NULL || b->pattern_at == NULL || b->bucket == NULL || b->entry == NULL || b->item == NULL ||
	    b->filter == NULL) {
		free(pend);
		built_free(b);
		return NULL;
	}
	b->pool[0] = '\0';
	size_t at = 1;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(policy->rule[i].pattern) + 1;
		memcpy(b->pool + at, policy->rule[i].pattern, len);
		b->pattern_at[i] = (uint32_t)at;
		at += len;
	}
	for (size_t i = 0; i < n; i++) {
		size_t key_len;
		pend[i].kind = (uint8_t)classify(policy->rule[i].pattern, &key_len);
		pend[i].key_len = key_len;
		pend[i].hash = prefix_hash(policy->rule[i].pattern, key_len);
		pend[i].rule = (uint32_t)i;
	}
	qsort(pend, n, sizeof(*pend), by_key_then_rule);

	memset(b->bucket, 0, buckets * sizeof(struct bucket));
	uint32_t nentries = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ward_rule *r = &policy->rule[pend[i].rule];
		struct entry *e = nentries ? &b->entry[nentries - 1] : NULL;
		if (e == NULL || e->hash != pend[i].hash || e->key_len != pend[i].key_len ||
		    memcmp(b->pool + e->key, r->pattern, e->key_len) != 0) {
			e = &b->entry[nentries++];
			*e = (struct entry){ pend[i].hash, b->pattern_at[pend[i].rule], (uint32_t)pend[i].key_len,
				             (uint32_t)i, 0, 0 };
		}
		e->count++;
		e->ops |= (uint8_t)r->ops;
		b->item[i] = (struct item){ pend[i].rule, b->pattern_at[pend[i].rule], pend[i].kind, (uint8_t)r->ops,
			                    r->deny, r->quiet };
	}
	for (uint32_t i = 0; i < nentries; i++) {
		insert(b->bucket, buckets - 1, &b->entry[i], i);
		b->filter[filter_word(b->entry[i].hash, filter_words - 1)] |= filter_bits(b->entry[i].hash);
		size_t kl = b->entry[i].key_len; /* prefixes of other lengths are not looked up */
		if (kl >= KEY_LENGTHS)
			kl = KEY_LENGTHS - 1;
		b->key_length[kl / 64] |= 1ull << (kl % 64);
	}
	free(pend);
	m->strings = b->pool;
	m->strings_lo = 0;
	m->strings_hi = (uint32_t)pool_len;
	m->key_length = b->key_length;
	m->filter = b->filter;
	m->filter_mask = filter_words - 1;
	m->bucket = b->bucket;
	m->mask = buckets - 1;
	m->entry = b->entry;
	m->nentries = nentries;
	m->item = b->item;
	m->nitems = (uint32_t)n;
	return m;
}

void
ward_matcher_free(struct ward_matcher *m)
{
	if (m == NULL || m->kind == MATCHER_IMAGE_STORAGE)
		return;
	if (m->kind == MATCHER_IMAGE)
		free(m);
	else
		built_free((struct built *)m);
}

/* The operations every path is allowed for (see match.h). */
static unsigned int
unrestricted_ops(const struct ward_policy *policy)
{
	unsigned int denied = 0, everywhere = policy->default_deny ? 0 : WARD_OP_ALL;
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct ward_rule *r = &policy->rule[i];
		if (r->deny)
			denied |= r->ops;
		else if (strcmp(r->pattern, "/**") == 0)
			everywhere |= r->ops;
	}
	return everywhere & ~denied & WARD_OP_ALL;
}

/* ---- compiled images ----
 *
 * One file, used in place: a process maps it read-only and decides with
 * the arrays where they lie, every string an offset from the image's
 * start.  Loading checks the header alone (magic, version, its checksum,
 * the file's size, every array and the strings inside the file): a few
 * hundred instructions and the pages a decision touches, whatever the
 * policy's size.  The body is trusted no further than the checks made
 * where it is used (see struct ward_matcher): a damaged body can give
 * wrong decisions, never a read outside the mapping.  The image is written
 * by the tree's own launcher (or first process) to a file or sealed memfd
 * the tree may not write.
 *
 * Layout: header | strings (source, log, stats, file names, patterns,
 * a final NUL) | rules | entries | items | filter | buckets. */

#define IMAGE_MAGIC 0x676d697064726177ull /* "wardpimg" */
#define IMAGE_VERSION 4 /* 3: offsets throughout, used in place; 4: the filter */
#define IMAGE_MAX (256u << 20)

struct image {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size;
	uint64_t checksum;           /* prefix_hash of this header with checksum 0 */
	uint32_t strings_lo, strings_hi; /* every string offset; the byte at strings_hi - 1 is a NUL */
	uint32_t source, log, stats; /* string offsets; 0: not set */
	int32_t mode, default_deny, memory_wx_deny, unconfined_exec, backtrace;
	uint64_t limit_memory, limit_children, limit_fds;
	uint32_t nrules, rules_off;  /* struct image_rule; nrules items too */
	uint32_t nentries, entries_off;
	uint32_t items_off;
	uint32_t nbuckets, buckets_off;
	uint32_t nfilter, filter_off; /* words, a power of two */
	uint32_t unrestricted_ops;   /* ward_policy_unrestricted_ops, computed by the writer */
	uint64_t key_length[KEY_LENGTHS / 64];
};

struct image_rule {
	uint32_t ops;
	uint32_t pattern, file;      /* string offsets */
	int32_t line;
	uint8_t deny, quiet, pad[2];
};

/* A loaded image's policy and matcher (match.h's storage holds one). */
struct loaded {
	struct ward_policy policy;
	struct ward_matcher matcher;
};
_Static_assert(sizeof(struct loaded) <= sizeof(struct ward_image_storage), "struct ward_image_storage is too small");
_Static_assert(_Alignof(struct loaded) <= _Alignof(struct ward_image_storage), "struct ward_image_storage is misaligned");

static uint64_t
header_checksum(const struct image *h)
{
	struct image copy;
	memcpy(&copy, h, sizeof(copy));
	copy.checksum = 0;
	return prefix_hash((const char *)&copy, sizeof(copy));
}

struct image_writer {
	char *buf;
	size_t len, cap;
	bool failed;
};

static size_t
put_bytes(struct image_writer *w, const void *data, size_t n, size_t align)
{
	size_t at = (w->len + align - 1) & ~(align - 1);
	if (at + n > w->cap) {
		size_t cap = w->cap ? w->cap : 4096;
		while (cap < at + n)
			cap *= 2;
		char *b = realloc(w->buf, cap);
		if (b == NULL) {
			w->failed = true;
			return 0;
		}
		w->buf = b;
		w->cap = cap;
	}
	memset(w->buf + w->len, 0, at - w->len);
	if (data != NULL)
		memcpy(w->buf + at, data, n);
	else
		memset(w->buf + at, 0, n);
	w->len = at + n;
	return at;
}

static uint32_t
put_string(struct image_writer *w, const char *s)
{
	return s == NULL ? 0 : (uint32_t)put_bytes(w, s, strlen(s) + 1, 1);
}

int
ward_matcher_write_image(const struct ward_matcher *m, const char *source, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return -1;
	int result = ward_matcher_write_image_fd(m, source, fd);
	if (close(fd) != 0)
		result = -1;
	return result;
}

/* The image of a matcher: its pool of patterns copied whole into the
 * strings, so each of its offsets moves by the same amount. */
static int
build_image(const struct ward_matcher *m, const char *source, struct image_writer *w)
{
	const struct ward_policy *p = m->policy;
	const struct built *b = (const struct built *)m;
	if (m->kind != MATCHER_BUILT || p->nrules > UINT32_MAX / sizeof(struct image_rule))
		return -1;
	struct image h = { 0 };
	put_bytes(w, NULL, sizeof(h), 64);
	h.magic = IMAGE_MAGIC;
	h.version = IMAGE_VERSION;
	h.header_size = sizeof(h);
	h.mode = p->mode;
	h.default_deny = p->default_deny;
	h.memory_wx_deny = p->memory_wx_deny;
	h.unconfined_exec = p->unconfined_exec;
	h.backtrace = p->backtrace;
	h.limit_memory = p->limit_memory;
	h.limit_children = p->limit_children;
	h.limit_fds = p->limit_fds;
	h.unrestricted_ops = unrestricted_ops(p);
	memcpy(h.key_length, m->key_length, sizeof(h.key_length));
	h.nrules = (uint32_t)p->nrules;
	h.nentries = m->nentries;
	h.nbuckets = (uint32_t)(m->mask + 1);
	h.nfilter = (uint32_t)(m->filter_mask + 1);

	h.strings_lo = (uint32_t)w->len;
	h.source = put_string(w, source);
	h.log = put_string(w, p->log);
	h.stats = put_string(w, p->stats);
	uint32_t *file_at = calloc(p->nfiles ? p->nfiles : 1, sizeof(uint32_t));
	if (file_at == NULL)
		return -1;
	for (size_t i = 0; i < p->nfiles; i++)
		file_at[i] = put_string(w, p->files[i]);
	uint32_t pool = (uint32_t)put_bytes(w, b->pool, m->strings_hi, 1);
	put_bytes(w, "", 1, 1); /* the strings end in a NUL whatever they hold */
	h.strings_hi = (uint32_t)w->len;

	h.rules_off = (uint32_t)put_bytes(w, NULL, p->nrules * sizeof(struct image_rule), 8);
	h.entries_off = (uint32_t)put_bytes(w, NULL, m->nentries * sizeof(struct entry), 8);
	h.items_off = (uint32_t)put_bytes(w, NULL, m->nitems * sizeof(struct item), 8);
	h.filter_off = (uint32_t)put_bytes(w, m->filter, h.nfilter * sizeof(uint64_t), 8);
	h.buckets_off = (uint32_t)put_bytes(w, m->bucket, h.nbuckets * sizeof(struct bucket), 64);
	if (!w->failed && w->len > IMAGE_MAX)
		w->failed = true;
	if (!w->failed) {
		struct image_rule *rule = (struct image_rule *)(w->buf + h.rules_off);
		for (size_t i = 0; i < p->nrules; i++) {
			const struct ward_rule *r = &p->rule[i];
			uint32_t file = 0;
			for (size_t k = 0; k < p->nfiles; k++)
				if (r->file == p->files[k])
					file = file_at[k];
			rule[i] = (struct image_rule){ r->ops, pool + b->pattern_at[i], file, r->line, r->deny, r->quiet, { 0 } };
		}
		struct entry *entry = (struct entry *)(w->buf + h.entries_off);
		for (size_t i = 0; i < m->nentries; i++) {
			entry[i] = m->entry[i];
			entry[i].key += pool;
		}
		struct item *item = (struct item *)(w->buf + h.items_off);
		for (size_t i = 0; i < m->nitems; i++) {
			item[i] = m->item[i];
			item[i].pattern += pool;
		}
		h.size = w->len;
		h.checksum = header_checksum(&h);
		memcpy(w->buf, &h, sizeof(h));
	}
	free(file_at);
	return w->failed ? -1 : 0;
}

int
ward_matcher_write_image_fd(const struct ward_matcher *m, const char *source, int fd)
{
	struct image_writer w = { 0 };
	int result = build_image(m, source, &w);
	for (size_t done = 0; result == 0 && done < w.len;) {
		ssize_t n = write(fd, w.buf + done, w.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			result = -1;
		else
			done += (size_t)n;
	}
	free(w.buf);
	return result;
}

/* A string at off in the image, or NULL (the strings end in a NUL, checked
 * once, so any offset inside them starts a terminated string). */
static const char *
image_string(const char *base, const struct image *h, uint32_t off)
{
	return (off >= h->strings_lo && off < h->strings_hi) ? base + off : NULL;
}

static bool
image_array(const struct image *h, uint32_t off, uint32_t count, size_t each, size_t align)
{
	return off >= h->header_size && off % align == 0 && off <= h->size && count <= (h->size - off) / each;
}

/* The header of a mapping of size bytes, checked; NULL if anything is off. */
static const struct image *
image_header(const char *buf, size_t size, const char *source)
{
	const struct image *h = (const struct image *)buf;
	bool ok = size >= sizeof(*h) && h->magic == IMAGE_MAGIC && h->version == IMAGE_VERSION &&
	          h->header_size == sizeof(*h) && h->size == size && h->checksum == header_checksum(h);
	ok = ok && h->strings_lo >= sizeof(*h) && h->strings_lo < h->strings_hi && h->strings_hi <= size &&
	     buf[h->strings_hi - 1] == '\0';
	const char *src = ok ? image_string(buf, h, h->source) : NULL;
	ok = ok && src != NULL && strcmp(src, source) == 0 && (h->log == 0 || image_string(buf, h, h->log)) &&
	     (h->stats == 0 || image_string(buf, h, h->stats));
	ok = ok && h->mode >= WARD_MODE_ENFORCE && h->mode <= WARD_MODE_KILL &&
	     h->unconfined_exec >= WARD_UNCONFINED_DENY && h->unconfined_exec <= WARD_UNCONFINED_ALLOW;
	ok = ok && h->nbuckets > 0 && (h->nbuckets & (h->nbuckets - 1)) == 0 && h->nfilter > 0 &&
	     (h->nfilter & (h->nfilter - 1)) == 0 && image_array(h, h->filter_off, h->nfilter, sizeof(uint64_t), 8) &&
	     image_array(h, h->rules_off, h->nrules, sizeof(struct image_rule), 4) &&
	     image_array(h, h->entries_off, h->nentries, sizeof(struct entry), 8) &&
	     image_array(h, h->items_off, h->nrules, sizeof(struct item), 4) &&
	     image_array(h, h->buckets_off, h->nbuckets, sizeof(struct bucket), 64);
	return ok ? h : NULL;
}

static void
image_fill(const char *buf, const struct image *h, struct ward_policy *p, struct ward_matcher *m)
{
	*p = (struct ward_policy){
		.mode = (enum ward_mode)h->mode,
		.default_deny = h->default_deny,
		.nrules = h->nrules,
		.limit_memory = h->limit_memory,
		.limit_children = h->limit_children,
		.limit_fds = h->limit_fds,
		.memory_wx_deny = h->memory_wx_deny,
		.unconfined_exec = (enum ward_exec_rule)h->unconfined_exec,
		.log = (char *)(h->log ? buf + h->log : NULL),
		.stats = (char *)(h->stats ? buf + h->stats : NULL),
		.backtrace = h->backtrace,
		.image = (void *)buf,
		.image_size = h->size,
	};
	*m = (struct ward_matcher){
		.policy = p,
		.strings = buf,
		.strings_lo = h->strings_lo,
		.strings_hi = h->strings_hi,
		.key_length = h->key_length,
		.filter = (const uint64_t *)(buf + h->filter_off),
		.filter_mask = h->nfilter - 1,
		.bucket = (const struct bucket *)(buf + h->buckets_off),
		.mask = h->nbuckets - 1,
		.entry = (const struct entry *)(buf + h->entries_off),
		.nentries = h->nentries,
		.item = (const struct item *)(buf + h->items_off),
		.nitems = h->nrules,
		.serial = new_serial(),
	};
}

/* The image's file mapped read-only, its header checked; NULL on any doubt. */
static const struct image *
image_map(const char *path, const char *source)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct image) || st.st_size > (off_t)IMAGE_MAX) {
		close(fd);
		return NULL;
	}
	char *buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (buf == MAP_FAILED)
		return NULL;
	const struct image *h = image_header(buf, (size_t)st.st_size, source);
	if (h == NULL)
		munmap(buf, (size_t)st.st_size);
	return h;
}

struct ward_matcher *
ward_matcher_map_image(const char *path, const char *source, struct ward_image_storage *storage,
                       struct ward_policy **policy_out)
{
	const struct image *h = image_map(path, source);
	if (h == NULL)
		return NULL;
	struct loaded *l = (struct loaded *)storage;
	image_fill((const char *)h, h, &l->policy, &l->matcher);
	l->policy.image_in_storage = true;
	l->matcher.kind = MATCHER_IMAGE_STORAGE;
	*policy_out = &l->policy;
	return &l->matcher;
}

struct ward_matcher *
ward_matcher_load_image(const char *path, const char *source, struct ward_policy **policy_out)
{
	struct ward_policy *p = calloc(1, sizeof(*p));
	struct ward_matcher *m = calloc(1, sizeof(*m));
	const struct image *h = p != NULL && m != NULL ? image_map(path, source) : NULL;
	if (h == NULL) {
		free(p);
		free(m);
		return NULL;
	}
	image_fill((const char *)h, h, p, m);
	m->kind = MATCHER_IMAGE;
	*policy_out = p;
	return m;
}

unsigned int
ward_policy_unrestricted_ops(const struct ward_policy *policy)
{
	if (policy->image != NULL) { /* the writer's answer: no walk over the rules at every start */
		const struct image *h = policy->image;
		return h->unrestricted_ops & WARD_OP_ALL;
	}
	return unrestricted_ops(policy);
}

struct ward_rule
ward_policy_rule(const struct ward_policy *policy, size_t i)
{
	if (policy->image == NULL)
		return policy->rule[i];
	const char *base = policy->image;
	const struct image *h = policy->image;
	const struct image_rule *r = (const struct image_rule *)(base + h->rules_off) + i;
	const char *pattern = image_string(base, h, r->pattern), *file = image_string(base, h, r->file);
	return (struct ward_rule){ .ops = r->ops & WARD_OP_ALL, .deny = r->deny, .quiet = r->quiet,
		                   .pattern = (char *)(pattern ? pattern : "/"), .file = file ? file : "?",
		                   .line = r->line };
}
