#define _GNU_SOURCE
/*
 * path.c: lexical folding and kernel-like resolution.  See path.h.
 *
 * Resolution keeps two strings: the resolved directory so far (out) and
 * what is left to walk (rest, in the caller's scratch: programs clone with
 * small stacks, so nothing big lives on ours).  A symlink's target replaces the component in rest.
 */
#define _GNU_SOURCE
#include "path.h"
#include "exact.h"
#include "syscall.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#include <sys/platform/x86.h>
#endif

/* Append component c (n bytes) to the absolute path out of length *len. */
static bool
push(char *out, size_t *len, const char *c, size_t n)
{
	if (*len + 1 + n >= WARD_NAME_MAX)
		return false;
	if (!(*len == 1 && out[0] == '/')) /* the root already ends in a slash */
		out[(*len)++] = '/';
	memcpy(out + *len, c, n);
	*len += n;
	out[*len] = '\0';
	return true;
}

static void
pop(char *out, size_t *len)
{
	while (*len > 1 && out[*len - 1] != '/')
		(*len)--;
	if (*len > 1)
		(*len)--; /* the slash before the removed component */
	out[*len] = '\0';
}

static void
set_root(char *out, size_t *len)
{
	out[0] = '/';
	out[1] = '\0';
	*len = 1;
}

static bool
start(const char *base, const char *path, char *out, size_t *len)
{
	if (path[0] == '/' || base == NULL) {
		set_root(out, len);
		return true;
	}
	*len = strlen(base);
	if (*len >= WARD_NAME_MAX)
		return false;
	memcpy(out, base, *len + 1);
	return true;
}

/* The bytes of an 8-byte word that are '/': 0x80 in each, exactly (no
 * borrow crosses bytes). */
static inline uint64_t
slash_bytes(uint64_t word)
{
	const uint64_t ones = 0x0101010101010101ull, low7 = ones * 0x7f;
	uint64_t x = word ^ (ones * '/');
	return ~(((x & low7) + low7) | x) & (ones * 0x80);
}

/* The component after the '/' at c[-1] is "", "." or ".." (c[0] is not
 * past the terminating NUL). */
static inline bool
bad_component(const char *c)
{
	if ((unsigned char)c[0] > '/') /* '.', '/' and NUL are all below: the common case */
		return false;
	return *c == '/' || *c == '\0' ||
	       (c[0] == '.' && (c[1] == '/' || c[1] == '\0' || (c[1] == '.' && (c[2] == '/' || c[2] == '\0'))));
}

/* One pass, 8 bytes at a time: every '/' is found in the words (loads stay
 * inside the string) and the component after it checked. */
size_t
ward_path_normal_by_words(const char *path, size_t *last_slash)
{
	if (path[0] != '/')
		return 0;
	size_t len = strlen(path);
	if (len == 1) {
		*last_slash = 0;
		return 1;
	}
	size_t at = 0, last = 0;
	if (len < 8) {
		for (; at < len; at++)
			if (path[at] == '/') {
				last = at;
				if (bad_component(path + at + 1))
					return 0;
			}
		*last_slash = last;
		return len;
	}
	/* whole words, then the last 8 bytes again, less those already seen */
	for (size_t end = len - 8;; at += 8) {
		uint64_t word, slashes;
		size_t from = at <= end ? at : end;
		memcpy(&word, path + from, sizeof(word));
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
		word = __builtin_bswap64(word);
#endif
		slashes = slash_bytes(word);
		if (from < at)
			slashes &= ~0ull << (8 * (at - from));
		for (; slashes != 0; slashes &= slashes - 1) {
			last = from + (size_t)__builtin_ctzll(slashes) / 8;
			if (bad_component(path + last + 1))
				return 0;
		}
		if (at + 8 >= len)
			break;
	}
	*last_slash = last;
	return len;
}

#if defined(__SSE2__)
/* 16 bytes at a time, the length found in the same pass (no strlen): the
 * loads are aligned, so none crosses into a page the string does not
 * touch, though a block may hold bytes before the path or after its NUL
 * (masked off here: what glibc's own strlen does, which is why the
 * sanitizer is told to look away).  A bad component starts with a '/'
 * before a '/', a '.' or the end; only those slashes (a dot-file's,
 * mostly) are looked at closer.  ('.' and '/' are 0x2e and 0x2f: with its
 * low bit set, either is '/'.) */
