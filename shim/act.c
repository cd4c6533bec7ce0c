/*
 * act.c: acting on exactly what was decided.
 *
 * The kernel acts on exactly what was decided, never on a second
 * resolution of the program's path (which a symlink swapped in between
 * would send elsewhere).  The decided path is canonical (no symlink in
 * it), so the kernel can be made to walk it with RESOLVE_NO_SYMLINKS:
 * - opens are made here with openat2 on the decided path (the result goes
 *   back to the wrapper in the frame: complete());
 * - every other checked call is pointed at a descriptor opened that way: the
 *   file itself (O_PATH) for calls that follow the last component, its
 *   directory for calls that do not (or that make a new name), through a
 *   /proc/self/fd/N[/NAME] path the wrapper passes to libc instead of the
 *   program's (ward_check_act; the descriptor is closed when the call is
 *   done);
 * - fopen and freopen: the file is opened (and created) here, and libc
 *   opens the stream on that very file through its descriptor.
 * When the kernel says a component changed (ELOOP: a symlink appeared),
 * the path is resolved and decided again, a few times, then refused: never
 * handed to libc unchecked.  Paths through /proc that end in a real name
 * are acted on like any other; the rest (magic links name an
 * object a descriptor holds, not a path) are decided on the name they show
 * and acted on through the link itself, as the program asked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "shim.h"
#include "checks.h"
#include "../core/dircache.h"
#include "../core/exact.h"
#include "../core/procfd.h"
#include "../core/resolve.h"
#include "../policy/match.h"

/* A path the program wrote with a trailing '/' keeps it, and one ending
 * in "." or ".." gets "/.": the kernel then insists on an existing
 * directory (open("x/.", O_CREAT) is EISDIR or ENOENT, never a file x).
 * Appended to s->resolved when it fits.  (checks.h's
 * ward_checks_keep_trailing_slash asks this only of a path the resolution
 * did not find normal.) */
bool
ward_checks_keep_trailing_slash_of(struct ward_scratch *s, const char *path)
{
	size_t n = strlen(path);
	if (n == 0 || (path[n - 1] != '/' && path[n - 1] != '.'))
		return true; /* the common case: a name */
	bool dot = ward_resolve_ends_in_dot(path);
	if (path[n - 1] != '/' && !dot)
		return true;
	size_t r = strlen(s->resolved);
	if (r + 3 > sizeof(s->resolved))
		return false;
	if (r > 1 || dot)
		memcpy(s->resolved + r, dot ? "/." : "/", dot ? 3 : 2);
	return true;
}

void
ward_checks_drop_trailing_slash(struct ward_scratch *s)
{
	size_t r = strlen(s->resolved);
	if (r > 2 && s->resolved[r - 1] == '.' && s->resolved[r - 2] == '/')
		s->resolved[r -= 2] = '\0';
	if (r > 1 && s->resolved[r - 1] == '/')
		s->resolved[r - 1] = '\0';
}

/* Where the call is made: a descriptor of the decided file (follow) or of
 * its directory (no follow, or a new name), into a->path.  0, a negated
 * errno the call fails with as the kernel would, or ELOOP: the path
 * changed, resolve again. */
int
ward_checks_point(struct ward_scratch *s, struct ward_act *a, bool follow, bool trailing_slash)
{
	char *slash = strrchr(s->resolved, '/');
	long fd;
	unsigned int since = ward_held_changes();
	if (follow || slash == s->resolved + strlen(s->resolved) - 1 || s->resolved[1] == '\0') {
		/* openat2's RESOLVE_NO_SYMLINKS makes a symlink that appeared at the
		 * end ELOOP by itself; the walk by components opens it (O_PATH,
		 * O_NOFOLLOW) and has to look */
		fd = ward_exact_open(s->resolved, O_PATH | O_CLOEXEC, 0);
		if (fd < 0)
			return errno == ELOOP ? ELOOP : -errno;
		bool walked = ward_exact_by_components(); /* (its last component: O_NOFOLLOW) */
		struct stat st;
		if (walked && ward_syscall(SYS_fstat, fd, &st) == 0 && S_ISLNK(st.st_mode)) {
			ward_syscall(SYS_close, fd); /* a symlink appeared where the check found none */
			return ELOOP;
		}
		if (!ward_held_add((int)fd, since, s->resolved, s->fd_target))
			return ELOOP; /* the program put something else at that number: again */
		a->fd = (int)fd;
		a->name_at = 0;
		ward_procfd_name(a->path, a->fd);
		if (trailing_slash)
			strcat(a->path, "/");
		return 0;
	}
	size_t name_len = strlen(slash + 1);
	if (name_len > 255)
		return -ENAMETOOLONG;
	*slash = '\0';
	static char root[] = "/";
	char *parent = slash == s->resolved ? root : s->resolved;
	fd = ward_exact_open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	int err = errno;
	bool kept = fd >= 0 && ward_held_add((int)fd, since, parent, s->fd_target);
	*slash = '/';
	if (fd < 0)
		return err == ELOOP ? ELOOP : -err;
	if (!kept)
		return ELOOP; /* the program put something else at that number: again */
	a->fd = (int)fd;
	ward_procfd_name(a->path, a->fd);
	a->name_at = (unsigned short)(strlen(a->path) + 1);
	strcat(a->path, slash);
	if (trailing_slash)
		strcat(a->path, "/");
	return 0;
}

