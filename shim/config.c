/*
 * config.c: what the process was told, read once at start-up.
 *
 * WARD_POLICY (or the tree's compiled image, WARD_POLICY_IMAGE), WARD_MODE,
 * WARD_LOG, WARD_RECORDS, WARD_BACKTRACE, WARD_STATS, WARD_STATS_FORMAT and
 * the program's name.  Everything lands in ward_config, which the other
 * modules only read.  A bad value stops the process with status 125 before
 * main: it never runs half set up, and never unconfined because a policy
 * failed to load.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

#include "shim.h"
#include "../policy/match.h"

struct ward_config ward_config = { .stats_fd = -1, .image_fd = -1, .exe = "?", .records_path = "", .image_path = "",
	                           .log_path = "", .stats_path = "" };
/* Everything is restricted until the shim has started: the first checked
 * call, if it comes before the constructor, starts it (lifecycle.c). */
unsigned int ward_restricted = ~0u;

__attribute__((noreturn)) static void
stop(const char *message)
{
	ward_say(message);
	ward_syscall(SYS_exit_group, 125);
	__builtin_unreachable();
}

/* A bad WARD_* value: say so and stop.  The line lives in static memory:
 * start-up runs on whatever stack the program has. */
__attribute__((noreturn)) static void
config_error(const char *variable, const char *value, const char *why)
{
	static char line[PATH_MAX + 256];
	snprintf(line, sizeof(line), "%s=%.*s: %s", variable, PATH_MAX, value, why);
	stop(line);
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
		ward_copy_text(ward_config.exe, sizeof(ward_config.exe), name);
		return;
	}
	/* Started by a call before the constructor (no argv): the kernel's copy
	 * of argv[0], the first string of /proc/self/cmdline (read here rather
	 * than libc's program_invocation_name, a reference that would cost
	 * every process a symbol lookup at load time); else the comm name. */
	char *exe = ward_config.exe;
	size_t cap = sizeof(ward_config.exe);
	int fd = argv == NULL ? (int)ward_syscall(SYS_open, "/proc/self/cmdline", O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		long n = ward_syscall(SYS_read, fd, exe, cap - 1);
		ward_syscall(SYS_close, fd);
		exe[n > 0 ? n : 0] = '\0';
		const char *slash = strrchr(exe, '/');
		if (slash != NULL)
			memmove(exe, slash + 1, strlen(slash + 1) + 1);
		if (exe[0] != '\0')
			return;
	}
	fd = (int)ward_syscall(SYS_open, "/proc/self/comm", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		long n = ward_syscall(SYS_read, fd, exe, cap - 1);
		exe[n > 0 ? n - 1 : 0] = '\0'; /* drop the newline */
		ward_syscall(SYS_close, fd);
	}
}

/* ---- the policy ---- */

/* $HOME, $TMPDIR...: as the process was started, not as a constructor
 * that ran before the shim's may have set them. */
static const char *
policy_variable(const char *name, void *context)
{
	(void)context;
	return ward_env(name);
}

/* ---- the tree's compiled image when preloaded directly ----
 *
 * Without a launcher, the first process of the tree (the one that got
 * WARD_POLICY and no WARD_POLICY_IMAGE) compiles the policy and hands the
 * image to its descendants as `ward run` does, so that a child that drops
 * its privileges (setuid to nobody) still gets the policy although it may
 * not read the file.  The image is a memfd sealed against any write,
 * inherited by every exec at a high descriptor number that the program
 * cannot close, and named WARD_POLICY_IMAGE=/proc/self/fd/N: every process
 * opens its own inherited copy.  No file is left behind: the image goes
 * with the last process holding it.  A process whose descriptor N is not
 * such a sealed image (a raw close, a program that closed every
 * descriptor) parses the text instead: never unconfined.
 */
#define IMAGE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool
image_fd_named(const char *image, int *fd)
{
	static const char prefix[] = "/proc/self/fd/";
	if (strncmp(image, prefix, sizeof(prefix) - 1) != 0)
		return false;
	char *end;
	long n = strtol(image + sizeof(prefix) - 1, &end, 10);
	if (*end != '\0' || n < 0 || n > INT_MAX)
		return false;
	*fd = (int)n;
	return true;
}

