/*
 * walkers.c: glibc's own tree walkers, nftw/ftw, fts and glob.
 *
 * Inside glibc they open and list directories through hidden aliases that
 * no wrapper sees (TRAPS 2), so they are wrapped whole: counted, and under a
 * policy the entries the program may not see are taken out of what it gets.
 * An entry is visible when its parent directory may be read (listing it)
 * and the entry itself may be stat'ed.  The parent's decision is kept for
 * the next entry: walks visit siblings together.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "shim.h"
#include "../policy/policy.h"

/* The last parent directory decided, and how (a walk lists siblings one
 * after another).  The name lives in a page mapped for the walk: walks run
 * on the program's stack, which may be small. */
struct parent {
	char *path; /* WARD_PATH_MAX bytes, or NULL: nothing remembered */
	bool ok;
};

static char *
parent_buffer(void)
{
	if (!ward_restricted)
		return NULL;
	long p = ward_syscall(SYS_mmap, NULL, WARD_PATH_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == -1)
		return NULL;
	((char *)p)[0] = '\0';
	return (char *)p;
}

static void
parent_release(char *path)
{
	if (path != NULL)
		ward_syscall(SYS_munmap, path, WARD_PATH_MAX);
}

struct walk {
	struct ward_frame *frame;
	int base;    /* where paths are relative to: AT_FDCWD, or the start (FTW_CHDIR) */
	__nftw_func_t nftw_fn;
	__ftw_func_t ftw_fn;
	struct walk *outer; /* a walk started from a callback */
	struct parent parent;
};

static __thread struct walk *walking __attribute__((tls_model("initial-exec")));

/* Paths a walk hands out are relative to where it started; glibc's fts and
 * nftw with FTW_CHDIR change directory as they go (through calls no
 * wrapper sees), so the base is a descriptor of the starting directory,
 * and the remembered working directory is refreshed before the program's
 * own code runs again. */
static bool
visible(struct ward_frame *f, int base, const char *path, struct parent *last)
{
	const char *slash = strrchr(path, '/');
	if (slash != NULL && slash != path) {
		size_t n = (size_t)(slash - path);
		bool remembered = last != NULL && last->path != NULL && strncmp(last->path, path, n) == 0 &&
		                  last->path[n] == '\0';
		if (remembered && !last->ok)
			return false;
		if (!remembered) {
			bool ok = ward_check_prefix(f, WARD_OP_READ, base, path, n) == 0;
			if (last != NULL && last->path != NULL && n < WARD_PATH_MAX) {
				memcpy(last->path, path, n);
				last->path[n] = '\0';
				last->ok = ok;
			}
			if (!ok)
				return false;
		}
	}
	return ward_check_path(f, WARD_OP_STAT, base, path, false) == 0;
}

static int
nftw_filter(const char *path, const struct stat *st, int type, struct FTW *info)
{
	struct walk *w = walking;
	if (!visible(w->frame, w->base, path, &w->parent))
		return 0;
	if (w->base != AT_FDCWD)
		ward_checks_cwd_changed(); /* nftw moved into the entry's directory */
	return w->nftw_fn(path, st, type, info);
}

static int
ftw_filter(const char *path, const struct stat *st, int type)
{
	struct walk *w = walking;
	return visible(w->frame, AT_FDCWD, path, &w->parent) ? w->ftw_fn(path, st, type) : 0;
}

/* nftw with FTW_CHDIR: a descriptor of the starting directory (under a
 * policy only: it is what the filter resolves against). */
