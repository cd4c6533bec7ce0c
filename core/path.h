/*
 * path: the path the kernel would act on, as a string, without malloc.
 *
 * ward_path_lexical makes a path absolute against a base directory and
 * folds "//", "." and ".." textually.  ward_path_resolve does what the
 * kernel does: components are resolved left to right, symbolic links
 * (magic /proc links included) are followed where the call follows them,
 * and ".." applies to the real directory reached so far.  It costs one
 * readlink per component; a missing component ends the walk (the rest is
 * folded lexically: the call itself will fail or create exactly that).
 * Both write into a caller buffer of at least WARD_NAME_MAX bytes.
 *
 * Two bounds: WARD_PATH_MAX is the kernel's, for a path one system call
 * takes (the program's own paths, symlink targets); WARD_NAME_MAX is
 * ward's, for a resolved name, which may be longer (a working directory
 * many levels deep): such a name is acted on through core/exact's anchors.
 * Longer still cannot be told, and is refused.
 */
#ifndef WARD_CORE_PATH_H
#define WARD_CORE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define WARD_PATH_MAX 4096
#define WARD_NAME_MAX 32768
#define WARD_PATH_MAX_LINKS 40

/* The length of path when it is absolute and already normal (no "//", no
 * "." or ".." component, no trailing '/'), else 0: then folding is a copy. */
size_t ward_path_normal_length(const char *path);
/* The same, and where its last '/' is (set only when normal). */
size_t ward_path_normal(const char *path, size_t *last_slash);
/* The same 8 bytes at a time, loads inside the string: what CPUs without
 * SSE2 use (ward_path_normal reads aligned blocks of 16); tests compare both. */
size_t ward_path_normal_by_words(const char *path, size_t *last_slash);
#if defined(__SSE2__)
/* The ways ward_path_normal chooses between (x86-64: AVX2 where the CPU
 * has it, else SSE2), for the tests to compare. */
size_t ward_path_normal_sse2(const char *path, size_t *last_slash);
#if defined(__x86_64__)
size_t ward_path_normal_avx2(const char *path, size_t *last_slash);
#endif
#endif

/* base must be absolute and normalised (ignored when path is absolute).
 * Returns false when the result does not fit. */
bool ward_path_lexical(const char *base, const char *path, char *out);

/* Working space of one resolution (the caller's: thread-local, one per
 * nesting level, so a signal handler cannot scribble over it). */
struct ward_path_scratch {
	char rest[WARD_NAME_MAX + WARD_PATH_MAX];
	char target[WARD_PATH_MAX];
	char entries[4096] __attribute__((aligned(8))); /* a directory's entries, to name a deep one (core/exact) */
	bool via_proc; /* set by ward_path_resolve: a link under /proc was followed */
};

/* Resolve against base like the kernel.  follow_last: whether a symlink
 * in the last component is followed.  scratch->via_proc says whether a
 * link under /proc was followed (a magic link such as /proc/self/fd/N names
 * an object, not a path: the caller may want to act through it).  Returns 0, or an errno value
 * when the kernel would refuse the path itself: ELOOP, and ENOENT or
 * ENOTDIR for a ".." after a missing component or a file; ENAMETOOLONG
 * when the name does not fit in WARD_NAME_MAX, or a magic link leads to a
 * file whose name is longer than /proc gives (a directory's is walked up:
 * core/exact); another error of a readlink, as it is. */
int ward_path_resolve(const char *base, const char *path, bool follow_last, char *out,
                      struct ward_path_scratch *scratch);

#endif
