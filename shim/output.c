/*
 * output.c: every byte the shim writes, and the descriptors it writes to.
 *
 * The shim never writes to stdout.  Messages and human violation records go
 * to stderr, the dump to stderr, fd:N or a file.  stderr and fd:N belong to
 * the program, which may close them before the dump (dd closes stderr in an
 * atexit handler) or put another file there: the guard remembers what each
 * was at start-up, and the moment the program closes or replaces one, the
 * shim keeps a private duplicate (close-on-exec, high number) and writes
 * there; it never writes its lines into a file the program put on fd 2.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "shim.h"

/* A descriptor of the program's the shim writes to: what it was at
 * start-up, and the private duplicate taken when it was closed or replaced. */
struct guard {
	int fd;          /* -1: unused */
	int private_fd;  /* -1 until rescued */
	bool known;      /* it was open at start-up */
	dev_t dev;
	ino_t ino;
};
/* aligned(64): sorted with the real-function table and the FD directory at
 * the start of .data (shim/lifecycle.c), on pages start-up writes anyway;
 * after ward_config it was a page of its own, written for stderr's guard
 * in every process a policy confines. */
static struct guard guards[2] __attribute__((aligned(64))) = { { -1, -1, false, 0, 0 }, { -1, -1, false, 0, 0 } };
static int owned[WARD_OWN_FDS - 2] = { -1, -1, -1, -1 };

/* Bit fd % 64 of every descriptor above (watched, private or owned): a
 * close of any other fd skips the guard at one test (shim.h). */
uint64_t ward_guard_fd_bits;

static void
refresh_bits(void)
{
	uint64_t bits = 0;
	for (int i = 0; i < 2; i++) {
		if (guards[i].fd >= 0)
			bits |= 1ull << (guards[i].fd & 63);
		if (guards[i].private_fd >= 0)
			bits |= 1ull << (guards[i].private_fd & 63);
	}
	for (int i = 0; i < WARD_OWN_FDS - 2; i++)
		if (owned[i] >= 0)
			bits |= 1ull << (owned[i] & 63);
	__atomic_store_n(&ward_guard_fd_bits, bits, __ATOMIC_RELAXED);
}

void
ward_output_watch(int fd)
{
	struct stat st;
	for (int i = 0; i < 2; i++) {
		if (guards[i].fd == fd)
			return;
		if (guards[i].fd < 0) {
			guards[i].fd = fd;
			guards[i].known = ward_syscall(SYS_fstat, fd, &st) == 0;
			guards[i].dev = st.st_dev;
			guards[i].ino = st.st_ino;
			refresh_bits();
			return;
		}
	}
}

static void
rescue(struct guard *g)
{
	if (g->private_fd >= 0 || !g->known)
		return;
	struct rlimit lim;
	long low = 3;
	if (ward_syscall(SYS_getrlimit, RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur > 64)
		low = (long)(lim.rlim_cur - 32);
	long fd = ward_syscall(SYS_fcntl, g->fd, F_DUPFD_CLOEXEC, low);
	if (fd < 0)
		fd = ward_syscall(SYS_fcntl, g->fd, F_DUPFD_CLOEXEC, 3);
	g->private_fd = (int)fd;
	refresh_bits();
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
			long moved = ward_syscall(SYS_fcntl, g->private_fd, F_DUPFD_CLOEXEC, 3);
			ward_syscall(SYS_close, g->private_fd);
			g->private_fd = (int)moved;
			refresh_bits();
		}
	}
}

/* Descriptors the shim opened for itself and keeps for the image's life
 * (the tree's compiled policy, a FIFO destination held open): the program
 * cannot close them (a close reports success), a range close steps around
 * them (owned[], above). */

void
ward_output_own(int fd, bool own)
{
	for (int i = 0; i < WARD_OWN_FDS - 2; i++) {
		if (own && owned[i] < 0) {
			owned[i] = fd;
			refresh_bits();
			return;
		}
		if (!own && owned[i] == fd) {
			owned[i] = -1;
			refresh_bits();
			return;
		}
	}
}

bool
ward_guard_is_private(int fd)
{
	if (fd < 0)
		return false;
	for (int i = 0; i < WARD_OWN_FDS - 2; i++)
		if (owned[i] == fd)
			return true;
	return fd == guards[0].private_fd || fd == guards[1].private_fd;
}

int
ward_guard_private_fds(int out[WARD_OWN_FDS])
{
	int n = 0;
	for (int i = 0; i < 2; i++)
		if (guards[i].private_fd >= 0)
			out[n++] = guards[i].private_fd;
	for (int i = 0; i < WARD_OWN_FDS - 2; i++)
		if (owned[i] >= 0)
			out[n++] = owned[i];
	for (int i = 1; i < n; i++) /* sorted */
		for (int k = i; k > 0 && out[k - 1] > out[k]; k--) {
			int t = out[k];
			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

/* Where to write for the program's descriptor fd: the private copy once
 * rescued, else fd itself while it is still what it was at start-up;
 * -1 when neither (never write the shim's lines into the program's files). */
int
ward_output_fd(int fd)
{
	struct stat st;
	for (int i = 0; i < 2; i++) {
		struct guard *g = &guards[i];
		if (g->fd != fd)
			continue;
		if (g->private_fd >= 0)
			return g->private_fd;
		if (!g->known || ward_syscall(SYS_fstat, fd, &st) != 0 || st.st_dev != g->dev || st.st_ino != g->ino)
			return -1;
		return fd;
	}
	return fd;
}

void
ward_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		long n = ward_syscall(SYS_write, fd, buf, len);
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
		int fd = ward_output_fd(2);
		if (fd >= 0)
			ward_write_all(fd, buf, len);
		return;
	}
	long fd = ward_syscall(SYS_open, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
	if (fd < 0)
		return;
	ward_write_all((int)fd, buf, len);
	ward_syscall(SYS_close, fd);
}

/* "ward: " a b c, one line on stderr.  Static line: messages are rare,
 * and the caller may be on a small stack. */
void
ward_say3(const char *a, const char *b, const char *c)
{
	static char line[4096 + 512];
	int n = snprintf(line, sizeof(line), "ward: %s%s%s\n", a, b ? b : "", c ? c : "");
	int fd = ward_output_fd(2);
	if (n > 0)
		ward_syscall(SYS_write, fd >= 0 ? fd : 2, line, n < (int)sizeof(line) ? n : (int)sizeof(line) - 1);
}

void
ward_say(const char *message)
{
	ward_say3(message, NULL, NULL);
}