static int
walk_base(int flags)
{
	if (!(flags & FTW_CHDIR) || !ward_restricted)
		return AT_FDCWD;
	long fd = ward_syscall(SYS_openat, AT_FDCWD, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? (int)fd : AT_FDCWD;
}

/* Run one walk with the filter in front of the program's callback. */
#define WARD_WALK(name, dir, real_call)                                            \
	do {                                                                        \
		struct ward_frame frame_;                                           \
		ward_frame_enter(&frame_, WARD_ID_##name);                          \
		frame_.deny = ward_check_path(&frame_, WARD_OP_READ, AT_FDCWD, dir, true); \
		if (frame_.deny) {                                                  \
			ward_frame_refuse(&frame_);                                 \
			return -1;                                                  \
		}                                                                   \
		struct walk w = { &frame_, walk_base(flags_), fn_nftw, fn_ftw, walking, { parent_buffer(), false } }; \
		walking = &w;                                                       \
		errno = frame_.saved_errno;                                         \
		int r = real_call;                                                  \
		frame_.saved_errno = errno;                                         \
		walking = w.outer;                                                  \
		parent_release(w.parent.path);                                      \
		if (w.base != AT_FDCWD) {                                           \
			ward_syscall(SYS_close, w.base);                            \
			ward_checks_cwd_changed(); /* nftw went back where it started */ \
		}                                                                   \
		errno = frame_.saved_errno;                                         \
		ward_frame_count(&frame_, r == -1);                                 \
		ward_frame_done(&frame_);                                           \
		return r;                                                           \
	} while (0)

WARD_EXPORT int
nftw(const char *dir, __nftw_func_t fn, int descriptors, int flags)
{
	__nftw_func_t fn_nftw = fn;
	__ftw_func_t fn_ftw = NULL;
	int flags_ = flags;
	WARD_WALK(nftw, dir, WARD_REAL(nftw)(dir, nftw_filter, descriptors, flags));
}

WARD_EXPORT int
nftw64(const char *dir, __nftw64_func_t fn, int descriptors, int flags)
{
	__nftw_func_t fn_nftw = (__nftw_func_t)fn; /* one layout on 64-bit */
	__ftw_func_t fn_ftw = NULL;
	int flags_ = flags;
	WARD_WALK(nftw64, dir, WARD_REAL(nftw64)(dir, (__nftw64_func_t)nftw_filter, descriptors, flags));
}

WARD_EXPORT int
ftw(const char *dir, __ftw_func_t fn, int descriptors)
{
	__nftw_func_t fn_nftw = NULL;
	__ftw_func_t fn_ftw = fn;
	int flags_ = 0;
	WARD_WALK(ftw, dir, WARD_REAL(ftw)(dir, ftw_filter, descriptors));
}

WARD_EXPORT int
ftw64(const char *dir, __ftw64_func_t fn, int descriptors)
{
	__nftw_func_t fn_nftw = NULL;
	__ftw_func_t fn_ftw = (__ftw_func_t)fn;
	int flags_ = 0;
	WARD_WALK(ftw64, dir, WARD_REAL(ftw64)(dir, (__ftw64_func_t)ftw_filter, descriptors));
}

/* An fts walk's paths are relative to where fts_open ran: fts keeps a
 * descriptor of it (fts_rfd) unless it never changes directory. */
static int
fts_base(int options, int rfd)
{
	return !(options & FTS_NOCHDIR) && rfd >= 0 ? rfd : AT_FDCWD;
}

/* fts_read: entries the program may not see are skipped (a directory with
 * its whole subtree). */
#define WARD_FTS_READ(name, fts_type, ent_type)                                    \
	WARD_EXPORT ent_type *name(fts_type *fts)                                   \
	{                                                                           \
		struct ward_frame frame_;                                           \
		ward_frame_enter(&frame_, WARD_ID_##name);                          \
		ent_type *e;                                                        \
		for (;;) {                                                          \
			errno = frame_.saved_errno;                                 \
			e = WARD_REAL(name)(fts);                                   \
			if (e == NULL || e->fts_info == FTS_DP || !ward_restricted || \
			    visible(&frame_, fts_base(fts->fts_options, fts->fts_rfd), e->fts_path, NULL)) \
				break;                                              \
			if (e->fts_info == FTS_D)                                   \
				fts_set((FTS *)fts, (FTSENT *)e, FTS_SKIP);         \
		}                                                                   \
		if (!(fts->fts_options & FTS_NOCHDIR))                              \
			ward_checks_cwd_changed(); /* fts moved as it walked */     \
		ward_frame_count(&frame_, e == NULL && errno != frame_.saved_errno); \
		ward_frame_done(&frame_);                                           \
		return e;                                                           \
	}

WARD_FTS_READ(fts_read, FTS, FTSENT)
WARD_FTS_READ(fts64_read, FTS64, FTSENT64)

/* fts_children: the same entries are taken out of the list it returns
 * (fts_read then skips them too: it walks the same list).  They are freed
 * as fts would free them (one malloc each), and what the list hangs off is
 * kept pointing at its new head: fts->fts_child for children, or, before the
 * first fts_read, fts_cur (fts_open's placeholder) for the roots, whose names
 * are their paths.  A child's path is its parent's (fts_cur) plus its name. */
#define WARD_FTS_CHILDREN(name, fts_type, ent_type)                                \
	WARD_EXPORT ent_type *name(fts_type *fts, int options)                      \
	{                                                                           \
		struct ward_frame frame_;                                           \
		ward_frame_enter(&frame_, WARD_ID_##name);                          \
		errno = frame_.saved_errno;                                         \
		ent_type *head = WARD_REAL(name)(fts, options);                     \
		frame_.saved_errno = errno;                                         \
		if (head != NULL && ward_restricted && frame_.active) {            \
			ent_type *cur = fts->fts_cur, **link = &head;              \
			bool roots = head->fts_level == FTS_ROOTLEVEL;              \
			int base = fts_base(fts->fts_options, fts->fts_rfd);       \
			bool parent_ok = roots || child_parent_ok(&frame_, base, cur->fts_path, cur->fts_pathlen); \
			while (*link != NULL) {                                    \
				ent_type *e = *link;                               \
				if (parent_ok && child_visible(&frame_, base, roots ? NULL : cur->fts_path, \
				                               roots ? 0 : cur->fts_pathlen, e->fts_name)) { \
					link = &e->fts_link;                       \
					continue;                                  \
				}                                                  \
				*link = e->fts_link;                               \
				free(e);                                           \
			}                                                          \
			if (roots) /* the roots hang off fts_cur, a placeholder */ \
				cur->fts_link = head;                               \
			else                                                        \
				fts->fts_child = head;                              \
			if (head == NULL)                                           \
				frame_.saved_errno = 0; /* "no children", as fts says it */ \
		}                                                                   \
		errno = frame_.saved_errno;                                         \
		ward_frame_count(&frame_, head == NULL && errno != 0);              \
		ward_frame_done(&frame_);                                           \
		return head;                                                        \
	}

/* May the directory at path[0..len) be listed? */
static bool
child_parent_ok(struct ward_frame *f, int base, const char *path, size_t len)
{
	if (len > 1 && path[len - 1] == '/')
		len--;
	return ward_check_prefix(f, WARD_OP_READ, base, path, len) == 0;
}

/* May parent/name (or name alone, a root) be seen?  The name is put
 * together in the thread's scratch (walks run on the program's stack). */
static bool
child_visible(struct ward_frame *f, int base, const char *parent, size_t len, const char *name)
{
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		return false;
	char *buf = s->walk_path;
	size_t n = strlen(name), at = 0;
	if (parent != NULL && len > 0 && parent[len - 1] == '/')
		len--;
	bool ok = false;
	if (len + n + 2 <= sizeof(s->walk_path)) {
		if (parent != NULL) {
			memcpy(buf, parent, len);
			buf[len] = '/';
			at = len + 1;
		}
		memcpy(buf + at, name, n + 1);
		ok = ward_check_path(f, WARD_OP_STAT, base, buf, false) == 0;
	}
	ward_scratch_leave();
	return ok;
}

WARD_FTS_CHILDREN(fts_children, FTS, FTSENT)
WARD_FTS_CHILDREN(fts64_children, FTS64, FTSENT64)

/* fts_close goes back where fts_open ran (a hidden fchdir). */
#define WARD_FTS_CLOSE(name, fts_type)                                             \
	WARD_EXPORT int name(fts_type *fts)                                         \
	{                                                                           \
		struct ward_frame frame_;                                           \
		ward_frame_enter(&frame_, WARD_ID_##name);                          \
		bool moved = fts != NULL && !(fts->fts_options & FTS_NOCHDIR);      \
		errno = frame_.saved_errno;                                         \
		int r = WARD_REAL(name)(fts);                                       \
		frame_.saved_errno = errno;                                         \
		if (moved)                                                          \
			ward_checks_cwd_changed();                                  \
		errno = frame_.saved_errno;                                         \
		ward_frame_count(&frame_, r != 0);                                  \
		ward_frame_done(&frame_);                                           \
		return r;                                                           \
	}

WARD_FTS_CLOSE(fts_close, FTS)
WARD_FTS_CLOSE(fts64_close, FTS64)

/* glob: matches the program may not see are dropped from the list. */
static void
filter_matches(struct ward_frame *f, char **paths, size_t *count, size_t first)
{
	size_t kept = first;
	for (size_t i = first; i < first + *count; i++) {
		if (visible(f, AT_FDCWD, paths[i], NULL))
			paths[kept++] = paths[i];
		else
			free(paths[i]);
	}
	for (size_t i = kept; i < first + *count; i++)
		paths[i] = NULL;
	*count = kept - first;
}

#define WARD_GLOB(name, glob_type)                                                 \
	WARD_EXPORT int name(const char *pattern, int flags,                        \
	                     int (*errfunc)(const char *, int), glob_type *g)       \
	{                                                                           \
		struct ward_frame frame_;                                           \
		ward_frame_enter(&frame_, WARD_ID_##name);                          \
		size_t before = (flags & GLOB_APPEND) ? g->gl_pathc : 0;           \
		errno = frame_.saved_errno;                                         \
		int r = WARD_REAL(name)(pattern, flags, errfunc, g);                \
		frame_.saved_errno = errno;                                         \
		if (r == 0 && frame_.active && ward_restricted) {                  \
			size_t offs = (flags & GLOB_DOOFFS) ? g->gl_offs : 0;      \
			size_t added = g->gl_pathc - before;                       \
			filter_matches(&frame_, g->gl_pathv, &added, offs + before); \
			g->gl_pathc = before + added;                               \
			if (added == 0 && before == 0 && !(flags & GLOB_NOCHECK))   \
				r = GLOB_NOMATCH;                                   \
		}                                                                   \
		errno = frame_.saved_errno;                                         \
		ward_frame_count(&frame_, r != 0);                                  \
		ward_frame_done(&frame_);                                           \
		return r;                                                           \
	}

WARD_GLOB(glob, glob_t)
WARD_GLOB(glob64, glob64_t)
