/*
 * race_fdnum: another thread puts its own descriptor at the number the
 * confined call is made on, between the decision and the call.
 *
 *   race_fdnum run DIR MS thread act
 *       the victim makes work/n1, work/n2, ... (allowed); the shim makes
 *       each mkdir on a descriptor of the decided directory
 *       (DIR/work), at the lowest free number, which the flipper keeps
 *       taking with dup2 of a descriptor of DIR (readable, not writable)
 *       and closing.  Any new entry in DIR is a win.
 *   race_fdnum run DIR MS thread fcall
 *       the victim fchmods descriptor N to 0640; the flipper makes N, in
 *       turn, a descriptor of work/mine (allowed) and one of DIR/outside
 *       (opened read-only: reading is allowed, changing it is not).
 *       DIR/outside's mode changing is a win.
 *   race_fdnum run DIR MS thread fclose|closedir|freopen|twostreams
 *       the same mkdirs; the flipper closes the number the shim acts on
 *       inside libc, where no close wrapper runs, and takes it: fdopen of
 *       it and fclose (fclose), fdopendir and closedir (closedir), fdopen
 *       and freopen of DIR onto it (freopen: libc's dup3 replaces it), or
 *       two streams on a number of its own, fclose of the first (the shim
 *       may take the number then) and of the second (twostreams).
 *   race_fdnum run DIR MS none clone
 *       the same mkdirs; the flipper of "act" runs in a clone(CLONE_FILES)
 *       child: the descriptor table shared, the memory (and the shim's
 *       record of the numbers acts hold) not.  A clone refused leaves the
 *       run without flips.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race.h"

enum { N = 61 };
enum mode { ACT, FCALL, FCLOSE, CLOSEDIR, FREOPEN, TWO_STREAMS, CLONE };
static const char *const mode_names[] = { "act", "fcall", "fclose", "closedir", "freopen", "twostreams", "clone" };
static enum mode mode;
static bool fcall;
static pid_t clone_child = -1;
static char clone_stack[65536] __attribute__((aligned(16)));
static int top = -1, outside = -1, mine = -1, lowest = -1;
static int entries; /* DIR's entries before the run */

static void
setup(const char *dir, int argc, char **argv)
{
	(void)dir;
	(void)argc;
	(void)argv;
	race_put("outside", HARMLESS_TEXT, 0644);
	race_put("work/mine", HARMLESS_TEXT, 0644);
}

static void
prepare(struct race_run *r)
{
	size_t m = 0;
	while (r->argc == 1 && m < sizeof(mode_names) / sizeof(mode_names[0]) && strcmp(r->argv[0], mode_names[m]) != 0)
		m++;
	if (m == sizeof(mode_names) / sizeof(mode_names[0]))
		race_die("usage: run DIR MS FLIPPER act|fcall|fclose|closedir|freopen|twostreams|clone");
	mode = (enum mode)m;
	fcall = mode == FCALL;
	top = open(race_path(""), O_RDONLY | O_DIRECTORY); /* read: listing it is how a win is seen */
	outside = open(race_path("outside"), O_RDONLY);
	mine = open(race_path("work/mine"), O_RDONLY);
	if (top < 0 || outside < 0 || mine < 0)
		race_die("open");
	entries = race_dir_entries(top);
	lowest = dup(0); /* the number the shim's next descriptor gets */
	close(lowest);
	dup2(mine, N);
}

/* The lowest free number, which the shim's next descriptor gets, taken
 * by a descriptor of DIR for a moment. */
static void
take_lowest(void)
{
	int d = dup(top);
	sched_yield();
	if (d >= 0)
		close(d);
}

static void
flip_numbers(void)
{
	FILE *a, *b;
	DIR *d;
	int k;
	switch (mode) {
	case FCALL:
		dup2(mine, N);
		dup2(outside, N);
		break;
	case ACT:
	case CLONE:
		dup2(top, lowest);
		close(lowest);
		break;
	case FCLOSE:
		if ((a = fdopen(lowest, "r")) != NULL) {
			fclose(a);
			take_lowest();
		}
		break;
	case CLOSEDIR:
		if ((d = fdopendir(lowest)) != NULL) {
			closedir(d);
			take_lowest();
		}
		break;
	case FREOPEN:
		if ((a = fdopen(lowest, "r")) != NULL) {
			a = freopen(race_path(""), "r", a);
			sched_yield();
			if (a != NULL)
				fclose(a);
		}
		break;
	case TWO_STREAMS:
		if ((k = dup(mine)) < 0)
			break;
		a = fdopen(k, "r");
		b = fdopen(k, "r");
		if (a == NULL || b == NULL) {
			close(k);
			break;
		}
		fclose(a);
		sched_yield(); /* the shim may take k now */
		fclose(b);
		take_lowest();
		break;
	}
}

/* The flipper of "act" in a child sharing the descriptor table. */
static int
clone_flipper(void *unused)
{
	(void)unused;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		flip_numbers();
		race_count_flip();
	}
	return 0;
}

static bool
outside_changed(void)
{
	struct stat st;
	return fstat(outside, &st) == 0 && (st.st_mode & 07777) != 0644;
}

static void
victim(struct race_run *r)
{
	bool won = false;
	char name[64];
	if (mode == CLONE) {
		clone_child = clone(clone_flipper, clone_stack + sizeof(clone_stack), CLONE_FILES | SIGCHLD, NULL);
		if (clone_child < 0)
			fprintf(stderr, "race_fdnum: clone: %s\n", strerror(errno));
	}
	while (!race_over()) {
		r->n.attempts++;
		snprintf(name, sizeof(name), "work/n%ld", r->n.attempts);
		int rc = fcall ? fchmod(N, 0640) : mkdir(race_path(name), 0755);
		if (rc != 0)
			race_failed(r);
		else
			r->n.allowed++;
		bool now = fcall ? outside_changed() : race_dir_entries(top) != entries;
		if (now && !won)
			r->n.wins++; /* once: the evidence stays */
		won = now;
	}
	if (clone_child > 0) {
		kill(clone_child, SIGKILL);
		waitpid(clone_child, NULL, 0);
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_numbers };
	return race_main(argc, argv, &c);
}