__attribute__((no_sanitize_address)) size_t
ward_path_normal_sse2(const char *path, size_t *last_slash)
{
	if (path[0] != '/')
		return 0;
	if (path[1] == '\0') {
		*last_slash = 0;
		return 1;
	}
	const __m128i slash = _mm_set1_epi8('/'), one = _mm_set1_epi8(1), zero = _mm_setzero_si128();
	size_t skip = (uintptr_t)path & 15;
	const char *block = path - skip;
	uint32_t valid = 0xffffu << skip, carry = 0; /* carry: the byte before the block is a '/' */
	size_t last = 0;
	for (;; block += 16, valid = 0xffff) {
		__m128i v = _mm_load_si128((const __m128i *)(const void *)block);
		uint32_t nul = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) & valid;
		uint32_t upto = nul != 0 ? (nul & -nul) - 1 : 0xffff; /* the bytes before the NUL */
		uint32_t slashes = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, slash)) & valid & upto;
		uint32_t dot_or_slash = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(v, one), slash));
		/* after a '/': a '.', a '/' or the end */
		for (uint32_t suspect = ((slashes << 1) | carry) & ((dot_or_slash & valid & upto) | (nul & -nul));
		     suspect != 0; suspect &= suspect - 1)
			if (bad_component(block + __builtin_ctz(suspect)))
				return 0;
		carry = slashes >> 15;
		if (slashes != 0)
			last = (size_t)(block - path) + 31 - (size_t)__builtin_clz(slashes);
		if (nul != 0) {
			*last_slash = last;
			return (size_t)(block - path) + (size_t)__builtin_ctz(nul);
		}
	}
}

#if defined(__x86_64__)
/* The same 32 bytes at a time where the CPU has AVX2 (chosen at the first
 * call): a path of 17-48 bytes is one or two blocks instead of two or
 * three.  Identical answers (tests compare the three ways). */
__attribute__((no_sanitize_address, target("avx2"))) size_t
ward_path_normal_avx2(const char *path, size_t *last_slash)
{
	if (path[0] != '/')
		return 0;
	if (path[1] == '\0') {
		*last_slash = 0;
		return 1;
	}
	const __m256i slash = _mm256_set1_epi8('/'), one = _mm256_set1_epi8(1), zero = _mm256_setzero_si256();
	size_t skip = (uintptr_t)path & 31;
	const char *block = path - skip;
	uint32_t valid = 0xffffffffu << skip, carry = 0; /* carry: the byte before the block is a '/' */
	size_t last = 0;
	for (;; block += 32, valid = 0xffffffffu) {
		__m256i v = _mm256_load_si256((const __m256i *)(const void *)block);
		uint32_t nul = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, zero)) & valid;
		uint32_t upto = nul != 0 ? (nul & -nul) - 1 : 0xffffffffu; /* the bytes before the NUL */
		uint32_t slashes = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, slash)) & valid & upto;
		uint32_t dot_or_slash = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_or_si256(v, one), slash));
		for (uint32_t suspect = ((slashes << 1) | carry) & ((dot_or_slash & valid & upto) | (nul & -nul));
		     suspect != 0; suspect &= suspect - 1)
			if (bad_component(block + __builtin_ctz(suspect)))
				return 0;
		carry = slashes >> 31;
		if (slashes != 0)
			last = (size_t)(block - path) + 31 - (size_t)__builtin_clz(slashes);
		if (nul != 0) {
			*last_slash = last;
			return (size_t)(block - path) + (size_t)__builtin_ctz(nul);
		}
	}
}

static int normal_way; /* 0: not chosen yet, 1: SSE2, 2: AVX2 */

static __attribute__((noinline)) int
choose_normal_way(void)
{
	int way = CPU_FEATURE_ACTIVE(AVX2) ? 2 : 1;
	__atomic_store_n(&normal_way, way, __ATOMIC_RELAXED);
	return way;
}

size_t
ward_path_normal(const char *path, size_t *last_slash)
{
	int way = __atomic_load_n(&normal_way, __ATOMIC_RELAXED);
	if (__builtin_expect(way == 0, 0))
		way = choose_normal_way();
	return way == 2 ? ward_path_normal_avx2(path, last_slash) : ward_path_normal_sse2(path, last_slash);
}
#else
size_t
ward_path_normal(const char *path, size_t *last_slash)
{
	return ward_path_normal_sse2(path, last_slash);
}
#endif
#else
size_t
ward_path_normal(const char *path, size_t *last_slash)
{
	return ward_path_normal_by_words(path, last_slash);
}
#endif

size_t
ward_path_normal_length(const char *path)
{
	size_t last_slash;
	return ward_path_normal(path, &last_slash);
}

