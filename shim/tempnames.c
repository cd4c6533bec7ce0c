/*
 * tempnames.c: mkstemp and mkdtemp made on exactly what was decided.
 *
 * glibc's mkstemp family generates a name from the template and creates it
 * with an open no wrapper sees, on the program's own buffer: a check of
 * the template could be raced twice over (another thread rewriting the
 * buffer, or swapping a directory of the template for a symlink, between
 * the check and libc's open).  Under a policy that restricts creation the
 * shim makes the names itself, on a copy of the template, and creates each
 * through the open check (mkstemp: openat2 O_CREAT|O_EXCL on the decided
 * path) or the act check (mkdtemp: mkdirat on the decided directory's
 * held descriptor), deciding every name it tries.  The program's template
 * gets the six characters of the name made (or last tried), as from libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "shim.h"
#include "checks.h"

#define TRIES 10000 /* names tried before EEXIST: each is 62^6 to one */

static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/* Six fresh characters at x. */
static void
fill(char *x, unsigned long *state)
{
	unsigned long bits;
	if (ward_syscall(SYS_getrandom, &bits, sizeof(bits), GRND_NONBLOCK) != (long)sizeof(bits)) {
		struct timespec t = { 0, 0 };
		ward_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
		*state = *state * 6364136223846793005ul + 1442695040888963407ul + (unsigned long)t.tv_nsec;
		bits = *state ^ (*state >> 29);
	}
	for (int i = 0; i < 6; i++, bits /= 62)
		x[i] = letters[bits % 62];
}

static int
refused(struct ward_frame *f, int r)
{
	if (f->held != NULL)
		ward_act_release(f); /* the check's scratch, before this one's */
	return r;
}

/* One name: 0 made (the result in the frame), EEXIST try another, else
 * what the call does (a refusal, or a negated errno). */
static int
make_one(struct ward_frame *f, const char *name, int flags, bool dir)
{
	f->done = false;
	const char *path = name;
	if (!dir) {
		int r = ward_check_open(f, AT_FDCWD, &path, O_RDWR | O_CREAT | O_EXCL | flags, 0600);
		if (r != 0)
			return refused(f, r);
		if (!f->done) /* the open is made on the descriptor the check points to */
			ward_frame_complete(f, ward_syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | flags, 0600));
	} else {
		int dirfd = AT_FDCWD;
		int r = ward_check_act_at(f, WARD_OP_CREATE, &dirfd, &path, false, 0);
		if (r != 0)
			return refused(f, r);
		ward_frame_complete(f, ward_syscall(SYS_mkdirat, dirfd, path, 0700));
	}
	if (f->held != NULL)
		ward_act_release(f);
	return f->result < 0 && f->done_errno == EEXIST ? EEXIST : 0;
}


int
ward_check_mktemp(struct ward_frame *f, char *template, int suffixlen, int flags, bool dir)
{
	if (__builtin_expect((ward_restricted & WARD_OP_CREATE) == 0, 1) || !f->active || template == NULL)
		return 0; /* libc makes it */
	struct ward_scratch *s = ward_scratch_enter(); /* the copy lives in its walk_path */
	if (s == NULL)
		return EACCES;
	size_t len = strnlen(template, sizeof(s->walk_path));
	int result = 0;
	if (len >= sizeof(s->walk_path)) {
		result = -ENAMETOOLONG;
	} else if (suffixlen < 0 || len < 6 + (size_t)suffixlen ||
	           memcmp(template + len - 6 - suffixlen, "XXXXXX", 6) != 0) {
		result = -EINVAL;
	} else {
		memcpy(s->walk_path, template, len + 1); /* read once: the program's buffer may change */
		char *x = s->walk_path + len - 6 - suffixlen;
		unsigned long state = (unsigned long)(size_t)s ^ (unsigned long)ward_syscall(SYS_gettid);
		result = EEXIST;
		for (int i = 0; i < TRIES && result == EEXIST; i++) {
			fill(x, &state);
			result = make_one(f, s->walk_path, flags, dir);
		}
		if (result == EEXIST)
			result = -EEXIST;
		memcpy(template + len - 6 - suffixlen, x, 6); /* the last name tried, as libc leaves it */
		if (result == 0 && f->result >= 0 && dir)
			f->result = (long)template;
	}
	ward_scratch_leave();
	return result;
}
