/*
 * race_creat: creat() through a dangling symlink that a flipper re-points
 * at the secret (issue 11, case 6).  work/out (-> work/nowhere, dangling)
 * is exchanged with work/out2 (-> DIR/secret/S.txt); the victim removes
 * work/nowhere, then creat(work/out) (O_CREAT|O_WRONLY|O_TRUNC) and writes.
 * A descriptor on the secret's inode is a win (the secret was truncated and
 * written); the test also checks the secret's bytes afterwards.
 *
 *   race_creat run DIR MS FLIPPER [creat|fopen]
 * fopen: fopen(work/out, "w") and fputs instead of creat and write.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "race.h"

static const char *out, *out2, *nowhere;
static bool use_fopen;

static void
setup(const char *dir, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[4096];
	snprintf(t, sizeof(t), "%s/work/nowhere", dir);
	race_symlink(t, "work/out");
	snprintf(t, sizeof(t), "%s/secret/S.txt", dir);
	race_symlink(t, "work/out2");
}

static void
prepare(struct race_run *r)
{
	use_fopen = r->argc > 0 && strcmp(r->argv[0], "fopen") == 0;
	out = race_path("work/out");
	out2 = race_path("work/out2");
	nowhere = race_path("work/nowhere");
}

static void
flip_names(void)
{
	race_exchange(out, out2);
}

static void
victim(struct race_run *r)
{
	struct stat st;
	while (!race_over()) {
		unlink(nowhere);
		r->n.attempts++;
		FILE *f = NULL;
		int fd = use_fopen ? ((f = fopen(out, "w")) != NULL ? fileno(f) : -1) : creat(out, 0644);
		if (fd < 0) {
			race_failed(r);
			continue;
		}
		if (fstat(fd, &st) == 0 && race_is_secret("S.txt", st.st_dev, st.st_ino))
			r->n.wins++;
		else
			r->n.allowed++;
		if (f != NULL) {
			fputs("PWNED\n", f);
			fclose(f);
		} else {
			if (write(fd, "PWNED\n", 6) != 6)
				r->n.other++;
			close(fd);
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct race_case c = { setup, prepare, victim, flip_names };
	return race_main(argc, argv, &c);
}
