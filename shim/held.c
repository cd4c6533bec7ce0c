/*
 * held.c: the descriptors a check acts through, kept out of the program's
 * reach while it does.
 *
 * A checked call is made on a descriptor the shim opened on exactly what
 * was decided (act.c): the decided directory for unlinkat(fd, name), the
 * decided file for an exec or an f-call.  Descriptor numbers are shared by
 * every thread, so another thread of the program could close that number
 * and open something else there, or dup2 its own descriptor onto it,
 * between the shim's open and the call, and the call would act on the
 * program's object instead (a mkdir landing outside the write tree).
 *
 * So the program's closes and replacements (close, dup2, dup3,
 * close_range, closefrom, and the same through syscall()) are made here,
 * and never on a number an act holds: they wait until the act is done
 * (closing one an act keeps for long is EBADF: the number is not the
 * program's; replacing it EBUSY).  The two
 * sides meet without a lock: the program's side announces itself
 * (changing) before it looks at the held numbers; an act registers its
 * number, then waits until no announced change is still under way, and if
 * any change completed since before its open it checks that the
 * descriptor still names what it opened (a replacement that slipped in
 * before the number was registered is caught there, and the act resolves
 * again).  Either the program's side sees the number held, or the act sees
 * the change: never neither (both sides use sequentially consistent
 * operations).
 *
 * Children: a fork child starts with nothing held (the other threads'
 * acts are not in it); a vfork child has a table of its own, so its acts
 * hold nothing and its closes are not guarded.  A child that shares the
 * descriptor table but not this memory could not see what acts hold here:
 * clone(CLONE_FILES) without CLONE_VM is refused (process.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>

#include "shim.h"
#include "checks.h"
#include "../core/exact.h"
#include "../core/procfd.h"

#define HELD_MAX 64         /* numbers held at once, all threads (more wait for a free one) */
#define WAIT_ROUNDS 200000  /* yields before a wait gives up (an act is a few system calls) */

static int held[HELD_MAX];     /* fd + 1; 0: free */
static int held_count;         /* slots in use */
static int changing;           /* program closes and replacements under way */
unsigned int ward_held_change_count; /* program closes and replacements made (core/exact's guard reads it) */
/* this thread is inside a close or replacement of its own (set before it
 * announces, cleared after): an act in a signal handler that interrupted
 * it cannot wait for it (it cannot end until the act does), nor tell
 * whether its count is in `changing` yet: it is refused at once, never
 * stalled and never let through unsure */
static __thread int changing_here __attribute__((tls_model("initial-exec")));

static bool
is_held(int fd)
{
	if (__atomic_load_n(&held_count, __ATOMIC_SEQ_CST) == 0)
		return false;
	for (int i = 0; i < HELD_MAX; i++)
		if (__atomic_load_n(&held[i], __ATOMIC_RELAXED) == fd + 1)
			return true;
	return false;
}

unsigned int
ward_held_changes(void)
{
	return __atomic_load_n(&ward_held_change_count, __ATOMIC_SEQ_CST);
}

