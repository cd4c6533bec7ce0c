/*
 * resolve.c: the path a call acts on.  See resolve.h.
 */
#define _GNU_SOURCE
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "cwd.h"
#include "dircache.h"
#include "exact.h"
#include "procfd.h"
#include "syscall.h"

static bool
has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

/* A directory too deep for getcwd or /proc to name: walked up by "..". */
static int
named_by_walk(int dirfd, char *out, struct ward_resolve_scratch *s)
{
	int err = ward_exact_name(dirfd, out, WARD_NAME_MAX, s->path.entries, sizeof(s->path.entries));
	if (err == ENOTDIR) {
		s->fails_with = ENOTDIR; /* a descriptor of a file: the kernel's answer to a relative path from it */
		return WARD_RESOLVE_FAILS;
	}
	return err == 0 ? 0 : WARD_RESOLVE_UNKNOWN;
}

/* The directory a relative path is taken from: the cwd, or what dirfd is.
 * 0, or why not: a descriptor that is not open fails the call by itself;
 * anything else (a deleted or unreachable directory, a name longer than
 * WARD_NAME_MAX) cannot be told. */
static int
base_for(const struct ward_resolve_options *o, int dirfd, char *out, struct ward_resolve_scratch *s)
{
	if (dirfd == AT_FDCWD) {
		if (o->use_cwd_cache && ward_cwd_copy(out, WARD_NAME_MAX))
			return 0;
		/* not named yet (named at the first relative path, not at
		 * start-up: a process that never resolves one never touches its
		 * pages), forgotten, or old: named again and remembered */
		if (o->use_cwd_cache && ward_cwd_refresh_in(out, s->path.entries, sizeof(s->path.entries)))
			return 0;
		if (ward_syscall(SYS_getcwd, out, WARD_PATH_MAX) > 0)
			return out[0] == '/' ? 0 : WARD_RESOLVE_UNKNOWN;
		if (errno == ENOENT) {
			s->fails_with = ENOENT; /* a removed working directory: its names are gone, as the kernel says */
			return WARD_RESOLVE_FAILS;
		}
		return errno == ENAMETOOLONG ? named_by_walk(AT_FDCWD, out, s) : WARD_RESOLVE_UNKNOWN;
	}
	if (dirfd < 0) {
		s->fails_with = EBADF; /* (ward_procfd_name would name descriptor 0) */
		return WARD_RESOLVE_FAILS;
	}
	char link[WARD_PROCFD_NAME_MAX];
	long n = ward_syscall(SYS_readlinkat, AT_FDCWD, ward_procfd_name(link, dirfd), out, WARD_PATH_MAX - 1);
	if (n < 0 && (errno == ENOENT || errno == EBADF)) {
		s->fails_with = EBADF; /* not an open descriptor */
		return WARD_RESOLVE_FAILS;
	}
	if ((n < 0 && errno == ENAMETOOLONG) || n >= WARD_PATH_MAX - 1)
		return named_by_walk(dirfd, out, s);
	if (n <= 0)
		return WARD_RESOLVE_UNKNOWN;
	out[n] = '\0';
	return out[0] == '/' ? 0 : WARD_RESOLVE_UNKNOWN;
}

static int
from_errno(int err, struct ward_resolve_scratch *s)
{
	s->fails_with = err;
	return err == 0 ? 0 : err == ENAMETOOLONG ? WARD_RESOLVE_UNKNOWN : WARD_RESOLVE_FAILS;
}

/* out's directory part replaced by its real path (cache, or a walk); len
 * is out's length and slash the offset of its last '/'.  s->shape says
 * what out is afterwards. */
static inline __attribute__((always_inline)) int
real_directory(const struct ward_resolve_options *o, char *out, size_t len, size_t slash,
               struct ward_resolve_scratch *s)
{
	size_t dir_len = slash;
	if (dir_len == 0) { /* directly under the root */
		s->shape = (struct ward_resolve_shape){ .of = out, .len = len, .slash = 0, .dir_key = 0 };
		return 0;
	}
	struct ward_dircache_hit hit;
	if (o->skip_dircache || !(o->exact_open ? ward_dircache_get_exact(out, dir_len, s->dir, &hit)
	                                        : ward_dircache_get(out, dir_len, s->dir, &hit))) {
		unsigned int generation = ward_dircache_generation();
		out[slash] = '\0';
		int err = ward_path_resolve(NULL, out, true, s->dir, &s->path);
		out[slash] = '/';
		if (err != 0)
			return from_errno(err, s);
		hit.len = strlen(s->dir);
		hit.same = hit.len == dir_len && memcmp(out, s->dir, dir_len) == 0;
		hit.key = 0; /* (the next call in it has the cache's) */
		if (!o->leave_dircache)
			ward_dircache_put(out, dir_len, s->dir, hit.len, generation);
	}
	if (hit.same) {
		s->shape = (struct ward_resolve_shape){ .of = out, .len = len, .slash = slash, .dir_key = hit.key };
		return 0;
	}
	size_t last_len = len - slash, real_len = hit.len;
	if (real_len == 1)
		real_len = 0; /* the directory is the root itself */
	if (real_len + last_len >= WARD_NAME_MAX)
		return WARD_RESOLVE_UNKNOWN;
	memmove(out + real_len, out + slash, last_len + 1);
	memcpy(out, s->dir, real_len);
	s->shape = (struct ward_resolve_shape){ .of = out, .len = real_len + last_len, .slash = real_len,
		                                .dir_key = real_len == 0 ? 0 : hit.key };
	return 0;
}

