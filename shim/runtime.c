/*
 * runtime.c: the shim's life in a process.
 *
 * - Start-up (constructor): read WARD_* once (programs may clear their
 *   environment later), load the policy, learn fds 0-2, join the tree.
 * - The dump: once per process image, at exit (destructor), at _exit/_Exit,
 *   and just before an exec that is expected to succeed.
 * - The stats descriptor guard: with WARD_STATS=stderr or fd:N the dump goes
 *   to a descriptor the program may close before the dump (dd closes stderr
 *   in an atexit handler).  The moment the program closes or replaces it, the
 *   shim keeps a private duplicate (close-on-exec, high number) and writes the
 *   dump there; the program cannot close that one by accident.
 * - Fork: the child's figures start from zero.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "../core/children.h"
#include "../core/fdtable.h"
#include "../core/stats.h"
#include "../core/tree.h"

__thread int ward_busy __attribute__((tls_model("initial-exec")));
__thread int ward_in_vfork __attribute__((tls_model("initial-exec")));
void *ward_real_fn[WARD_NCALLS];

enum dest_kind { DEST_NONE, DEST_FD, DEST_FILE, DEST_DIR };

static struct {
	enum dest_kind kind;
	enum ward_stats_format format;
	int fd;                  /* DEST_FD: the descriptor named (2 for stderr) */
	char path[PATH_MAX];     /* DEST_FILE template or DEST_DIR folder */
} config;

/* A descriptor the shim writes to that belongs to the program (stderr for
 * the dump or violation records, fd:N): what it was at start-up, and the
 * private duplicate taken when the program closes or replaces it. */
struct guard {
	int fd;          /* -1: unused */
	int private_fd;  /* -1 until rescued */
	bool known;      /* it was open at start-up */
	dev_t dev;
	ino_t ino;
};
static struct guard guards[2] = { { -1, -1, false, 0, 0 }, { -1, -1, false, 0, 0 } };

static char exe_name[256] = "?";
static struct ward_tree *tree;            /* the launcher's shared figures (WARD_TREE) */
static struct ward_tree_record *record;   /* this image's record in it */
static pid_t ward_pid;
static int dumped;           /* this image's figures are out */

static int guard_output(int fd);

static void
say(const char *a, const char *b, const char *c)
{
	char line[PATH_MAX + 512];
	int n = snprintf(line, sizeof(line), "ward: %s%s%s\n", a, b ? b : "", c ? c : "");
	int fd = guard_output(2);
	if (n > 0)
		ward_syscall(SYS_write, fd >= 0 ? fd : 2, (long)line, n < (int)sizeof(line) ? n : (int)sizeof(line) - 1, 0);
}

void
ward_say(const char *message)
{
	say(message, NULL, NULL);
}

