/*
 * enforce.c: policy decisions inside the process.
 *
 * Loaded once at start-up from WARD_POLICY (an unreadable or invalid policy
 * stops the process with status 125 before main: it never runs unconfined).
 * A check turns (operations, dirfd, path) into the path the kernel would
 * act on and asks the compiled matcher, once per operation.  Operations the
 * policy allows everywhere cost one mask test: no path is resolved for them.
 *
 * Scratch space is thread-local, one set per nesting level, so a signal
 * handler that makes a checked call in the middle of a check has its own.
 * The working directory is cached (re-read after chdir/fchdir succeed) and
 * read under a sequence counter.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ck_pr.h>

#include "shim.h"
#include "../core/path.h"
#include "../policy/match.h"

#define RECORD_MAX 3072 /* one violation record, human or JSON, one write */
#define NESTING 2

static struct {
	struct ward_policy *policy;
	struct ward_matcher *matcher;
	unsigned int restricted; /* operations that need a decision */
	enum ward_mode mode;
	bool log_to_file;
	char log_path[PATH_MAX];
	int (*backtrace)(void **frames, int size); /* libunwind's, when asked for */
} enforce;

static struct {
	unsigned int sequence; /* odd while a chdir updates it */
	char path[WARD_PATH_MAX];
} cwd;

struct scratch {
	char base[WARD_PATH_MAX];
	char resolved[WARD_PATH_MAX];
	struct ward_path_scratch path;
	char record[RECORD_MAX];
};
static __thread struct scratch scratch[NESTING] __attribute__((tls_model("initial-exec")));
static __thread int depth __attribute__((tls_model("initial-exec")));

__attribute__((noreturn)) static void
stop(const char *message)
{
	ward_say(message);
	syscall(SYS_exit_group, 125);
	__builtin_unreachable();
}

/* ---- start-up ---- */

static void
parse_mode(void)
{
	const char *mode = getenv("WARD_MODE");
	if (mode == NULL || mode[0] == '\0')
		return;
	if (strcmp(mode, "enforce") == 0)
		enforce.mode = WARD_MODE_ENFORCE;
	else if (strcmp(mode, "audit") == 0)
		enforce.mode = WARD_MODE_AUDIT;
	else {
		char line[256];
		snprintf(line, sizeof(line), "WARD_MODE=%.100s: expected enforce or audit", mode);
		stop(line);
	}
}

static void
parse_log(const char *value)
{
	if (value == NULL || value[0] == '\0' || strcmp(value, "stderr") == 0)
		return;
	enforce.log_to_file = true;
	if (!ward_absolute(value, enforce.log_path, sizeof(enforce.log_path)))
		stop("WARD_LOG: path too long");
}

/* libunwind is loaded only when backtraces are asked for (its archive is
 * not PIC, and most processes never need it), and primed once here: its
 * first call opens a pipe and reads through the shim's own wrappers. */
static void
load_backtrace(void)
{
	const char *env = getenv("WARD_BACKTRACE");
	bool want = enforce.policy->backtrace == 1;
	if (env != NULL && env[0] != '\0') {
		if (strcmp(env, "1") != 0 && strcmp(env, "0") != 0) {
			char line[256];
			snprintf(line, sizeof(line), "WARD_BACKTRACE=%.100s: expected 1 or 0", env);
			stop(line);
		}
		want = env[0] == '1';
	}
	if (!want)
		return;
	void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	enforce.backtrace = lib ? (int (*)(void **, int))dlsym(lib, "unw_backtrace") : NULL;
	if (enforce.backtrace == NULL)
		stop("WARD_BACKTRACE: cannot load libunwind.so.8 (install libunwind8)");
	void *frames[4];
	enforce.backtrace(frames, 4);
}

/* "symbol+0xoffset" for each caller frame outside libward.so, as JSON
 * strings or plain words. */
static size_t
format_backtrace(char *out, size_t cap, bool json)
{
	void *frames[32];
	Dl_info self, info;
	size_t n = 0;
	int count = enforce.backtrace(frames, 32);
	dladdr((void *)format_backtrace, &self);
	for (int i = 0; i < count && n + 128 < cap; i++) {
		if (!dladdr(frames[i], &info) || info.dli_fbase == self.dli_fbase)
			continue;
		const char *name = info.dli_sname;
		if (name == NULL && info.dli_fname != NULL && info.dli_fname[0] != '\0') {
			name = strrchr(info.dli_fname, '/');
			name = name ? name + 1 : info.dli_fname;
		}
		if (name == NULL)
			name = ward_exe_name(); /* the main program names itself "" */
		void *base = info.dli_sname ? info.dli_saddr : info.dli_fbase;
		n += (size_t)snprintf(out + n, cap - n, json ? "%s\"%s+0x%lx\"" : "%s%s+0x%lx",
		                      n == 0 ? "" : json ? "," : " < ", name,
		                      (unsigned long)((char *)frames[i] - (char *)base));
	}
	return n;
}

