/*
 * race_change: calls that change a file, made on work/flip while a
 * flipper swaps it (RENAME_EXCHANGE) with work/lnk, a symlink to
 * DIR/secret/S.txt (issue 11, case 13, and the calls like it).  The victim
 * takes in turn:
 *   chmod to a mode the harmless file does not have (0600/0644),
 *   truncate to a size it does not have (3/5),
 *   chown to a group it does not have (0/1; the tests run as root),
 *   utimensat to a modification time it does not have (1000/2000 s),
 *   linkat(work/flip, work/hard, AT_SYMLINK_FOLLOW) (a hard link must not
 *   expose the secret).
 * A call that succeeded while the harmless file (watched through a
 * descriptor held on it) did not change changed the secret: a win; so is a
 * hard link to the secret's inode.  The secret's mode (0640), size
 * (strlen(SECRET_TEXT)), group and time are none of those; the test checks
 * them afterwards.
 *
 *   race_change run DIR MS FLIPPER
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race.h"

static const char *flip, *lnk, *hard;
static int harmless;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	race_put("work/flip", HARMLESS_TEXT, 0644);
	snprintf(t, sizeof(t), "%s/secret/S.txt", dir);
	race_symlink(t, "work/lnk");
}

static void
prepare(struct race_run *r)
{
	(void)r;
	flip = race_path("work/flip");
	lnk = race_path("work/lnk");
	hard = race_path("work/hard");
	harmless = open(flip, O_RDONLY);
	if (harmless < 0)
		race_die(flip);
}

static void
flip_names(void)
{
	race_exchange(flip, lnk);
}

/* Make the i-th change; true when the call succeeded (errno else), and
 * *changed says whether it reached the harmless file. */
static bool
change(unsigned int i, bool *changed)
{
	struct stat st, after;
	if (fstat(harmless, &st) != 0)
		race_die("fstat");
	switch (i % 5) {
	case 0: {
		mode_t want = (st.st_mode & 07777) == 0600 ? 0644 : 0600;
		if (chmod(flip, want) != 0)
			return false;
		fstat(harmless, &after);
		*changed = (after.st_mode & 07777) == want;
		return true;
	}
	case 1: {
		off_t want = st.st_size == 3 ? 5 : 3;
		if (truncate(flip, want) != 0)
			return false;
		fstat(harmless, &after);
		*changed = after.st_size == want;
		return true;
	}
	case 2: {
		gid_t want = st.st_gid == 1 ? 0 : 1;
		if (chown(flip, (uid_t)-1, want) != 0)
			return false;
		fstat(harmless, &after);
		*changed = after.st_gid == want;
		return true;
	}
	case 3: {
		time_t want = st.st_mtim.tv_sec == 1000 ? 2000 : 1000;
		struct timespec times[2] = { { want, 0 }, { want, 0 } };
		if (utimensat(AT_FDCWD, flip, times, 0) != 0)
			return false;
		fstat(harmless, &after);
		*changed = after.st_mtim.tv_sec == want;
		return true;
	}
	default:
		unlink(hard);
		if (linkat(AT_FDCWD, flip, AT_FDCWD, hard, AT_SYMLINK_FOLLOW) != 0)
			return false;
		*changed = lstat(hard, &after) == 0 && after.st_ino == st.st_ino && after.st_dev == st.st_dev;
		return true;
	}
}

static void
victim(struct race_run *r)
{
	for (unsigned int i = 0; !race_over(); i++) {
		bool changed = false;
		r->n.attempts++;
		if (!change(i, &changed))
			race_failed(r);
		else if (changed)
			r->n.allowed++;
		else
			r->n.wins++;
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
