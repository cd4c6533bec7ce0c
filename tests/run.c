/*
 * run: fork, exec and capture a real program (see run.h for why).
 */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct buffer {
	char *data;
	size_t len;
	size_t cap;
};

static void
buffer_add(struct buffer *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			abort();
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static bool
is_ours(const char *entry)
{
	return strncmp(entry, "LD_PRELOAD=", 11) == 0 || strncmp(entry, "WARD_", 5) == 0;
}

/* Is entry's name one of the extras' (which replace it: glibc's getenv
 * takes the first of two, a shell the last)? */
static bool
overridden(const char *entry, const struct run_opts *o)
{
	size_t len = strcspn(entry, "=");
	for (size_t i = 0; o->env != NULL && o->env[i] != NULL; i++)
		if (strncmp(o->env[i], entry, len) == 0 && o->env[i][len] == '=')
			return true;
	return false;
}

/* The extras, then our environment without LD_PRELOAD, WARD_* and the
 * names the extras set. */
static char **
child_env(const struct run_opts *o)
{
	size_t n = 0, extra = 0;
	while (environ[n] != NULL)
		n++;
	while (o->env != NULL && o->env[extra] != NULL)
		extra++;
	char **env = calloc(n + extra + 3, sizeof(char *));
	size_t k = 0;
	if (o->shim)
		env[k++] = "LD_PRELOAD=" WARD_LIB;
	for (size_t i = 0; i < extra; i++)
		env[k++] = (char *)o->env[i];
	/* WARD_TEST_MALLOC=libc runs a suite with glibc's allocator behind the
	 * shim (a test's own WARD_MALLOC, among the extras, still wins) */
	static char choice[64];
	const char *test_malloc = getenv("WARD_TEST_MALLOC");
	if (o->shim && test_malloc != NULL && test_malloc[0] != '\0') {
		snprintf(choice, sizeof(choice), "WARD_MALLOC=%s", test_malloc);
		env[k++] = choice;
	}
	for (size_t i = 0; i < n; i++)
		if (!is_ours(environ[i]) && !overridden(environ[i], o))
			env[k++] = environ[i];
	env[k] = NULL;
	return env;
}

static void
close_others(int keep)
{
	if (keep > 3)
		syscall(SYS_close_range, 3, keep - 1, 0);
	syscall(SYS_close_range, keep > 3 ? keep + 1 : 3, ~0U, 0);
}

__attribute__((noreturn)) static void
child(const char *const argv[], const struct run_opts *o, char **env, int in, int out, int err)
{
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	int keep = -1;
	if (o->extra_fd > 2 && o->extra_fd_path != NULL) {
		int fd = open(o->extra_fd_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || dup2(fd, o->extra_fd) < 0)
			_exit(121);
		keep = o->extra_fd;
	}
	close_others(keep);
	if (o->cwd != NULL && chdir(o->cwd) != 0)
		_exit(122);
	execvpe(argv[0], (char *const *)argv, env);
	dprintf(2, "run: cannot exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static long
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Move bytes until both outputs reach end of file or the deadline passes.
 * fd[0] is stdin's write end, fd[1] stdout's and fd[2] stderr's read ends;
 * each is closed and set to -1 when done. */
static bool
pump(int fd[3], const struct run_opts *o, struct buffer *bo, struct buffer *be, long deadline)
{
	size_t fed = 0;
	char chunk[65536];
	if (o->input == NULL || o->input_len == 0) {
		close(fd[0]);
		fd[0] = -1;
	}
	while (fd[1] >= 0 || fd[2] >= 0) {
		struct pollfd p[3] = { { fd[0], POLLOUT, 0 }, { fd[1], POLLIN, 0 }, { fd[2], POLLIN, 0 } };
		long left = deadline - now_ms();
		if (left <= 0)
			return false;
		if (poll(p, 3, (int)left) < 0 && errno != EINTR)
			return false;
		for (int i = 1; i <= 2; i++) {
			if (fd[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fd[i], chunk, sizeof(chunk));
			if (n > 0) {
				buffer_add(i == 1 ? bo : be, chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fd[i]);
				fd[i] = -1;
			}
		}
		if (fd[0] >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(fd[0], o->input + fed, o->input_len - fed);
			if (n > 0)
				fed += (size_t)n;
			if (n < 0 || fed == o->input_len) {
				close(fd[0]);
				fd[0] = -1;
			}
		}
	}
	return true;
}

static bool
reap(pid_t pid, long deadline, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
		if (now_ms() >= deadline)
			return false;
		usleep(2000);
	}
}

bool
run_argv(const char *const argv[], const struct run_opts *opts, struct run_result *r)
{
	static const struct run_opts none = { 0 };
	const struct run_opts *o = opts != NULL ? opts : &none;
	int pin[2], pout[2], perr[2];
	memset(r, 0, sizeof(*r));
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC))
		return false;
	char **env = child_env(o);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		child(argv, o, env, pin[0], pout[1], perr[1]);
	free(env);
	r->pid = pid;
	setpgid(pid, pid);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	long deadline = now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 30000);
	struct buffer bo = { 0 }, be = { 0 };
	buffer_add(&bo, "", 0);
	buffer_add(&be, "", 0);
	int fd[3] = { pin[1], pout[0], perr[0] };
	bool finished = pump(fd, o, &bo, &be, deadline) && reap(pid, deadline, &r->status);
	if (!finished) {
		r->timed_out = true;
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		waitpid(pid, &r->status, 0);
	}
	for (int i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	r->out = bo.data;
	r->out_len = bo.len;
	r->err = be.data;
	r->err_len = be.len;
	return true;
}

void
run_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int
run_exit_code(const struct run_result *r)
{
	if (r->timed_out)
		return -1;
	if (WIFSIGNALED(r->status))
		return 128 + WTERMSIG(r->status);
	return WEXITSTATUS(r->status);
}
