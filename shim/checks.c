/*
 * checks.c: the policy's decisions inside the process.
 *
 * A check turns (operations, dirfd, path) into the path the kernel would
 * act on (core/resolve, the pipeline `ward explain` uses too) and asks the
 * compiled matcher once per operation.  Operations the policy allows
 * everywhere cost one mask test in the wrapper: no path is resolved.  A
 * refusal names every operation the call needed that the policy refuses
 * (an audit log then lists all a program needs).
 *
 * Errors the kernel decides before any permission come first, as without
 * the shim: making a name that exists is EEXIST, under a missing directory
 * ENOENT, with no record and no denial counted.  They are only looked for
 * when the policy would refuse, so the allowed path pays nothing.
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
 * handed to libc unchecked.  Paths through /proc (magic links name an
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
#include "../core/cwd.h"
#include "../core/dircache.h"
#include "../core/procfd.h"
#include "../core/resolve.h"
#include "../policy/match.h"

void
ward_checks_init(void)
{
	if (ward_config.policy != NULL)
		ward_cwd_refresh();
}

void
ward_checks_cwd_changed(void)
{
	if (ward_config.policy != NULL)
		ward_cwd_refresh();
}

void
ward_checks_after_fork_child(void)
{
	if (ward_config.policy != NULL)
		ward_cwd_after_fork();
}

/* ---- deciding ---- */

/* What decide() found: the refused operations and the first refusal's
 * decision (its rule names the record). */
struct verdict {
	unsigned int refused;
	struct ward_decision first;
	bool loud; /* some refusal was not quiet */
};

static struct ward_decision
decide_one(unsigned int op, const char *path)
{
	struct ward_decision d = ward_matcher_decide(ward_config.matcher, op, path);
	if ((op & (WARD_OP_WRITE | WARD_OP_CREATE | WARD_OP_REMOVE)) && ward_config.image_path[0] != '\0' &&
	    strcmp(path, ward_config.image_path) == 0)
		d = (struct ward_decision){ false, false, -2 }; /* the tree's own policy */
	return d;
}

/* Decide every operation in ops on path; true when all are allowed. */
static bool
decide(struct ward_frame *f, const char *path, unsigned int ops, struct verdict *v)
{
	struct ward_counter_slot *slot = f->counting ? ward_counters_slot() : NULL;
	v->refused = 0;
	v->loud = false;
	for (unsigned int op = 1; op <= ops; op <<= 1) {
		if (!(ops & op))
			continue;
		if (slot != NULL) {
			ward_counters_begin(slot);
			ward_counters_add(slot, WARD_IDX_DECISIONS, 1);
			ward_counters_end(slot);
		}
		struct ward_decision d = decide_one(op, path);
		if (d.allow)
			continue;
		if (v->refused == 0)
			v->first = d;
		v->refused |= op;
		v->loud |= !d.quiet;
	}
	return v->refused == 0;
}

/* "read,create" for a set of operations. */
static const char *
ops_text(struct ward_scratch *s, unsigned int ops)
{
	size_t n = 0;
	s->ops_text[0] = '\0';
	for (unsigned int op = 1; op <= ops && op <= WARD_OP_ALL; op <<= 1)
		if (ops & op)
			n += (size_t)snprintf(s->ops_text + n, sizeof(s->ops_text) - n, "%s%s", n ? "," : "",
			                      ward_op_name(op));
	return s->ops_text;
}

/* A refusal by the policy: count it, record it (unless quiet), and say
 * what the call must do (ward_refuse). */
static int
violation(struct ward_frame *f, struct ward_scratch *s, const struct verdict *v)
{
	if (f->counting) {
		struct ward_counter_slot *slot = ward_counters_slot();
		ward_counters_begin(slot);
		ward_counters_add(slot, ward_config.mode == WARD_MODE_AUDIT ? WARD_IDX_AUDITED : WARD_IDX_POLICY_DENIED,
		                  1);
		ward_counters_end(slot);
	}
	const struct ward_rule *r = v->first.rule >= 0 ? &ward_config.policy->rule[v->first.rule] : NULL;
	snprintf(s->rule, sizeof(s->rule), "%s:%d", r ? r->file : "", r ? r->line : 0);
	snprintf(s->by, sizeof(s->by), "%s%s", r ? "rule " : "",
	         r ? s->rule : v->first.rule == -2 ? "ward (the tree's compiled policy)"
	             : ward_config.policy->default_deny ? "default deny" : "default allow");
	struct ward_refusal why = {
		.op = ops_text(s, v->refused),
		.what = s->resolved,
		.by = s->by,
		.rule = r ? s->rule : "default",
		.quiet = !v->loud,
		.err = EACCES,
	};
	return ward_refuse(f, s, &why);
}

