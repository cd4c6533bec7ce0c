/*
 * scratch.c: the names and the lifetime of the launcher's private files
 * (scratch.h): the tree's shared figures, the compiled policy and the
 * records directory, in /dev/shm (else $TMPDIR, /tmp).
 *
 * The launcher removes them when it ends (launch_cleanup), but a launcher
 * killed with SIGKILL runs no code.  So two things more:
 * - a janitor: a small child, in a session of its own (a signal to the
 *   launcher's process group does not reach it), that holds the read end of
 *   a socket pair.  When the launcher is gone the socket ends; unless the launcher
 *   said first that it cleaned up itself (one byte), the janitor removes
 *   the files.  It is forked before CMD starts, is not preloaded, holds no
 *   descriptor of the launcher's but the pipe, and exits at once.
 * - a sweep at start: files named ward-{tree,policy,records}.PID.* of this
 *   user whose launcher PID no longer exists are removed (the janitor was
 *   killed too, or the machine stopped).  A launcher in another PID
 *   namespace that shares the directory would look dead: containers have a
 *   /dev/shm of their own, and the sweep is skipped inside a ward tree.
 * The files cannot simply be unlinked once every process has them: a
 * process of the tree may start at any moment and opens them by name (a
 * process that switched users included, see records.c).
 *
 * Names carry 128 bits from getrandom(2), never the same twice.
 */
#define _GNU_SOURCE
#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int janitor_fd = -1; /* the launcher's end of the janitor's socket */

bool
scratch_name(char *out, size_t cap, const char *dir, const char *kind)
{
	unsigned char raw[16];
	char hex[2 * sizeof(raw) + 1];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return false;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	return (size_t)snprintf(out, cap, "%s/ward-%s.%ld.%s", dir, kind, (long)getpid(), hex) < cap;
}

/* The launcher PID in "ward-KIND.PID.REST", or 0 when name is not one. */
static pid_t
owner_of(const char *name)
{
	static const char *const kinds[] = { "ward-tree.", "ward-policy.", "ward-records." };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t len = strlen(kinds[i]);
		if (strncmp(name, kinds[i], len) != 0)
			continue;
		char *end;
		errno = 0;
		long pid = strtol(name + len, &end, 10);
		if (errno != 0 || end == name + len || *end != '.' || end[1] == '\0' || pid <= 0 || pid != (pid_t)pid)
			return 0;
		return (pid_t)pid;
	}
	return 0;
}

/* A records directory holds files only (records.c). */
static void
remove_tree_at(int parent, const char *name, bool is_dir)
{
	if (!is_dir) {
		unlinkat(parent, name, 0);
		return;
	}
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

void
scratch_sweep(const char *const dirs[], size_t ndirs)
{
	const char *inside = getenv("WARD_RECORDS");
	if (inside != NULL && inside[0] != '\0')
		return; /* a launcher inside a ward tree: its policy decides what it may list */
	uid_t me = geteuid();
	for (size_t i = 0; i < ndirs; i++) {
		if (dirs[i] == NULL || dirs[i][0] == '\0')
			continue;
		DIR *d = opendir(dirs[i]);
		if (d == NULL)
			continue;
		for (struct dirent *e; (e = readdir(d)) != NULL;) {
			pid_t pid = owner_of(e->d_name);
			struct stat st;
			if (pid == 0 || (kill(pid, 0) == 0 || errno != ESRCH) ||
			    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_uid != me ||
			    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
				continue;
			remove_tree_at(dirfd(d), e->d_name, S_ISDIR(st.st_mode));
		}
		closedir(d);
	}
}

static _Noreturn void
janitor(int done, const char *const paths[], size_t npaths, const char *dir)
{
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	int null = open("/dev/null", O_RDWR);
	if (dup2(done, 0) != 0)
		_exit(1);
	if (null >= 0) {
		dup2(null, 1);
		dup2(null, 2);
	}
	close_range(3, ~0U, 0); /* the launcher's descriptors (a --log FIFO: its reader waits for the end) */
	char byte;
	ssize_t got;
	do
		got = read(0, &byte, 1);
	while (got < 0 && errno == EINTR);
	if (got != 1) { /* the launcher is gone without cleaning up */
		for (size_t i = 0; i < npaths; i++)
			if (paths[i] != NULL && paths[i][0] != '\0')
				unlink(paths[i]);
		if (dir != NULL && dir[0] != '\0')
			rmdir(dir);
	}
	_exit(0);
}

void
scratch_guard(const char *const paths[], size_t npaths, const char *dir)
{
	int p[2]; /* not a pipe: a janitor that died must not kill the launcher with SIGPIPE */
	if (janitor_fd >= 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
		return; /* the sweep of a later run is left */
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		janitor(p[0], paths, npaths, dir);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return;
	}
	janitor_fd = p[1];
}

void
scratch_release(void)
{
	if (janitor_fd < 0)
		return;
	ssize_t put;
	do
		put = send(janitor_fd, "", 1, MSG_NOSIGNAL);
	while (put < 0 && errno == EINTR);
	close(janitor_fd);
	janitor_fd = -1;
}
