/*
 * environ.c: the environment the process started with, and what every
 * exec carries (SPEC 5.4).
 *
 * The LD_PRELOAD and WARD_* values the process started with
 * are remembered at start-up and put back into every exec, whatever the
 * program did to its environment (env -i, clearenv, unsetenv, its own envp).
 * The new envp is built in the caller's memory (a vfork child may not
 * allocate): pointers to the program's own strings, minus LD_PRELOAD and
 * WARD_*, plus the remembered ones.  Other preloads the program asks for
 * are kept after ward's own library (TRAPS 23); LD_AUDIT is never passed
 * on (an audit library runs before every other and can drop libward).
 * What the process was told comes from the environment it was started
 * with (the kernel's copy of it, which no constructor that ran before the
 * shim's can have changed); relative names in it are made absolute once.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "../core/exact.h"
#include "../policy/policy.h"

#define KEPT_MAX 32        /* WARD_* variables remembered */
#define PRELOAD_MAX 4096   /* LD_PRELOAD kept up to this long (NUL included) */
#define KEPT_TEXT (16384 + WARD_NAME_MAX + PRELOAD_MAX) /* their text (WARD_CWD may be a deep name), and LD_PRELOAD */

#define KEPT_FIRST 640   /* text kept next to the entries: what a tree's process usually needs */

/* What start-up writes: small, and placed on a page the loader writes
 * anyway (shim/start-up.ld): each page touched is a fault.  The strings go
 * to first while they fit, then to the big text. */
static struct {
	size_t count;
	size_t first_used;
	size_t used;
	bool have_preload;
	bool child;            /* WARD_CHILD=1 came in: kept already */
	bool audit;            /* LD_AUDIT was set at start-up */
	bool first;            /* the tree's first process (no WARD_CWD yet) */
	char *entry[KEPT_MAX]; /* "WARD_X=value", into first or text */
	const char *preload;   /* LD_PRELOAD at start-up, in first or text (have_preload) */
	char first_text[KEPT_FIRST];
} kept;
static char kept_text[KEPT_TEXT];
static char kept_self[4096]; /* libward.so's own path */

static char *
keep_text(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;
	if (kept.first_used + n <= sizeof(kept.first_text)) {
		p = kept.first_text + kept.first_used;
		kept.first_used += n;
	} else if (kept.used + n <= sizeof(kept_text)) {
		p = kept_text + kept.used;
		kept.used += n;
	} else {
		return NULL;
	}
	return memcpy(p, s, n);
}

/* libward.so's own path, learnt at the first exec (dladdr costs as much as
 * the rest of start-up), or before the first fork (ward_exec_learn_self):
 * a fork child then inherits it instead of binding and running dladdr
 * itself, every child of a shell again.  self_known is on start-up's page
 * of small variables: kept_self's own page is written once, never read
 * first (a read, then the write, were two faults). */
static bool self_known;

static const char *
self(void)
{
	Dl_info info;
	if (!self_known && dladdr((void *)self, &info) && info.dli_fname != NULL) {
		size_t n = strnlen(info.dli_fname, sizeof(kept_self) - 1);
		memcpy(kept_self, info.dli_fname, n); /* no snprintf: its pages were three faults of a fork child's exec */
		kept_self[n] = '\0';
		self_known = true;
	}
	return kept_self;
}

void
ward_exec_learn_self(void)
{
	if (!self_known)
		(void)self();
}

/* ---- the environment the process was started with ---- */

/* The kernel's copy, not environ: code that ran before the shim (another
 * library's constructor) may have changed environ with setenv or
 * unsetenv, never this.  Read only at start-up. */
#define INITIAL_MAX (4u << 20)
static struct {
	const char *text; /* NUL-separated entries; NULL: not readable (no /proc) */
	size_t len;
} initial;
static const char *initial_stack; /* initial.text when read in place (stack_environment) */

