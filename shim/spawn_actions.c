/*
 * spawn_actions.c: posix_spawn's file actions, decided before the spawn.
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
 * The list is glibc's own (struct __spawn_action in glibc's
 * posix/spawn_int.h, the same from 2.29 to 2.36 and later): the public
 * header only declares it.  An action kind this file does not know
 * refuses the spawn: never run what cannot be decided.  An fchdir to a
 * descriptor an earlier action opened in the child cannot be followed
 * here and is refused too.  The decision is made on the names; the child
 * opens them again by name (a program racing its own symlinks between the
 * spawn's check and the child's open is the one window left, see
 * docs/POLICY.md).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>

#include "shim.h"

struct ward_spawn_action { /* glibc's struct __spawn_action */
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

static int
action(struct ward_frame *f, struct walk *w, const struct ward_spawn_action *a)
{
	switch (a->tag) {
	case DO_CLOSE:
	case DO_DUP2:
	case DO_CLOSEFROM:
	case DO_TCSETPGRP:
		return 0;
	case DO_OPEN: {
		const char *path = a->action.open_action.path;
		int flags = a->action.open_action.oflag;
		if (w->nopened < OPENED_MAX)
			w->opened[w->nopened++] = a->action.open_action.fd;
		int r = ward_check_open_by_name(f, w->dir, path, flags);
		return r < 0 ? -r : r; /* a kernel-first error (EEXIST, ENOENT): the spawn fails with it */
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

int
ward_check_spawn_actions(struct ward_frame *f, const void *opaque, int *child_dir)
{
	const posix_spawn_file_actions_t *actions = opaque;
	*child_dir = AT_FDCWD;
	if (actions == NULL || ward_restricted == 0 || !f->active || actions->__used <= 0)
		return 0;
	const struct ward_spawn_action *list = (const struct ward_spawn_action *)actions->__actions;
	struct walk w = { .dir = AT_FDCWD };
	int r = 0;
	for (int i = 0; i < actions->__used && r == 0; i++)
		r = action(f, &w, &list[i]);
	if (r != 0)
		walk_end(&w);
	else
		*child_dir = w.dir; /* a relative program is found from there, as the child will */
	return r;
}
