/*
 * spawn_actions.c: posix_spawn's file actions, decided before the spawn
 * and made on exactly what was decided.
 *
 * The actions (addopen, addchdir_np, addfchdir_np, ...) run in the child
 * between fork and exec, inside glibc, where no wrapper sees them: an
 * addopen of a protected file would read, truncate or create it unchecked.
 * So they are walked here, in order, the way the child will run them: each
 * open decided like open(2) against the directory the child will be in
 * (the caller's, changed by the chdir actions before it), each chdir
 * decided like chdir(2).  A refused action refuses the spawn (its errno,
 * nothing runs).  A relative program is then found from the directory the
 * child will be in (spawn.c passes it to the exec check).
 *
 * The child does not open by name what was decided: each open is made
 * here, exactly (the open check: openat2 on the decided path), on a
 * descriptor the shim holds above every number the actions use, and the
 * child gets a list of the shim's own (in the scratch: the program's list,
 * which another thread could rewrite during the spawn, is only read) where
 * that open is a dup2 of the held descriptor onto the action's number.  An
 * open after a closefrom action (which would close the held descriptor in
 * the child first) stays an open by name, decided on the name (the window
 * docs/POLICY.md names).
 *
 * The list is glibc's own (struct __spawn_action in glibc's
 * posix/spawn_int.h, the same from 2.29 to 2.36 and later): the public
 * header only declares it.  An action kind this file does not know
 * refuses the spawn: never run what cannot be decided.  An fchdir to a
 * descriptor an earlier action opened in the child cannot be followed
 * here and is refused too.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>

#include "shim.h"
#include "checks.h"

struct ward_spawn_action { /* glibc's struct __spawn_action (32 bytes) */
	enum { DO_CLOSE, DO_DUP2, DO_OPEN, DO_CHDIR, DO_FCHDIR, DO_CLOSEFROM, DO_TCSETPGRP } tag;
	union {
		struct { int fd; } close_action;
		struct { int fd, newfd; } dup2_action;
		struct { int fd; char *path; int oflag; mode_t mode; } open_action;
		struct { char *path; } chdir_action;
		struct { int fd; } fchdir_action;
		struct { int from; } closefrom_action;
		struct { int fd; } setpgrp_action;
	} action;
};

#define OPENED_MAX 16 /* descriptors an action list opens, remembered for fchdir */

/* Where the child will be: a descriptor of that directory (AT_FDCWD: the
 * caller's own). */
struct walk {
	int dir;
	int opened[OPENED_MAX];
	int nopened;
	int floor;          /* above every descriptor number an action names */
	bool closed_from;   /* a closefrom action came before */
	struct ward_scratch *s;
};

static void
walk_end(struct walk *w)
{
	if (w->dir != AT_FDCWD)
		ward_syscall(SYS_close, w->dir);
}