/* ---- errors the kernel gives before any permission ---- */

/* Making a new name (mkdir, mknod, symlink, link's new name, O_EXCL):
 * EEXIST when it exists, ENOENT or ENOTDIR when its directory does not.
 * Returned negated: the call fails with it as a plain error (no record, no
 * denial).  0 when the kernel would go on to the permission check. */
static int
kernel_first(struct ward_scratch *s, bool exclusive)
{
	struct stat st;
	if (exclusive && ward_syscall(SYS_newfstatat, AT_FDCWD, s->resolved, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	char *slash = strrchr(s->resolved, '/');
	if (slash == NULL || slash == s->resolved)
		return 0;
	*slash = '\0';
	long r = ward_syscall(SYS_newfstatat, AT_FDCWD, s->resolved, &st, 0);
	int err = errno;
	*slash = '/';
	if (r != 0 && (err == ENOENT || err == ENOTDIR))
		return -err;
	if (r == 0 && !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

/* ---- entering a check ---- */

static const struct ward_resolve_options *
resolve_options(void)
{
	static const struct ward_resolve_options cached = { .use_cwd_cache = true }, direct = { .use_cwd_cache = false };
	return ward_in_vfork ? &direct : &cached;
}

/* No remembered directory trusted: for a second look at a refusal. */
static const struct ward_resolve_options *
fresh_options(void)
{
	static const struct ward_resolve_options fresh = { .use_cwd_cache = false, .skip_dircache = true };
	return &fresh;
}

static unsigned int open_ops(int flags);
static unsigned int creat_ops(const char *path, unsigned int ops, int flags);
static bool through_proc(const struct ward_scratch *s);

/* Resolve path and decide ops on where it leads (open_flags >= 0: the
 * operations of an open with those flags, which depend on whether the file
 * exists).  A refusal is looked at once more on a resolution that trusts
 * nothing remembered: a directory another process put back since the cache
 * saw a symlink there must not keep refusing what the policy allows.
 * 0: allowed (s->resolved is the path); WARD_RESOLVE_*; -1: refused (*v).
 * With unsettled non-NULL the last component may be left unlooked-at
 * (*unsettled: an open settles it with the open itself, openat2 saying
 * ELOOP when it is a symlink); a refusal always settles it first. */
static int
resolve_decide_as(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path, bool follow,
                  unsigned int ops, int open_flags, struct verdict *v, bool *unsettled)
{
	const struct ward_resolve_options *o = resolve_options();
	for (int look = 0; look < 2; look++, o = fresh_options()) {
		bool open_last = false;
		int r = unsettled != NULL && look == 0
		                ? ward_resolve_where(o, dirfd, path, follow, s->resolved, &open_last, &s->resolve)
		                : ward_resolve(o, dirfd, path, follow, s->resolved, &s->resolve);
		if (r != 0)
			return r;
		unsigned int need = open_flags < 0 ? ops
		                                   : creat_ops(s->resolved, open_ops(open_flags), open_flags) & ward_restricted;
		bool allowed = decide(f, s->resolved, need, v);
		/* decide on where the last component really leads: before a
		 * refusal, and always through /proc (a magic link is opened as
		 * asked, so only its target's decision counts) */
		if ((!allowed || through_proc(s)) && open_last) {
			if ((r = ward_resolve_settle(s->resolved, &s->resolve)) != 0)
				return r;
			need = open_flags < 0 ? ops : creat_ops(s->resolved, open_ops(open_flags), open_flags) & ward_restricted;
			open_last = false;
			allowed = decide(f, s->resolved, need, v);
		}
		if (allowed) {
			if (unsettled != NULL)
				*unsettled = open_last;
			return 0;
		}
	}
	return -1;
}

static int
resolve_decide(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path, bool follow,
               unsigned int ops, int open_flags, struct verdict *v)
{
	return resolve_decide_as(f, s, dirfd, path, follow, ops, open_flags, v, NULL);
}

/* The scratch set for a check, or NULL with *result saying why: 0, there
 * is nothing to check; EACCES, the check cannot be made (nested too deep,
 * no memory): refuse rather than let the call through unchecked. */
static struct ward_scratch *
enter_check(struct ward_frame *f, unsigned int ops, const char *path, int *result)
{
	*result = 0;
	if (__builtin_expect(ops == 0, 1) || !f->active || path == NULL || path[0] == '\0')
		return NULL;
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		*result = EACCES;
	return s;
}

/* A path that cannot be resolved: refused (never let through unchecked);
 * a call that fails by itself (bad dirfd, loop) goes on to fail. */
static int
unresolved(struct ward_frame *f, struct ward_scratch *s, const char *path, int r)
{
	if (r != WARD_RESOLVE_UNKNOWN)
		return 0;
	struct ward_refusal why = { .op = "resolve", .what = path,
		                    .by = "ward (the path cannot be resolved: too long, or no working directory)",
		                    .rule = "ward (unresolvable path)", .err = EACCES };
	return ward_refuse(f, s, &why);
}

static int
check(struct ward_frame *f, struct ward_scratch *s, unsigned int ops, int dirfd, const char *path, bool follow)
{
	struct verdict v;
	int r = resolve_decide(f, s, dirfd, path, follow, ops, -1, &v);
	if (r >= 0)
		return unresolved(f, s, path, r);
	if (ops == WARD_OP_CREATE && !follow) {
		int first = kernel_first(s, true);
		if (first != 0)
			return first;
	}
	return violation(f, s, &v);
}

int
ward_check_path(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow)
{
	ops &= ward_restricted;
	if (__builtin_expect(ops == 0, 1))
		return 0;
	int result;
	struct ward_scratch *s = enter_check(f, ops, path, &result);
	if (s == NULL)
		return result;
	result = check(f, s, ops, dirfd, path, follow);
	ward_scratch_leave();
	return result;
}

/* The first len bytes of path (a walker's parent directory, relative to
 * dirfd), followed. */
int
ward_check_prefix(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, size_t len)
{
	ops &= ward_restricted;
	int result;
	struct ward_scratch *s = enter_check(f, ops, path, &result);
	if (s == NULL)
		return result;
	if (len >= sizeof(s->walk_path)) {
		result = EACCES; /* cannot be told: refuse */
	} else {
		memcpy(s->walk_path, path, len);
		s->walk_path[len] = '\0';
		result = check(f, s, ops, dirfd, s->walk_path, true);
	}
	ward_scratch_leave();
	return result;
}

/* The call was made here, exactly on the path decided: the wrapper returns
 * result without calling libc. */
static void
complete(struct ward_frame *f, long result)
{
	f->done = true;
	f->result = result;
	f->done_errno = result < 0 ? errno : f->saved_errno;
}

/* ---- acting on exactly what was decided ---- */

#define ACT_TRIES 4 /* resolutions of one call before a changing path is refused */

/* Without openat2 (kernels before 5.6, seccomp filters that refuse it,
 * valgrind): the same walk made one component at a time, each opened
 * O_NOFOLLOW from the one before, so a symlink anywhere is ELOOP as with
 * RESOLVE_NO_SYMLINKS.  path is canonical: absolute, no "." or "..". */
static long
open_by_components(const char *path, int flags, mode_t mode)
{
	long dir = ward_syscall(SYS_openat, AT_FDCWD, "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -1;
	const char *p = path;
	while (*p == '/')
		p++;
	if (*p == '\0') { /* the root itself */
		long fd = ward_syscall(SYS_openat, dir, ".", flags, mode);
		int err = errno;
		ward_syscall(SYS_close, dir);
		errno = err;
		return fd;
	}
	char name[256];
	for (;;) {
		size_t n = strcspn(p, "/");
		const char *next = p + n;
		while (*next == '/')
			next++;
		if (n >= sizeof(name)) {
			ward_syscall(SYS_close, dir);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		bool last = *next == '\0';
		long fd = last ? ward_syscall(SYS_openat, dir, name, flags | O_NOFOLLOW, mode)
		               : ward_syscall(SYS_openat, dir, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		int err = errno;
		ward_syscall(SYS_close, dir);
		if (fd < 0) {
			/* a symlink where a directory was decided: O_DIRECTORY says ENOTDIR */
			struct stat st;
			if (!last && err == ENOTDIR && ward_syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
				err = ELOOP;
			errno = err;
			return -1;
		}
		if (last)
			return fd;
		dir = fd;
		p = next;
	}
}

static bool no_openat2; /* the kernel said ENOSYS once: walk by components from then on */

static long
open_exact(const char *path, int flags, mode_t mode)
{
	if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		struct open_how how = { .flags = (uint64_t)flags & ~(uint64_t)O_LARGEFILE,
			                .mode = __OPEN_NEEDS_MODE(flags) ? mode : 0,
			                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
		long fd = ward_syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		if (errno == ENOSYS)
			__atomic_store_n(&no_openat2, true, __ATOMIC_RELAXED);
	}
	return open_by_components(path, flags, mode);
}

/* The decided path led through /proc: act through it as the program asked. */
static bool
through_proc(const struct ward_scratch *s)
{
	return s->resolve.path.via_proc || strncmp(s->resolved, "/proc/", 6) == 0 || strcmp(s->resolved, "/proc") == 0;
}

/* A path the program wrote with a trailing '/' keeps it: the kernel then
 * insists on a directory.  Appends it to s->resolved when it fits. */
static bool
keep_trailing_slash(struct ward_scratch *s, const char *path)
{
	size_t n = strlen(path), r = strlen(s->resolved);
	if (n == 0 || path[n - 1] != '/' || r <= 1)
		return true;
	if (r + 2 > sizeof(s->resolved))
		return false;
	s->resolved[r] = '/';
	s->resolved[r + 1] = '\0';
	return true;
}

static void
drop_trailing_slash(struct ward_scratch *s)
{
	size_t r = strlen(s->resolved);
	if (r > 1 && s->resolved[r - 1] == '/')
		s->resolved[r - 1] = '\0';
}

/* Where the call is made: a descriptor of the decided file (follow) or of
 * its directory (no follow, or a new name), into a->path.  0, a negated
 * errno the call fails with as the kernel would, or ELOOP: the path
 * changed, resolve again. */
static int
point(struct ward_scratch *s, struct ward_act *a, bool follow, bool trailing_slash)
{
	char *slash = strrchr(s->resolved, '/');
	long fd;
	if (follow || slash == s->resolved + strlen(s->resolved) - 1 || s->resolved[1] == '\0') {
		fd = open_exact(s->resolved, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
		if (fd < 0)
			return errno == ELOOP ? ELOOP : -errno;
		struct stat st;
		if (ward_syscall(SYS_fstat, fd, &st) == 0 && S_ISLNK(st.st_mode)) {
			ward_syscall(SYS_close, fd); /* a symlink appeared where the check found none */
			return ELOOP;
		}
		a->fd = (int)fd;
		ward_procfd_name(a->path, a->fd);
		if (trailing_slash)
			strcat(a->path, "/");
		return 0;
	}
	size_t name_len = strlen(slash + 1);
	if (name_len > 255)
		return -ENAMETOOLONG;
	*slash = '\0';
	fd = open_exact(slash == s->resolved ? "/" : s->resolved, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	int err = errno;
	*slash = '/';
	if (fd < 0)
		return err == ELOOP ? ELOOP : -err;
	a->fd = (int)fd;
	ward_procfd_name(a->path, a->fd);
	strcat(a->path, slash);
	if (trailing_slash)
		strcat(a->path, "/");
	return 0;
}

/* Hold the scratch in the frame until the call is done (ward_act_release). */
static void
hold(struct ward_frame *f, struct ward_scratch *s)
{
	if (f->held == NULL) {
		s->act[0].fd = s->act[1].fd = -1;
		f->held = s;
	}
}

/* The path kept changing under the check: refused, with a record. */
static int
changing(struct ward_frame *f, struct ward_scratch *s)
{
	struct ward_refusal why = { .op = "resolve", .what = s->resolved, .by = "ward (the path changed while it was checked)",
		                    .rule = "ward (path changing)", .err = EACCES };
	return ward_refuse(f, s, &why);
}

void
ward_act_hold(struct ward_frame *f, struct ward_scratch *s)
{
	hold(f, s);
}

void
ward_act_release(struct ward_frame *f)
{
	struct ward_scratch *s = f->held;
	f->held = NULL;
	for (int i = 0; i < 2; i++)
		if (s->act[i].fd >= 0) {
			ward_syscall(SYS_close, s->act[i].fd);
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
		int r = resolve_decide(f, s, dirfd, path, true, ward_restricted & WARD_OP_EXEC, -1, &v);
		if (r > 0)
			return unresolved(f, s, path, r);
		if (r < 0)
			return violation(f, s, &v);
		if (through_proc(s))
			return 0;
		long fd = open_exact(s->resolved, O_PATH | O_CLOEXEC, 0);
		if (fd >= 0) {
			s->act[0].fd = (int)fd;
			*act = ward_procfd_name(s->act[0].path, (int)fd);
			return 0;
		}
		if (errno != ELOOP)
			return -errno; /* the exec fails as the kernel says: never by name on what may appear */
		ward_dircache_invalidate();
	}
	return changing(f, s);
}

int
ward_check_act(struct ward_frame *f, unsigned int ops, int dirfd, const char **path, bool follow, int which)
{
	ops &= ward_restricted;
	if (__builtin_expect(ops == 0, 1))
		return 0;
	int result = 0;
	struct ward_scratch *s = f->held;
	if (s == NULL && (s = enter_check(f, ops, *path, &result)) == NULL)
		return result;
	if (!f->active || *path == NULL || (*path)[0] == '\0')
		return 0;
	hold(f, s);
	size_t len = strlen(*path);
	bool trailing_slash = len > 0 && (*path)[len - 1] == '/';
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		struct verdict v;
		int r = resolve_decide(f, s, dirfd, *path, follow, ops, -1, &v);
		if (r > 0)
			return unresolved(f, s, *path, r);
		if (r < 0) {
			if (ops == WARD_OP_CREATE && !follow && (result = kernel_first(s, true)) != 0)
				return result;
			return violation(f, s, &v);
		}
		if (through_proc(s))
			return 0;
		r = point(s, &s->act[which], follow, trailing_slash);
		if (r != ELOOP) {
			if (r == 0)
				*path = s->act[which].path;
			return r;
		}
		ward_dircache_invalidate(); /* what it remembered may be what changed */
	}
	return changing(f, s);
}

/* ---- opens ---- */

static unsigned int
open_ops(int flags)
{
	if (flags & O_PATH)
		return WARD_OP_STAT;
	unsigned int ops = 0;
	int access = flags & O_ACCMODE;
	if (access == O_RDONLY || access == O_RDWR)
		ops |= WARD_OP_READ;
	if (access == O_WRONLY || access == O_RDWR || (flags & O_TRUNC))
		ops |= WARD_OP_WRITE;
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		ops = (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	return ops;
}

/* O_CREAT without O_EXCL writes an existing file and creates a missing one:
 * look only when the two would be decided differently. */
static unsigned int
creat_ops(const char *path, unsigned int ops, int flags)
{
	if (!(flags & O_CREAT) || (flags & O_EXCL) || (flags & O_TMPFILE) == O_TMPFILE)
		return ops;
	bool write = ward_matcher_decide(ward_config.matcher, WARD_OP_WRITE, path).allow;
	bool create = ward_matcher_decide(ward_config.matcher, WARD_OP_CREATE, path).allow;
	struct stat st;
	if ((write && create) || ward_syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return ops | WARD_OP_WRITE; /* a refusal must name the right op */
	return (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
}

/* An open refused by the policy: first what the kernel says before any
 * permission (O_CREAT under a missing directory, O_EXCL of an existing
 * name), then the refusal. */
static int
open_refused(struct ward_frame *f, struct ward_scratch *s, int flags, const struct verdict *v)
{
	if (flags & O_CREAT) {
		int first = kernel_first(s, (flags & O_EXCL) != 0);
		if (first != 0)
			return first;
	}
	return violation(f, s, v);
}

/* The decision of an open: 0 allowed, else what the call must do. */
static int
decide_open(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path, int flags, bool *unsettled)
{
	bool follow = !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
	struct verdict v;
	int r = resolve_decide_as(f, s, dirfd, path, follow, 0, flags, &v, unsettled);
	if (r > 0)
		return unresolved(f, s, path, r);
	return r < 0 ? open_refused(f, s, flags, &v) : 0;
}

/*
 * open family: decided, then opened here with openat2 on exactly the
 * decided path (RESOLVE_NO_SYMLINKS: it opens that file or says a symlink
 * got in the way, and then the path is decided again).  Flags openat2
 * refuses (it is stricter than open about unknown bits) go through libc on
 * a descriptor of the decided file or directory instead (ward_check_act's
 * way).
 */
int
ward_check_open(struct ward_frame *f, int dirfd, const char **path, int flags, mode_t mode)
{
	unsigned int ops = open_ops(flags) | ((flags & O_CREAT) ? WARD_OP_CREATE | WARD_OP_WRITE : 0);
	if (__builtin_expect((ops & ward_restricted) == 0, 1))
		return 0;
	int result;
	struct ward_scratch *s = enter_check(f, ops, *path, &result);
	if (s == NULL)
		return result;
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		/* first with the last component left to the open itself (no
		 * readlink when it is no symlink: the common case) */
		bool unsettled = false;
		result = decide_open(f, s, dirfd, *path, flags, attempt == 0 ? &unsettled : NULL);
		if (result != 0 || through_proc(s))
			goto out;
		if (!keep_trailing_slash(s, *path)) {
			result = EACCES;
			goto out;
		}
		long fd = open_exact(s->resolved, flags, mode);
		if (fd >= 0 || (errno != ELOOP && errno != EINVAL && errno != E2BIG && errno != ENOSYS && errno != EPERM)) {
			complete(f, fd);
			goto out;
		}
		drop_trailing_slash(s);
		if (errno != ELOOP) { /* openat2 will not take these flags: libc opens, on a descriptor */
			bool follow = !(flags & O_NOFOLLOW) && !(flags & O_CREAT);
			hold(f, s);
			result = point(s, &s->act[0], follow, false);
			if (result == 0)
				*path = s->act[0].path;
			if (result != ELOOP)
				return result; /* the frame holds the scratch */
			continue;
		}
		if (!unsettled) /* a symlink appeared on a path decided whole: what was remembered may be stale */
			ward_dircache_invalidate();
	}
	result = changing(f, s);
out:
	if (f->held != s)
		ward_scratch_leave();
	return result;
}

/* fopen's mode as open flags (glibc's reading of it). */
static int
fopen_flags(const char *mode)
{
	int flags = strchr(mode, '+') ? O_RDWR : 0;
	if (mode[0] == 'w')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_TRUNC;
	else if (mode[0] == 'a')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_APPEND;
	if (strchr(mode, 'x'))
		flags |= O_EXCL;
	return flags;
}

/* fopen, freopen: decided, the file opened (or created) here on exactly the
 * decided path, and libc makes the stream on that file through its
 * descriptor, with the mode minus 'x' (the file exists by then). */
int
ward_check_fopen(struct ward_frame *f, const char **path, const char **mode)
{
	if (__builtin_expect(ward_restricted == 0, 1) || *mode == NULL)
		return 0;
	int flags = fopen_flags(*mode);
	unsigned int ops = open_ops(flags) | ((flags & O_CREAT) ? WARD_OP_CREATE | WARD_OP_WRITE : 0);
	int result;
	struct ward_scratch *s = enter_check(f, ops & ward_restricted, *path, &result);
	if (s == NULL)
		return result;
	hold(f, s);
	for (int attempt = 0; attempt < ACT_TRIES; attempt++) {
		result = decide_open(f, s, AT_FDCWD, *path, flags, NULL);
		if (result != 0 || through_proc(s))
			return result;
		if (!keep_trailing_slash(s, *path))
			return EACCES;
		long fd = open_exact(s->resolved, flags | O_CLOEXEC, 0666);
		if (fd >= 0) {
			s->act[0].fd = (int)fd;
			*path = ward_procfd_name(s->act[0].path, (int)fd);
			size_t n = 0;
			for (const char *m = *mode; *m && n + 1 < sizeof(s->act_mode); m++)
				if (*m != 'x')
					s->act_mode[n++] = *m;
			s->act_mode[n] = '\0';
			*mode = s->act_mode;
			return 0;
		}
		if (errno != ELOOP)
			return -errno;
		drop_trailing_slash(s);
		ward_dircache_invalidate();
	}
	return changing(f, s);
}
/*
 * Metadata: stat and fstatat without flags.  The decided path is looked at
 * with one no-follow fstatat, which is also the answer when it is not a
 * symlink (copied to the caller only when allowed); a symlink is resolved
 * fully and libc asked.  Metadata calls are decided exactly but made on
 * the program's path (see CHECK_META in wrappers.c): a program racing its
 * own symlinks can learn a denied file's size, mode and times, never its
 * content; acting through a descriptor would cost two more system calls
 * per stat.
 */
int
ward_check_stat(struct ward_frame *f, int dirfd, const char *path, int flags, void *buf)
{
	if (__builtin_expect((WARD_OP_STAT & ward_restricted) == 0, 1))
		return 0;
	if (flags & ~AT_SYMLINK_NOFOLLOW)
		return ward_check_path(f, WARD_OP_STAT, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW));
	int result;
	struct ward_scratch *s = enter_check(f, WARD_OP_STAT, path, &result);
	if (s == NULL)
		return result;
	bool unsettled;
	struct verdict v;
	int r = ward_resolve_where(resolve_options(), dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), s->resolved,
	                           &unsettled, &s->resolve);
	if (r != 0) {
		result = unresolved(f, s, path, r);
		goto out;
	}
	if (unsettled) {
		long rc = ward_syscall(SYS_newfstatat, AT_FDCWD, s->resolved, &s->found, AT_SYMLINK_NOFOLLOW);
		if (rc != 0 || !S_ISLNK(s->found.st_mode)) {
			if (!decide(f, s->resolved, WARD_OP_STAT, &v)) {
				result = violation(f, s, &v);
				goto out;
			}
			if (rc == 0)
				memcpy(buf, &s->found, sizeof(s->found));
			complete(f, rc);
			goto out;
		}
		r = ward_resolve_settle(s->resolved, &s->resolve);
		if (r != 0) {
			result = unresolved(f, s, path, r);
			goto out;
		}
	}
	if (!decide(f, s->resolved, WARD_OP_STAT, &v))
		result = violation(f, s, &v);
out:
	ward_scratch_leave();
	return result;
}

/* access, faccessat, euidaccess: a probe that predicts what the policy
 * will do.  F_OK is a stat (decided and recorded like one); R_OK, W_OK
 * and X_OK are decided as read, write and exec, and a refusal is the
 * probe's answer: EACCES, not a violation (nothing was attempted).  On a
 * directory only R_OK (listing it) is the policy's: W_OK (making entries)
 * and X_OK (searching it) are answered by the kernel, as a compiler's
 * probe of its temporary directory expects. */
int
ward_check_access(struct ward_frame *f, int dirfd, const char *path, int mode, int flags)
{
	bool follow = !(flags & AT_SYMLINK_NOFOLLOW);
	if ((flags & AT_EMPTY_PATH) && path != NULL && path[0] == '\0')
		return ward_check_fd(f, WARD_OP_STAT, dirfd);
	unsigned int probe = ((mode & R_OK) ? WARD_OP_READ : 0) | ((mode & W_OK) ? WARD_OP_WRITE : 0) |
	                     ((mode & X_OK) ? WARD_OP_EXEC : 0);
	if (probe == 0) /* F_OK: a stat */
		return ward_check_path(f, WARD_OP_STAT, dirfd, path, follow);
	int r;
	struct ward_scratch *s = enter_check(f, (probe | WARD_OP_STAT) & ward_restricted, path, &r);
	if (s == NULL)
		return r;
	r = ward_resolve(resolve_options(), dirfd, path, follow, s->resolved, &s->resolve);
	struct verdict v;
	struct stat st;
	if (r == 0 && ward_syscall(SYS_newfstatat, AT_FDCWD, s->resolved, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		probe &= WARD_OP_READ; /* a directory: W_OK and X_OK are about its entries (create, search), not it */
	probe = (probe | WARD_OP_STAT) & ward_restricted;
	if (r != 0)
		r = unresolved(f, s, path, r);
	else if (probe != 0 && !decide(f, s->resolved, probe, &v))
		r = ward_config.mode == WARD_MODE_AUDIT ? violation(f, s, &v) /* logged: an audit lists all a program needs */
		                                        : -EACCES; /* the answer, as the kernel gives it for a mode it refuses */
	ward_scratch_leave();
	return r;
}

/* freopen(NULL, mode, stream): the stream's own file, reopened with mode. */
int
ward_check_reopen(struct ward_frame *f, const char *mode, int fd)
{
	if (mode == NULL || fd < 0)
		return 0;
	int flags = fopen_flags(mode) & ~(O_CREAT | O_EXCL); /* the file exists: it is the stream's */
	return ward_check_fd(f, open_ops(flags), fd);
}

/* Calls on an open descriptor that change the file: decide on what the
 * descriptor is now. */
int
ward_check_fd(struct ward_frame *f, unsigned int ops, int fd)
{
	if (__builtin_expect((ops & ward_restricted) == 0, 1) || !f->active)
		return 0;
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		return EACCES;
	char link[WARD_PROCFD_NAME_MAX];
	char *target = s->fd_target;
	long n = ward_syscall(SYS_readlinkat, AT_FDCWD, ward_procfd_name(link, fd), target, sizeof(s->fd_target) - 1);
	int result = 0;
	if (n > 0) {
		target[n] = '\0';
		/* pipes, sockets, memfds and deleted files have no name to protect */
		bool nameless = target[0] != '/' || strncmp(target, "/memfd:", 7) == 0 ||
		                (n > 10 && strcmp(target + n - 10, " (deleted)") == 0);
		if (!nameless)
			result = check(f, s, ops & ward_restricted, AT_FDCWD, target, false);
	} /* else not an open descriptor: the call fails by itself */
	ward_scratch_leave();
	return result;
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
	struct ward_scratch *s = enter_check(f, WARD_OP_REMOVE, path, &result);
	if (s == NULL)
		return result;
	int r = ward_resolve(resolve_options(), dirfd, path, false, s->resolved, &s->resolve);
	int rule = r == 0 ? ward_policy_denies_at_or_below(ward_config.policy, s->resolved) : -1;
	if (r == WARD_RESOLVE_UNKNOWN)
		result = EACCES;
	else if (rule >= 0) {
		struct verdict v = { .refused = WARD_OP_REMOVE, .first = { false, ward_config.policy->rule[rule].quiet, rule },
			             .loud = !ward_config.policy->rule[rule].quiet };
		result = violation(f, s, &v);
	}
	ward_scratch_leave();
	return result;
}

/* rename: remove the old name, create the new one (and remove it too when
 * it exists and is replaced).  RENAME_EXCHANGE swaps: both sides both.
 * Both names are acted on through their directories. */
int
ward_check_rename(struct ward_frame *f, int olddirfd, const char **old, int newdirfd, const char **new,
                  unsigned int flags)
{
	if (__builtin_expect(ward_restricted == 0, 1) || !f->active)
		return 0;
	unsigned int both = WARD_OP_REMOVE | WARD_OP_CREATE;
	bool exchange = flags & RENAME_EXCHANGE;
	struct stat st;
	bool replaces = *new != NULL && ward_syscall(SYS_newfstatat, newdirfd, *new, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int r = guard_moved_tree(f, olddirfd, *old);
	if (r == 0 && exchange)
		r = guard_moved_tree(f, newdirfd, *new);
	if (r == 0)
		r = ward_check_act(f, exchange ? both : WARD_OP_REMOVE, olddirfd, old, false, 0);
	if (r == 0)
		r = ward_check_act(f, exchange || replaces ? both : WARD_OP_CREATE, newdirfd, new, false, 1);
	return r == -EEXIST ? EACCES : r; /* made in between: rename's EEXIST is not ours to give, refuse */
}

/* link: a new name for an existing file must not expose one the policy
 * protects, so the old file needs read and write too. */
int
ward_check_link(struct ward_frame *f, int olddirfd, const char **old, int newdirfd, const char **new, int flags)
{
	if (__builtin_expect(ward_restricted == 0, 1) || !f->active)
		return 0;
	struct stat st; /* the kernel's first answer: the new name exists */
	if (*new != NULL && (*new)[0] != '\0' && ward_syscall(SYS_newfstatat, newdirfd, *new, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return -EEXIST;
	int r = (flags & AT_EMPTY_PATH) && *old != NULL && (*old)[0] == '\0' /* the file dirfd holds */
	                ? ward_check_fd(f, WARD_OP_READ | WARD_OP_WRITE, olddirfd)
	                : ward_check_act(f, WARD_OP_READ | WARD_OP_WRITE, olddirfd, old, (flags & AT_SYMLINK_FOLLOW) != 0, 0);
	if (r == 0)
		r = ward_check_act(f, WARD_OP_CREATE, newdirfd, new, false, 1);
	return r;
}
/* utimensat(fd, NULL, ...) acts on fd itself (libc declares the path
 * nonnull; the kernel does not). */
int
ward_check_utimensat(struct ward_frame *f, int dirfd, const char **path, int flags)
{
	if (*path == NULL)
		return ward_check_fd(f, WARD_OP_WRITE, dirfd);
	return ward_check_act(f, WARD_OP_WRITE, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), 0);
}