const char *
ward_exe_name(void)
{
	return exe_name;
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

/* A bad WARD_* value: say so and stop before main.  Never run half-set-up. */
__attribute__((noreturn)) static void
config_error(const char *variable, const char *value, const char *why)
{
	char line[PATH_MAX + 128];
	snprintf(line, sizeof(line), "%s=%s: %s", variable, value, why);
	say(line, NULL, NULL);
	ward_syscall(SYS_exit_group, 125);
	__builtin_unreachable();
}

/* First use of a real function.  Not marked busy: a signal handler that
 * runs during the lookup makes calls of the program's that must be counted
 * (dlsym itself calls none of the wrapped functions; the loader's lock is
 * recursive if the handler needs a lookup too). */
void *
ward_real_resolve(enum ward_call_id id)
{
	void *fn = dlsym(RTLD_NEXT, ward_call_names[id]);
	if (fn == NULL) {
		say("no next definition of ", ward_call_names[id], " to call");
		ward_syscall(SYS_exit_group, 127);
	}
	__atomic_store_n(&ward_real_fn[id], fn, __ATOMIC_RELEASE);
	return fn;
}

/* ---- configuration ---- */

static void
parse_stats(const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	if (strcmp(value, "stderr") == 0) {
		config.kind = DEST_FD;
		config.fd = 2;
	} else if (strncmp(value, "fd:", 3) == 0) {
		char *end;
		long fd = strtol(value + 3, &end, 10);
		if (value[3] == '\0' || *end != '\0' || fd < 0 || fd > INT_MAX)
			config_error("WARD_STATS", value, "expected fd:N with N a descriptor number");
		config.kind = DEST_FD;
		config.fd = (int)fd;
	} else {
		size_t len = strlen(value);
		config.kind = value[len - 1] == '/' ? DEST_DIR : DEST_FILE;
		for (const char *p = value; *p; p++) {
			if (*p == '%' && p[1] != 'p' && p[1] != 'e' && p[1] != '%')
				config_error("WARD_STATS", value, "only %p (pid), %e (program) and %% may follow %");
			if (*p == '%')
				p++;
		}
		if (!ward_absolute(value, config.path, sizeof(config.path)))
			config_error("WARD_STATS", value, "path too long or no working directory");
	}
	config.format = config.kind == DEST_FD ? WARD_FORMAT_TEXT : WARD_FORMAT_JSON;
}

static void
parse_format(const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	int format = ward_stats_parse_format(value);
	if (format < 0)
		config_error("WARD_STATS_FORMAT", value, "expected text, json or prom");
	config.format = (enum ward_stats_format)format;
}

static void
watch(int fd)
{
	struct stat st;
	for (int i = 0; i < 2; i++) {
		if (guards[i].fd == fd)
			return;
		if (guards[i].fd < 0) {
			guards[i].fd = fd;
			guards[i].known = ward_syscall(SYS_fstat, fd, (long)&st, 0, 0) == 0;
			guards[i].dev = st.st_dev;
			guards[i].ino = st.st_ino;
			return;
		}
	}
}

static void
set_exe_name(int argc, char **argv)
{
	const char *name = NULL;
	if (argc > 0 && argv != NULL && argv[0] != NULL) {
		const char *slash = strrchr(argv[0], '/');
		name = slash ? slash + 1 : argv[0];
	}
	if (name != NULL && name[0] != '\0') {
		snprintf(exe_name, sizeof(exe_name), "%s", name);
		return;
	}
	int fd = (int)ward_syscall(SYS_open, (long)"/proc/self/comm", O_RDONLY | O_CLOEXEC, 0, 0);
	if (fd >= 0) {
		long n = ward_syscall(SYS_read, fd, (long)exe_name, sizeof(exe_name) - 1, 0);
		exe_name[n > 0 ? n - 1 : 0] = '\0'; /* drop the newline */
		ward_syscall(SYS_close, fd, 0, 0, 0);
	}
}

/* Take a record of the tree for this process image and count there.  The
 * figures so far come along at start-up (our own memory), not after a fork
 * or a failed exec (the old record is someone else's, or finished). */
static void
tree_join(bool move_figures)
{
	if (tree == NULL)
		return;
	record = ward_tree_claim(tree, (pid_t)ward_syscall(SYS_getpid, 0, 0, 0, 0),
	                         (pid_t)ward_syscall(SYS_getppid, 0, 0, 0, 0), exe_name);
	if (record != NULL)
		ward_counters_place(record->slot, WARD_TREE_SLOTS, move_figures);
}

static void
tree_leave(uint32_t state)
{
	if (record != NULL)
		__atomic_store_n(&record->state, state, __ATOMIC_RELEASE);
}

static void
after_fork_child(void)
{
	ward_pid = (pid_t)ward_syscall(SYS_getpid, 0, 0, 0, 0);
	tree_join(false);
	ward_alloc_figures_reset();
	ward_counters_reset();
	ward_children_reset();
	ward_spawn_after_fork_child();
	ward_enforce_after_fork_child();
	ward_fdtable_reset_figures();
	dumped = 0;
}

__attribute__((constructor)) static void
ward_start(int argc, char **argv, char **envp)
{
	ward_busy++;
	ward_exec_init(envp);
	/* Real functions are looked up on first use (WARD_REAL): a process calls
	 * a few dozen of the table's functions, and looking all of them up here
	 * cost more than the rest of start-up together. */
	ward_pid = (pid_t)ward_syscall(SYS_getpid, 0, 0, 0, 0);
	set_exe_name(argc, argv);
	ward_enforce_init();
	const char *stats = getenv("WARD_STATS");
	parse_stats(stats != NULL && stats[0] != '\0' ? stats : ward_enforce_default_stats());
	parse_format(getenv("WARD_STATS_FORMAT"));
	if (config.kind == DEST_FD)
		watch(config.fd);
	if (ward_enforce_logs_to_stderr())
		watch(2);
	const char *tree_path = getenv("WARD_TREE");
	if (tree_path != NULL && tree_path[0] != '\0' && (tree = ward_tree_attach(tree_path)) != NULL)
		tree_join(true);
	for (int fd = 0; fd <= 2; fd++) {
		long flags = ward_syscall(SYS_fcntl, fd, F_GETFL, 0, 0);
		if (flags >= 0)
			ward_fdtable_set(fd, WARD_FD_INHERITED, (int)flags, "");
	}
	pthread_atfork(NULL, NULL, after_fork_child);
	ward_alloc_init();
	ward_alloc_name(); /* chosen by now, even if nothing was allocated yet */
	if (ward_alloc_bad_choice() != NULL)
		say("WARD_MALLOC=", ward_alloc_bad_choice(), ": unknown allocator (jemalloc or libc); using jemalloc");
	ward_busy--;
}

__attribute__((destructor)) static void
ward_stop(void)
{
	if (!ward_in_foreign_child()) { /* a vfork child that called exit() */
		ward_dump("exit");
		tree_leave(WARD_TREE_EXITED);
	}
}

/* ---- processes ---- */

bool
ward_in_foreign_child(void)
{
	return ward_in_vfork != 0 || (ward_pid != 0 && ward_syscall(SYS_getpid, 0, 0, 0, 0) != ward_pid);
}

void
ward_after_fork_child(void)
{
	after_fork_child();
}

static bool
executable(const char *path)
{
	struct stat st;
	return ward_syscall(SYS_faccessat, AT_FDCWD, (long)path, X_OK, 0) == 0 &&
	       ward_syscall(SYS_newfstatat, AT_FDCWD, (long)path, (long)&st, 0) == 0 && !S_ISDIR(st.st_mode);
}

/* Is this an image exec can start: an ELF file or a #! script?  (Other
 * files fail with ENOEXEC, except through execvp, whose fallback runs them
 * with /bin/sh.)  An unreadable file gets the benefit of the doubt. */
static bool
startable(const char *path)
{
	char head[4];
	long fd = ward_syscall(SYS_open, (long)path, O_RDONLY | O_CLOEXEC, 0, 0);
	if (fd < 0)
		return true;
	long n = ward_syscall(SYS_read, fd, (long)head, sizeof(head), 0);
	ward_syscall(SYS_close, fd, 0, 0, 0);
	return (n >= 2 && head[0] == '#' && head[1] == '!') || (n == 4 && memcmp(head, "\177ELF", 4) == 0);
}

/* Would exec find this file and start it?  Exec checks the same things;
 * this keeps an exec that fails from having dumped figures the image goes
 * on adding to. */
static bool
exec_will_work(const char *file, bool search_path)
{
	char *candidate = ward_thread_path_buffer();
	if (file == NULL || candidate == NULL)
		return true;
	if (!search_path)
		return executable(file) && startable(file);
	if (strchr(file, '/') != NULL)
		return executable(file);
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (const char *dir = path;; dir++) {
		const char *end = strchrnul(dir, ':');
		size_t n = (size_t)(end - dir);
		if (n == 0)
			n = 1, dir = ".";
		if (n + strlen(file) + 2 <= PATH_MAX) {
			memcpy(candidate, dir, n);
			candidate[n] = '/';
			strcpy(candidate + n + 1, file);
			if (executable(candidate))
				return true;
		}
		if (*end == '\0')
			return false;
		dir = end;
	}
}

bool
ward_before_exec(const char *file, bool search_path)
{
	if (!exec_will_work(file, search_path))
		return false;
	ward_dump("exec");
	tree_leave(WARD_TREE_EXECED); /* the record keeps this image's figures */
	return true;
}

void
ward_image_ends(const char *reason)
{
	ward_dump(reason);
	tree_leave(WARD_TREE_EXITED);
}

void
ward_exec_failed(enum ward_call_id id, bool dumped_before)
{
	if (dumped_before) { /* the image goes on: new figures (and record) */
		tree_join(false);
		ward_alloc_figures_reset();
		ward_counters_reset();
		__atomic_store_n(&dumped, 0, __ATOMIC_RELEASE);
	}
	/* The call itself was counted before the dump; the new figures get
	 * its failure, so merged figures count it once. */
	struct ward_counter_slot *slot = ward_counters_slot();
	ward_counters_begin(slot);
	ward_counters_add(slot, WARD_IDX_ERRORS(id), 1);
	ward_counters_end(slot);
}

/* ---- the descriptor guard ---- */

static void
rescue(struct guard *g)
{
	if (g->private_fd >= 0 || !g->known)
		return;
	struct rlimit lim;
	long low = 3;
	if (ward_syscall(SYS_getrlimit, RLIMIT_NOFILE, (long)&lim, 0, 0) == 0 && lim.rlim_cur > 64)
		low = (long)(lim.rlim_cur - 32);
	long fd = ward_syscall(SYS_fcntl, g->fd, F_DUPFD_CLOEXEC, low, 0);
	if (fd < 0)
		fd = ward_syscall(SYS_fcntl, g->fd, F_DUPFD_CLOEXEC, 3, 0);
	g->private_fd = (int)fd;
}

void
ward_guard_before_close(int fd)
{
	for (int i = 0; i < 2; i++)
		if (guards[i].fd >= 0 && guards[i].fd == fd)
			rescue(&guards[i]);
}

void
ward_guard_before_close_range(unsigned int first, unsigned int last)
{
	for (int i = 0; i < 2; i++)
		if (guards[i].fd >= 0 && (unsigned int)guards[i].fd >= first && (unsigned int)guards[i].fd <= last)
			rescue(&guards[i]);
}

void
ward_guard_before_replace(int newfd)
{
	ward_guard_before_close(newfd);
	for (int i = 0; i < 2; i++) {
		struct guard *g = &guards[i];
		if (newfd >= 0 && newfd == g->private_fd) { /* move out of the program's way */
			long moved = ward_syscall(SYS_fcntl, g->private_fd, F_DUPFD_CLOEXEC, 3, 0);
			ward_syscall(SYS_close, g->private_fd, 0, 0, 0);
			g->private_fd = (int)moved;
		}
	}
}

bool
ward_guard_is_private(int fd)
{
	return fd >= 0 && (fd == guards[0].private_fd || fd == guards[1].private_fd);
}

int
ward_guard_private_fds(int out[2])
{
	int n = 0;
	for (int i = 0; i < 2; i++)
		if (guards[i].private_fd >= 0)
			out[n++] = guards[i].private_fd;
	if (n == 2 && out[0] > out[1]) {
		int t = out[0];
		out[0] = out[1];
		out[1] = t;
	}
	return n;
}

/* Where to write for the program's descriptor fd: the private copy once
 * rescued, else fd itself while it is still what it was at start-up;
 * -1 when neither (never write the shim's lines into the program's files). */
static int
guard_output(int fd)
{
	struct stat st;
	for (int i = 0; i < 2; i++) {
		struct guard *g = &guards[i];
		if (g->fd != fd)
			continue;
		if (g->private_fd >= 0)
			return g->private_fd;
		if (!g->known || ward_syscall(SYS_fstat, fd, (long)&st, 0, 0) != 0 || st.st_dev != g->dev ||
		    st.st_ino != g->ino)
			return -1;
		return fd;
	}
	return fd;
}

/* ---- the dump ---- */

static void
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		long n = ward_syscall(SYS_write, fd, (long)buf, (long)len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* One record, one write: to stderr (guarded) when path is NULL, else
 * appended to the file. */
void
ward_write_log(const char *buf, size_t len, const char *path)
{
	if (path == NULL) {
		int fd = guard_output(2);
		if (fd >= 0)
			write_all(fd, buf, len);
		return;
	}
	long fd = ward_syscall(SYS_open, (long)path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644, 0);
	if (fd < 0)
		return;
	write_all((int)fd, buf, len);
	ward_syscall(SYS_close, fd, 0, 0, 0);
}

static void
append_number(char *out, size_t cap, long n)
{
	size_t len = strlen(out);
	snprintf(out + len, cap > len ? cap - len : 0, "%ld", n);
}

/* Expand %p, %e, %% of a WARD_STATS file name. */
static void
expand_path(char *out, size_t cap, pid_t pid)
{
	size_t len = 0;
	out[0] = '\0';
	for (const char *p = config.path; *p && len + 1 < cap; p++) {
		if (*p == '%' && (p[1] == 'p' || p[1] == 'e')) {
			if (p[1] == 'p')
				append_number(out, cap, pid);
			else
				strncat(out, exe_name, cap - len - 1);
			len = strlen(out);
			p++;
			continue;
		}
		if (*p == '%' && p[1] == '%')
			p++;
		out[len++] = *p;
		out[len] = '\0';
	}
}

static void
write_to_file(const char *buf, size_t len, pid_t pid)
{
	static char path[PATH_MAX + 300];
	if (config.kind == DEST_DIR) {
		ward_syscall(SYS_mkdir, (long)config.path, 0755, 0, 0);
		snprintf(path, sizeof(path), "%s%s.%ld.%s", config.path, exe_name, (long)pid,
		         ward_stats_format_ext(config.format));
	} else {
		expand_path(path, sizeof(path), pid);
	}
	long fd = ward_syscall(SYS_open, (long)path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644, 0);
	if (fd < 0) {
		say("cannot write stats to ", path, ": open failed");
		return;
	}
	write_all((int)fd, buf, len);
	ward_syscall(SYS_close, fd, 0, 0, 0);
}

void
ward_dump(const char *reason)
{
	static struct ward_stats_call calls[WARD_NCALLS];
	static uint64_t value[WARD_COUNTERS_MAX];
	static char text[256 * 1024];

	if (config.kind == DEST_NONE || __atomic_exchange_n(&dumped, 1, __ATOMIC_ACQ_REL))
		return;
	int saved_errno = errno;
	ward_busy++;
	pid_t pid = (pid_t)ward_syscall(SYS_getpid, 0, 0, 0, 0);
	ward_counters_snapshot(value);
	for (int id = 0; id < WARD_NCALLS; id++) {
		calls[id].name = ward_call_names[id];
		calls[id].calls = value[WARD_IDX_CALLS(id)];
		calls[id].errors = value[WARD_IDX_ERRORS(id)];
		calls[id].denied = value[WARD_IDX_DENIED(id)];
	}
	struct ward_stats stats = {
		.pid = pid,
		.exe = exe_name,
		.reason = reason,
		.call = calls,
		.ncalls = WARD_NCALLS,
		.files_opened = value[WARD_IDX_FILES_OPENED],
		.files_closed = value[WARD_IDX_FILES_CLOSED],
		.files_open_now = ward_fdtable_open_now(),
		.files_open_peak = ward_fdtable_open_peak(),
		.bytes_read = value[WARD_IDX_BYTES_READ],
		.bytes_written = value[WARD_IDX_BYTES_WRITTEN],
		.policy = ward_enforce_active(),
		.rules = ward_enforce_rules(),
		.decisions = value[WARD_IDX_DECISIONS],
		.denied = value[WARD_IDX_POLICY_DENIED],
		.audited = value[WARD_IDX_AUDITED],
		.forks = value[WARD_IDX_FORKS],
		.execs = value[WARD_IDX_EXECS],
		.spawns = value[WARD_IDX_SPAWNS],
		.children_now = ward_children_live(),
		.children_peak = ward_children_peak(),
		.allocator = ward_alloc_name(),
		.allocations = value[WARD_IDX_ALLOCATIONS],
		.frees = value[WARD_IDX_FREES],
		.heap_allocated = value[WARD_IDX_HEAP_ALLOCATED],
		.heap_freed = value[WARD_IDX_HEAP_FREED],
		.heap_live = ward_alloc_live(value),
		.heap_peak = ward_alloc_peak(value),
		.mmaps = value[WARD_IDX_CALLS(WARD_ID_mmap)] + value[WARD_IDX_CALLS(WARD_ID_mmap64)],
		.munmaps = value[WARD_IDX_CALLS(WARD_ID_munmap)],
		.mprotects = value[WARD_IDX_CALLS(WARD_ID_mprotect)] + value[WARD_IDX_CALLS(WARD_ID_pkey_mprotect)],
	};
	size_t len = ward_stats_render(&stats, config.format, text, sizeof(text));
	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	if (config.kind == DEST_FD) {
		int fd = guard_output(config.fd);
		if (fd >= 0)
			write_all(fd, text, len);
		else if (config.fd != 2)
			say("stats not written: the WARD_STATS descriptor is closed or no longer the one open at start-up (",
			    exe_name, ")");
	} else {
		write_to_file(text, len, pid);
	}
	ward_busy--;
	errno = saved_errno;
}