/* A high number out of the program's way (below the usual 1024 limit). */
static int
high_fd(int fd)
{
	struct rlimit lim;
	long low = 3;
	if (ward_syscall(SYS_getrlimit, RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur > 64)
		low = (long)(lim.rlim_cur < 1024 ? lim.rlim_cur : 1024) - 40;
	long moved = ward_syscall(SYS_fcntl, fd, F_DUPFD, low);
	if (moved < 0)
		return fd;
	ward_syscall(SYS_close, fd);
	return (int)moved;
}

static void
image_fd_set(int fd)
{
	static char name[WARD_PROCFD_NAME_MAX];
	ward_config.image_fd = fd;
	ward_output_own(fd, true);
	ward_exec_keep("WARD_POLICY_IMAGE", ward_procfd_name(name, fd));
}

static void
share_image(const char *source)
{
	long fd = ward_syscall(SYS_memfd_create, "ward-policy", MFD_ALLOW_SEALING);
	if (fd < 0)
		return; /* descendants parse the text, as before */
	if (ward_matcher_write_image_fd(ward_config.matcher, source, (int)fd) != 0 ||
	    ward_syscall(SYS_fcntl, fd, F_ADD_SEALS, IMAGE_SEALS) != 0) {
		ward_syscall(SYS_close, fd);
		return;
	}
	image_fd_set(high_fd((int)fd));
}

void
ward_config_image_fd_wanted(int fd)
{
	if (ward_config.image_fd < 0 || fd != ward_config.image_fd)
		return;
	long moved = ward_syscall(SYS_fcntl, fd, F_DUPFD, 3);
	ward_output_own(fd, false);
	if (moved < 0) {
		ward_config.image_fd = -1;
		return;
	}
	image_fd_set((int)moved); /* the program's dup2 then replaces the old number */
}

static void
load_policy(const char *file)
{
	if (file[0] == '\0')
		stop("WARD_POLICY is set but empty; not running unconfined");
	const char *image = ward_env("WARD_POLICY_IMAGE");
	if (image != NULL && image[0] != '\0') { /* compiled once for the tree */
		int fd = -1;
		bool inherited = image_fd_named(image, &fd);
		if (!inherited || ward_syscall(SYS_fcntl, fd, F_GET_SEALS) == IMAGE_SEALS) {
			/* in place: nothing allocated (no allocator set up for it), nothing copied */
			static struct ward_image_storage storage;
			ward_config.matcher = ward_matcher_map_image(image, file, &storage, &ward_config.policy);
			if (ward_config.matcher != NULL && inherited)
				image_fd_set(fd);
			else if (ward_config.matcher != NULL)
				ward_config.image_path = image; /* the kept environment's text: never changed */
		}
	}
	if (ward_config.matcher == NULL) {
		struct ward_policy_error error;
		struct ward_policy_env tree = { .lookup = policy_variable, .cwd = ward_env("WARD_CWD") };
		ward_config.policy = ward_policy_load(file, &tree, &error);
		if (ward_config.policy == NULL) {
			static char line[PATH_MAX + 400];
			snprintf(line, sizeof(line), "%s:%d:%d: error: %s", error.file, error.line, error.col, error.message);
			stop(line);
		}
		ward_config.matcher = ward_matcher_build(ward_config.policy);
		if (ward_config.matcher == NULL)
			stop("out of memory compiling the policy; not running unconfined");
		if (image == NULL || image[0] == '\0')
			share_image(file); /* the first process of a tree preloaded directly */
	}
	ward_restricted = WARD_OP_ALL & ~ward_policy_unrestricted_ops(ward_config.policy);
	ward_config.mode = ward_config.policy->mode;
}

static void
parse_mode(void)
{
	const char *mode = ward_env("WARD_MODE");
	if (mode == NULL || mode[0] == '\0')
		return;
	if (strcmp(mode, "enforce") == 0)
		ward_config.mode = WARD_MODE_ENFORCE;
	else if (strcmp(mode, "audit") == 0)
		ward_config.mode = WARD_MODE_AUDIT;
	else
		config_error("WARD_MODE", mode, "expected enforce or audit");
}

/* A destination's absolute name: the value itself when it is absolute
 * (ward_env's text and the policy's stay as they are for the process's
 * life: nothing is copied, no page written), else made absolute in buf.
 * NULL: too long, or no working directory. */
static const char *
absolute_name(const char *value, char *buf, size_t cap)
{
	if (value[0] == '/')
		return strlen(value) < cap ? value : NULL;
	return ward_absolute(value, buf, cap) ? buf : NULL;
}

static void
parse_log(const char *value)
{
	if (value == NULL || value[0] == '\0' || strcmp(value, "stderr") == 0)
		return;
	static char log_name[PATH_MAX];
	ward_config.log_to_file = true;
	if ((ward_config.log_path = absolute_name(value, log_name, sizeof(log_name))) == NULL)
		config_error("WARD_LOG", value, "path too long or no working directory");
}

static void
parse_records(const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	static char records_name[PATH_MAX];
	if ((ward_config.records_path = absolute_name(value, records_name, sizeof(records_name))) == NULL)
		config_error("WARD_RECORDS", value, "path too long or no working directory");
}

static void
parse_backtrace(void)
{
	const char *env = ward_env("WARD_BACKTRACE");
	ward_config.backtrace = ward_config.policy->backtrace == 1;
	if (env == NULL || env[0] == '\0')
		return;
	if (strcmp(env, "1") != 0 && strcmp(env, "0") != 0)
		config_error("WARD_BACKTRACE", env, "expected 1 or 0");
	ward_config.backtrace = env[0] == '1';
}

/* ---- the stats destination ---- */

static void
parse_stats(const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	if (strcmp(value, "stderr") == 0) {
		ward_config.stats_kind = WARD_DEST_FD;
		ward_config.stats_fd = 2;
	} else if (strncmp(value, "fd:", 3) == 0) {
		char *end;
		long fd = strtol(value + 3, &end, 10);
		if (value[3] == '\0' || *end != '\0' || fd < 0 || fd > INT_MAX)
			config_error("WARD_STATS", value, "expected fd:N with N a descriptor number");
		ward_config.stats_kind = WARD_DEST_FD;
		ward_config.stats_fd = (int)fd;
	} else {
		size_t len = strlen(value);
		ward_config.stats_kind = value[len - 1] == '/' ? WARD_DEST_DIR : WARD_DEST_FILE;
		for (const char *p = value; *p; p++) {
			if (*p == '%' && p[1] != 'p' && p[1] != 'e' && p[1] != '%')
				config_error("WARD_STATS", value, "only %p (pid), %e (program) and %% may follow %");
			if (*p == '%')
				p++;
		}
		static char stats_name[PATH_MAX];
		if ((ward_config.stats_path = absolute_name(value, stats_name, sizeof(stats_name))) == NULL)
			config_error("WARD_STATS", value, "path too long or no working directory");
	}
	ward_config.stats_format = ward_config.stats_kind == WARD_DEST_FD ? WARD_FORMAT_TEXT : WARD_FORMAT_JSON;
}

static void
parse_format(const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	int format = ward_stats_parse_format(value);
	if (format < 0)
		config_error("WARD_STATS_FORMAT", value, "expected text, json or prom");
	ward_config.stats_format = (enum ward_stats_format)format;
}

/* ---- destinations that cannot work: said at start-up, never a hang ----
 *
 * A FIFO is opened without blocking: with no reader the program is told
 * (it runs; nothing is written there unless a reader comes), with one the
 * descriptor is kept (the reader does not see the end of the stream
 * before the dump).  A directory, or a file whose directory is missing, is
 * a message.  Only the tree's first process speaks (its descendants would
 * repeat it); every process keeps a FIFO open. */
static void
probe(const char *variable, const char *path, bool first)
{
	struct stat st;
	if (ward_syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0) {
		if (S_ISFIFO(st.st_mode)) {
			long fd = ward_syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if (fd >= 0) {
				long high = ward_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 100);
				if (high >= 0) {
					ward_syscall(SYS_close, fd);
					fd = high;
				}
				ward_output_own((int)fd, true);
			} else if (first) {
				ward_say3(variable, path, ": a FIFO with no reader; nothing is written there unless one opens it");
			}
		} else if (S_ISDIR(st.st_mode) && first) {
			ward_say3(variable, path, ": is a directory; nothing can be written there");
		}
		return;
	}
	static char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (slash == NULL || !first)
		return;
	*slash = '\0';
	if (ward_syscall(SYS_newfstatat, AT_FDCWD, parent[0] ? parent : "/", &st, 0) != 0 || !S_ISDIR(st.st_mode))
		ward_say3(variable, path, ": its directory does not exist; nothing can be written there");
}

