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
 * Program: under a policy, the file that would run is checked for exec
 * (after the PATH search of the p-variants), so is a #! script's
 * interpreter, and a program the loader would run without the shim
 * (static, set-user-ID or set-group-ID to someone else, file capabilities)
 * is an unconfined exec.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
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
	bool child;            /* WARD_CHILD=1 came in: kept already */
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
		if (strncmp(*e, "WARD_COMM=", 10) == 0)
			continue; /* one image's own name, never passed on */
		kept.child |= strcmp(*e, "WARD_CHILD=1") == 0;
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
	return n + KEPT_MAX + 3;
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
	if (!kept.child)
		out[n++] = (char *)"WARD_CHILD=1"; /* started by a confined process: it checks itself (exec_check_self) */
	for (size_t i = 0; i < kept.count; i++)
		out[n++] = kept.entry[i];
	out[n] = NULL;
	return out;
}

/* "WARD_COMM=NAME": the process name a child run through /proc/self/fd/N
 * should have (the kernel would name it "N"): the basename of what was
 * asked, as the kernel takes it, at most 15 bytes. */
char *
ward_exec_comm(char *out, size_t cap, const char *asked)
{
	const char *slash = strrchr(asked, '/');
	snprintf(out, cap, "WARD_COMM=%.15s", slash != NULL ? slash + 1 : asked);
	return out;
}

/* Append entry to an envp made by ward_exec_env (which leaves room). */
void
ward_exec_env_add(char **envp, char *entry)
{
	size_t n = 0;
	while (envp[n] != NULL)
		n++;
	envp[n] = entry;
	envp[n + 1] = NULL;
}

/* The new image's name, when its parent ran it through a descriptor. */
void
ward_exec_name_self(void)
{
	const char *comm = getenv("WARD_COMM");
	if (comm == NULL)
		return;
	ward_syscall(SYS_prctl, PR_SET_NAME, comm);
	unsetenv("WARD_COMM");
}

/* ---- what the exec would start ---- */

/* The file execvp would run: the first PATH candidate that is executable. */
static const char *
search(const char *file, char *out, size_t cap)
{
	if (strchr(file, '/') != NULL)
		return file;
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (const char *dir = path;;) {
		size_t n = strcspn(dir, ":");
		if (n + strlen(file) + 2 <= cap) {
			if (n == 0)
				snprintf(out, cap, "%s", file);
			else
				snprintf(out, cap, "%.*s/%s", (int)n, dir, file);
			struct stat st;
			if (ward_syscall(SYS_faccessat, AT_FDCWD, out, X_OK, 0) == 0 &&
			    ward_syscall(SYS_newfstatat, AT_FDCWD, out, &st, 0) == 0 && S_ISREG(st.st_mode))
				return out;
		}
		if (dir[n] == '\0')
			return NULL;
		dir += n + 1;
	}
}

/* Why the loader would not run the shim in this file, or NULL.  interp gets
 * a #! script's interpreter ("" when none); *binary: an ELF file. */
static const char *
unconfined_reason(const char *path, char *interp, size_t cap, bool *binary)
{
	struct stat st;
	unsigned char head[256];
	interp[0] = '\0';
	*binary = false;
	if (ward_syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0)
		return NULL;
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
		return "set-user-ID or set-group-ID";
	char cap_value[64];
	if (ward_syscall(SYS_getxattr, path, "security.capability", cap_value, sizeof(cap_value)) > 0)
		return "file capabilities";
	long fd = ward_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	long n = ward_syscall(SYS_pread64, fd, head, sizeof(head), 0);
	const char *why = NULL;
	if (n >= 2 && head[0] == '#' && head[1] == '!') {
		size_t i = 2;
		while (i < (size_t)n && (head[i] == ' ' || head[i] == '\t'))
			i++;
		size_t start = i;
		while (i < (size_t)n && head[i] != ' ' && head[i] != '\t' && head[i] != '\n')
			i++;
		if (i - start < cap) {
			memcpy(interp, head + start, i - start);
			interp[i - start] = '\0';
		}
	} else if (n >= (long)sizeof(Elf64_Ehdr) && memcmp(head, ELFMAG, SELFMAG) == 0 &&
	           head[EI_CLASS] == ELFCLASS64) {
		*binary = true;
		Elf64_Ehdr eh;
		memcpy(&eh, head, sizeof(eh));
		bool dynamic = false;
		for (unsigned int i = 0; i < eh.e_phnum && i < 64; i++) {
			Elf64_Phdr ph;
			if (ward_syscall(SYS_pread64, fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize)) !=
			    (long)sizeof(ph))
				break;
			dynamic |= ph.p_type == PT_INTERP;
		}
		if (!dynamic)
			why = "statically linked";
	}
	ward_syscall(SYS_close, fd);
	return why;
}

