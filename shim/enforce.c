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
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ck_pr.h>

#include "shim.h"
#include "../core/children.h"
#include "../core/dircache.h"
#include "../core/fdtable.h"
#include "../core/path.h"
#include "../policy/match.h"

#define RECORD_MAX 3072 /* one violation record, human or JSON, one write */
#define NESTING 2

unsigned int ward_restricted; /* operations that need a decision (0: no policy) */
uint64_t ward_fd_limit;       /* limit fds, 0: none */

static struct {
	struct ward_policy *policy;
	struct ward_matcher *matcher;
	enum ward_mode mode;
	bool log_to_file;
	char log_path[PATH_MAX];
	int (*backtrace)(void **frames, int size); /* libunwind's, when asked for */
	char image_path[PATH_MAX]; /* the compiled policy in use: never writable from the tree */
} enforce;

static struct {
	unsigned int sequence; /* odd while a chdir updates it */
	size_t length;
	char path[WARD_PATH_MAX];
} cwd;

struct scratch {
	struct stat found;
	char base[WARD_PATH_MAX];
	char dir[WARD_PATH_MAX];
	char resolved[WARD_PATH_MAX];
	struct ward_path_scratch path;
	char record[RECORD_MAX];
};
/* Mapped on a thread's first check and given back when it ends: kept out
 * of static TLS, which every thread of every process would zero at start. */
static __thread struct scratch *scratch_area __attribute__((tls_model("initial-exec")));
static __thread int depth __attribute__((tls_model("initial-exec")));
static pthread_key_t scratch_key;

static void
scratch_free(void *area)
{
	ward_syscall(SYS_munmap, area, NESTING * sizeof(struct scratch));
	scratch_area = NULL;
}

/* This thread's scratch set for nesting level depth; NULL when none can
 * be had (the caller then refuses: a check it cannot make). */
static struct scratch *
scratch_at(int level)
{
	if (__builtin_expect(scratch_area == NULL, 0)) {
		long p = ward_syscall(SYS_mmap, NULL, NESTING * sizeof(struct scratch), PROT_READ | PROT_WRITE,
		                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p < 0 && p > -4096)
			return NULL;
		scratch_area = (struct scratch *)p;
		if (!ward_in_vfork) /* a vfork child's TLS is its parent's: no key for it */
			pthread_setspecific(scratch_key, scratch_area);
	}
	return &scratch_area[level];
}