/* Hold the scratch in the frame until the call is done (ward_act_release). */
void
ward_checks_hold(struct ward_frame *f, struct ward_scratch *s)
{
	if (f->held == NULL) {
		s->act[0].fd = s->act[1].fd = -1;
		f->held = s;
	}
}

/* The path kept changing under the check: refused, with a record. */
int
ward_checks_changing(struct ward_frame *f, struct ward_scratch *s)
{
	struct ward_refusal why = { .op = "resolve", .what = s->resolved, .by = "ward (the path changed while it was checked)",
		                    .rule = "ward (path changing)", .err = EACCES };
	return ward_refuse(f, s, &why);
}

void
ward_act_hold(struct ward_frame *f, struct ward_scratch *s)
{
	ward_checks_hold(f, s);
}

void
ward_act_release(struct ward_frame *f)
{
	struct ward_scratch *s = f->held;
	f->held = NULL;
	if (s->spawn.nheld > 0)
		ward_spawn_actions_release(s);
	for (int i = 0; i < 2; i++)
		if (s->act[i].fd >= 0) {
			ward_syscall(SYS_close, s->act[i].fd);
			ward_held_drop(s->act[i].fd); /* after the close: a number the program gets back is its own */
			s->act[i].fd = -1;
		}
	ward_scratch_leave();
}

/* An exec about to be made.  Returns the descriptor to exec a binary from
 * (-1: exec *file by name).  In a process of its own the scratch stays
 * held for the exec (*kept; given back with ward_act_give_back if the exec
 * returns: a successful one leaves the image, scratch and all).  In a vfork
 * child, which shares its parent's memory and never returns to give it
 * back, the scratch is given back now: the binary's descriptor name is
 * copied into copy, and a PATH candidate found in the scratch is replaced
 * by what the program asked (the exec searches again by name). */
int
ward_act_detach(struct ward_frame *f, const char **file, char copy[WARD_PROCFD_NAME_MAX], const char *asked,
                struct ward_scratch **kept)
{
	struct ward_scratch *s = f->held;
	*kept = NULL;
	if (s == NULL)
		return -1;
	int fd = *file == s->act[0].path ? s->act[0].fd : -1;
	if (!ward_in_foreign_child()) {
		f->held = NULL;
		*kept = s;
		return fd;
	}
	if (fd >= 0) {
		memcpy(copy, s->act[0].path, WARD_PROCFD_NAME_MAX);
		copy[WARD_PROCFD_NAME_MAX - 1] = '\0';
		*file = copy;
		s->act[0].fd = -1; /* stays open for the exec (close-on-exec) */
	} else if (*file != asked) {
		*file = asked;
	}
	ward_act_release(f);
	return fd;
}

void
ward_act_give_back(struct ward_scratch *s)
{
	struct ward_frame f = { .held = s };
	ward_act_release(&f);
}

/*
 * exec: the program at path (relative to dirfd, after the caller's PATH
 * search) decided for exec and opened exactly (O_PATH, no symlink on the
 * decided path); *act is its /proc/self/fd name, for the caller to inspect
 * and, for a binary, to exec through (NULL: act on path itself, through
 * /proc).  Uses the scratch the caller holds in the frame.
 */
int
ward_check_program(struct ward_frame *f, int dirfd, const char *path, const char **act)
{
	struct ward_scratch *s = f->held;
	*act = NULL;
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		struct verdict v;
		int r = ward_checks_resolve_decide(f, s, dirfd, path, true, ward_restricted & WARD_OP_EXEC, -1, &v);
		if (r > 0)
			return ward_checks_unresolved(f, s, path, r);
		if (r < 0)
			return ward_checks_violation(f, s, &v);
		if (ward_checks_in_proc(s))
			return 0;
		unsigned int since = ward_held_changes();
		long fd = ward_exact_open(s->resolved, O_PATH | O_CLOEXEC, 0);
		if (fd >= 0 && !ward_held_add((int)fd, since, s->resolved, s->fd_target))
			continue; /* the program put something else at that number: again */
		if (fd >= 0) {
			s->act[0].fd = (int)fd;
			*act = ward_procfd_name(s->act[0].path, (int)fd);
			return 0;
		}
		if (ward_checks_nameless_object(s, errno))
			return 0;
		if (errno != ELOOP)
			return -errno; /* the exec fails as the kernel says: never by name on what may appear */
		ward_dircache_invalidate();
	}
	return ward_checks_changing(f, s);
}