/* The child changes directory: decide it, and follow it here. */
static int
enter(struct ward_frame *f, struct walk *w, int base, const char *path)
{
	int r = ward_check_path(f, WARD_OP_STAT, base, path, true);
	if (r != 0)
		return r;
	long fd = ward_syscall(SYS_openat, base, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno; /* the child's chdir would fail with it: the spawn fails */
	walk_end(w);
	w->dir = (int)fd;
	return 0;
}

static int
fd_opened_by_actions(const struct walk *w, int fd)
{
	for (int i = 0; i < w->nopened; i++)
		if (w->opened[i] == fd)
			return 1;
	return 0;
}

/* An open decided on its name, opened by the child (after a closefrom). */
static int
by_name(struct ward_frame *f, struct walk *w, const struct ward_spawn_action *a)
{
	int r = ward_check_open_by_name(f, w->dir, a->action.open_action.path, a->action.open_action.oflag);
	return r < 0 ? -r : r; /* a kernel-first error (EEXIST, ENOENT): the spawn fails with it */
}

/* An open made here, exactly, on a held descriptor above every number the
 * actions use; the child's action becomes a dup2 of it (*out). */
static int
opened_here(struct ward_frame *f, struct walk *w, const struct ward_spawn_action *a, struct ward_spawn_action *out)
{
	struct ward_scratch *s = w->s;
	if (s->spawn.nheld >= WARD_SPAWN_ACTIONS_MAX)
		return EACCES;
	bool done = f->done;
	long result = f->result;
	int done_errno = f->done_errno;
	f->done = false;
	const char *path = a->action.open_action.path;
	int flags = a->action.open_action.oflag | O_CLOEXEC, target = a->action.open_action.fd;
	mode_t mode = a->action.open_action.mode;
	unsigned int since = ward_held_changes();
	int r = ward_check_open(f, w->dir, &path, flags, mode);
	long fd = -1;
	int err = 0;
	if (r == 0 && f->done) { /* opened exactly by the check */
		fd = f->result;
		err = f->done_errno;
	} else if (r == 0) { /* pointed at a descriptor (flags openat2 will not take), or not restricted */
		fd = ward_syscall(SYS_openat, w->dir, path, flags, mode);
		err = errno;
	}
	if (f->held != NULL)
		ward_act_release(f);
	f->done = done;
	f->result = result;
	f->done_errno = done_errno;
	if (r != 0)
		return r < 0 ? -r : r;
	if (fd < 0)
		return err; /* the child's open would fail with it: the spawn fails */
	long high = ward_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, w->floor);
	ward_syscall(SYS_close, fd);
	if (high < 0)
		return errno;
	if (!ward_held_add((int)high, since, NULL, s->fd_target))
		return EACCES;
	s->spawn.held[s->spawn.nheld++] = (int)high;
	out->tag = DO_DUP2;
	out->action.dup2_action.fd = (int)high;
	out->action.dup2_action.newfd = target;
	return 0;
}

/* The path of an action, copied into the scratch (the program's string
 * could be rewritten by another thread while the child runs): the copy is
 * what is decided and what the child uses.  false: too long, or no room. */
static bool
own_string(struct walk *w, char **path)
{
	struct ward_scratch *s = w->s;
	size_t room = sizeof(s->spawn.strings) - s->spawn.nstrings;
	size_t len = strnlen(*path, room);
	if (len >= room || len >= WARD_PATH_MAX)
		return false;
	char *copy = s->spawn.strings + s->spawn.nstrings;
	memcpy(copy, *path, len);
	copy[len] = '\0';
	s->spawn.nstrings += len + 1;
	*path = copy;
	return true;
}

static int
action(struct ward_frame *f, struct walk *w, const struct ward_spawn_action *from, struct ward_spawn_action *out)
{
	memcpy(out, from, sizeof(*out)); /* read once: what is decided is the shim's copy */
	const struct ward_spawn_action *a = out;
	if ((out->tag == DO_OPEN && !own_string(w, &out->action.open_action.path)) ||
	    (out->tag == DO_CHDIR && !own_string(w, &out->action.chdir_action.path)))
		return ENAMETOOLONG;
	switch (a->tag) {
	case DO_CLOSEFROM:
		w->closed_from = true;
		return 0;
	case DO_CLOSE:
	case DO_DUP2:
	case DO_TCSETPGRP:
		return 0;
	case DO_OPEN: {
		if (w->nopened < OPENED_MAX)
			w->opened[w->nopened++] = a->action.open_action.fd;
		if (w->closed_from)
			return by_name(f, w, a);
		return opened_here(f, w, a, out);
	}
	case DO_CHDIR:
		return enter(f, w, w->dir, a->action.chdir_action.path);
	case DO_FCHDIR: {
		int fd = a->action.fchdir_action.fd;
		if (fd_opened_by_actions(w, fd))
			return EACCES; /* a directory the child opened: cannot be followed from here */
		char link[WARD_PROCFD_NAME_MAX];
		return enter(f, w, AT_FDCWD, ward_procfd_name(link, fd));
	}
	}
	return EACCES; /* an action this shim does not know */
}

