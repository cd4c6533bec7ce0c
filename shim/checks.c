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
 * The kernel then acts on exactly what was decided: act.c (every checked
 * call but opens) and opens.c.
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
#include "../core/exact.h"
#include "../core/resolve.h"
#include "../policy/match.h"
#include "checks.h"

/* core/exact's walks hold their directories as acts do (held.c). */
static const struct ward_exact_guard walks_held = { &ward_held_change_count, ward_held_add_walk, ward_held_drop };

void
ward_checks_init(void)
{
	ward_exact_set_guard(&walks_held);
	/* the working directory is named at the first relative path
	 * (core/resolve.c's base_for), not here */
}

/* After a chdir, fchdir, or a walker's hidden one: named again in this
 * thread's scratch (a deep name is walked up, which takes a while: the
 * module's own space would make other threads' refreshes wait or skip).
 * A vfork child's memory is its parent's: the parent's remembered
 * directory is only forgotten there, never replaced by the child's. */
void
ward_checks_cwd_changed(void)
{
	if (ward_config.policy == NULL)
		return;
	struct ward_scratch *s = ward_in_vfork ? NULL : ward_scratch_enter();
	if (s == NULL) {
		ward_cwd_forget();
		return;
	}
	ward_cwd_refresh_in(s->resolve.base, s->resolve.path.entries, sizeof(s->resolve.path.entries));
	ward_scratch_leave();
}

void
ward_checks_after_fork_child(void)
{
	if (ward_config.policy != NULL)
		ward_cwd_after_fork();
}

/* ---- deciding ---- */

static inline __attribute__((always_inline)) struct ward_decision
decide_one(unsigned int op, const char *path, const struct ward_resolve_shape *shape)
{
	struct ward_decision d = shape != NULL ? ward_matcher_decide_known(ward_config.matcher, op, path, shape->len,
	                                                                   shape->slash, shape->dir_key)
	                                       : ward_matcher_decide(ward_config.matcher, op, path);
	if ((op & (WARD_OP_WRITE | WARD_OP_CREATE | WARD_OP_REMOVE)) && ward_config.image_path[0] != '\0' &&
	    strcmp(path, ward_config.image_path) == 0)
		d = (struct ward_decision){ false, false, -2 }; /* the tree's own policy */
	return d;
}

/* Every operation in ops decided on s->resolved (what the resolution
 * learnt of it saves a look at it again), not counted yet; the number of
 * decisions made. */
static inline __attribute__((always_inline)) unsigned int
decide_ops(struct ward_scratch *s, unsigned int ops, struct verdict *v)
{
	const char *path = s->resolved;
	const struct ward_resolve_shape *shape = ward_resolve_shape_of(&s->resolve, path);
	unsigned int decisions = 0;
	v->refused = 0;
	v->loud = false;
	for (unsigned int rest = ops; rest != 0; rest &= rest - 1, decisions++) {
		unsigned int op = rest & -rest;
		struct ward_decision d = decide_one(op, path, shape);
		if (d.allow)
			continue;
		if (v->refused == 0)
			v->first = d;
		v->refused |= op;
		v->loud |= !d.quiet;
	}
	return decisions;
}

/* Each operation decided is one decision in the figures. */
static inline void
count_decisions(struct ward_frame *f, unsigned int decisions)
{
	if (f->counting && decisions != 0) {
		struct ward_counter_slot *slot = ward_counters_slot();
		ward_counters_begin(slot);
		ward_counters_add(slot, WARD_IDX_DECISIONS, decisions);
		ward_counters_end(slot);
	}
}

/* Decide every operation in ops on s->resolved, counted; true when all
 * are allowed. */
bool
ward_checks_decide(struct ward_frame *f, struct ward_scratch *s, unsigned int ops, struct verdict *v)
{
	count_decisions(f, decide_ops(s, ops, v));
	return v->refused == 0;
}