void
ward_enforce_init(void)
{
	cwd.path[0] = '\0';
	if (syscall(SYS_getcwd, cwd.path, sizeof(cwd.path)) < 0)
		cwd.path[0] = '\0';
	const char *file = getenv("WARD_POLICY");
	if (file == NULL)
		return; /* observe only */
	if (file[0] == '\0')
		stop("WARD_POLICY is set but empty; not running unconfined");
	struct ward_policy_error error;
	enforce.policy = ward_policy_load(file, NULL, &error);
	if (enforce.policy == NULL) {
		char line[PATH_MAX + 400];
		snprintf(line, sizeof(line), "%s:%d:%d: error: %s", error.file, error.line, error.col, error.message);
		stop(line);
	}
	enforce.matcher = ward_matcher_build(enforce.policy);
	if (enforce.matcher == NULL)
		stop("out of memory compiling the policy; not running unconfined");
	enforce.restricted = WARD_OP_ALL & ~ward_policy_unrestricted_ops(enforce.policy);
	enforce.mode = enforce.policy->mode;
	parse_mode();
	const char *log = getenv("WARD_LOG");
	parse_log(log != NULL && log[0] != '\0' ? log : enforce.policy->log);
	load_backtrace();
}

const char *
ward_enforce_default_stats(void)
{
	return enforce.policy != NULL ? enforce.policy->stats : NULL;
}

bool
ward_enforce_logs_to_stderr(void)
{
	return enforce.policy != NULL && !enforce.log_to_file;
}

bool
ward_enforce_active(void)
{
	return enforce.policy != NULL;
}

uint64_t
ward_enforce_rules(void)
{
	return enforce.policy != NULL ? enforce.policy->nrules : 0;
}

/* ---- the working directory ---- */

void
ward_enforce_cwd_changed(void)
{
	static char fresh[WARD_PATH_MAX];
	if (enforce.policy == NULL)
		return;
	unsigned int s;
	do /* one writer at a time; chdir is rare */
		s = ck_pr_load_uint(&cwd.sequence) & ~1u;
	while (!ck_pr_cas_uint(&cwd.sequence, s, s + 1));
	if (syscall(SYS_getcwd, fresh, sizeof(fresh)) > 0)
		memcpy(cwd.path, fresh, sizeof(fresh));
	ck_pr_fence_store();
	ck_pr_store_uint(&cwd.sequence, s + 2);
}

static bool
copy_cwd(char *out)
{
	for (int attempt = 0; attempt < 100000; attempt++) {
		unsigned int s = ck_pr_load_uint(&cwd.sequence);
		if (s & 1)
			continue;
		ck_pr_fence_load();
		memcpy(out, cwd.path, WARD_PATH_MAX);
		ck_pr_fence_load();
		if (ck_pr_load_uint(&cwd.sequence) == s)
			return out[0] == '/';
	}
	return false;
}

/* The directory a relative path is taken from: the cwd, or what dirfd is. */
static bool
base_for(int dirfd, char *out)
{
	if (dirfd == AT_FDCWD)
		return copy_cwd(out);
	char link[32];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	long n = syscall(SYS_readlinkat, AT_FDCWD, link, out, WARD_PATH_MAX - 1);
	if (n <= 0)
		return false;
	out[n] = '\0';
	return out[0] == '/';
}

/* ---- violation records ---- */

static size_t
json_string(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
		else if (c < 0x20)
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return n;
}

