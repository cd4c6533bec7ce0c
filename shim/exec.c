/*
 * exec.c: what an exec may start (SPEC 5.4).
 *
 * Under a policy, what the exec would start (core/program: the
 * candidate glibc's PATH search would start for the p-variants, every #!
 * level) is checked for exec, and a program the loader would run without
 * the shim (static, set-user-ID or set-group-ID to someone else, file
 * capabilities, a foreign loader or ELF class) is an unconfined exec.
 * The environment every exec carries is environ.c's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"
#include "../core/program.h"
#include "../policy/match.h"
#include "../policy/policy.h"

/* ---- what the exec would start ---- */

/* Every file the kernel would open is decided for exec: the program on the
 * descriptor of exactly the file decided (ward_check_program), each #!
 * interpreter (every level, relative ones against the cwd); then a program
 * the loader would start without the shim is an unconfined exec.  A
 * p-variant decides the candidate glibc's PATH search would start. */
static int
check_exec(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char **file, bool search_path)
{
	struct ward_program *p = &s->exec_program;
	const char *path = *file;
	if (search_path)
		path = ward_program_search(*file, getenv("PATH"), true, s->exec_path, sizeof(s->exec_path), p);
	else
		ward_program_inspect(dirfd, path, false, p);
	if (path == NULL || p->levels == 0)
		return 0; /* nothing to run there: the exec fails by itself (shells try each PATH entry) */
	const char *act;
	int r = ward_check_program(f, dirfd, path, &act);
	if (r != 0)
		return r;
	if (act != NULL) { /* what it starts, read from exactly the file decided */
		int skipped = p->skipped;
		ward_program_inspect(AT_FDCWD, act, search_path, p);
		p->skipped = skipped;
	}
	for (unsigned int i = 1; i < p->levels; i++) {
		r = ward_check_path(f, WARD_OP_EXEC, AT_FDCWD, ward_program_level(p, i, NULL), true);
		if (r != 0)
			return r;
	}
	if (p->error != 0)
		return 0; /* the exec fails by itself */
	if (p->unconfined != NULL && ward_limits_watch_unconfined()) {
		const char *program = p->unconfined_level == 0 ? path : ward_program_level(p, p->unconfined_level, NULL);
		if ((r = ward_refuse_unconfined(f, program, p->unconfined)) != 0)
			return r;
	}
	if (p->exec_stack && (r = ward_check_exec_stack(f, p->levels > 1 ? ward_program_level(p, p->levels - 1, NULL) : path)) != 0)
		return r; /* memory wx deny: the kernel would map its stack writable and executable */
	/* A binary is run through its descriptor: exactly the file decided.  A
	 * script is run by its name (its interpreter must see a path it can
	 * open), decided at every #! level. */
	if (act != NULL && p->levels == 1)
		*file = act;
	else if (path != *file)
		*file = path; /* the PATH candidate decided: the exec must not search on to another */
	return 0;
}

/* Is name already what resolving it would give: absolute, with no empty,
 * "." or ".." component and no trailing slash?  (/proc/self/exe is the
 * path of the loaded file's dentry: made of real directories, never a
 * symlink, so this is all a resolution could change.) */
static bool
plain_absolute(const char *name)
{
	if (name[0] != '/')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		const char *c = p + 1;
		if (c[0] == '\0' || c[0] == '/' ||
		    (c[0] == '.' && (c[1] == '\0' || c[1] == '/' || (c[1] == '.' && (c[2] == '\0' || c[2] == '/')))))
			return false;
	}
	return true;
}

/* Does the policy allow ops on name, decided as named?  Counted as
 * ward_check_path_once counts (one decision an operation, up to the first
 * refused). */
static bool
allowed_as_named(struct ward_frame *f, unsigned int ops, const char *name)
{
	struct ward_counter_slot *slot = f->counting ? ward_counters_slot() : NULL;
	for (unsigned int op = 1; op != 0 && op <= ops; op <<= 1) {
		if (!(ops & op))
			continue;
		if (slot != NULL) {
			ward_counters_begin(slot);
			ward_counters_add(slot, WARD_IDX_DECISIONS, 1);
			ward_counters_end(slot);
		}
		if (!ward_matcher_decide_uncached(ward_config.matcher, op, name).allow)
			return false;
	}
	return true;
}

/*
 * The image that is running now, decided for exec before main: whatever
 * route started it (a raw execve, a symlink swapped after an exec's
 * check, a script's name raced), a program of the policy's `deny exec`
 * does not run.  /proc/self/exe names the file the kernel really loaded.
 * Refused: a record, and status 126 as for a program that cannot be run.
 * Only an image a confined process started (WARD_CHILD, which the shim puts
 * into every exec it lets through; the first process of a tree was started
 * from outside, and `ward run` decides that one itself).
 */