#define INTERPRETER_LEVELS 4 /* the kernel follows #! this many times (BINPRM_MAX_RECURSION) */

/* A #! script's interpreters, every level: each decided for exec (a
 * relative one against the cwd, as the kernel takes it) and inspected. */
static int
check_interpreters(struct ward_frame *f, struct ward_scratch *s, const char **program, const char **why)
{
	for (int level = 0; level < INTERPRETER_LEVELS && s->exec_interp[0] != '\0' && *why == NULL; level++) {
		int r = ward_check_path(f, WARD_OP_EXEC, AT_FDCWD, s->exec_interp, true);
		if (r != 0)
			return r;
		bool binary;
		*why = unconfined_reason(s->exec_interp, s->exec_next, sizeof(s->exec_next), &binary);
		if (*why != NULL) {
			*program = s->exec_interp;
			return 0;
		}
		memcpy(s->exec_interp, s->exec_next, sizeof(s->exec_interp));
	}
	return 0;
}

static int
check_exec(struct ward_frame *f, struct ward_scratch *s, int dirfd, const char **file, bool search_path)
{
	const char *path = search_path ? search(*file, s->exec_path, sizeof(s->exec_path)) : *file;
	if (path == NULL || ward_syscall(SYS_faccessat, dirfd, path, X_OK, 0) != 0)
		return 0; /* nothing to run there: the exec fails by itself (shells try each PATH entry) */
	const char *act;
	int r = ward_check_program(f, dirfd, path, &act);
	if (r != 0)
		return r;
	if (act == NULL && dirfd != AT_FDCWD)
		return 0; /* through /proc, relative to a descriptor: nothing more to inspect by name */
	bool binary;
	const char *why = unconfined_reason(act != NULL ? act : path, s->exec_interp, sizeof(s->exec_interp), &binary);
	const char *program = path;
	if (why == NULL && s->exec_interp[0] != '\0' && (r = check_interpreters(f, s, &program, &why)) != 0)
		return r;
	if (why != NULL && ward_limits_watch_unconfined() && (r = ward_refuse_unconfined(f, program, why)) != 0)
		return r;
	/* A binary is run through its descriptor: exactly the file decided.  A
	 * script is run by its name (its interpreter must see a path it can
	 * open), decided at every #! level. */
	if (act != NULL && binary)
		*file = act;
	else if (path != *file)
		*file = path; /* the PATH candidate decided: the exec must not search on to another */
	return 0;
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
void
ward_exec_check_self(void)
{
	if (ward_config.policy == NULL || !(ward_restricted & WARD_OP_EXEC) || !kept.child)
		return;
	struct ward_frame f;
	ward_frame_enter(&f, WARD_ID_execve);
	f.active = true; /* the constructor runs busy; this check is the image's own */
	static char self[WARD_PATH_MAX];
	long n = ward_syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || n >= (long)sizeof(self) - 1)
		return; /* no name to decide on (a deleted file keeps its old name plus " (deleted)") */
	self[n] = '\0';
	int r = ward_check_path(&f, WARD_OP_EXEC, AT_FDCWD, self, true);
	if (r > 0)
		ward_syscall(SYS_exit_group, 126);
}

/* The exec check: 0, or the errno the exec must fail with. */
int
ward_check_exec(struct ward_frame *f, int dirfd, const char **file, bool search_path)
{
	if (!f->active || *file == NULL || (!(ward_restricted & WARD_OP_EXEC) && !ward_limits_watch_unconfined()))
		return 0;
	struct ward_scratch *s = f->held != NULL ? f->held : ward_scratch_enter(); /* never on a small stack */
	if (s == NULL)
		return EACCES;
	ward_act_hold(f, s); /* given back when the call is done, or before the exec (ward_act_detach) */
	return check_exec(f, s, dirfd, file, search_path);
}