static void
write_record(struct scratch *s, const char *decision, unsigned int op, const char *path,
             enum ward_call_id call, struct ward_decision d)
{
	char rule[PATH_MAX + 32];
	const struct ward_rule *r = d.rule >= 0 ? &enforce.policy->rule[d.rule] : NULL;
	if (r != NULL)
		snprintf(rule, sizeof(rule), "%s:%d", r->file, r->line);
	long pid = syscall(SYS_getpid);
	size_t n;
	if (!enforce.log_to_file) {
		n = (size_t)snprintf(s->record, RECORD_MAX, "ward: %s %s %s (%s) by %s%s [pid %ld %s]", decision,
		                     ward_op_name(op), path, ward_call_names[call], r ? "rule " : "",
		                     r ? rule : enforce.policy->default_deny ? "default deny" : "default allow", pid,
		                     ward_exe_name());
		if (n > RECORD_MAX - 2)
			n = RECORD_MAX - 2;
		if (enforce.backtrace != NULL && n + 32 < RECORD_MAX) {
			n += (size_t)snprintf(s->record + n, RECORD_MAX - n, " at ");
			n += format_backtrace(s->record + n, RECORD_MAX - n - 2, false);
		}
		s->record[n++] = '\n';
		ward_write_log(s->record, n < RECORD_MAX ? n : RECORD_MAX - 1, NULL);
		return;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	n = (size_t)snprintf(s->record, RECORD_MAX, "{\"time\":%lld.%06ld,\"pid\":%ld,\"exe\":\"",
	                     (long long)now.tv_sec, now.tv_nsec / 1000, pid);
	n += json_string(s->record + n, RECORD_MAX - n, ward_exe_name());
	n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "\",\"call\":\"%s\",\"op\":\"%s\",\"path\":\"",
	                      ward_call_names[call], ward_op_name(op));
	n += json_string(s->record + n, RECORD_MAX - n - 64, path);
	n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "\",\"decision\":\"%s\",\"rule\":\"", decision);
	n += json_string(s->record + n, RECORD_MAX - n - 8, r ? rule : "default");
	n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "\"");
	if (enforce.backtrace != NULL && n + 64 < RECORD_MAX) {
		n += (size_t)snprintf(s->record + n, RECORD_MAX - n, ",\"backtrace\":[");
		n += format_backtrace(s->record + n, RECORD_MAX - n - 8, true);
		n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "]");
	}
	n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "}\n");
	ward_write_log(s->record, n < RECORD_MAX ? n : RECORD_MAX - 1, enforce.log_path);
}

/* A denied operation: record it (unless quiet), count it, and say what
 * the call must do: fail with EACCES (enforce), go on (audit), or never
 * return (kill). */
static int
violation(struct ward_frame *f, struct scratch *s, unsigned int op, struct ward_decision d)
{
	static const char *const names[] = { "denied", "audited", "killed" };
	struct ward_counter_slot *slot = ward_counters_slot();
	ward_counters_begin(slot);
	ward_counters_add(slot, enforce.mode == WARD_MODE_AUDIT ? WARD_IDX_AUDITED : WARD_IDX_POLICY_DENIED, 1);
	ward_counters_end(slot);
	if (!d.quiet)
		write_record(s, names[enforce.mode], op, s->resolved, f->id, d);
	if (enforce.mode == WARD_MODE_AUDIT)
		return 0;
	if (enforce.mode == WARD_MODE_KILL) {
		ward_dump("kill");
		syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
	}
	return EACCES;
}

/* ---- checks ---- */

int
ward_check_path(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow)
{
	ops &= enforce.restricted;
	if (__builtin_expect(ops == 0, 1) || !f->active || path == NULL || path[0] == '\0')
		return 0;
	if (depth >= NESTING)
		return EACCES; /* a check inside a check inside a check: refuse */
	struct scratch *s = &scratch[depth++];
	int result = 0;
	int err = 0;
	if (path[0] != '/' && !base_for(dirfd, s->base))
		goto out; /* bad dirfd: the call itself fails */
	err = ward_path_resolve(path[0] == '/' ? NULL : s->base, path, follow, s->resolved, &s->path);
	if (err == ENAMETOOLONG) {
		result = EACCES; /* cannot tell where it leads: refuse */
		goto out;
	}
	if (err != 0)
		goto out; /* ELOOP: the kernel refuses it too */
	struct ward_counter_slot *slot = ward_counters_slot();
	for (unsigned int op = 1; op <= ops && result == 0; op <<= 1) {
		if (!(ops & op))
			continue;
		ward_counters_begin(slot);
		ward_counters_add(slot, WARD_IDX_DECISIONS, 1);
		ward_counters_end(slot);
		struct ward_decision d = ward_matcher_decide(enforce.matcher, op, s->resolved);
		if (!d.allow)
			result = violation(f, s, op, d);
	}
out:
	depth--;
	return result;
}