static void
probe_destinations(void)
{
	bool first = ward_exec_first_process();
	if (ward_config.log_to_file)
		probe("WARD_LOG=", ward_config.log_path, first);
	if (ward_config.stats_kind == WARD_DEST_FILE && strchr(ward_config.stats_path, '%') == NULL)
		probe("WARD_STATS=", ward_config.stats_path, first);
}

/* ward_env (the environment the process started with), with "" and unset
 * alike NULL. */
static const char *
env(const char *name)
{
	const char *v = ward_env(name);
	return v != NULL && v[0] != '\0' ? v : NULL;
}

void
ward_config_init(int argc, char **argv)
{
	ward_config.pid = (pid_t)ward_syscall(SYS_getpid);
	/* ward_restricted stays ~0 (everything restricted) until the policy is
	 * loaded: another thread's call in the meantime (one started by an
	 * earlier constructor) takes the checked path and waits for the start
	 * in ward_ready(); the starting thread's own calls are not decided. */
	set_exe_name(argc, argv);
	const char *policy = ward_env("WARD_POLICY");
	if (policy != NULL && ward_exec_audit_library())
		stop("LD_AUDIT is set: an audit library runs before ward and can unload it; not running confined "
		     "(unset LD_AUDIT)");
	if (policy != NULL) {
		load_policy(policy);
		parse_mode();
		parse_log(env("WARD_LOG") ? env("WARD_LOG") : ward_config.policy->log);
		parse_records(env("WARD_RECORDS"));
		parse_backtrace();
	} else {
		ward_restricted = 0;
	}
	const char *stats = env("WARD_STATS");
	parse_stats(stats != NULL ? stats : policy != NULL ? ward_config.policy->stats : NULL);
	parse_format(env("WARD_STATS_FORMAT"));
	probe_destinations();
}
