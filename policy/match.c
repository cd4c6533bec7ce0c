/*
 * match.c: compiling a policy into the prefix table, and deciding.
 * See match.h for the design.
 */
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
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

enum item_kind { ITEM_EXACT, ITEM_SUBTREE, ITEM_GLOB };

struct item {
	uint32_t rule;  /* index in policy order */
	uint8_t kind;
	uint8_t ops;
	uint8_t deny;
};

struct entry {
	uint64_t hash;
	const char *key;  /* points into the rule's pattern */
	uint32_t key_len;
	uint32_t first;   /* items[first .. first + count), in rule order */
	uint32_t count;
	uint8_t ops;      /* union of the items' ops: skip at a glance */
};

struct bucket {
	uint32_t tag[BUCKET_SLOTS];   /* 0 = empty */
	uint32_t entry[BUCKET_SLOTS];
} __attribute__((aligned(64)));

#define KEY_LENGTHS 4096 /* a bit per key length: prefixes of other lengths hold no rules */

struct ward_matcher {
	const struct ward_policy *policy;
	bool in_image;     /* bucket, entry and item live in the policy's image */
	uint64_t key_length[KEY_LENGTHS / 64];
	struct bucket *bucket;
	size_t mask;       /* buckets - 1 */
	struct entry *entry;
	size_t nentries;
	struct item *item;
};

static uint64_t
fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