/* An open's common case decided in one pass (see checks.h): the number of
 * decisions made when path resolves plainly and every operation in need is
 * allowed, else 0 with nothing counted (the general way decides, and words
 * a refusal).  The caller counts the decisions once the open is made. */
unsigned int
ward_checks_decide_plain(struct ward_scratch *s, const char *path, unsigned int need)
{
	if (!ward_resolve_plain(path, s->resolved, true, &s->resolve))
		return 0;
	const struct ward_resolve_shape *shape = &s->resolve.shape;
	unsigned int decisions = 0;
	for (unsigned int rest = need; rest != 0; rest &= rest - 1, decisions++)
		if (!decide_one(rest & -rest, s->resolved, shape).allow)
			return 0;
	return decisions;
}

void
ward_checks_count_decisions(struct ward_frame *f, unsigned int decisions)
{
	count_decisions(f, decisions);
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
/* A refused call on a name that is not there fails in the kernel before
 * any permission is looked at: ENOENT (or ENOTDIR under a file) when it
 * needs the name to exist, the same for its directory when it makes the
 * name.  Negated, or 0. */
static int
missing_first(struct ward_scratch *s, unsigned int refused)
{
	struct stat st;
	if (ward_checks_through_proc(s) || ward_exact_call(SYS_newfstatat, s->resolved, (long)&st, AT_SYMLINK_NOFOLLOW, 0) == 0)
		return 0;
	int err = errno;
	if (err != ENOENT && err != ENOTDIR)
		return 0;
	if (refused & WARD_OP_CREATE)
		return ward_checks_kernel_first(s, false); /* making it: only its directory must be there */
	return -err;
}

/* The shape of the program's path decides first too: "file/" is ENOTDIR,
 * O_NOFOLLOW on a symlink ELOOP (s->resolved: the path without its
 * trailing '/', the last component not followed). */
int
ward_checks_shape_first(struct ward_scratch *s, const char *path, bool nofollow_last)
{
	struct stat st;
	size_t n = strlen(path);
	if (n > 1 && path[n - 1] == '/')
		return ward_exact_call(SYS_newfstatat, s->resolved, (long)&st, 0, 0) == 0 && !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	if (nofollow_last && ward_exact_call(SYS_newfstatat, s->resolved, (long)&st, AT_SYMLINK_NOFOLLOW, 0) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return 0;
}

int
ward_checks_violation(struct ward_frame *f, struct ward_scratch *s, const struct verdict *v)
{
	int first = missing_first(s, v->refused);
	if (first != 0)
		return first;
	if (f->counting || (f->active && ward_in_vfork)) { /* a vfork child: its parent's slot, see below */
		struct ward_counter_slot *slot = ward_counters_slot();
		ward_counters_begin(slot);
		ward_counters_add(slot, ward_config.mode == WARD_MODE_AUDIT ? WARD_IDX_AUDITED : WARD_IDX_POLICY_DENIED,
		                  1);
		ward_counters_end(slot);
	}
	struct ward_rule rule = v->first.rule >= 0 ? ward_policy_rule(ward_config.policy, (size_t)v->first.rule)
	                                           : (struct ward_rule){ 0 };
	const struct ward_rule *r = v->first.rule >= 0 ? &rule : NULL;
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
int
ward_checks_kernel_first(struct ward_scratch *s, bool exclusive)
{
	struct stat st;
	if (exclusive && ward_exact_call(SYS_newfstatat, s->resolved, (long)&st, AT_SYMLINK_NOFOLLOW, 0) == 0)
		return -EEXIST;
	char *slash = strrchr(s->resolved, '/');
	if (slash == NULL || slash == s->resolved)
		return 0;
	*slash = '\0';
	long r = ward_exact_call(SYS_newfstatat, s->resolved, (long)&st, 0, 0);
	int err = errno;
	*slash = '/';
	if (r != 0 && (err == ENOENT || err == ENOTDIR))
		return -err;
	if (r == 0 && !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return 0;
}

/* The decided path led through /proc: act through it as the program asked. */
bool
ward_checks_through_proc(const struct ward_scratch *s)
{
	return s->resolve.path.via_proc || ward_checks_in_proc(s);
}

/* The exact walk says ENOENT for a path that came through a magic link: the
 * descriptor holds a file whose name is gone (deleted, or renamed since):
 * the object is what the link names, so the call goes through the link. */
bool
ward_checks_nameless_object(const struct ward_scratch *s, int err)
{
	return err == ENOENT && s->resolve.path.via_proc;
}

/* O_CREAT without O_EXCL writes an existing file and creates a missing one:
 * look only when the two would be decided differently. */
unsigned int
ward_checks_creat_ops(char *path, unsigned int ops, int flags)
{
	if (!(flags & O_CREAT) || (flags & O_EXCL) || (flags & O_TMPFILE) == O_TMPFILE)
		return ops;
	bool write = ward_matcher_decide(ward_config.matcher, WARD_OP_WRITE, path).allow;
	bool create = ward_matcher_decide(ward_config.matcher, WARD_OP_CREATE, path).allow;
	struct stat st;
	if ((write && create) || ward_exact_call(SYS_newfstatat, path, (long)&st, AT_SYMLINK_NOFOLLOW, 0) == 0)
		return ops | WARD_OP_WRITE; /* a refusal must name the right op */
	return (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
}

/* ---- entering a check ---- */

const struct ward_resolve_options *
ward_checks_resolve_options(void)
{
	static const struct ward_resolve_options cached = { .use_cwd_cache = true }, direct = { .use_cwd_cache = false };
	return ward_in_vfork ? &direct : &cached;
}

/* For an open that core/exact makes on the answer (ward_exact_open: no
 * symlink followed anywhere, so one that appeared since a directory was
 * remembered is ELOOP and the open resolves again): a remembered directory
 * that is its own real path is used at any age. */
static const struct ward_resolve_options *
open_options(void)
{
	static const struct ward_resolve_options cached = { .use_cwd_cache = true, .exact_open = true },
	                                         direct = { .use_cwd_cache = false, .exact_open = true };
	return ward_in_vfork ? &direct : &cached;
}

/* No remembered directory trusted: for a second look at a refusal. */
const struct ward_resolve_options *
ward_checks_fresh_options(void)
{
	static const struct ward_resolve_options fresh = { .use_cwd_cache = false, .skip_dircache = true };
	return &fresh;
}


/* What an open with flags needs on path, once resolved (open_ops: its
 * flags' operations). */
static inline unsigned int
open_needs(char *path, unsigned int open_ops, int flags)
{
	if (__builtin_expect(!(flags & O_CREAT), 1))
		return open_ops & ward_restricted;
	return ward_checks_creat_ops(path, open_ops, flags) & ward_restricted;
}

/* Resolve path and decide ops on where it leads (open_flags >= 0: the
 * operations of an open with those flags, which depend on whether the file
 * exists).  A refusal is looked at once more on a resolution that trusts
 * nothing remembered: a directory another process put back since the cache
 * saw a symlink there must not keep refusing what the policy allows.
 * 0: allowed (s->resolved is the path); WARD_RESOLVE_*; -1: refused (*v).
 * With unsettled non-NULL the last component may be left unlooked-at
 * (*unsettled: an open settles it with the open itself, openat2 saying
 * ELOOP when it is a symlink); a refusal always settles it first. */
int
ward_checks_resolve_decide_as(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path, bool follow,
                  unsigned int ops, int open_flags, struct verdict *v, bool *unsettled)
{
	/* (open_flags >= 0: an open, made on the answer by core/exact: opens.c) */
	const struct ward_resolve_options *o = open_flags < 0 ? ward_checks_resolve_options() : open_options();
	unsigned int open_ops = open_flags < 0 ? 0 : ward_checks_open_ops(open_flags);
	for (int look = 0; look < 2; look++, o = ward_checks_fresh_options()) {
		bool open_last = false;
		int r = unsettled != NULL && look == 0
		                ? ward_resolve_where(o, dirfd, path, follow, s->resolved, &open_last, &s->resolve)
		                : ward_resolve(o, dirfd, path, follow, s->resolved, &s->resolve);
		if (r != 0)
			return r;
		unsigned int need = open_flags < 0 ? ops : open_needs(s->resolved, open_ops, open_flags);
		count_decisions(f, decide_ops(s, need, v));
		bool allowed = v->refused == 0;
		/* decide on where the last component really leads: before a
		 * refusal, and always through /proc (a magic link is opened as
		 * asked, so only its target's decision counts) */
		if ((!allowed || ward_checks_through_proc(s)) && open_last) {
			if ((r = ward_resolve_settle(s->resolved, &s->resolve)) != 0)
				return r;
			need = open_flags < 0 ? ops : open_needs(s->resolved, open_ops, open_flags);
			open_last = false;
			allowed = ward_checks_decide(f, s, need, v);
		}
		if (allowed) {
			if (unsettled != NULL)
				*unsettled = open_last;
			return 0;
		}
	}
	return -1;
}

int
ward_checks_resolve_decide(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *path, bool follow,
               unsigned int ops, int open_flags, struct verdict *v)
{
	return ward_checks_resolve_decide_as(f, s, dirfd, path, follow, ops, open_flags, v, NULL);
}

/* A path that cannot be resolved: refused (never let through unchecked);
 * a call that fails by itself (bad dirfd, loop) fails here with the
 * kernel's errno, as a plain error: made, it would resolve the program's
 * path afresh, which may lead elsewhere by then. */
int
ward_checks_unresolved(struct ward_frame *f, struct ward_scratch *s, const char *path, int r)
{
	if (r == WARD_RESOLVE_FAILS)
		return -(s->resolve.fails_with > 0 ? s->resolve.fails_with : EBADF);
	if (r != WARD_RESOLVE_UNKNOWN)
		return 0;
	struct ward_refusal why = { .op = "resolve", .what = path,
		                    .by = "ward (the path cannot be resolved: a name too long to tell, or no working directory)",
		                    .rule = "ward (unresolvable path)", .err = EACCES };
	return ward_refuse(f, s, &why);
}

int
ward_checks_check(struct ward_frame *f, struct ward_scratch *s, unsigned int ops, int dirfd, const char *path, bool follow)
{
	struct verdict v;
	int r = ward_checks_resolve_decide(f, s, dirfd, path, follow, ops, -1, &v);
	if (r >= 0)
		return ward_checks_unresolved(f, s, path, r);
	if (ops == WARD_OP_CREATE && !follow) {
		int first = ward_checks_kernel_first(s, true);
		if (first != 0)
			return first;
	}
	return ward_checks_violation(f, s, &v);
}

int
ward_check_path(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow)
{
	ops &= ward_restricted;
	if (__builtin_expect(ops == 0, 1))
		return 0;
	int result;
	struct ward_scratch *s = ward_checks_enter_check(f, ops, path, &result);
	if (s == NULL)
		return result;
	result = ward_checks_check(f, s, ops, dirfd, path, follow);
	ward_scratch_leave();
	return result;
}

/* ward_check_path for a check made once (the image's own exec check at
 * start-up): resolved and decided without reading or filling the
 * directory cache or the matcher's per-directory one (the same decision:
 * decide_fully is what the cache is built from), so a process that decides
 * nothing else never touches their pages.  Anything but "allowed" is
 * checked again the ordinary way, which refuses and records. */
int
ward_check_path_once(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow)
{
	static const struct ward_resolve_options once = { .use_cwd_cache = false, .skip_dircache = true,
		                                          .leave_dircache = true };
	ops &= ward_restricted;
	if (ops == 0)
		return 0;
	int result;
	struct ward_scratch *s = ward_checks_enter_check(f, ops, path, &result);
	if (s == NULL)
		return result;
	bool allowed = ward_resolve(&once, dirfd, path, follow, s->resolved, &s->resolve) == 0;
	struct ward_counter_slot *slot = f->counting ? ward_counters_slot() : NULL;
	for (unsigned int op = 1; allowed && op <= ops; op <<= 1) {
		if (!(ops & op))
			continue;
		if (slot != NULL) { /* counted as ward_checks_decide counts */
			ward_counters_begin(slot);
			ward_counters_add(slot, WARD_IDX_DECISIONS, 1);
			ward_counters_end(slot);
		}
		allowed = ward_matcher_decide_uncached(ward_config.matcher, op, s->resolved).allow;
	}
	ward_scratch_leave();
	return allowed ? 0 : ward_check_path(f, ops, dirfd, path, follow);
}

/* The first len bytes of path (a walker's parent directory, relative to
 * dirfd), followed. */
int
ward_check_prefix(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, size_t len)
{
	ops &= ward_restricted;
	int result;
	struct ward_scratch *s = ward_checks_enter_check(f, ops, path, &result);
	if (s == NULL)
		return result;
	if (len >= sizeof(s->walk_path)) {
		result = EACCES; /* cannot be told: refuse */
	} else {
		memcpy(s->walk_path, path, len);
		s->walk_path[len] = '\0';
		result = ward_checks_check(f, s, ops, dirfd, s->walk_path, true);
	}
	ward_scratch_leave();
	return result;
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
	struct ward_scratch *s = ward_checks_enter_check(f, WARD_OP_STAT, path, &result);
	if (s == NULL)
		return result;
	bool follow = !(flags & AT_SYMLINK_NOFOLLOW), unsettled = follow; /* (a plain path is never "/") */
	struct verdict v;
	int r = ward_resolve_plain(path, s->resolved, false, &s->resolve)
	                ? 0
	                : ward_resolve_where(ward_checks_resolve_options(), dirfd, path, follow, s->resolved, &unsettled,
	                                     &s->resolve);
	if (s->resolve.trailing_slash) { /* "x/": x followed, and it must be a directory */
		result = ward_checks_check(f, s, WARD_OP_STAT, dirfd, path, true);
		if (result == 0 && ward_checks_keep_trailing_slash(s, path)) /* the kernel's answer on "x/" */
			ward_checks_complete(f, ward_exact_call(SYS_newfstatat, s->resolved, (long)buf, 0, 0));
		goto out;
	}
	if (r != 0) {
		result = ward_checks_unresolved(f, s, path, r);
		goto out;
	}
	if (unsettled) {
		/* decided on the name as it is first (counted once it is known
		 * to be no symlink): the look at it is made into the scratch and
		 * is the answer when allowed, copied to the caller's buffer;
		 * nothing of a refused file reaches the caller, and the buffer
		 * is left as the kernel leaves it when the call fails (a symlink
		 * is then resolved and decided, and libc asked). */
		bool allowed = decide_ops(s, WARD_OP_STAT, &v) == 1 && v.refused == 0;
		long rc = ward_exact_call(SYS_newfstatat, s->resolved, (long)&s->found, AT_SYMLINK_NOFOLLOW, 0);
		if (rc != 0 || !S_ISLNK(s->found.st_mode)) {
			count_decisions(f, 1);
			if (!allowed) {
				result = ward_checks_violation(f, s, &v);
				goto out;
			}
			if (rc == 0)
				*(struct stat *)buf = s->found; /* inline: 144 bytes */
			ward_checks_complete(f, rc);
			goto out;
		}
		r = ward_resolve_settle(s->resolved, &s->resolve);
		if (r != 0) {
			result = ward_checks_unresolved(f, s, path, r);
			goto out;
		}
	}
	if (!ward_checks_decide(f, s, WARD_OP_STAT, &v))
		result = ward_checks_violation(f, s, &v);
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
		return ward_check_fd(f, WARD_OP_STAT, &dirfd);
	unsigned int probe = ((mode & R_OK) ? WARD_OP_READ : 0) | ((mode & W_OK) ? WARD_OP_WRITE : 0) |
	                     ((mode & X_OK) ? WARD_OP_EXEC : 0);
	if (probe == 0) /* F_OK: a stat */
		return ward_check_path(f, WARD_OP_STAT, dirfd, path, follow);
	int r;
	struct ward_scratch *s = ward_checks_enter_check(f, (probe | WARD_OP_STAT) & ward_restricted, path, &r);
	if (s == NULL)
		return r;
	r = ward_resolve(ward_checks_resolve_options(), dirfd, path, follow, s->resolved, &s->resolve);
	struct verdict v;
	struct stat st;
	if (r == 0 && ward_exact_call(SYS_newfstatat, s->resolved, (long)&st, 0, 0) != 0) {
		ward_scratch_leave(); /* nothing there: the kernel's answer (ENOENT), and access changes nothing */
		return 0;
	}
	if (r == 0 && S_ISDIR(st.st_mode))
		probe &= WARD_OP_READ; /* a directory: W_OK and X_OK are about its entries (create, search), not it */
	probe = (probe | WARD_OP_STAT) & ward_restricted;
	if (r != 0)
		r = ward_checks_unresolved(f, s, path, r);
	else if (probe != 0 && !ward_checks_decide(f, s, probe, &v)) {
		if (ward_config.mode == WARD_MODE_AUDIT) {
			r = ward_checks_violation(f, s, &v); /* logged: an audit lists all a program needs */
		} else {
			struct ward_rule by = v.first.rule >= 0 ? ward_policy_rule(ward_config.policy, (size_t)v.first.rule)
			                                        : (struct ward_rule){ 0 };
			const struct ward_rule *rule = v.first.rule >= 0 ? &by : NULL;
			snprintf(s->rule, sizeof(s->rule), "%s:%d", rule ? rule->file : "", rule ? rule->line : 0);
			ward_record_probe(f, s, ward_op_name(v.refused & -v.refused), s->resolved, rule ? s->rule : "default");
			r = -EACCES; /* the answer, as the kernel gives it for a mode it refuses */
		}
	}
	ward_scratch_leave();
	return r;
}

/* Calls on an open descriptor: decided on the file it names.  A call that
 * changes the file is made on a copy of the descriptor the shim holds
 * (held.c; *fd is replaced by it), decided on what that copy names: the
 * program's number could be made to name another file by another thread
 * between the decision and the call. */
int
ward_check_fd(struct ward_frame *f, unsigned int ops, int *fdp)
{
	if (__builtin_expect((ops & ward_restricted) == 0, 1) || !f->active)
		return 0;
	bool own = f->held == NULL; /* a scratch of this check's own, or the frame's */
	struct ward_scratch *s = own ? ward_scratch_enter() : f->held;
	if (s == NULL)
		return EACCES;
	int fd = *fdp;
	bool acting = (ops & ward_restricted & ~WARD_OP_STAT) != 0 && fd >= 0;
	if (acting) {
		if (own)
			ward_checks_hold(f, s); /* closed and given back when the call is done */
		struct ward_act *a = &s->act[s->act[0].fd >= 0 ? 1 : 0];
		if (a->fd >= 0)
			return EACCES; /* (no call acts on three objects) */
		long copy = ward_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 0);
		if (copy < 0)
			return 0; /* not an open descriptor: the call fails by itself (EBADF, nothing made) */
		if (!ward_held_add((int)copy, 0, NULL, s->fd_target))
			return EACCES;
		a->fd = (int)copy;
		fd = (int)copy;
	}
	char link[WARD_PROCFD_NAME_MAX];
	char *target = s->fd_target;
	long n = ward_syscall(SYS_readlinkat, AT_FDCWD, ward_procfd_name(link, fd), target, sizeof(s->fd_target) - 1);
	int result = 0;
	if ((n < 0 && errno == ENAMETOOLONG) || n >= (long)sizeof(s->fd_target) - 1) {
		/* a name longer than /proc gives: a directory is named by the walk
		 * up its ".." (from "." of it); a file has no ".." to walk */
		struct stat st;
		if (ward_syscall(SYS_fstat, fd, &st) == 0 && S_ISDIR(st.st_mode))
			result = ward_checks_check(f, s, ops & ward_restricted, fd, ".", false);
		else if ((ops & ward_restricted & ~WARD_OP_STAT) != 0)
			result = ward_checks_unresolved(f, s, link, WARD_RESOLVE_UNKNOWN);
		/* else metadata of a file the caller holds open: what fstat, never
		 * decided, gives it anyway (statx AT_EMPTY_PATH, Rust's metadata) */
	} else if (n > 0) {
		target[n] = '\0';
		/* pipes, sockets, memfds and deleted files have no name to protect
		 * (a file named "x (deleted)" has one: the link count tells) */
		struct stat st;
		bool nameless = target[0] != '/' || strncmp(target, "/memfd:", 7) == 0 ||
		                (n > 10 && strcmp(target + n - 10, " (deleted)") == 0 &&
		                 ward_syscall(SYS_fstat, fd, &st) == 0 && st.st_nlink == 0);
		if (!nameless)
			result = ward_checks_check(f, s, ops & ward_restricted, AT_FDCWD, target, false);
	} /* else not an open descriptor: the call fails by itself */
	if (acting && result == 0)
		*fdp = fd;
	if (!acting && own)
		ward_scratch_leave();
	return result;
}

unsigned int
ward_checks_ops_of_open(int flags)
{
	return ward_checks_open_ops(flags) | ((flags & O_CREAT) ? WARD_OP_CREATE : 0);
}

/* A refusal in a vfork child (dash's sh -c execs from one): the child
 * counts nothing of its own (its memory is its parent's), but a refusal
 * must not vanish from the figures: it is charged to the parent thread's
 * slot, which the child's thread-local storage still names and which no
 * one else writes while the parent waits for the child's exec or exit. */
void
ward_frame_refuse_in_vfork(struct ward_frame *f)
{
	if (!ward_in_vfork)
		return;
	struct ward_counter_slot *slot = ward_counters_slot();
	ward_counters_begin(slot);
	ward_counters_add(slot, WARD_IDX_CALLS(f->id), 1);
	ward_counters_add(slot, WARD_IDX_ERRORS(f->id), 1);
	ward_counters_add(slot, WARD_IDX_DENIED(f->id), 1);
	ward_counters_end(slot);
}

/* An open decided by name only, without making it (an open another part
 * of the system makes: a posix_spawn file action, openat2 with RESOLVE_*
 * flags of its own): the operations of the flags, O_CREAT writing a file
 * that exists and creating one that does not, as the open check decides. */
int
ward_check_open_by_name(struct ward_frame *f, int dirfd, const char *path, int flags)
{
	bool excl = (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	bool follow = !(flags & O_NOFOLLOW) && !excl;
	unsigned int ops = ward_checks_open_ops(flags);
	if ((flags & O_CREAT) && !excl && (flags & O_TMPFILE) != O_TMPFILE) {
		struct stat st;
		int saved = errno;
		bool exists = path != NULL &&
		              ward_syscall(SYS_newfstatat, dirfd, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0;
		errno = saved;
		ops = exists ? ops | WARD_OP_WRITE : (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	}
	return ward_check_path(f, ops, dirfd, path, follow);
}
