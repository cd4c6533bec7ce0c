/*
 * race: the shared part of the race programs (see race.h): the tree, the
 * flipper (a child process or a thread, always stopped and reaped before
 * the figures are printed), the clock and the counting.
 */
#define _GNU_SOURCE
#include "race.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *base;
static long deadline_ms;

struct secret_id {
	char name[32];
	dev_t dev;
	ino_t ino;
};
static struct secret_id ids[16];
static int nids;

/* Shared with a flipper child (MAP_SHARED) or thread. */
struct flip_state {
	atomic_long flips;
	atomic_int stop;
};
static struct flip_state *state;

void
race_die(const char *what)
{
	fprintf(stderr, "race: %s: %s\n", what, strerror(errno));
	exit(2);
}

static long
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

bool
race_over(void)
{
	return now_ms() >= deadline_ms;
}

const char *
race_path(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", base, name) < 0)
		race_die("asprintf");
	return p;
}

void
race_exchange(const char *a, const char *b)
{
	renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

bool
race_is_secret(const char *name, dev_t dev, ino_t ino)
{
	for (int i = 0; i < nids; i++)
		if (strcmp(ids[i].name, name) == 0)
			return ids[i].dev == dev && ids[i].ino == ino;
	fprintf(stderr, "race: no id for %s\n", name);
	exit(2);
}

void
race_failed(struct race_run *r)
{
	if (errno == EACCES)
		r->n.refused++;
	else
		r->n.other++;
}

void
race_classify_read(struct race_run *r, const char *buf, size_t len, dev_t dev, ino_t ino)
{
	if (race_is_secret("S.txt", dev, ino) ||
	    (len == strlen(SECRET_TEXT) && memcmp(buf, SECRET_TEXT, len) == 0))
		r->n.wins++;
	else if (len == strlen(HARMLESS_TEXT) && memcmp(buf, HARMLESS_TEXT, len) == 0)
		r->n.allowed++;
	else
		r->n.other++;
}

ino_t
race_dir_ino(int dir, const char *name)
{
	char buf[8192];
	ssize_t n;
	if (lseek(dir, 0, SEEK_SET) != 0)
		race_die("lseek");
	while ((n = getdents64(dir, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			if (strcmp(e->d_name, name) == 0)
				return e->d_ino;
			off += e->d_reclen;
		}
	if (n < 0)
		race_die("getdents64");
	return 0;
}

bool
race_dir_has(int dir, const char *name)
{
	return race_dir_ino(dir, name) != 0;
}

/* ---- setup ---- */

void
race_put(const char *name, const char *text, mode_t mode)
{
	const char *p = race_path(name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) != 0)
		race_die(p);
	chmod(p, mode);
}

void
race_mkdir(const char *name)
{
	if (mkdir(race_path(name), 0755) != 0)
		race_die(name);
}

void
race_symlink(const char *target, const char *name)
{
	if (symlink(target, race_path(name)) != 0)
		race_die(name);
}

void
race_copy(const char *from, const char *name, mode_t mode)
{
	int in = open(from, O_RDONLY);
	int out = open(race_path(name), O_WRONLY | O_CREAT | O_TRUNC, mode);
	char buf[65536];
	ssize_t n;
	if (in < 0 || out < 0)
		race_die(from);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			race_die(name);
	close(in);
	if (close(out) != 0)
		race_die(name);
	chmod(race_path(name), mode);
}

static void
setup_tree(void)
{
	race_mkdir("work");
	race_mkdir("secret");
	race_put("secret/S.txt", SECRET_TEXT, 0640);
	race_put("secret/x", "x of the secret\n", 0640);
	race_put("secret/victim", "victim of the secret\n", 0640);
	race_mkdir("secret/sub");
}

static void
write_ids(void)
{
	static const char *names[] = { "S.txt", "x", "victim", "sub", "forbidden" };
	FILE *f = fopen(race_path("ids"), "w");
	if (f == NULL)
		race_die("ids");
	struct stat st;
	if (stat(race_path("secret"), &st) == 0)
		fprintf(f, "secret %lu %lu\n", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "secret/%s", names[i]);
		if (lstat(race_path(rel), &st) == 0)
			fprintf(f, "%s %lu %lu\n", names[i], (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	}
	if (fclose(f) != 0)
		race_die("ids");
}

static void
read_ids(void)
{
	FILE *f = fopen(race_path("ids"), "r");
	if (f == NULL)
		race_die("ids");
	unsigned long dev, ino;
	while (nids < 16 && fscanf(f, "%31s %lu %lu", ids[nids].name, &dev, &ino) == 3) {
		ids[nids].dev = (dev_t)dev;
		ids[nids].ino = (ino_t)ino;
		nids++;
	}
	fclose(f);
}

/* ---- the flipper ---- */

static void (*flip_fn)(void);
static pid_t flip_child;
static pthread_t flip_thread;

static void *
flip_loop(void *unused)
{
	(void)unused;
	long stop_at = deadline_ms + 1000; /* never outlive the run by much */
	while (!atomic_load_explicit(&state->stop, memory_order_relaxed)) {
		flip_fn();
		long n = atomic_fetch_add_explicit(&state->flips, 1, memory_order_relaxed);
		if ((n & 255) == 0 && now_ms() > stop_at)
			break;
	}
	return NULL;
}

void
race_count_flip(void)
{
	atomic_fetch_add_explicit(&state->flips, 1, memory_order_relaxed);
}

static void
flipper_start(const struct race_run *r, const struct race_case *c)
{
	flip_fn = c->flip;
	if (flip_fn == NULL || !r->flipping)
		return;
	if (strcmp(r->flipper, "thread") == 0) {
		if (pthread_create(&flip_thread, NULL, flip_loop, NULL) != 0)
			race_die("pthread_create");
	} else if (strcmp(r->flipper, "proc") == 0) {
		fflush(NULL);
		flip_child = fork();
		if (flip_child < 0)
			race_die("fork");
		if (flip_child == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			flip_loop(NULL);
			_exit(0);
		}
	}
}

static void
flipper_stop(const struct race_run *r)
{
	atomic_store(&state->stop, 1);
	if (flip_fn == NULL || !r->flipping)
		return;
	if (strcmp(r->flipper, "thread") == 0) {
		pthread_join(flip_thread, NULL);
	} else if (strcmp(r->flipper, "proc") == 0) {
		int status;
		long give_up = now_ms() + 1000;
		while (waitpid(flip_child, &status, WNOHANG) == 0) {
			if (now_ms() > give_up) {
				kill(flip_child, SIGKILL);
				waitpid(flip_child, &status, 0);
				break;
			}
			usleep(1000);
		}
	}
}

int
race_main(int argc, char **argv, const struct race_case *c)
{
	if (argc >= 3 && strcmp(argv[1], "setup") == 0) {
		base = argv[2];
		setup_tree();
		c->setup(argv[2], argc - 3, argv + 3);
		write_ids();
		return 0;
	}
	if (argc < 5 || strcmp(argv[1], "run") != 0) {
		fprintf(stderr, "usage: %s setup DIR [ARG...] | run DIR MS proc|thread|none [ARG...]\n", argv[0]);
		return 2;
	}
	struct race_run r = { .dir = argv[2], .ms = atol(argv[3]), .flipper = argv[4], .argc = argc - 5,
			      .argv = argv + 5 };
	if (strcmp(r.flipper, "proc") != 0 && strcmp(r.flipper, "thread") != 0 && strcmp(r.flipper, "none") != 0)
		return 2;
	r.flipping = strcmp(r.flipper, "none") != 0;
	base = r.dir;
	read_ids();
	state = mmap(NULL, sizeof(*state), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (state == MAP_FAILED)
		race_die("mmap");
	atomic_init(&state->flips, 0);
	atomic_init(&state->stop, 0);
	if (c->prepare != NULL)
		c->prepare(&r);
	deadline_ms = now_ms() + r.ms;
	flipper_start(&r, c);
	c->victim(&r);
	flipper_stop(&r);
	printf("attempts=%ld allowed=%ld refused=%ld wins=%ld other=%ld flips=%ld\n", r.n.attempts, r.n.allowed,
	       r.n.refused, r.n.wins, r.n.other, atomic_load(&state->flips));
	return 0;
}

int
race_dir_entries(int dir)
{
	char buf[8192];
	int n = 0;
	ssize_t got;
	if (lseek(dir, 0, SEEK_SET) != 0)
		race_die("lseek");
	while ((got = getdents64(dir, buf, sizeof(buf))) > 0)
		for (ssize_t at = 0; at < got; at += ((struct dirent64 *)(buf + at))->d_reclen)
			n++;
	return n;
}