bool
ward_path_lexical(const char *base, const char *path, char *out)
{
	size_t len = ward_path_normal_length(path);
	if (len > 0 && len < WARD_NAME_MAX) {
		memcpy(out, path, len + 1);
		return true;
	}
	if (!start(base, path, out, &len))
		return false;
	for (const char *s = path; *s;) {
		while (*s == '/')
			s++;
		size_t n = strcspn(s, "/");
		if (n == 0)
			break;
		if (n == 2 && s[0] == '.' && s[1] == '.')
			pop(out, &len);
		else if (!(n == 1 && s[0] == '.') && !push(out, &len, s, n))
			return false;
		s += n;
	}
	return true;
}

/* The magic link at link (/proc/self/cwd, /proc/PID/fd/N) leads to a name
 * longer than /proc gives: when it is a directory, its name walked up by
 * ".." takes the link's place in rest, before what is left to walk (s,
 * inside rest).  False when it cannot be told (a file has no ".."). */
static bool
deep_link_target(char *link, const char *s, struct ward_path_scratch *scratch)
{
	char *rest = scratch->rest;
	size_t tail = strlen(s), room = sizeof(scratch->rest) - tail - 1;
	memmove(rest + room, s, tail + 1); /* what is left, to the end */
	long fd = ward_exact_call(SYS_openat, link, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, 0);
	if (fd < 0)
		return false;
	int err = ward_exact_name((int)fd, rest, room, scratch->entries, sizeof(scratch->entries));
	ward_syscall(SYS_close, fd);
	if (err != 0)
		return false;
	memmove(rest + strlen(rest), rest + room, tail + 1);
	return true;
}

int
ward_path_resolve(const char *base, const char *path, bool follow_last, char *out,
                  struct ward_path_scratch *scratch)
{
	char *rest = scratch->rest, *target = scratch->target;
	size_t len, links = 0;
	if (strlen(path) >= WARD_NAME_MAX)
		return ENAMETOOLONG;
	if (!start(base, path, out, &len))
		return ENAMETOOLONG;
	strcpy(rest, path);
	scratch->via_proc = false;
	char *s = rest;
	bool exists = true; /* false once a component is missing: fold the rest */
	int missing = 0;    /* why it is missing */
	bool unchecked = false; /* out's last component was walked, but is it a directory? */
	while (*s) {
		while (*s == '/')
			s++;
		size_t n = strcspn(s, "/");
		if (n == 0)
			break;
		bool last = s[n + strspn(s + n, "/")] == '\0';
		if (n == 1 && s[0] == '.') {
			s += n;
			continue;
		}
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			/* ".." applies to a directory: the kernel says ENOENT after a
			 * missing component, ENOTDIR after a file (a lexical fold would
			 * make "missing/../f" name f) */
			struct stat st;
			if (!exists)
				return missing;
			if (unchecked && ward_exact_call(SYS_newfstatat, out, (long)&st, 0, 0) != 0)
				return errno == ENOTDIR ? ENOTDIR : ENOENT;
			if (unchecked && !S_ISDIR(st.st_mode))
				return ENOTDIR;
			unchecked = false;
			pop(out, &len);
			s += n;
			continue;
		}
		size_t before = len;
		if (!push(out, &len, s, n))
			return ENAMETOOLONG;
		s += n;
		if (!exists || (last && !follow_last))
			continue;
		long got = ward_exact_call(SYS_readlinkat, out, (long)target, WARD_PATH_MAX - 1, 0);
		if (got < 0 && errno == ENAMETOOLONG) { /* a magic link to a name longer than a page */
			if (++links > WARD_PATH_MAX_LINKS || !deep_link_target(out, s, scratch))
				return ENAMETOOLONG;
			scratch->via_proc = true;
			unchecked = false;
			s = rest;
			set_root(out, &len);
			continue;
		}
		if (got < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) {
				exists = false;
				missing = errno == EACCES ? ENOENT : errno;
			} else if (errno != EINVAL) {
				return errno; /* ELOOP (a directory walked a moment ago is a symlink now), EIO...: never "not a symlink" */
			}
			unchecked = true;
			continue; /* EINVAL: not a symlink */
		}
		unchecked = false; /* a symlink: its target is walked next */
		if (++links > WARD_PATH_MAX_LINKS)
			return ELOOP;
		scratch->via_proc |= strncmp(out, "/proc/", 6) == 0;
		target[got] = '\0';
		/* the target takes the component's place in what is left to walk */
		size_t tail = strlen(s);
		if ((size_t)got + tail + 1 >= sizeof(scratch->rest))
			return ENAMETOOLONG;
		memmove(rest + got, s, tail + 1);
		memcpy(rest, target, (size_t)got);
		s = rest;
		if (target[0] == '/')
			set_root(out, &len);
		else {
			len = before;
			out[len] = '\0';
			if (len == 0)
				set_root(out, &len);
		}
	}
	return 0;
}