/*
 * The kernel's copy is on this process's stack: exec lays out the
 * argument strings, then the environment's, then the program's name
 * (AT_EXECFN), end to end; /proc/self/environ reads exactly the middle
 * part of that memory.  When the envp the constructor got still points at
 * those strings in order, one after the other, from just after the last
 * argument to just before AT_EXECFN, no entry was replaced (setenv puts a
 * pointer to another string), removed (unsetenv moves the later ones
 * down) or added (a new array), and they are the text /proc would give:
 * read in place, without the open, the reads and the mapping (five system
 * calls and a page).  Anything else, /proc.
 */
static bool
stack_environment(int argc, char **argv, char **envp)
{
	const char *end = (const char *)getauxval(AT_EXECFN);
	if (argc < 1 || argv == NULL || envp == NULL || envp[0] == NULL || end == NULL || argv[argc - 1] == NULL)
		return false;
	const char *next = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	size_t n = 0;
	for (; envp[n] != NULL; n++) {
		if (envp[n] != next)
			return false;
		next += strlen(next) + 1;
	}
	if (next != end)
		return false;
	initial.text = initial_stack = envp[0];
	initial.len = (size_t)(end - envp[0]);
	return true;
}

static void
read_initial_environment(int argc, char **argv, char **envp)
{
	if (stack_environment(argc, argv, envp))
		return;
	long map = ward_syscall(SYS_mmap, NULL, INITIAL_MAX, PROT_READ | PROT_WRITE,
	                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	long fd = ward_syscall(SYS_openat, AT_FDCWD, "/proc/self/environ", O_RDONLY | O_CLOEXEC);
	if (map == -1 || fd < 0) {
		if (map != -1)
			ward_syscall(SYS_munmap, map, INITIAL_MAX);
		if (fd >= 0)
			ward_syscall(SYS_close, fd);
		return;
	}
	char *text = (char *)map;
	size_t len = 0;
	long n;
	while (len < INITIAL_MAX - 1 && (n = ward_syscall(SYS_read, fd, text + len, INITIAL_MAX - 1 - len)) > 0)
		len += (size_t)n;
	ward_syscall(SYS_close, fd);
	if (len >= INITIAL_MAX - 1) { /* too big to trust a cut: use envp */
		ward_syscall(SYS_munmap, map, INITIAL_MAX);
		return;
	}
	text[len] = '\0';
	initial.text = text;
	initial.len = len;
}

/* Start-up is over: the stack's copy may be reused by the program from
 * here on (a process title written over it); later look-ups (none are
 * made today) get libc's environment. */
void
ward_exec_init_done(void)
{
	if (initial.text != NULL && initial.text == initial_stack)
		initial.text = NULL;
}

/* A variable of the initial environment (NULL when unset). */
static const char *
initial_getenv(const char *name)
{
	size_t n = strlen(name);
	if (initial.text == NULL)
		return getenv(name);
	for (const char *e = initial.text; e < initial.text + initial.len; e += strlen(e) + 1)
		if (strncmp(e, name, n) == 0 && e[n] == '=')
			return e + n + 1;
	return NULL;
}

/* What the process was told: WARD_* as kept for the tree (absolute names),
 * anything else from the initial environment. */
const char *
ward_env(const char *name)
{
	if (strncmp(name, "WARD_", 5) == 0) {
		size_t n = strlen(name);
		for (size_t i = 0; i < kept.count; i++)
			if (strncmp(kept.entry[i], name, n) == 0 && kept.entry[i][n] == '=')
				return kept.entry[i] + n + 1;
		return NULL;
	}
	return initial_getenv(name);
}

bool
ward_exec_first_process(void)
{
	return kept.first;
}

bool
ward_exec_audit_library(void)
{
	return kept.audit;
}

/* Names a relative value would find elsewhere after a chdir: made absolute
 * once, by the process that was given them, for the whole tree. */
static bool
names_a_file(const char *entry)
{
	static const char *const names[] = { "WARD_POLICY=", "WARD_LOG=", "WARD_STATS=", "WARD_RECORDS=" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (strncmp(entry, names[i], n) == 0) {
			const char *v = entry + n;
			return v[0] != '\0' && v[0] != '/' && strcmp(v, "stderr") != 0 && strncmp(v, "fd:", 3) != 0;
		}
	}
	return false;
}

static void
keep_entry(const char *entry)
{
	if (kept.count >= KEPT_MAX)
		return;
	char *copy = NULL;
	if (names_a_file(entry)) {
		static char absolute[PATH_MAX + 32];
		size_t name = strcspn(entry, "=") + 1;
		memcpy(absolute, entry, name);
		if (ward_absolute(entry + name, absolute + name, sizeof(absolute) - name))
			copy = keep_text(absolute);
	}
	if (copy == NULL)
		copy = keep_text(entry);
	if (copy != NULL)
		kept.entry[kept.count++] = copy;
}

/* Add NAME=value for the tree (replacing one of the same name). */
void
ward_exec_keep(const char *name, const char *value)
{
	static char line[WARD_NAME_MAX + 64]; /* WARD_CWD may be that deep */
	if ((size_t)snprintf(line, sizeof(line), "%s=%s", name, value) >= sizeof(line))
		return; /* never a cut value */
	size_t n = strlen(name);
	char *copy = keep_text(line);
	if (copy == NULL)
		return;
	for (size_t i = 0; i < kept.count; i++) {
		if (strncmp(kept.entry[i], name, n) == 0 && kept.entry[i][n] == '=') {
			kept.entry[i] = copy;
			return;
		}
	}
	if (kept.count < KEPT_MAX)
		kept.entry[kept.count++] = copy;
}

/* LD_PRELOAD's value, kept in the text after the WARD_* entries (the
 * same pages: no array of its own to touch), the last one given winning. */
static void
keep_preload(const char *value)
{
	kept.have_preload = false;
	if (strnlen(value, PRELOAD_MAX) < PRELOAD_MAX && (kept.preload = keep_text(value)) != NULL)
		kept.have_preload = true;
}

static void
take(const char *e)
{
	if (e[0] != 'W' && e[0] != 'L')
		return; /* most of an environment: one test instead of four string compares */
	if (strncmp(e, "WARD_COMM=", 10) == 0)
		return; /* one image's own name, never passed on */
	kept.child |= strcmp(e, "WARD_CHILD=1") == 0;
	if (strncmp(e, "WARD_", 5) == 0)
		keep_entry(e);
	else if (strncmp(e, "LD_PRELOAD=", 11) == 0)
		keep_preload(e + 11);
	else if (strncmp(e, "LD_AUDIT=", 9) == 0 && e[9] != '\0')
		kept.audit = true;
}

/* WARD_CWD=the working directory, read by the kernel straight into the
 * first kept text when it fits there (the buffers of the general way are
 * two pages to touch).  false: it did not fit, or getcwd failed. */
static bool
keep_cwd_in_place(void)
{
	static const char name[] = "WARD_CWD=";
	size_t room = sizeof(kept.first_text) - kept.first_used, head = sizeof(name) - 1;
	char *entry = kept.first_text + kept.first_used;
	if (kept.count >= KEPT_MAX || room < head + 2)
		return false;
	memcpy(entry, name, head);
	long n = ward_syscall(SYS_getcwd, entry + head, room - head); /* the length with its NUL */
	if (n <= 1 || (size_t)n > room - head)
		return false;
	kept.first_used += head + (size_t)n;
	kept.entry[kept.count++] = entry;
	return true;
}

void
ward_exec_init(int argc, char **argv, char **envp)
{
	read_initial_environment(argc, argv, envp);
	if (initial.text != NULL && initial.text == initial_stack) {
		for (char **e = envp; *e != NULL; e++) /* the same strings, found without a scan */
			take(*e);
	} else if (initial.text != NULL) {
		for (const char *e = initial.text; e < initial.text + initial.len; e += strlen(e) + 1)
			take(e);
	} else {
		for (char **e = envp; e != NULL && *e != NULL; e++)
			take(*e);
	}
	/* $CWD is the first process's working directory, for the whole tree
	 * (and its presence tells a descendant from the first process) */
	kept.first = ward_env("WARD_CWD") == NULL;
	if (kept.first && !keep_cwd_in_place()) {
		static char cwd[WARD_NAME_MAX], entries[4096] __attribute__((aligned(32)));
		if (ward_syscall(SYS_getcwd, cwd, PATH_MAX) > 0 ||
		    (errno == ENAMETOOLONG && ward_exact_name(AT_FDCWD, cwd, sizeof(cwd), entries, sizeof(entries)) == 0))
			ward_exec_keep("WARD_CWD", cwd);
	}
}

/* memcmp's test, by hand: the first exec of a bash child was the first
 * call of memcmp through the shim's PLT, whose lazy binding walked the
 * symbol tables of bash, libtinfo and libc, none mapped in a fork child
 * (ten page faults). */
static bool
same_bytes(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static bool
is_ward_library(const char *entry, size_t n)
{
	if (self_known && n == strlen(kept_self) && same_bytes(entry, kept_self, n))
		return true;
	return (n == 10 && same_bytes(entry, "libward.so", 10)) ||
	       (n > 10 && same_bytes(entry + n - 11, "/libward.so", 11));
}

static bool
preload_separator(char c)
{
	return c == ':' || c == ' ';
}

/* "LD_PRELOAD=" ward's library, then the other entries of list (cap is
 * ward_exec_preload_size's: room for all of it).  Copied by hand: the
 * first exec of a fork child bound and faulted in snprintf, strcspn and
 * strspn for these few bytes. */
static size_t
preload_line(char *out, size_t cap, const char *list)
{
	static const char head[] = "LD_PRELOAD=";
	const char *mine = self();
	size_t n = sizeof(head) - 1, len = strlen(mine);
	if (n + len + 1 > cap)
		len = cap > n + 1 ? cap - n - 1 : 0; /* (never: the size counts it) */
	memcpy(out, head, n);
	memcpy(out + n, mine, len);
	out[n += len] = '\0';
	for (const char *p = list; p != NULL && *p != '\0';) {
		for (len = 0; p[len] != '\0' && !preload_separator(p[len]); len++)
			;
		if (len > 0 && !is_ward_library(p, len) && n + len + 2 < cap) {
			out[n++] = ':';
			memcpy(out + n, p, len);
			out[n += len] = '\0';
		}
		p += len;
		while (preload_separator(*p))
			p++;
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
	size_t n = strlen(self()) + (kept.have_preload ? strlen(kept.preload) : 0) + 16;
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
	if (ward_config.image_fd >= 0) /* the sealed policy image goes on to the new image */
		ward_syscall(SYS_fcntl, ward_config.image_fd, F_SETFD, 0);
	size_t n = 0;
	const char *theirs = kept.have_preload ? kept.preload : NULL;
	for (char *const *e = envp; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "WARD_", 5) == 0 || strncmp(*e, "LD_AUDIT=", 9) == 0)
			continue; /* the tree's own WARD_*; no audit library ever (it runs before libward) */
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

bool
ward_exec_env_room(char *const *envp, size_t extra, char *const **env)
{
	size_t slots = ward_exec_env_size(envp) + extra, bytes = ward_exec_preload_size(envp);
	char *room = ward_scratch_exec_room_enter(slots * sizeof(char *) + bytes);
	if (room == NULL) {
		errno = ENOMEM;
		return false;
	}
	*env = ward_exec_env(envp, (char **)room, room + slots * sizeof(char *), bytes);
	return true;
}

void
ward_exec_env_done(void)
{
	ward_scratch_exec_room_leave();
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

/* Relative names are taken from the directory the process started in. */
bool
ward_absolute(const char *value, char *out, size_t cap)
{
	out[0] = '\0';
	if (value[0] != '/') {
		if (getcwd(out, cap - 1) == NULL)
			return false;
		strcat(out, "/");
	}
	if (strlen(out) + strlen(value) >= cap)
		return false;
	strcat(out, value);
	return true;
}

/* Room for a name start-up needs for a moment (the image's own, exec.c):
 * what is left after the first kept strings, on the page they were
 * written to, not a page of its own; *cap bytes.  The next kept string
 * may write over it. */
char *
ward_exec_spare_room(size_t *cap)
{
	*cap = sizeof(kept.first_text) - kept.first_used;
	return kept.first_text + kept.first_used;
}

/* Was this image started by a confined process (WARD_CHILD came in)? */
bool
ward_exec_started_confined(void)
{
	return kept.child;
}