bool
ward_resolve_ends_in_dot(const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || path[n - 1] != '.')
		return false; /* the common case, at one look */
	if (n == 1 || path[n - 2] == '/')
		return true; /* "." */
	return path[n - 2] == '.' && (n == 2 || path[n - 3] == '/'); /* ".." */
}

/* n bytes of from into to (which do not overlap), 16 at a time, the last
 * block overlapping the one before; shorter in two overlapping words.
 * Every load is inside from[0..n): what memcpy does, in line (a normal
 * path is a few blocks long, and the call and its dispatch cost as much). */
static inline void
copy_bytes(char *to, const char *from, size_t n)
{
	if (n >= 16) {
		for (size_t i = 0; i + 16 < n; i += 16)
			memcpy(to + i, from + i, 16);
		memcpy(to + n - 16, from + n - 16, 16);
	} else if (n >= 8) {
		uint64_t a, b;
		memcpy(&a, from, 8);
		memcpy(&b, from + n - 8, 8);
		memcpy(to, &a, 8);
		memcpy(to + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, from, 4);
		memcpy(&b, from + n - 4, 4);
		memcpy(to, &a, 4);
		memcpy(to + n - 4, &b, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			to[i] = from[i];
	}
}

/* The program's path is read once, into out (another thread of the
 * program may change its bytes at any time: what was looked at must be
 * what is decided and acted on), and everything after works on that copy:
 * out itself when it is normal, else a copy of it in s->path.target (which
 * ward_path_resolve reads only before it reuses it). */
static inline __attribute__((always_inline)) int
where(const struct ward_resolve_options *o, int dirfd, const char *path, bool follow, char *out, bool *unsettled,
      struct ward_resolve_scratch *s)
{
	const char *base = NULL;
	*unsettled = false;
	s->path.via_proc = false;
	s->shape.len = 0;
	s->normal_path = NULL;
	size_t n = strnlen(path, WARD_PATH_MAX);
	if (n >= WARD_PATH_MAX) {
		s->trailing_slash = false;
		s->fails_with = ENAMETOOLONG; /* the kernel takes no longer path */
		return WARD_RESOLVE_FAILS;
	}
	copy_bytes(out, path, n);
	out[n] = '\0';
	s->trailing_slash = n > 1 && out[n - 1] == '/';
	size_t slash, len = ward_path_normal(out, &slash);
	if (len > 0) { /* the common case: nothing to fold */
		s->normal_path = path;
	} else {
		char *copy = s->path.target;
		memcpy(copy, out, n + 1);
		follow |= ward_resolve_ends_in_dot(copy); /* "x/." and "x/..": x is walked, as the kernel does */
		if (copy[0] != '/') {
			int r = base_for(o, dirfd, s->base, s);
			if (r != 0)
				return r;
			base = s->base;
		}
		if (has_dotdot(copy))
			return from_errno(ward_path_resolve(base, copy, follow, out, &s->path), s);
		if (!ward_path_lexical(base, copy, out))
			return WARD_RESOLVE_UNKNOWN;
		len = strlen(out);
		slash = (size_t)(strrchr(out, '/') - out);
	}
	int r = real_directory(o, out, len, slash, s);
	*unsettled = r == 0 && follow && out[1] != '\0';
	return r;
}

bool
ward_resolve_plain(const char *path, char *out, bool exact_open, struct ward_resolve_scratch *s)
{
	if (path[0] != '/')
		return false;
	size_t n = strnlen(path, WARD_PATH_MAX);
	if (n >= WARD_PATH_MAX)
		return false;
	copy_bytes(out, path, n); /* read once, as where() does */
	out[n] = '\0';
	size_t slash, len = ward_path_normal(out, &slash);
	struct ward_dircache_hit hit;
	/* (a /proc name is never in the cache: a hit is no /proc path) */
	if (len == 0 || slash == 0 ||
	    !(exact_open ? ward_dircache_get_exact(out, slash, s->dir, &hit) : ward_dircache_get(out, slash, s->dir, &hit)) ||
	    !hit.same)
		return false;
	s->path.via_proc = false;
	s->normal_path = path;
	s->trailing_slash = false;
	s->shape = (struct ward_resolve_shape){ .of = out, .len = len, .slash = slash, .dir_key = hit.key };
	return true;
}

int
ward_resolve_where(const struct ward_resolve_options *o, int dirfd, const char *path, bool follow, char *out,
                   bool *unsettled, struct ward_resolve_scratch *s)
{
	return where(o, dirfd, path, follow, out, unsettled, s);
}

int
ward_resolve_settle(char *out, struct ward_resolve_scratch *s)
{
	char unused[1];
	if (ward_exact_call(SYS_readlinkat, out, (long)unused, sizeof(unused), 0) < 0) {
		if (errno == EINVAL || errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return 0; /* not a symlink (or missing): out is the answer */
		if (errno != ENAMETOOLONG)
			return from_errno(errno, s); /* (ELOOP: changed under the walk; EIO...): never "not a symlink" */
		/* a magic link to a name longer than /proc gives: the walk names a
		 * directory, and says ENAMETOOLONG for anything else */
	}
	s->shape.len = 0; /* out changes */
	strcpy(s->dir, out);
	bool via_proc = s->path.via_proc;
	int r = from_errno(ward_path_resolve(NULL, s->dir, true, out, &s->path), s);
	s->path.via_proc |= via_proc;
	return r;
}

int
ward_resolve(const struct ward_resolve_options *o, int dirfd, const char *path, bool follow, char *out,
             struct ward_resolve_scratch *s)
{
	bool unsettled;
	int r = ward_resolve_where(o, dirfd, path, follow, out, &unsettled, s);
	if (r == 0 && unsettled)
		r = ward_resolve_settle(out, s);
	return r;
}
