/*
 * exec.c: what every exec carries and what it may start (SPEC 5.4).
 *
 * Environment: the LD_PRELOAD and WARD_* values the process started with
 * are remembered at start-up and put back into every exec, whatever the
 * program did to its environment (env -i, clearenv, unsetenv, its own envp).
 * The new envp is built in the caller's memory (a vfork child may not
 * allocate): pointers to the program's own strings, minus LD_PRELOAD and
 * WARD_*, plus the remembered ones.  Other preloads the program asks for
 * are kept after ward's own library (TRAPS 23).
 *
 * Program: under a policy, what the exec would start (core/program: the
 * candidate glibc's PATH search would start for the p-variants, every #!
 * level) is checked for exec, and a program the loader would run without
 * the shim (static, set-user-ID or set-group-ID to someone else, file
 * capabilities, a foreign loader or ELF class) is an unconfined exec.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "../core/program.h"
#include "../policy/policy.h"

#define KEPT_MAX 32        /* WARD_* variables remembered */
#define KEPT_TEXT 16384    /* their text */

static struct {
	char *entry[KEPT_MAX]; /* "WARD_X=value", into text */
	size_t count;
	char text[KEPT_TEXT];
	size_t used;
	char self[4096];       /* libward.so's own path */
	char preload[4096];    /* LD_PRELOAD at start-up */
	bool have_preload;
} kept;

static char *
keep_text(const char *s)
{
	size_t n = strlen(s) + 1;
	if (kept.used + n > sizeof(kept.text))
		return NULL;
	char *p = memcpy(kept.text + kept.used, s, n);
	kept.used += n;
	return p;
}

/* libward.so's own path, learnt at the first exec (dladdr costs as much as
 * the rest of start-up). */
static const char *
self(void)
{
	Dl_info info;
	if (kept.self[0] == '\0' && dladdr((void *)self, &info) && info.dli_fname != NULL)
		snprintf(kept.self, sizeof(kept.self), "%s", info.dli_fname);
	return kept.self;
}

void
ward_exec_init(char **envp)
{
	for (char **e = envp; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "WARD_", 5) == 0 && kept.count < KEPT_MAX) {
			char *copy = keep_text(*e);
			if (copy != NULL)
				kept.entry[kept.count++] = copy;
		} else if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
			kept.have_preload = snprintf(kept.preload, sizeof(kept.preload), "%s", *e + 11) <
			                    (int)sizeof(kept.preload);
		}
	}
}

static bool
is_ward_library(const char *entry, size_t n)
{
	if (n == strlen(kept.self) && memcmp(entry, kept.self, n) == 0)
		return true;
	return (n == 10 && memcmp(entry, "libward.so", 10) == 0) ||
	       (n > 10 && memcmp(entry + n - 11, "/libward.so", 11) == 0);
}

/* "LD_PRELOAD=" ward's library, then the other entries of list. */
static size_t
preload_line(char *out, size_t cap, const char *list)
{
	size_t n = (size_t)snprintf(out, cap, "LD_PRELOAD=%s", self());
	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ": ");
		if (len > 0 && !is_ward_library(p, len) && n + len + 2 < cap) {
			out[n++] = ':';
			memcpy(out + n, p, len);
			out[n += len] = '\0';
		}
		p += len;
		p += strspn(p, ": ");
	}
	return n;
}

size_t
ward_exec_env_size(char *const *envp)
{
	size_t n = 0;
	for (; envp != NULL && envp[n] != NULL; n++)
		;
	return n + KEPT_MAX + 2;
}

size_t
ward_exec_preload_size(char *const *envp)
{
	size_t n = strlen(self()) + strlen(kept.preload) + 16;
	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, "LD_PRELOAD=", 11) == 0)
			n += strlen(*envp);
	return n;
}

/* The envp an exec must use: out has ward_exec_env_size(envp) slots and
 * preload ward_exec_preload_size(envp) bytes. */
char *const *
ward_exec_env(char *const *envp, char **out, char *preload, size_t preload_cap)
{
	if (self()[0] == '\0')
		return envp; /* cannot name ourselves: leave the environment alone */
	size_t n = 0;
	const char *theirs = kept.have_preload ? kept.preload : NULL;
	for (char *const *e = envp; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "WARD_", 5) == 0)
			continue;
		if (strncmp(*e, "LD_PRELOAD=", 11) == 0) {
			theirs = *e + 11;
			continue;
		}
		out[n++] = *e;
	}
	preload_line(preload, preload_cap, theirs);
	out[n++] = preload;
	for (size_t i = 0; i < kept.count; i++)
		out[n++] = kept.entry[i];
	out[n] = NULL;
	return out;
}

/* ---- what the exec would start (core/program) ---- */

/* Every file the kernel would open is decided for exec (the program, each
 * #! interpreter); then a program the loader would start without the shim
 * is an unconfined exec.  A p-variant decides the candidate glibc's PATH
 * search would actually start. */
static int
check_exec(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char *file, bool search_path)
{
	struct ward_program *p = &s->exec_program;
	if (!search_path)
		ward_program_inspect(dirfd, file, false, p);
	else if (ward_program_search(file, getenv("PATH"), true, s->exec_path, sizeof(s->exec_path), p) == NULL)
		return 0; /* no candidate starts: execvp fails by itself (shells try each PATH entry) */
	for (unsigned int i = 0; i < p->levels; i++) {
		int at;
		const char *path = ward_program_level(p, i, &at);
		int r = ward_check_path(f, WARD_OP_EXEC, at, path, true);
		if (r != 0)
			return r;
	}
	if (p->error != 0)
		return 0; /* the exec fails by itself */
	if (p->unconfined == NULL || !ward_limits_watch_unconfined())
		return 0;
	return ward_refuse_unconfined(f, ward_program_level(p, p->unconfined_level, NULL), p->unconfined);
}

/* The exec check: 0, or the errno the exec must fail with. */
int
ward_check_exec(struct ward_frame *f, int dirfd, const char *file, bool search_path)
{
	if (!f->active || file == NULL || (!(ward_restricted & WARD_OP_EXEC) && !ward_limits_watch_unconfined()))
		return 0;
	struct ward_scratch *s = ward_scratch_enter(); /* the search buffers: never on a small stack */
	if (s == NULL)
		return EACCES;
	int r = check_exec(f, s, dirfd, file, search_path);
	ward_scratch_leave();
	return r;
}
