/*
 * race: what the race programs (race_*.c) share.
 *
 * Each race program is an attack a confined program could make on its own:
 * a flipper (a child process or a thread) swaps names in the allowed tree
 * as fast as it can, so that a name the victim loop uses leads sometimes to
 * a harmless object and sometimes, through a symlink, into the denied
 * tree; the victim loop makes one confined call on that name after another
 * for a bounded time and checks what it really got.  It prints
 *
 *   attempts=N allowed=N refused=N wins=N other=N flips=N
 *
 * allowed: the call succeeded on the harmless object; refused: it failed
 * with EACCES (the tests run as root: only the policy says EACCES); wins:
 * the call reached the denied tree (read the secret's bytes, wrote or
 * created or removed something there, ran the forbidden program); other:
 * any other failure (a name missing for an instant between two renames).
 *
 * Every program has two commands:
 *   PROG setup DIR [ARG...]       make the tree (run without the shim)
 *   PROG run DIR MS FLIPPER [ARG...]   attack for MS milliseconds
 * FLIPPER is "proc" (a forked child), "thread", or "none" (no flipping:
 * every call must then be allowed and succeed).
 *
 * The tree: DIR/secret/ (denied) holds S.txt (SECRET_TEXT), x, victim and
 * a subdirectory sub; DIR/work/ (allowed) holds what each case flips.
 * DIR/ids lists "NAME DEV INO" of the secret's objects so a run can
 * recognise them by identity (it cannot stat them under the policy).
 */
#ifndef WARD_TESTS_RACE_H
#define WARD_TESTS_RACE_H

#include <stdbool.h>
#include <sys/types.h>

#define SECRET_TEXT "SECRET-0123456789-abcdefghij\n"
#define HARMLESS_TEXT "harmless\n"

struct race_counts {
	long attempts, allowed, refused, wins, other;
};

/* What the program was asked to do (race_main fills it). */
struct race_run {
	const char *dir;
	long ms;
	const char *flipper;
	bool flipping;      /* flipper != "none" */
	int argc;           /* the case's own arguments, after FLIPPER */
	char **argv;
	struct race_counts n;
};

/* Per program: make its part of DIR/work (the shared tree exists), run
 * the victim loop until race_over(), and flip names once. */
struct race_case {
	void (*setup)(const char *dir, int argc, char **argv);
	void (*prepare)(struct race_run *r);   /* before the flipper starts; may be NULL */
	void (*victim)(struct race_run *r);
	void (*flip)(void);                    /* NULL: the victim makes its own flips */
};

int race_main(int argc, char **argv, const struct race_case *c);

/* DIR/name in a static buffer (one of a few rotating ones). */
const char *race_path(const char *name);
bool race_over(void);
/* A flip made by a case that drives its own (counted in flips=). */
void race_count_flip(void);
/* RENAME_EXCHANGE of DIR/a and DIR/b (through libc's renameat2). */
void race_exchange(const char *a, const char *b);
/* The identity of a secret object recorded by setup ("S.txt", "secret"...). */
bool race_is_secret(const char *name, dev_t dev, ino_t ino);
/* Whether the directory open on dir has an entry name: read from the
 * descriptor itself (getdents64), so no policy decision, right or wrong,
 * can blur what the check sees. */
bool race_dir_has(int dir, const char *name);
/* How many entries the directory open on dir has ("." and ".." included). */
int race_dir_entries(int dir);
/* The same, with the entry's inode number (0: no such entry). */
ino_t race_dir_ino(int dir, const char *name);
/* Count a failed call: EACCES refused, else other. */
void race_failed(struct race_run *r);
/* Classify what a read got: the secret's bytes are a win. */
void race_classify_read(struct race_run *r, const char *buf, size_t len, dev_t dev, ino_t ino);

/* Setup helpers (unconfined). */
void race_put(const char *name, const char *text, mode_t mode);
void race_mkdir(const char *name);
void race_symlink(const char *target, const char *name);
void race_copy(const char *from, const char *name, mode_t mode);
void race_die(const char *what);

#endif