static bool
take_slot(int i, int fd)
{
	int free_slot = 0;
	return __atomic_compare_exchange_n(&held[i], &free_slot, fd + 1, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

/* Every slot tried, again and again while all are taken.  False: none for
 * long (fd closed: not yet visible to the program's side as held, still
 * ours). */
static __attribute__((noinline)) bool
take_any_slot(int fd)
{
	for (long round = 0;; round++) {
		for (int i = 0; i < HELD_MAX; i++)
			if (take_slot(i, fd))
				return true;
		if (round >= WAIT_ROUNDS) {
			ward_syscall(SYS_close, fd);
			return false; /* more acts at once than numbers to hold, for long: refused as changing */
		}
		ward_syscall(SYS_sched_yield);
	}
}

/* fd held; changes of the program are under way: waited for.  False:
 * they did not end (fd dropped, not closed: it may be what a change put
 * there). */
static __attribute__((noinline)) bool
wait_for_changes(int fd)
{
	for (long round = 0; __atomic_load_n(&changing, __ATOMIC_SEQ_CST) != 0; round++) {
		if (round >= WAIT_ROUNDS) {
			ward_held_drop(fd);
			return false;
		}
		ward_syscall(SYS_sched_yield);
	}
	return true;
}

/* fd in a free slot, and no change of the program's under way any more:
 * true.  False: not held (no slot for long: fd closed, it was still ours;
 * or a change that cannot be waited for or did not end: fd left alone, it
 * may be what the change put there).  The first two slots are tried in
 * line (a walk holds one directory while it takes the next), the waits are
 * out of line. */
static inline __attribute__((always_inline)) bool
register_held(int fd)
{
	if (!take_slot(0, fd) && !take_slot(1, fd) && !take_any_slot(fd))
		return false;
	__atomic_add_fetch(&held_count, 1, __ATOMIC_SEQ_CST);
	if (__builtin_expect(changing_here != 0, 0)) {
		ward_held_drop(fd);
		return false; /* a signal handler's act inside this thread's own close: refused as changing */
	}
	if (__builtin_expect(__atomic_load_n(&changing, __ATOMIC_SEQ_CST) != 0, 0))
		return wait_for_changes(fd);
	return true;
}

/* A close or replacement was made since fd was opened on expect (held
 * now): is fd still it?  Dropped when not (the act's own was closed by the
 * change).  Out of line: the common case never comes here. */
static __attribute__((noinline)) bool
still_opened(int fd, char *expect, char buf[WARD_PATH_MAX])
{
	char link[WARD_PROCFD_NAME_MAX], *now = buf;
	long n = ward_syscall(SYS_readlinkat, AT_FDCWD, ward_procfd_name(link, fd), now, WARD_PATH_MAX - 1);
	size_t want = strlen(expect);
	if (want > 1 && expect[want - 1] == '/')
		want--;
	if (n == (long)want && memcmp(now, expect, want) == 0)
		return true;
	if (n < 0 && errno == ENAMETOOLONG) { /* longer than /proc names: the same object as the name's? */
		struct stat mine, named;
		long again = ward_exact_open(expect, O_PATH | O_CLOEXEC, 0);
		bool same = again >= 0 && ward_syscall(SYS_fstat, fd, &mine) == 0 &&
		            ward_syscall(SYS_fstat, again, &named) == 0 && mine.st_dev == named.st_dev &&
		            mine.st_ino == named.st_ino;
		if (again >= 0)
			ward_syscall(SYS_close, again);
		if (same)
			return true;
	}
	ward_held_drop(fd);
	return false;
}

/* fd, just opened by an act, out of the program's reach.  since: what
 * ward_held_changes said before the open; expect: the canonical path fd
 * was opened on.  False: fd is not (or no longer) the act's: the caller
 * resolves again (fd is closed when it was still the act's). */
bool
ward_held_add(int fd, unsigned int since, char *expect, char buf[WARD_PATH_MAX])
{
	if (ward_in_vfork)
		return true; /* a table of its own: no other thread reaches it */
	/* (a child sharing this memory but not made by vfork may share the
	 * table too, clone(CLONE_VM | CLONE_FILES): its numbers are held here) */
	if (!register_held(fd))
		return false;
	if (__atomic_load_n(&ward_held_change_count, __ATOMIC_SEQ_CST) == since || expect == NULL)
		return true;
	return still_opened(fd, expect, buf);
}

/* The same for core/exact's walks (its guard's hold): they hold their
 * directories as acts do, since a thread dup2'ing its own directory onto
 * a walk's number would send a deep open there.  The buffer to look with
 * is the current check's scratch, taken only when a change was made; a
 * walk made outside any check (start-up) has none: held only while no
 * change is seen. */
bool
ward_held_add_walk(int fd, unsigned int since, char *expect)
{
	if (ward_in_vfork)
		return true;
	if (!register_held(fd))
		return false;
	if (__atomic_load_n(&ward_held_change_count, __ATOMIC_SEQ_CST) == since)
		return true;
	struct ward_scratch *s = ward_scratch_current();
	if (s != NULL)
		return still_opened(fd, expect, s->anchor_link);
	ward_held_drop(fd); /* a change was made: cannot look whether fd is still the walk's */
	return false;
}

void
ward_held_drop(int fd)
{
	if (__atomic_load_n(&held_count, __ATOMIC_SEQ_CST) == 0)
		return;
	for (int i = 0; i < HELD_MAX; i++) {
		int mine = fd + 1;
		if (__atomic_compare_exchange_n(&held[i], &mine, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			__atomic_sub_fetch(&held_count, 1, __ATOMIC_SEQ_CST);
			return;
		}
	}
}

void
ward_held_after_fork_child(void)
{
	memset(held, 0, sizeof(held));
	held_count = 0;
	changing = 0;
	changing_here = 0;
}

static bool
guarded(void)
{
	return ward_restricted != 0 && !ward_in_vfork;
}

static void
announce(void)
{
	changing_here++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_add_fetch(&changing, 1, __ATOMIC_SEQ_CST);
}

static void
unannounce(void)
{
	__atomic_sub_fetch(&changing, 1, __ATOMIC_SEQ_CST);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	changing_here--;
}

static void
done(void)
{
	__atomic_add_fetch(&ward_held_change_count, 1, __ATOMIC_SEQ_CST);
	unannounce();
}

/* The program closes fd: made here (true, the result in the frame) when
 * acts may hold numbers. */
/* announce_unheld once the first look found fd held: again after a
 * yield, for a while. */
static __attribute__((noinline)) bool
announce_unheld_wait(int fd, int err)
{
	for (long round = 0;; round++) {
		if (round >= WAIT_ROUNDS) {
			errno = err;
			return false;
		}
		ward_syscall(SYS_sched_yield);
		announce();
		if (!is_held(fd))
			return true;
		unannounce();
	}
}

/* Announced, with fd not held: true.  A held number is waited for (not
 * announced: the act waits for announced changes), as the number an act
 * has just closed is until it is dropped (then it is the program's again);
 * one an act keeps for long is not the program's: false, err set. */
static inline bool
announce_unheld(int fd, int err)
{
	announce();
	if (__builtin_expect(!is_held(fd), 1))
		return true;
	unannounce();
	return announce_unheld_wait(fd, err);
}

/* The program closes fd: made here (true, the result in the frame) when
 * acts may hold numbers. */
bool
ward_held_close(struct ward_frame *f, int fd)
{
	if (!guarded())
		return false;
	if (!announce_unheld(fd, EBADF)) { /* the number is not the program's */
		ward_frame_complete(f, -1);
		return true;
	}
	ward_frame_complete(f, ward_syscall(SYS_close, fd));
	done();
	return true;
}

bool
ward_held_close_begin(int fd)
{
	announce();
	if (__builtin_expect(!is_held(fd), 1))
		return true;
	unannounce(); /* (the full way waits for it) */
	return false;
}

void
ward_held_close_end(void)
{
	done();
}

/* dup2 (flags < 0) or dup3 of fd onto newfd. */
bool
ward_held_replace(struct ward_frame *f, int fd, int newfd, int flags)
{
	if (!guarded())
		return false;
	if (is_held(fd)) { /* an act's descriptor is not the program's to copy */
		errno = EBADF;
		ward_frame_complete(f, -1);
		return true;
	}
	if (!announce_unheld(newfd, EBUSY)) { /* dup2's answer to a number being opened */
		ward_frame_complete(f, -1);
		return true;
	}
	long r = flags < 0 ? ward_syscall(SYS_dup2, fd, newfd) : ward_syscall(SYS_dup3, fd, newfd, flags);
	ward_frame_complete(f, r);
	done();
	return true;
}

/* close_range(first, last, flags) without the held numbers and the
 * shim's own (skip, sorted, n of them): the pieces between them. */
static long
close_pieces(unsigned int first, unsigned int last, int flags, const int *skip, int n)
{
	unsigned int from = first;
	long r = 0;
	for (int i = 0; i < n; i++) {
		unsigned int fd = (unsigned int)skip[i];
		if (fd < first || fd > last || fd < from)
			continue;
		if (fd > from && ward_syscall(SYS_close_range, from, fd - 1, flags) != 0)
			r = -1;
		from = fd + 1;
		if (from == 0)
			return r; /* fd was the largest number */
	}
	if (from <= last && ward_syscall(SYS_close_range, from, last, flags) != 0)
		r = -1;
	return r;
}

bool
ward_held_close_range(unsigned int first, unsigned int last, int flags, const int *own, int own_n)
{
	if (!guarded())
		return false;
	announce();
	int skip[WARD_OWN_FDS + HELD_MAX], n = 0;
	for (int i = 0; i < own_n; i++)
		skip[n++] = own[i];
	if (__atomic_load_n(&held_count, __ATOMIC_SEQ_CST) != 0)
		for (int i = 0; i < HELD_MAX; i++) {
			int h = __atomic_load_n(&held[i], __ATOMIC_RELAXED);
			if (h > 0)
				skip[n++] = h - 1;
		}
	for (int i = 1; i < n; i++) /* sorted */
		for (int k = i; k > 0 && skip[k - 1] > skip[k]; k--) {
			int t = skip[k];
			skip[k] = skip[k - 1];
			skip[k - 1] = t;
		}
	close_pieces(first, last, flags, skip, n);
	done();
	return true;
}
