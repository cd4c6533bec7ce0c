/*
 * hooks.c: what the wrappers do around the real call to keep the FD table
 * and the file figures exact.  Each hook is a few lines; the decisions about
 * the stats descriptor live in runtime.c.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <unistd.h>

#include "shim.h"
#include "../core/fdtable.h"

/* A pre hook refused the call (shim.h). */
void
ward_frame_refuse(struct ward_frame *f)
{
	errno = f->deny < 0 ? -f->deny : f->deny;
	ward_frame_count(f, true);
	if (f->slot != NULL && f->deny > 0)
		ward_counters_add(f->slot, WARD_IDX_DENIED(f->id), 1);
	else if (__builtin_expect(!f->counting && f->active && f->deny > 0, 0))
		ward_frame_refuse_in_vfork(f);
	ward_frame_done(f);
}

/* The descriptor behind a stream or directory; -1 for NULL.  Out of line:
 * libc declares some callers' arguments nonnull, programs pass NULL anyway. */
int
ward_stream_fd(FILE *stream)
{
	return stream != NULL ? fileno(stream) : -1;
}

/* "" and NULL paths, tested out of line for the same reason (libc declares
 * the arguments nonnull; the kernel takes "" with AT_EMPTY_PATH, freopen
 * takes NULL). */
bool
ward_empty_path(const char *path)
{
	return path != NULL && path[0] == '\0';
}

/* shm_open's name as glibc takes it: leading slashes dropped. */
const char *
ward_shm_name(const char *name)
{
	if (name == NULL)
		return "";
	while (*name == '/')
		name++;
	return name;
}

bool
ward_null_path(const char *path)
{
	return path == NULL;
}

int
ward_dir_fd(DIR *dir)
{
	return dir != NULL ? dirfd(dir) : -1;
}

void
ward_hook_stream_opened(struct ward_frame *f, FILE *stream)
{
	if (stream != NULL)
		ward_hook_fd_opened(f, fileno(stream), O_RDWR, WARD_FD_FILE);
}

void
ward_hook_fd_pair(struct ward_frame *f, int r, const int fds[2], int flags, int kind)
{
	if (r != 0)
		return;
	ward_hook_fd_opened(f, fds[0], O_RDONLY | flags, kind);
	ward_hook_fd_opened(f, fds[1], O_WRONLY | flags, kind);
}

void
ward_hook_fd_dup(struct ward_frame *f, int r, int oldfd, int newfd, int cloexec)
{
	(void)newfd; /* r is the new descriptor for dup, dup2 and dup3 alike */
	if (r < 0 || r == oldfd)
		return;
	if (ward_fdtable_dup(oldfd, r, cloexec != 0)) /* dup2 closed what r was */
		ward_counters_add(f->slot, WARD_IDX_FILES_CLOSED, 1);
	ward_counters_add(f->slot, WARD_IDX_FILES_OPENED, 1);
}

void
ward_hook_fd_fcntl(struct ward_frame *f, int r, int fd, int cmd, void *arg)
{
	if (r < 0)
		return;
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		ward_hook_fd_dup(f, r, fd, r, cmd == F_DUPFD_CLOEXEC);
	else if (cmd == F_SETFD)
		ward_fdtable_set_cloexec(fd, ((long)arg & FD_CLOEXEC) != 0);
}

/* ward_hook_fd_closing (shim.h) of an fd the guard may be watching. */
bool
ward_hook_fd_closing_guarded(struct ward_frame *f, int fd)
{
	if (ward_guard_is_private(fd))
		return true;
	ward_guard_before_close(fd);
	ward_fdtable_clear(fd);
	f->closing_fd = fd;
	return false;
}

void
ward_hook_fd_replacing(struct ward_frame *f, int newfd)
{
	if (f->counting) {
		ward_guard_before_replace(newfd);
		ward_config_image_fd_wanted(newfd);
	}
}

/* close_range/closefrom: rescue the stats descriptor, clear the table, and
 * step around the shim's own descriptor by closing the two sides of it. */
bool
ward_hook_range_closing(struct ward_frame *f, unsigned int first, unsigned int last, int flags)
{
	if (!f->counting || first > last)
		return false;
	if (flags & CLOSE_RANGE_CLOEXEC)
		return false; /* nothing closes now; the table is marked afterwards */
	ward_guard_before_close_range(first, last);
	f->closing_fd = (int)ward_fdtable_clear_range(first, last, false);
	int own[WARD_OWN_FDS], n = ward_guard_private_fds(own), inside = 0;
	if (ward_held_close_range(first, last, flags, own, n))
		return true; /* closed here, around what acts hold too */
	for (int i = 0; i < n; i++)
		inside += (unsigned int)own[i] >= first && (unsigned int)own[i] <= last;
	if (inside == 0)
		return false;
	/* close the pieces between the shim's descriptors (sorted) */
	unsigned int from = first;
	for (int i = 0; i < n; i++) {
		unsigned int fd = (unsigned int)own[i];
		if (fd < first || fd > last)
			continue;
		if (fd > from)
			WARD_REAL(close_range)(from, fd - 1, flags);
		from = fd + 1;
	}
	if (from <= last && from != 0)
		WARD_REAL(close_range)(from, last, flags);
	return true;
}

void
ward_hook_range_closed(struct ward_frame *f, int r, unsigned int first, unsigned int last, int flags)
{
	if (r != 0)
		return;
	if (flags & CLOSE_RANGE_CLOEXEC)
		ward_fdtable_clear_range(first, last, true);
	else if (f->closing_fd > 0)
		ward_counters_add(f->slot, WARD_IDX_FILES_CLOSED, (uint64_t)f->closing_fd);
}

void
ward_hook_all_streams_closing(struct ward_frame *f)
{
	if (f->counting)
		ward_guard_before_close_range(0, 2);
}