/* Does the path name something now?  (O_CREAT: create or write.) */
static bool
exists(int dirfd, const char *path)
{
	struct stat st;
	return syscall(SYS_newfstatat, dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

unsigned int
ward_open_ops(int dirfd, const char *path, int flags)
{
	if (flags & O_PATH)
		return WARD_OP_STAT;
	unsigned int ops = 0;
	int access = flags & O_ACCMODE;
	if (access == O_RDONLY || access == O_RDWR)
		ops |= WARD_OP_READ;
	if (access == O_WRONLY || access == O_RDWR || (flags & O_TRUNC))
		ops |= WARD_OP_WRITE;
	if ((flags & O_TMPFILE) == O_TMPFILE)
		return (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	if ((flags & O_CREAT) && ((flags & O_EXCL) || !exists(dirfd, path)))
		ops = (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	return ops;
}

int
ward_check_open(struct ward_frame *f, int dirfd, const char *path, int flags)
{
	if (__builtin_expect(enforce.restricted == 0, 1) || !f->active || path == NULL)
		return 0;
	bool follow = !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
	return ward_check_path(f, ward_open_ops(dirfd, path, flags), dirfd, path, follow);
}

int
ward_check_fopen(struct ward_frame *f, const char *path, const char *mode)
{
	if (__builtin_expect(enforce.restricted == 0, 1) || mode == NULL)
		return 0;
	int flags = strchr(mode, '+') ? O_RDWR : 0;
	if (mode[0] == 'w')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_TRUNC;
	else if (mode[0] == 'a')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_APPEND;
	if (strchr(mode, 'x'))
		flags |= O_EXCL;
	return ward_check_open(f, AT_FDCWD, path, flags);
}

/* Calls on an open descriptor that change the file: decide on what the
 * descriptor is now. */
int
ward_check_fd(struct ward_frame *f, unsigned int ops, int fd)
{
	if (__builtin_expect((ops & enforce.restricted) == 0, 1) || !f->active || depth >= NESTING)
		return 0;
	char link[32];
	char *target = scratch[depth].base;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	long n = syscall(SYS_readlinkat, AT_FDCWD, link, target, WARD_PATH_MAX - 1);
	if (n <= 0)
		return 0; /* not an open descriptor: the call fails by itself */
	target[n] = '\0';
	/* pipes, sockets, memfds and deleted files have no name to protect */
	if (target[0] != '/' || strncmp(target, "/memfd:", 7) == 0 ||
	    (n > 10 && strcmp(target + n - 10, " (deleted)") == 0))
		return 0;
	return ward_check_path(f, ops, AT_FDCWD, target, false);
}

/* rename: remove the old name, create the new one (and remove it too when
 * it exists and is replaced).  RENAME_EXCHANGE swaps: both sides both. */
int
ward_check_rename(struct ward_frame *f, int olddirfd, const char *old, int newdirfd, const char *new,
                  unsigned int flags)
{
	if (__builtin_expect(enforce.restricted == 0, 1) || !f->active)
		return 0;
	unsigned int both = WARD_OP_REMOVE | WARD_OP_CREATE;
	bool exchange = flags & RENAME_EXCHANGE;
	int r = ward_check_path(f, exchange ? both : WARD_OP_REMOVE, olddirfd, old, false);
	if (r == 0)
		r = ward_check_path(f, exchange || exists(newdirfd, new) ? both : WARD_OP_CREATE, newdirfd, new, false);
	return r;
}

/* link: a new name for an existing file must not expose one the policy
 * protects, so the old file needs read and write too. */
int
ward_check_link(struct ward_frame *f, int olddirfd, const char *old, int newdirfd, const char *new, int flags)
{
	if (__builtin_expect(enforce.restricted == 0, 1) || !f->active)
		return 0;
	int r = ward_check_path(f, WARD_OP_READ | WARD_OP_WRITE, olddirfd, old, (flags & AT_SYMLINK_FOLLOW) != 0);
	if (r == 0)
		r = ward_check_path(f, WARD_OP_CREATE, newdirfd, new, false);
	return r;
}

/* utimensat(fd, NULL, ...) acts on fd itself (libc declares the path
 * nonnull; the kernel does not). */
int
ward_check_utimensat(struct ward_frame *f, int dirfd, const char *path, int flags)
{
	if (path == NULL)
		return ward_check_fd(f, WARD_OP_WRITE, dirfd);
	return ward_check_path(f, WARD_OP_WRITE, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW));
}