__attribute__((noreturn)) static void
stop(const char *message)
{
	ward_say(message);
	ward_syscall(SYS_exit_group, 125);
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

/* limit fds counts every open descriptor, inherited ones included: learn
 * them all once (only with that directive). */
static void
track_inherited_fds(void)
{
	char buf[4096];
	long dir = ward_syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return;
	long n;
	while ((n = ward_syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			char *end;
			long fd = strtol(d->d_name, &end, 10);
			if (d->d_name[0] != '.' && *end == '\0' && fd != dir && !ward_fdtable_tracked((int)fd))
				ward_fdtable_set((int)fd, WARD_FD_INHERITED, 0, "");
			off += d->d_reclen;
		}
	}
	ward_syscall(SYS_close, dir);
}

void
ward_enforce_init(void)
{
	const char *file = getenv("WARD_POLICY");
	if (file == NULL)
		return; /* observe only */
	if (ward_syscall(SYS_getcwd, cwd.path, sizeof(cwd.path)) < 0)
		cwd.path[0] = '\0';
	cwd.length = strlen(cwd.path);
	if (file[0] == '\0')
		stop("WARD_POLICY is set but empty; not running unconfined");
	pthread_key_create(&scratch_key, scratch_free);
	const char *image = getenv("WARD_POLICY_IMAGE");
	if (image != NULL && image[0] != '\0') { /* the launcher compiled it once for the tree */
		enforce.matcher = ward_matcher_load_image(image, file, &enforce.policy);
		if (enforce.matcher != NULL)
			snprintf(enforce.image_path, sizeof(enforce.image_path), "%s", image);
	}
	if (enforce.matcher == NULL) {
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
	}
	ward_restricted = WARD_OP_ALL & ~ward_policy_unrestricted_ops(enforce.policy);
	enforce.mode = enforce.policy->mode;
	parse_mode();
	const char *log = getenv("WARD_LOG");
	parse_log(log != NULL && log[0] != '\0' ? log : enforce.policy->log);
	load_backtrace();
	ward_alloc_set_limit(enforce.policy->limit_memory);
	if (enforce.policy->limit_fds != 0) {
		track_inherited_fds();
		ward_fd_limit = enforce.policy->limit_fds;
	}
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

bool
ward_enforce_watches_unconfined(void)
{
	return enforce.policy != NULL && enforce.policy->unconfined_exec != WARD_UNCONFINED_ALLOW;
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
	if (ward_syscall(SYS_getcwd, fresh, sizeof(fresh)) > 0) {
		cwd.length = strnlen(fresh, sizeof(fresh) - 1);
		memcpy(cwd.path, fresh, cwd.length + 1);
	}
	ck_pr_fence_store();
	ck_pr_store_uint(&cwd.sequence, s + 2);
}

/* A fork child: a thread that vanished in the fork may have left the
 * cache half written. */
void
ward_enforce_after_fork_child(void)
{
	if (enforce.policy == NULL)
		return;
	cwd.sequence &= ~1u;
	ward_enforce_cwd_changed();
}

static bool
copy_cwd(char *out)
{
	for (int attempt = 0; attempt < 100000; attempt++) {
		unsigned int s = ck_pr_load_uint(&cwd.sequence);
		if (s & 1)
			continue;
		ck_pr_fence_load();
		size_t n = cwd.length < WARD_PATH_MAX ? cwd.length : WARD_PATH_MAX - 1;
		memcpy(out, cwd.path, n);
		out[n] = '\0';
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
	if (dirfd == AT_FDCWD && !ward_in_vfork && copy_cwd(out))
		return true;
	if (dirfd == AT_FDCWD) /* a vfork child (the cache is the parent's), or no cache: ask */
		return ward_syscall(SYS_getcwd, out, WARD_PATH_MAX) > 0 && out[0] == '/';
	char link[32];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	long n = ward_syscall(SYS_readlinkat, AT_FDCWD, link, out, WARD_PATH_MAX - 1);
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
write_record(struct scratch *s, const char *decision, const char *op, const char *path,
             enum ward_call_id call, const char *by, const char *rule)
{
	long pid = ward_syscall(SYS_getpid);
	size_t n;
	if (!enforce.log_to_file) {
		n = (size_t)snprintf(s->record, RECORD_MAX, "ward: %s %s %s (%s) by %s [pid %ld %s]", decision, op,
		                     path, ward_call_names[call], by, pid, ward_exe_name());
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
	                      ward_call_names[call], op);
	n += json_string(s->record + n, RECORD_MAX - n - 64, path);
	n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "\",\"decision\":\"%s\",\"rule\":\"", decision);
	n += json_string(s->record + n, RECORD_MAX - n - 8, rule);
	n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "\"");
	if (enforce.backtrace != NULL && n + 64 < RECORD_MAX) {
		n += (size_t)snprintf(s->record + n, RECORD_MAX - n, ",\"backtrace\":[");
		n += format_backtrace(s->record + n, RECORD_MAX - n - 8, true);
		n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "]");
	}
	n += (size_t)snprintf(s->record + n, RECORD_MAX - n, "}\n");
	ward_write_log(s->record, n < RECORD_MAX ? n : RECORD_MAX - 1, enforce.log_path);
}

static int consequence(struct ward_frame *f);

/* A denied operation: record it (unless quiet), count it, and say what
 * the call must do: fail with EACCES (enforce), go on (audit), or never
 * return (kill). */
static int
violation(struct ward_frame *f, struct scratch *s, unsigned int op, struct ward_decision d)
{
	static const char *const names[] = { "denied", "audited", "killed" };
	if (f->counting) {
		struct ward_counter_slot *slot = ward_counters_slot();
		ward_counters_begin(slot);
		ward_counters_add(slot, enforce.mode == WARD_MODE_AUDIT ? WARD_IDX_AUDITED : WARD_IDX_POLICY_DENIED, 1);
		ward_counters_end(slot);
	}
	if (!d.quiet) {
		char rule[PATH_MAX + 32], by[PATH_MAX + 48];
		const struct ward_rule *r = d.rule >= 0 ? &enforce.policy->rule[d.rule] : NULL;
		snprintf(rule, sizeof(rule), "%s:%d", r ? r->file : "", r ? r->line : 0);
		snprintf(by, sizeof(by), "%s%s", r ? "rule " : "",
		         r ? rule : d.rule == -2 ? "ward (the tree's compiled policy)"
		                  : enforce.policy->default_deny ? "default deny" : "default allow");
		write_record(s, names[enforce.mode], ward_op_name(op), s->resolved, f->id, by, r ? rule : "default");
	}
	return consequence(f);
}

/* A refusal that is not a rule's (a limit, W^X, an unconfined exec):
 * write its record and say what the call does, failing with err when it
 * fails.  audit: recorded as audited, the call goes on. */
static int
refuse(struct ward_frame *f, bool audit, const char *op, const char *what, const char *by, const char *rule,
       int err)
{
	static const char *const names[] = { "denied", "audited", "killed" };
	struct scratch *s = scratch_at(depth);
	if (s != NULL) {
		depth++;
		write_record(s, audit ? "audited" : names[enforce.mode], op, what, f->id, by, rule);
		depth--;
	}
	if (audit)
		return 0;
	return consequence(f) ? err : 0;
}

/* Exec of a program the shim cannot follow (static, set-user-ID, file
 * capabilities): refused, audited or allowed by unconfined-exec. */
int
ward_refuse_unconfined(struct ward_frame *f, const char *path, const char *why)
{
	if (enforce.policy == NULL || enforce.policy->unconfined_exec == WARD_UNCONFINED_ALLOW || depth >= NESTING)
		return 0;
	bool audit = enforce.policy->unconfined_exec == WARD_UNCONFINED_AUDIT || enforce.mode == WARD_MODE_AUDIT;
	char by[128], rule[128];
	snprintf(by, sizeof(by), "unconfined-exec %s (%s)", audit ? "audit" : "deny", why);
	snprintf(rule, sizeof(rule), "unconfined-exec (%s)", why);
	return refuse(f, audit, "exec", path, by, rule, EACCES);
}

/* ---- limits ---- */

/* Is pid no longer a child of ours (reaped without a wait we saw)? */
static bool
child_gone(pid_t pid)
{
	siginfo_t info;
	int saved = errno;
	bool gone = ward_syscall(SYS_waitid, P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT, NULL) < 0 && errno == ECHILD;
	errno = saved;
	return gone;
}

/* A limit reached: "limit NAME N", failing with err. */
static int
refuse_limit(struct ward_frame *f, const char *name, uint64_t limit, int err)
{
	char what[32], by[64];
	snprintf(what, sizeof(what), "%llu", (unsigned long long)limit);
	snprintf(by, sizeof(by), "limit %s %s", name, what);
	return refuse(f, enforce.mode == WARD_MODE_AUDIT, name, what, by, by, err);
}

int
ward_check_children(struct ward_frame *f)
{
	if (enforce.policy == NULL || enforce.policy->limit_children == 0 || !f->active ||
	    ward_children_live() < enforce.policy->limit_children)
		return 0;
	ward_children_prune(child_gone);
	if (ward_children_live() < enforce.policy->limit_children || depth >= NESTING)
		return 0;
	return refuse_limit(f, "children", enforce.policy->limit_children, EAGAIN);
}

/* limit fds: room for needed more descriptors, or EMFILE (recorded) as at
 * the kernel's own limit.  Threads opening at the same moment can pass the
 * limit by at most one descriptor each. */
int
ward_check_fds(struct ward_frame *f, int needed)
{
	if (!f->active || needed <= 0 || ward_fdtable_open_now() + (uint64_t)needed <= ward_fd_limit)
		return 0;
	return refuse_limit(f, "fds", ward_fd_limit, EMFILE);
}

/* limit memory: the allocation that would pass the limit is refused like
 * any other call (ward_frame_refuse: counted as failed and denied, errno
 * ENOMEM), and only the first refusal writes a record (record). */
int
ward_refuse_memory(enum ward_call_id id, uint64_t limit, bool record)
{
	struct ward_frame f;
	ward_frame_enter(&f, id);
	if (record && depth < NESTING)
		f.deny = refuse_limit(&f, "memory", limit, ENOMEM);
	else
		f.deny = enforce.mode == WARD_MODE_AUDIT ? 0 : ENOMEM;
	if (f.deny != 0)
		ward_frame_refuse(&f);
	else
		errno = f.saved_errno;
	return f.deny;
}

/* memory wx deny: a mapping or protection both writable and executable is
 * refused with EACCES (and recorded), as SPEC 5.3 says. */
int
ward_check_wx(struct ward_frame *f, int prot)
{
	(void)prot; /* the wrapper only asks when prot has both bits */
	if (enforce.policy == NULL || !enforce.policy->memory_wx_deny || !f->active)
		return 0;
	return refuse(f, enforce.mode == WARD_MODE_AUDIT, "memory", "PROT_WRITE|PROT_EXEC", "memory wx deny",
	              "memory wx deny", EACCES);
}

/* What a refusal does to the call: fail it (enforce), let it go (audit), or
 * end the process (kill). */
static int
consequence(struct ward_frame *f)
{
	(void)f;
	if (enforce.mode == WARD_MODE_AUDIT)
		return 0;
	if (enforce.mode == WARD_MODE_KILL) {
		ward_dump("kill");
		ward_syscall(SYS_kill, ward_syscall(SYS_getpid), SIGKILL);
	}
	return EACCES;
}

/* ---- where a path leads ---- */

static bool
has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

/* Full kernel-like resolution of the (absolute) s->resolved, in place. */
static int
resolve_fully(struct scratch *s, bool follow)
{
	strcpy(s->dir, s->resolved);
	return ward_path_resolve(NULL, s->dir, follow, s->resolved, &s->path);
}

/* Is the last component of the absolute path a symbolic link? */
static bool
last_is_link(const char *path)
{
	char unused[1];
	return ward_syscall(SYS_readlinkat, AT_FDCWD, path, unused, sizeof(unused)) >= 0;
}

/*
 * Where path (relative to dirfd) leads, into s->resolved.  The directory part
 * comes from the directory cache when the path has no ".." (the kernel
 * applies ".." to real directories, so those paths are walked component by
 * component).  *unchecked: the caller asked to follow a final symlink and the
 * last component has not been looked at; the caller settles that with the
 * call itself where it can (openat2, fstatat) or with one readlink.
 * Returns 0; ENAMETOOLONG (refuse: cannot tell); -1 when the call will fail
 * by itself (bad dirfd, loop).
 */
static int
where(struct scratch *s, int dirfd, const char *path, bool follow, bool *unchecked)
{
	const char *base = NULL;
	*unchecked = false;
	size_t normal = ward_path_normal_length(path); /* the common case: nothing to fold */
	if (normal > 0 && normal < WARD_PATH_MAX) {
		memcpy(s->resolved, path, normal + 1);
		goto folded;
	}
	if (path[0] != '/') {
		if (!base_for(dirfd, s->base))
			return -1;
		base = s->base;
	}
	if (has_dotdot(path)) {
		int err = ward_path_resolve(base, path, follow, s->resolved, &s->path);
		return err == 0 ? 0 : err == ENAMETOOLONG ? ENAMETOOLONG : -1;
	}
	if (!ward_path_lexical(base, path, s->resolved))
		return ENAMETOOLONG;
folded:;
	char *slash = strrchr(s->resolved, '/');
	size_t dir_len = (size_t)(slash - s->resolved);
	if (dir_len > 0) {
		if (!ward_dircache_get(s->resolved, dir_len, s->dir)) {
			unsigned int generation = ward_dircache_generation();
			*slash = '\0';
			int err = ward_path_resolve(NULL, s->resolved, true, s->dir, &s->path);
			*slash = '/';
			if (err != 0)
				return err == ENAMETOOLONG ? ENAMETOOLONG : -1;
			ward_dircache_put(s->resolved, dir_len, s->dir, generation);
		}
		size_t real_len = strlen(s->dir), last_len = strlen(slash);
		if (real_len == 1)
			real_len = 0; /* the directory is the root itself */
		if (real_len + last_len >= WARD_PATH_MAX)
			return ENAMETOOLONG;
		memmove(s->resolved + real_len, slash, last_len + 1);
		memcpy(s->resolved, s->dir, real_len);
	}
	*unchecked = follow && s->resolved[1] != '\0';
	return 0;
}

/* ---- decisions ---- */

/* Decide every operation in ops on s->resolved; the first refusal is kept
 * in deny_op and deny (nothing is recorded yet: the caller may learn that the
 * path leads elsewhere). */
static bool
decide(struct scratch *s, unsigned int ops, unsigned int *deny_op, struct ward_decision *deny)
{
	struct ward_counter_slot *slot = ward_in_vfork ? NULL : ward_counters_slot();
	for (unsigned int op = 1; op <= ops; op <<= 1) {
		if (!(ops & op))
			continue;
		if (slot != NULL) {
			ward_counters_begin(slot);
			ward_counters_add(slot, WARD_IDX_DECISIONS, 1);
			ward_counters_end(slot);
		}
		struct ward_decision d = ward_matcher_decide(enforce.matcher, op, s->resolved);
		if ((op & (WARD_OP_WRITE | WARD_OP_CREATE | WARD_OP_REMOVE)) && enforce.image_path[0] != '\0' &&
		    strcmp(s->resolved, enforce.image_path) == 0)
			d = (struct ward_decision){ false, false, -2 }; /* the tree's own policy */
		if (!d.allow) {
			*deny_op = op;
			*deny = d;
			return false;
		}
	}
	return true;
}

/* The scratch set for a check, or NULL with *result saying why: 0, there
 * is nothing to check; EACCES, the check cannot be made (nested too deep,
 * no memory): refuse rather than let the call through unchecked. */
static struct scratch *
enter_check(struct ward_frame *f, unsigned int ops, const char *path, int *result)
{
	*result = 0;
	if (__builtin_expect(ops == 0, 1) || !f->active || path == NULL || path[0] == '\0')
		return NULL;
	struct scratch *s = depth < NESTING ? scratch_at(depth) : NULL;
	if (s == NULL)
		*result = EACCES;
	else
		depth++;
	return s;
}

/* The check of a path: 0 to go on, or the errno to fail with. */
static int
check(struct ward_frame *f, struct scratch *s, unsigned int ops, int dirfd, const char *path, bool follow)
{
	bool unchecked;
	int r = where(s, dirfd, path, follow, &unchecked);
	if (r != 0)
		return r == ENAMETOOLONG ? EACCES : 0;
	if (unchecked && last_is_link(s->resolved) && resolve_fully(s, true) != 0)
		return 0; /* a loop: the kernel refuses it */
	unsigned int op;
	struct ward_decision d;
	return decide(s, ops, &op, &d) ? 0 : violation(f, s, op, d);
}

int
ward_check_path(struct ward_frame *f, unsigned int ops, int dirfd, const char *path, bool follow)
{
	ops &= ward_restricted;
	if (__builtin_expect(ops == 0, 1))
		return 0;
	int result;
	struct scratch *s = enter_check(f, ops, path, &result);
	if (s == NULL)
		return result;
	result = check(f, s, ops, dirfd, path, follow);
	depth--;
	return result;
}

/* The call was made here, exactly on the path decided: the wrapper returns
 * result without calling libc. */
static void
complete(struct ward_frame *f, long result)
{
	f->done = true;
	f->result = result;
	f->done_errno = result < 0 ? errno : f->saved_errno;
}

/* Does the path name something now?  (O_CREAT: create or write.) */
static bool
exists(const char *path)
{
	struct stat st;
	return ward_syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static bool
exists_at(int dirfd, const char *path)
{
	struct stat st;
	return ward_syscall(SYS_newfstatat, dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static unsigned int
open_ops(int flags)
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
	if ((flags & O_CREAT) && (flags & O_EXCL))
		ops = (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
	return ops;
}

/* O_CREAT without O_EXCL writes an existing file and creates a missing one:
 * look only when the two would be decided differently. */
static unsigned int
creat_ops(struct scratch *s, unsigned int ops, int flags)
{
	if (!(flags & O_CREAT) || (flags & O_EXCL) || (flags & O_TMPFILE) == O_TMPFILE)
		return ops;
	bool write = ward_matcher_decide(enforce.matcher, WARD_OP_WRITE, s->resolved).allow;
	bool create = ward_matcher_decide(enforce.matcher, WARD_OP_CREATE, s->resolved).allow;
	if ((write && create) || exists(s->resolved)) /* a refusal must name the right op */
		return ops | WARD_OP_WRITE;
	return (ops & ~WARD_OP_WRITE) | WARD_OP_CREATE;
}

/*
 * open family.  When the path was decided without looking at its last
 * component, the open itself settles it: openat2 on the decided path with
 * RESOLVE_NO_SYMLINKS either opens exactly that file (done: no extra system
 * call at all) or says a symlink is in the way (then resolve fully, decide
 * again, and let libc open as asked).
 */
int
ward_check_open(struct ward_frame *f, int dirfd, const char *path, int flags, mode_t mode)
{
	unsigned int ops = open_ops(flags) | ((flags & O_CREAT) ? WARD_OP_CREATE | WARD_OP_WRITE : 0);
	if (__builtin_expect((ops & ward_restricted) == 0, 1))
		return 0;
	int result;
	struct scratch *s = enter_check(f, ops, path, &result);
	if (s == NULL)
		return result;
	bool follow = !(flags & O_NOFOLLOW) && (flags & (O_CREAT | O_EXCL)) != (O_CREAT | O_EXCL);
	bool unchecked;
	int r = where(s, dirfd, path, follow, &unchecked);
	if (r != 0) {
		result = r == ENAMETOOLONG ? EACCES : 0;
		goto out;
	}
	ops = creat_ops(s, open_ops(flags), flags) & ward_restricted;
	unsigned int op;
	struct ward_decision d;
	bool allowed = decide(s, ops, &op, &d);
	if (unchecked && allowed) {
		struct open_how how = { .flags = (uint64_t)flags & ~(uint64_t)O_LARGEFILE,
		                        .mode = __OPEN_NEEDS_MODE(flags) ? mode : 0,
		                        .resolve = RESOLVE_NO_SYMLINKS };
		long fd = ward_syscall(SYS_openat2, AT_FDCWD, s->resolved, &how, sizeof(how));
		if (fd >= 0 || (errno != ELOOP && errno != EINVAL && errno != E2BIG && errno != ENOSYS &&
		                errno != EPERM && errno != EXDEV)) {
			complete(f, fd);
			goto out;
		}
	}
	if (unchecked && last_is_link(s->resolved)) {
		if (resolve_fully(s, true) != 0)
			goto out;
		allowed = decide(s, creat_ops(s, open_ops(flags), flags) & ward_restricted, &op, &d);
	}
	if (!allowed)
		result = violation(f, s, op, d);
out:
	depth--;
	return result;
}

int
ward_check_fopen(struct ward_frame *f, const char *path, const char *mode)
{
	if (__builtin_expect(ward_restricted == 0, 1) || mode == NULL)
		return 0;
	int flags = strchr(mode, '+') ? O_RDWR : 0;
	if (mode[0] == 'w')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_TRUNC;
	else if (mode[0] == 'a')
		flags |= (flags ? 0 : O_WRONLY) | O_CREAT | O_APPEND;
	if (strchr(mode, 'x'))
		flags |= O_EXCL;
	/* libc opens the stream: decide, never complete */
	unsigned int ops = open_ops(flags) | ((flags & O_CREAT) ? WARD_OP_CREATE | WARD_OP_WRITE : 0);
	int result;
	struct scratch *s = enter_check(f, ops & ward_restricted, path, &result);
	if (s == NULL)
		return result;
	bool unchecked;
	int r = where(s, AT_FDCWD, path, !(flags & O_EXCL), &unchecked);
	if (r != 0) {
		result = r == ENAMETOOLONG ? EACCES : 0;
	} else {
		if (unchecked && last_is_link(s->resolved))
			r = resolve_fully(s, true);
		unsigned int op;
		struct ward_decision d;
		if (r == 0 && !decide(s, creat_ops(s, open_ops(flags), flags) & ward_restricted, &op, &d))
			result = violation(f, s, op, d);
	}
	depth--;
	return result;
}

/*
 * stat and fstatat without flags: the decided path is looked at with a
 * no-follow fstatat.  Anything but a symlink is the answer itself (copied to
 * the caller only when allowed); a symlink is resolved fully and libc asked.
 */
int
ward_check_stat(struct ward_frame *f, int dirfd, const char *path, int flags, void *buf)
{
	if (__builtin_expect((WARD_OP_STAT & ward_restricted) == 0, 1))
		return 0;
	if (flags & ~AT_SYMLINK_NOFOLLOW)
		return ward_check_path(f, WARD_OP_STAT, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW));
	int result;
	struct scratch *s = enter_check(f, WARD_OP_STAT, path, &result);
	if (s == NULL)
		return result;
	bool unchecked;
	unsigned int op;
	struct ward_decision d;
	int r = where(s, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &unchecked);
	if (r != 0) {
		result = r == ENAMETOOLONG ? EACCES : 0;
		goto out;
	}
	if (unchecked) {
		long rc = ward_syscall(SYS_newfstatat, AT_FDCWD, s->resolved, &s->found, AT_SYMLINK_NOFOLLOW);
		if (rc != 0 || !S_ISLNK(s->found.st_mode)) {
			if (!decide(s, WARD_OP_STAT, &op, &d)) {
				result = violation(f, s, op, d);
				goto out;
			}
			if (rc == 0)
				memcpy(buf, &s->found, sizeof(s->found));
			complete(f, rc);
			goto out;
		}
		if (resolve_fully(s, true) != 0)
			goto out;
	}
	if (!decide(s, WARD_OP_STAT, &op, &d))
		result = violation(f, s, op, d);
out:
	depth--;
	return result;
}

/* Calls on an open descriptor that change the file: decide on what the
 * descriptor is now. */
int
ward_check_fd(struct ward_frame *f, unsigned int ops, int fd)
{
	if (__builtin_expect((ops & ward_restricted) == 0, 1) || !f->active || depth >= NESTING)
		return 0;
	char link[32];
	struct scratch *s = scratch_at(depth);
	if (s == NULL)
		return EACCES;
	char *target = s->base;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	long n = ward_syscall(SYS_readlinkat, AT_FDCWD, link, target, WARD_PATH_MAX - 1);
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
	if (__builtin_expect(ward_restricted == 0, 1) || !f->active)
		return 0;
	unsigned int both = WARD_OP_REMOVE | WARD_OP_CREATE;
	bool exchange = flags & RENAME_EXCHANGE;
	int r = ward_check_path(f, exchange ? both : WARD_OP_REMOVE, olddirfd, old, false);
	if (r == 0)
		r = ward_check_path(f, exchange || exists_at(newdirfd, new) ? both : WARD_OP_CREATE, newdirfd, new, false);
	return r;
}

/* link: a new name for an existing file must not expose one the policy
 * protects, so the old file needs read and write too. */
int
ward_check_link(struct ward_frame *f, int olddirfd, const char *old, int newdirfd, const char *new, int flags)
{
	if (__builtin_expect(ward_restricted == 0, 1) || !f->active)
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

/* A PATH_MAX buffer of this thread's, off the stack (programs exec from
 * small clone stacks) and out of static TLS: for exec's PATH search. */
char *
ward_thread_path_buffer(void)
{
	struct scratch *s = scratch_at(NESTING - 1);
	return s != NULL ? s->dir : NULL;
}