/* Whether path names the file this image runs (/proc/self/exe's). */
static bool
is_the_image(const char *path)
{
	struct stat named, running;
	return ward_syscall(SYS_newfstatat, AT_FDCWD, path, &named, 0) == 0 &&
	       ward_syscall(SYS_newfstatat, AT_FDCWD, "/proc/self/exe", &running, 0) == 0 &&
	       named.st_dev == running.st_dev && named.st_ino == running.st_ino;
}

/* The image's exec cannot be decided: refused with a record, 126. */
static void
refuse_image(struct ward_frame *f, const char *what, const char *why_text)
{
	char by[160];
	snprintf(by, sizeof(by), "not decided (%s)", why_text);
	struct ward_refusal why = { .op = "exec", .what = what, .by = by, .rule = "undecided", .err = EACCES };
	struct ward_scratch *s = ward_scratch_enter();
	int r = ward_refuse(f, s, &why);
	if (s != NULL)
		ward_scratch_leave();
	if (r != 0)
		ward_syscall(SYS_exit_group, 126);
}

void
ward_exec_check_self(void)
{
	if (ward_config.policy == NULL || !(ward_restricted & WARD_OP_EXEC) || !ward_exec_started_confined())
		return;
	struct ward_frame f;
	ward_frame_enter(&f, WARD_ID_execve);
	f.active = true; /* the constructor runs busy; this check is the image's own */
	/* the name is needed for a moment only: after the kept environment's
	 * first strings, on the page that is written already (a buffer of its
	 * own was a page fault); a name that may not have fitted is read again
	 * into one */
	static char own[WARD_PATH_MAX];
	size_t cap;
	char *self = ward_exec_spare_room(&cap);
	long n = cap > 1 ? ward_syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", self, cap - 1) : -1;
	if (n < 0 || (size_t)n >= cap - 1) {
		self = own;
		n = ward_syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", self, WARD_PATH_MAX - 1);
	}
	if (n <= 0 || n >= WARD_PATH_MAX - 1) { /* no name the kernel gives in full: not decided, refused */
		refuse_image(&f, n > 0 ? "(a program path longer than PATH_MAX)" : "(the program has no name)",
		             "the program's name cannot be read in full");
		return;
	}
	self[n] = '\0';
	/* A deleted file or a memfd keeps a name plus " (deleted)": no name
	 * a rule could have meant.  Refused unless that name is the very file
	 * that runs (a file really called so). */
	static const char deleted[] = " (deleted)";
	if ((size_t)n >= sizeof(deleted) - 1 && memcmp(self + n - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0 &&
	    !is_the_image(self)) {
		refuse_image(&f, self, "the program is a deleted file or a memfd: no name to decide on");
		return;
	}
	/* The kernel's name is decided as it is when a resolution could not
	 * change it (no readlink a component, no scratch pages; a resolution
	 * of it leads elsewhere only if the tree changed since the exec, and
	 * then the kernel's name is the truer one for the file loaded).
	 * Allowed: done.  Anything else, or another name, is checked the
	 * ordinary way, which resolves, refuses and records. */
	int r;
	if (plain_absolute(self))
		r = allowed_as_named(&f, WARD_OP_EXEC & ward_restricted, self)
		            ? 0
		            : ward_check_path(&f, WARD_OP_EXEC, AT_FDCWD, self, true);
	else
		r = ward_check_path_once(&f, WARD_OP_EXEC, AT_FDCWD, self, true); /* the caches' pages are left alone */
	if (r > 0)
		ward_syscall(SYS_exit_group, 126);
}

/* The exec check: 0, or the errno the exec must fail with. */
int
ward_check_exec(struct ward_frame *f, int dirfd, const char **file, bool search_path)
{
	if (!ward_ready()) /* an exec before the constructor: the tree's environment first */
		return 0;
	if (!f->active || *file == NULL ||
	    (!(ward_restricted & WARD_OP_EXEC) && !ward_limits_watch_unconfined() && !ward_limits_wx_deny()))
		return 0;
	struct ward_scratch *s = f->held != NULL ? f->held : ward_scratch_enter(); /* never on a small stack */
	if (s == NULL)
		return EACCES;
	ward_act_hold(f, s); /* given back when the call is done, or before the exec (ward_act_detach) */
	return check_exec(f, s, dirfd, file, search_path);
}