static uint32_t
tag_of(uint64_t hash)
{
	return (uint32_t)(hash >> 32) | 1;
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

static const struct entry *
lookup(const struct ward_matcher *m, uint64_t hash, const char *key, size_t key_len)
{
	uint32_t tag = tag_of(hash);
	for (size_t b = hash & m->mask;; b = (b + 1) & m->mask) {
		unsigned int empty;
		unsigned int hits = bucket_match(&m->bucket[b], tag, &empty);
		while (hits) {
			const struct entry *e = &m->entry[m->bucket[b].entry[__builtin_ctz(hits)]];
			if (e->hash == hash && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
				return e;
			hits &= hits - 1;
		}
		if (empty)
			return NULL;
	}
}

/* Test the rules filed under one prefix; keep the first deny and allow. */
static void
try_entry(const struct ward_matcher *m, const struct entry *e, unsigned int op, const char *path,
          bool whole_path, int *deny, int *allow)
{
	for (uint32_t i = e->first; i < e->first + e->count; i++) {
		const struct item *it = &m->item[i];
		if (!(it->ops & op))
			continue;
		int *best = it->deny ? deny : allow;
		if (*best >= 0 && *best < (int)it->rule)
			continue;
		bool hit = it->kind == ITEM_SUBTREE ||
		           (it->kind == ITEM_EXACT && whole_path) ||
		           (it->kind == ITEM_GLOB && ward_glob_match(m->policy->rule[it->rule].pattern, path));
		if (hit)
			*best = (int)it->rule;
	}
}

struct ward_decision
ward_matcher_decide(const struct ward_matcher *m, unsigned int op, const char *path)
{
	const struct ward_policy *p = m->policy;
	int deny = -1, allow = -1;
	if (bucket_match == NULL)
		ward_matcher_simd();
	/* Prefixes "" (the root), "/a", "/a/b", ... and the whole path; the
	 * root path "/" has only the first. */
	uint64_t h = FNV_OFFSET;
	size_t len = strlen(path);
	if (len == 1)
		len = 0;
	for (size_t i = 0;;) { /* i: a prefix's length, at a '/' or the end; h: its hash */
		if (i < KEY_LENGTHS && (m->key_length[i / 64] >> (i % 64)) & 1) {
			const struct entry *e = lookup(m, h, path, i);
			if (e != NULL && (e->ops & op))
				try_entry(m, e, op, len ? path : "/", i == len, &deny, &allow);
		}
		if (i >= len)
			break;
		do /* the next component, its '/' first */
			h = (h ^ (unsigned char)path[i++]) * FNV_PRIME;
		while (i < len && path[i] != '/');
	}
	if (deny >= 0)
		return (struct ward_decision){ false, p->rule[deny].quiet, deny };
	if (allow >= 0)
		return (struct ward_decision){ true, false, allow };
	return (struct ward_decision){ !p->default_deny, false, -1 };
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
insert(struct ward_matcher *m, uint32_t index)
{
	const struct entry *e = &m->entry[index];
	for (size_t b = e->hash & m->mask;; b = (b + 1) & m->mask) {
		for (unsigned int s = 0; s < BUCKET_SLOTS; s++) {
			if (m->bucket[b].tag[s] == 0) {
				m->bucket[b].tag[s] = tag_of(e->hash);
				m->bucket[b].entry[s] = index;
				return;
			}
		}
	}
}

struct ward_matcher *
ward_matcher_build(const struct ward_policy *policy)
{
	size_t n = policy->nrules;
	struct ward_matcher *m = calloc(1, sizeof(*m));
	struct pending *pend = calloc(n ? n : 1, sizeof(*pend));
	m = m && pend ? m : NULL;
	if (m == NULL) {
		free(pend);
		return NULL;
	}
	m->policy = policy;
	for (size_t i = 0; i < n; i++) {
		size_t key_len;
		pend[i].kind = (uint8_t)classify(policy->rule[i].pattern, &key_len);
		pend[i].key_len = key_len;
		pend[i].hash = fnv(FNV_OFFSET, policy->rule[i].pattern, key_len);
		pend[i].rule = (uint32_t)i;
	}
	qsort(pend, n, sizeof(*pend), by_key_then_rule);

	size_t buckets = 1;
	while (buckets * BUCKET_SLOTS * 3 / 4 < n + 1)
		buckets *= 2;
	m->mask = buckets - 1;
	m->bucket = aligned_alloc(64, buckets * sizeof(struct bucket));
	m->entry = calloc(n ? n : 1, sizeof(struct entry));
	m->item = calloc(n ? n : 1, sizeof(struct item));
	if (m->bucket == NULL || m->entry == NULL || m->item == NULL) {
		free(pend);
		ward_matcher_free(m);
		return NULL;
	}
	memset(m->bucket, 0, buckets * sizeof(struct bucket));
	for (size_t i = 0; i < n; i++) {
		const struct ward_rule *r = &policy->rule[pend[i].rule];
		struct entry *e = m->nentries ? &m->entry[m->nentries - 1] : NULL;
		if (e == NULL || e->hash != pend[i].hash || e->key_len != pend[i].key_len ||
		    memcmp(e->key, r->pattern, e->key_len) != 0) {
			e = &m->entry[m->nentries++];
			*e = (struct entry){ pend[i].hash, r->pattern, (uint32_t)pend[i].key_len, (uint32_t)i, 0, 0 };
		}
		e->count++;
		e->ops |= (uint8_t)r->ops;
		m->item[i] = (struct item){ pend[i].rule, pend[i].kind, (uint8_t)r->ops, r->deny };
	}
	for (size_t i = 0; i < m->nentries; i++) {
		insert(m, (uint32_t)i);
		size_t kl = m->entry[i].key_len; /* prefixes of other lengths are not looked up */
		if (kl < KEY_LENGTHS)
			m->key_length[kl / 64] |= 1ull << (kl % 64);
	}
	free(pend);
	return m;
}

void
ward_matcher_free(struct ward_matcher *m)
{
	if (m == NULL)
		return;
	if (m->in_image) {
		free(m);
		return;
	}
	free(m->bucket);
	free(m->entry);
	free(m->item);
	free(m);
}

/* ---- compiled images ---- */

#define IMAGE_MAGIC 0x676d697064726177ull /* "wardpimg" */
#define IMAGE_VERSION 1

struct image {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t size;
	uint64_t source_off;
	int32_t mode, default_deny, memory_wx_deny, unconfined_exec, backtrace, pad;
	uint64_t limit_memory, limit_children, limit_fds;
	uint64_t log_off, stats_off; /* 0: not set */
	uint64_t nrules, rules_off;  /* struct ward_rule, pattern and file as offsets */
	uint64_t nfiles, files_off;  /* uint64_t offsets */
	uint64_t nentries, entries_off; /* struct entry, key as an offset */
	uint64_t items_off;          /* nrules struct item */
	uint64_t nbuckets, buckets_off;
	uint64_t pool_off;           /* every string lies in [pool_off, size), which ends in a NUL */
	uint64_t key_length[KEY_LENGTHS / 64];
};

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

static uint64_t
put_string(struct image_writer *w, const char *s)
{
	return s == NULL ? 0 : put_bytes(w, s, strlen(s) + 1, 1);
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

int
ward_matcher_write_image_fd(const struct ward_matcher *m, const char *source, int fd)
{
	const struct ward_policy *p = m->policy;
	struct image_writer w = { 0 };
	struct image h = { 0 };
	put_bytes(&w, NULL, sizeof(h), 64);
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
	memcpy(h.key_length, m->key_length, sizeof(h.key_length));
	h.nrules = p->nrules;
	h.nfiles = p->nfiles;
	h.nentries = m->nentries;
	h.nbuckets = m->mask + 1;
	h.rules_off = put_bytes(&w, p->rule, p->nrules * sizeof(struct ward_rule), 8);
	h.files_off = put_bytes(&w, NULL, p->nfiles * sizeof(uint64_t), 8);
	h.entries_off = put_bytes(&w, m->entry, m->nentries * sizeof(struct entry), 8);
	h.items_off = put_bytes(&w, m->item, p->nrules * sizeof(struct item), 8);
	h.buckets_off = put_bytes(&w, m->bucket, h.nbuckets * sizeof(struct bucket), 64);
	/* strings, then the pointers in the copies become offsets */
	h.pool_off = w.len;
	uint64_t *pattern_off = calloc(p->nrules ? p->nrules : 1, sizeof(uint64_t));
	uint64_t *file_off = calloc(p->nfiles ? p->nfiles : 1, sizeof(uint64_t));
	if (pattern_off == NULL || file_off == NULL)
		w.failed = true;
	for (size_t i = 0; !w.failed && i < p->nrules; i++)
		pattern_off[i] = put_string(&w, p->rule[i].pattern);
	for (size_t i = 0; !w.failed && i < p->nfiles; i++)
		file_off[i] = put_string(&w, p->files[i]);
	h.source_off = put_string(&w, source);
	h.log_off = put_string(&w, p->log);
	h.stats_off = put_string(&w, p->stats);
	if (!w.failed) {
		struct ward_rule *rule = (struct ward_rule *)(w.buf + h.rules_off);
		for (size_t i = 0; i < p->nrules; i++) {
			rule[i].pattern = (char *)(uintptr_t)pattern_off[i];
			uint64_t f = 0;
			for (size_t k = 0; k < p->nfiles; k++)
				if (p->rule[i].file == p->files[k])
					f = file_off[k];
			rule[i].file = (const char *)(uintptr_t)f;
		}
		memcpy(w.buf + h.files_off, file_off, p->nfiles * sizeof(uint64_t));
		struct entry *entry = (struct entry *)(w.buf + h.entries_off);
		for (size_t i = 0; i < m->nentries; i++)
			entry[i].key = (const char *)(uintptr_t)pattern_off[m->item[m->entry[i].first].rule];
		put_bytes(&w, "", 1, 1); /* the pool ends in a NUL whatever it holds */
		h.size = w.len;
		memcpy(w.buf, &h, sizeof(h));
	}
	free(pattern_off);
	free(file_off);
	int result = w.failed ? -1 : 0;
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

/* A string at off in the image's pool, or NULL.  The pool ends in a NUL
 * (checked once), so any offset inside it starts a terminated string. */
static const char *
image_string(const char *base, const struct image *h, uint64_t off)
{
	return (off >= h->pool_off && off < h->size) ? base + off : NULL;
}

static bool
image_array(const struct image *h, uint64_t off, uint64_t count, size_t each)
{
	return off <= h->size && count <= (h->size - off) / (each ? each : 1);
}

struct ward_matcher *
ward_matcher_load_image(const char *path, const char *source, struct ward_policy **policy_out)
{
	/* Read in one go into memory mapped with MAP_POPULATE: the kernel
	 * provides every page at once, and the fix-ups then write without a
	 * page fault each (faults are what loading costs, not instructions). */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct image) || st.st_size > (256 << 20)) {
		close(fd);
		return NULL;
	}
	char *buf = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
	                 -1, 0);
	if (buf != MAP_FAILED && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		munmap(buf, (size_t)st.st_size);
		buf = MAP_FAILED;
	}
	close(fd);
	if (buf == MAP_FAILED)
		return NULL;
	struct image h;
	memcpy(&h, buf, sizeof(h));
	bool ok = h.magic == IMAGE_MAGIC && h.version == IMAGE_VERSION && h.header_size == sizeof(h) &&
	          h.size == (uint64_t)st.st_size;
	ok = ok && h.pool_off >= sizeof(h) && h.pool_off < h.size && buf[h.size - 1] == '\0';
	const char *src = ok ? image_string(buf, &h, h.source_off) : NULL;
	ok = ok && src != NULL && strcmp(src, source) == 0 && h.nbuckets > 0 && (h.nbuckets & (h.nbuckets - 1)) == 0 &&
	     h.buckets_off % 64 == 0 && image_array(&h, h.rules_off, h.nrules, sizeof(struct ward_rule)) &&
	     image_array(&h, h.files_off, h.nfiles, sizeof(uint64_t)) &&
	     image_array(&h, h.entries_off, h.nentries, sizeof(struct entry)) &&
	     image_array(&h, h.items_off, h.nrules, sizeof(struct item)) &&
	     image_array(&h, h.buckets_off, h.nbuckets, sizeof(struct bucket));
	struct ward_policy *p = ok ? calloc(1, sizeof(*p)) : NULL;
	struct ward_matcher *m = p ? calloc(1, sizeof(*m)) : NULL;
	if (p != NULL)
		p->files = calloc(h.nfiles ? h.nfiles : 1, sizeof(char *));
	ok = ok && m != NULL && p->files != NULL;
	if (ok) {
		p->image = buf;
		p->mode = (enum ward_mode)h.mode;
		p->default_deny = h.default_deny;
		p->memory_wx_deny = h.memory_wx_deny;
		p->unconfined_exec = (enum ward_exec_rule)h.unconfined_exec;
		p->backtrace = h.backtrace;
		p->limit_memory = h.limit_memory;
		p->limit_children = h.limit_children;
		p->limit_fds = h.limit_fds;
		p->log = (char *)image_string(buf, &h, h.log_off);
		p->stats = (char *)image_string(buf, &h, h.stats_off);
		p->nrules = h.nrules;
		p->rule = (struct ward_rule *)(buf + h.rules_off);
		p->nfiles = h.nfiles;
		const uint64_t *file_off = (const uint64_t *)(buf + h.files_off);
		for (size_t i = 0; ok && i < h.nfiles; i++)
			ok = (p->files[i] = (char *)image_string(buf, &h, file_off[i])) != NULL;
		for (size_t i = 0; ok && i < h.nrules; i++) {
			struct ward_rule *r = &p->rule[i];
			r->pattern = (char *)image_string(buf, &h, (uintptr_t)r->pattern);
			r->file = image_string(buf, &h, (uintptr_t)r->file);
			ok = r->pattern != NULL && r->file != NULL;
		}
		m->policy = p;
		m->in_image = true;
		memcpy(m->key_length, h.key_length, sizeof(m->key_length));
		m->bucket = (struct bucket *)(buf + h.buckets_off);
		m->mask = h.nbuckets - 1;
		m->entry = (struct entry *)(buf + h.entries_off);
		m->nentries = h.nentries;
		m->item = (struct item *)(buf + h.items_off);
		for (size_t i = 0; ok && i < h.nentries; i++) {
			struct entry *e = &m->entry[i];
			e->key = image_string(buf, &h, (uintptr_t)e->key);
			ok = e->key != NULL && e->first <= h.nrules && e->count <= h.nrules - e->first &&
			     e->key_len < h.size - (uint64_t)(e->key - buf);
		}
		for (size_t i = 0; ok && i < h.nrules; i++)
			ok = m->item[i].rule < h.nrules;
		for (size_t b = 0; ok && b < h.nbuckets; b++)
			for (unsigned int k = 0; ok && k < BUCKET_SLOTS; k++)
				ok = m->bucket[b].tag[k] == 0 || m->bucket[b].entry[k] < h.nentries;
	}
	if (!ok) {
		free(m);
		if (p != NULL) {
			free(p->files);
			free(p);
		}
		munmap(buf, (size_t)st.st_size);
		return NULL;
	}
	p->image_size = (size_t)st.st_size;
	*policy_out = p;
	return m;
}