/* The highest descriptor number an action names, plus one. */
static int
floor_of(const struct ward_spawn_action *list, int n)
{
	int high = 2;
	for (int i = 0; i < n; i++) {
		const struct ward_spawn_action *a = &list[i];
		int fd = a->tag == DO_CLOSE  ? a->action.close_action.fd
		         : a->tag == DO_DUP2 ? (a->action.dup2_action.fd > a->action.dup2_action.newfd
		                                        ? a->action.dup2_action.fd
		                                        : a->action.dup2_action.newfd)
		         : a->tag == DO_OPEN ? a->action.open_action.fd
		                             : 0;
		if (fd > high)
			high = fd;
	}
	return high + 1;
}

int
ward_check_spawn_actions(struct ward_frame *f, const void *opaque, int *child_dir, const void **use)
{
	const posix_spawn_file_actions_t *actions = opaque;
	*child_dir = AT_FDCWD;
	*use = opaque;
	if (actions == NULL || ward_restricted == 0 || !f->active || actions->__used <= 0)
		return 0;
	_Static_assert(sizeof(struct ward_spawn_action) == 32, "glibc's struct __spawn_action");
	if (actions->__used > WARD_SPAWN_ACTIONS_MAX)
		return EACCES; /* more than the shim makes room for: refused, never run undecided */
	struct ward_scratch *s = ward_scratch_enter();
	if (s == NULL)
		return EACCES;
	/* each field read once: another thread may change them during the spawn */
	int n = __atomic_load_n(&actions->__used, __ATOMIC_RELAXED);
	const struct ward_spawn_action *list = __atomic_load_n((const struct ward_spawn_action **)&actions->__actions,
	                                                        __ATOMIC_RELAXED);
	if (n > WARD_SPAWN_ACTIONS_MAX || n <= 0) {
		ward_scratch_leave();
		return n <= 0 ? 0 : EACCES;
	}
	struct walk w = { .dir = AT_FDCWD, .floor = floor_of(list, n), .s = s };
	s->spawn.nheld = 0;
	s->spawn.nstrings = 0;
	int r = 0;
	for (int i = 0; i < n && r == 0; i++)
		r = action(f, &w, &list[i], (struct ward_spawn_action *)s->spawn.list[i]);
	if (r != 0) {
		walk_end(&w);
		ward_spawn_actions_release(s);
		ward_scratch_leave();
		return r;
	}
	*child_dir = w.dir; /* a relative program is found from there, as the child will */
	memcpy(&s->spawn.actions, actions, sizeof(*actions));
	s->spawn.actions.__actions = (struct __spawn_action *)s->spawn.list;
	s->spawn.actions.__allocated = n;
	s->spawn.actions.__used = n;
	*use = &s->spawn.actions;
	ward_act_hold(f, s); /* the exec check's scratch too; given back (held descriptors closed) when the call is done */
	return 0;
}

void
ward_spawn_actions_release(struct ward_scratch *s)
{
	for (int i = 0; i < s->spawn.nheld; i++) {
		ward_syscall(SYS_close, s->spawn.held[i]);
		ward_held_drop(s->spawn.held[i]);
	}
	s->spawn.nheld = 0;
}

bool
ward_spawn_actions_close(const void *opaque, int fd)
{
	const posix_spawn_file_actions_t *actions = opaque;
	if (actions == NULL)
		return false;
	const struct ward_spawn_action *list = (const struct ward_spawn_action *)actions->__actions;
	for (int i = 0; i < actions->__used && i < WARD_SPAWN_ACTIONS_MAX; i++) {
		const struct ward_spawn_action *a = &list[i];
		if ((a->tag == DO_CLOSEFROM && a->action.closefrom_action.from <= fd) ||
		    (a->tag == DO_CLOSE && a->action.close_action.fd == fd) ||
		    (a->tag == DO_DUP2 && a->action.dup2_action.newfd == fd) ||
		    (a->tag == DO_OPEN && a->action.open_action.fd == fd))
			return true;
	}
	return false;
}
