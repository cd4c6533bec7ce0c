/*
 * race_stale: a stale resolution, no race needed (issue 11, case 11).  The
 * victim opens work/real/S.txt (a harmless file), asks a child process to
 * swap work/real (a directory) with work/lnk, a symlink to DIR/secret, and
 * as soon as the child says it is done opens work/real/S.txt again: that
 * second open must not read the secret (a win if it does).  Then the child
 * swaps back and the next round starts.  With FLIPPER "none" nothing is
 * swapped and both opens must read the harmless file.
 *
 *   race_stale run DIR MS proc|none
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "race.h"

static const char *real, *lnk, *target;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	race_mkdir("work/real");
	race_put("work/real/S.txt", HARMLESS_TEXT, 0644);
	snprintf(t, sizeof(t), "%s/secret", dir);
	race_symlink(t, "work/lnk");
}

static void
prepare(struct race_run *r)
{
	(void)r;
	real = race_path("work/real");
	lnk = race_path("work/lnk");
	target = race_path("work/real/S.txt");
}

/* One open and read of target, counted. */
static void
read_once(struct race_run *r)
{
	char buf[256];
	struct stat st;
	r->n.attempts++;
	int fd = open(target, O_RDONLY);
	if (fd < 0) {
		race_failed(r);
		return;
	}
	fstat(fd, &st);
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	race_classify_read(r, buf, n > 0 ? (size_t)n : 0, st.st_dev, st.st_ino);
}

/* The child: one exchange per byte asked, one byte back when done. */
static void
swapper(int ask, int done)
{
	char c;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (read(ask, &c, 1) == 1) {
		race_exchange(real, lnk);
		if (write(done, &c, 1) != 1)
			break;
	}
	_exit(0);
}

static bool
swap(int ask, int done)
{
	char c = 's';
	if (write(ask, &c, 1) != 1 || read(done, &c, 1) != 1)
		return false;
	race_count_flip();
	return true;
}

static void
victim(struct race_run *r)
{
	int to_child[2], from_child[2];
	if (!r->flipping) {
		while (!race_over())
			read_once(r);
		return;
	}
	if (pipe(to_child) != 0 || pipe(from_child) != 0)
		race_die("pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		race_die("fork");
	if (pid == 0) {
		close(to_child[1]);
		close(from_child[0]);
		swapper(to_child[0], from_child[1]);
	}
	close(to_child[0]);
	close(from_child[1]);
	while (!race_over()) {
		read_once(r);             /* resolved (and cached) while real is real */
		if (!swap(to_child[1], from_child[0]))
			break;
		read_once(r);             /* at once: real is now the symlink */
		if (!swap(to_child[1], from_child[0]))
			break;
	}
	close(to_child[1]);
	int status;
	waitpid(pid, &status, 0);
	close(from_child[0]);
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, NULL };
	return race_main(argc, argv, &c);
}