/* A call that makes or removes a name ending in "." or ".." (mkdir("x/."),
 * rmdir("."), rename("x/..", y)) fails in the kernel whatever the policy
 * (EEXIST, EINVAL, ENOTEMPTY, EBUSY...), after walking to x: it is made on
 * the held descriptor of exactly x with that last component, so the
 * kernel gives its own answer and changes nothing (a fold to "x" would
 * make or remove x itself). */
static int
dotted(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char **path, int which, int *dirfd_out)
{
	size_t n = strlen(*path);
	while (n > 1 && (*path)[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && (*path)[start - 1] != '/')
		start--;
	const char *last = n - start == 1 ? "." : "..";
	if (start >= sizeof(s->walk_path))
		return -ENAMETOOLONG;
	memcpy(s->walk_path, *path, start);
	strcpy(s->walk_path + start, "."); /* "x/." (or "."): x itself, followed */
	int r = ward_resolve(ward_checks_resolve_options(), dirfd, s->walk_path, true, s->resolved, &s->resolve);
	if (r != 0)
		return ward_checks_unresolved(f, s, *path, r);
	unsigned int since = ward_held_changes();
	long fd = ward_exact_open(s->resolved, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno; /* the walk to x fails: the kernel's ENOENT, ENOTDIR (or ELOOP) */
	if (!ward_held_add((int)fd, since, s->resolved, s->fd_target))
		return ward_checks_changing(f, s);
	struct ward_act *a = &s->act[which];
	a->fd = (int)fd;
	ward_procfd_name(a->path, a->fd);
	a->name_at = (unsigned short)(strlen(a->path) + 1);
	strcat(a->path, "/");
	strcat(a->path, last);
	if (dirfd_out != NULL) {
		*dirfd_out = a->fd;
		*path = a->path + a->name_at;
	} else {
		*path = a->path;
	}
	return 0;
}

static int
act(struct ward_frame *f, unsigned int ops, int dirfd, const char **path, bool follow, int which, int *dirfd_out)
{
	ops &= ward_restricted;
	if (__builtin_expect(ops == 0, 1))
		return 0;
	int result = 0;
	struct ward_scratch *s = f->held;
	if (s == NULL && (s = ward_checks_enter_check(f, ops, *path, &result)) == NULL)
		return result;
	if (!f->active || *path == NULL || (*path)[0] == '\0')
		return 0;
	ward_checks_hold(f, s);
	if (!follow && (ops & (WARD_OP_CREATE | WARD_OP_REMOVE)) && ward_resolve_ends_in_dot(*path))
		return dotted(f, s, dirfd, path, which, dirfd_out);
	size_t len = strlen(*path);
	bool trailing_slash = len > 0 && (*path)[len - 1] == '/';
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		struct verdict v;
		int r = ward_checks_resolve_decide(f, s, dirfd, *path, follow, ops, -1, &v);
		if (r > 0)
			return ward_checks_unresolved(f, s, *path, r);
		if (r < 0) {
			if (ops == WARD_OP_CREATE && !follow && (result = ward_checks_kernel_first(s, true)) != 0)
				return result;
			if ((result = ward_checks_shape_first(s, *path, false)) != 0)
				return result;
			return ward_checks_violation(f, s, &v);
		}
		if (ward_checks_in_proc(s))
			return 0;
		r = ward_checks_point(s, &s->act[which], follow, trailing_slash);
		if (r < 0 && ward_checks_nameless_object(s, -r))
			return 0;
		if (r != ELOOP) {
			struct ward_act *a = &s->act[which];
			if (r == 0 && dirfd_out != NULL && a->name_at != 0) { /* the *at form: its own descriptor, the bare name */
				*dirfd_out = a->fd;
				*path = a->path + a->name_at;
			} else if (r == 0) {
				*path = a->path;
			}
			return r;
		}
		ward_dircache_invalidate(); /* what it remembered may be what changed */
	}
	return ward_checks_changing(f, s);
}

int
ward_check_act(struct ward_frame *f, unsigned int ops, int dirfd, const char **path, bool follow, int which)
{
	return act(f, ops, dirfd, path, follow, which, NULL);
}

int
ward_check_act_at(struct ward_frame *f, unsigned int ops, int *dirfd, const char **path, bool follow, int which)
{
	return act(f, ops, *dirfd, path, follow, which, dirfd);
}

/* Renaming a directory renames everything below it: one that holds what a
 * deny rule protects (its pattern could match the directory or something
 * in it) would carry that out from under the rule.  Refused like a remove
 * the rule denies. */
static int
guard_moved_tree(struct ward_frame *f, int dirfd, const char *path)
{
	struct stat st;
	if (path == NULL || ward_syscall(SYS_newfstatat, dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	int result;
	struct ward_scratch *s = ward_checks_enter_check(f, WARD_OP_REMOVE, path, &result);
	if (s == NULL)
		return result;
	int r = ward_resolve(ward_checks_resolve_options(), dirfd, path, false, s->resolved, &s->resolve);
	int rule = r == 0 ? ward_policy_denies_at_or_below(ward_config.policy, s->resolved) : -1;
	if (r == WARD_RESOLVE_UNKNOWN)
		result = EACCES;
	else if (rule >= 0) {
		bool quiet = ward_policy_rule(ward_config.policy, (size_t)rule).quiet;
		struct verdict v = { .refused = WARD_OP_REMOVE, .first = { false, quiet, rule }, .loud = !quiet };
		result = ward_checks_violation(f, s, &v);
	}
	ward_scratch_leave();
	return result;
}

/* rename: remove the old name, create the new one (and remove it too when
 * it exists and is replaced).  RENAME_EXCHANGE swaps: both sides both.
 * Both names are acted on through their directories. */
int
ward_check_rename(struct ward_frame *f, int *olddirfd_at, const char **old, int *newdirfd_at, const char **new,
                  unsigned int flags)
{
	int olddirfd = olddirfd_at != NULL ? *olddirfd_at : AT_FDCWD, newdirfd = newdirfd_at != NULL ? *newdirfd_at : AT_FDCWD;
	if (__builtin_expect(ward_restricted == 0, 1) || !f->active)
		return 0;
	unsigned int both = WARD_OP_REMOVE | WARD_OP_CREATE;
	bool exchange = flags & RENAME_EXCHANGE;
	struct stat st;
	bool replaces = *new != NULL && ward_syscall(SYS_newfstatat, newdirfd, *new, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int r = guard_moved_tree(f, olddirfd, *old);
	if (r == 0 && exchange)
		r = guard_moved_tree(f, newdirfd, *new);
	/* what is moved must be readable where it is: a new name would
	 * otherwise carry a file out from under a rule that denies reading it */
	if (r == 0)
		r = act(f, (exchange ? both : WARD_OP_REMOVE) | WARD_OP_READ, olddirfd, old, false, 0, olddirfd_at);
	if (r == 0)
		r = act(f, (exchange ? both | WARD_OP_READ : replaces ? both : WARD_OP_CREATE), newdirfd, new, false, 1,
		        newdirfd_at);
	return r == -EEXIST ? EACCES : r; /* made in between: rename's EEXIST is not ours to give, refuse */
}

/* link: a new name for an existing file must not expose one the policy
 * protects, so the old file needs read and write too. */
int
ward_check_link(struct ward_frame *f, int *olddirfd_at, const char **old, int *newdirfd_at, const char **new,
                int flags)
{
	int olddirfd = olddirfd_at != NULL ? *olddirfd_at : AT_FDCWD, newdirfd = newdirfd_at != NULL ? *newdirfd_at : AT_FDCWD;
	if (__builtin_expect(ward_restricted == 0, 1) || !f->active)
		return 0;
	struct stat st; /* the kernel's first answer: the new name exists */
	if (*new != NULL && (*new)[0] != '\0' && ward_syscall(SYS_newfstatat, newdirfd, *new, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	int r = (flags & AT_EMPTY_PATH) && *old != NULL && (*old)[0] == '\0' /* the file dirfd holds */
	                ? ward_check_fd(f, WARD_OP_READ | WARD_OP_WRITE, olddirfd_at)
	                : act(f, WARD_OP_READ | WARD_OP_WRITE, olddirfd, old, (flags & AT_SYMLINK_FOLLOW) != 0, 0, olddirfd_at);
	if (r == 0)
		r = act(f, WARD_OP_CREATE, newdirfd, new, false, 1, newdirfd_at);
	return r;
}
/* utimensat(fd, NULL, ...) acts on fd itself (libc declares the path
 * nonnull; the kernel does not). */
int
ward_check_utimensat(struct ward_frame *f, int *dirfd, const char **path, int flags)
{
	if (*path == NULL)
		return ward_check_fd(f, WARD_OP_WRITE, dirfd);
	return ward_check_act_at(f, WARD_OP_WRITE, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), 0);
}

