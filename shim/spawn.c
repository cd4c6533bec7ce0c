/*
 * spawn.c: posix_spawn, system and popen.
 *
 * posix_spawn and posix_spawnp get the exec check and the tree's
 * environment like every exec.  system() and popen() run /bin/sh through
 * glibc's own posix_spawn, a hidden alias no wrapper sees, with the global
 * environ the program may have cleared (TRAPS 16); so they are written here
 * again on top of the wrapped spawn, with the same signal handling as
 * glibc's (system ignores SIGINT and SIGQUIT and blocks SIGCHLD while it
 * waits; the child gets the caller's mask and default dispositions).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"
#include "../core/children.h"
#include "../core/fdtable.h"

#define SHELL "/bin/sh"

extern char **environ;

/* One spawn: the exec check, the tree's environment, the real call.  The
 * frame belongs to the caller (posix_spawn itself, or system and popen,
 * which count as themselves). */
static int
spawn(struct ward_frame *f, pid_t *pid, const char *file, bool search_path,
      const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr, char *const argv[],
      char *const envp[], int *errno_after)
{
	const char *asked = file;
	int denied = ward_check_children(f), child_dir = AT_FDCWD;
	const void *use = actions;
	if (!denied)
		denied = ward_check_spawn_actions(f, actions, &child_dir, &use);
	actions = use; /* the opens made here, exactly: the child dup2s them */
	if (!denied) /* file: exactly the program decided, from where the child will be */
		denied = ward_check_exec(f, child_dir, &file, search_path);
	if (child_dir != AT_FDCWD)
		ward_syscall(SYS_close, child_dir);
	if (denied)
		return f->deny = denied;
	if (file != asked && f->held != NULL && file == f->held->act[0].path &&
	    ward_spawn_actions_close(actions, f->held->act[0].fd))
		file = f->held->resolved; /* the child closes that descriptor first (addclosefrom_np): the decided name */
	/* the tree's environment, in the thread's exec room (never on the caller's stack) */
	char *const *env = envp;
	if (f->active && !ward_exec_env_room(envp, 1, &env))
		return ENOMEM; /* no room for it: not made */
	char comm[sizeof("WARD_COMM=") + 16];
	if (file != asked && f->active && env != envp) /* run through /proc/self/fd/N: the child names itself (lifecycle.c) */
		ward_exec_env_add((char **)env, ward_exec_comm(comm, sizeof(comm), asked));
	errno = f->saved_errno;
	pid_t child = -1;
	search_path = search_path && strchr(file, '/') == NULL;
	int err = search_path ? WARD_REAL(posix_spawnp)(&child, file, actions, attr, argv, env)
	                      : WARD_REAL(posix_spawn)(&child, file, actions, attr, argv, env);
	int spawned_errno = errno;
	if (f->active)
		ward_exec_env_done();
	errno = spawned_errno;
	if (errno_after != NULL) /* glibc's child shares the caller's errno until it execs: what it left */
		*errno_after = err == 0 && file != asked && f->held != NULL && f->held->exec_program.skipped != 0
		                       ? f->held->exec_program.skipped /* the PATH entries its search would have tried */
		                       : errno;
	if (err == 0) {
		ward_children_add(child);
		if (pid != NULL)
			*pid = child;
	}
	return err;
}

/* Counted once the spawn is done (the frame's window is then open). */
static void
count_spawn(struct ward_frame *f, int err)
{
	if (err == 0 && f->slot != NULL)
		ward_counters_add(f->slot, WARD_IDX_SPAWNS, 1);
}

/* Our own waits are not the program's calls. */
static pid_t
reap(pid_t pid, int *status)
{
	pid_t r;
	while ((r = WARD_REAL(waitpid)(pid, status, 0)) < 0 && errno == EINTR)
		;
	if (r > 0)
		ward_children_remove(r);
	return r;
}

static int
counted_spawn(enum ward_call_id id, pid_t *pid, const char *file, bool search_path,
              const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr, char *const argv[],
              char *const envp[])
{
	struct ward_frame frame;
	ward_frame_enter(&frame, id);
	int after = frame.saved_errno;
	int err = spawn(&frame, pid, file, search_path, actions, attr, argv, envp, &after);
	errno = frame.deny ? err : after; /* what glibc's call leaves; a refusal says why */
	ward_frame_count(&frame, err != 0);
	count_spawn(&frame, err);
	if (frame.deny && frame.slot != NULL)
		ward_counters_add(frame.slot, WARD_IDX_DENIED(id), 1);
	ward_frame_done(&frame);
	return err;
}

WARD_EXPORT int
posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
            const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return counted_spawn(WARD_ID_posix_spawn, pid, path, false, actions, attr, argv, envp);
}

WARD_EXPORT int
posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
             const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return counted_spawn(WARD_ID_posix_spawnp, pid, file, true, actions, attr, argv, envp);
}

/* ---- system ---- */

/* Start "sh -c command" through the wrapped spawn (checks and environment),
 * with the child's signal mask and SIGINT/SIGQUIT defaults as given. */
static int
spawn_shell(struct ward_frame *f, pid_t *pid, const char *command, posix_spawn_file_actions_t *actions,
            const sigset_t *mask, const sigset_t *defaults)
{
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	short flags = POSIX_SPAWN_SETSIGMASK;
	posix_spawnattr_setsigmask(&attr, mask);
	if (defaults != NULL) {
		posix_spawnattr_setsigdefault(&attr, defaults);
		flags |= POSIX_SPAWN_SETSIGDEF;
	}
	posix_spawnattr_setflags(&attr, flags);
	char *argv[] = { "sh", "-c", (char *)command, NULL };
	int err = spawn(f, pid, SHELL, false, actions, &attr, argv, environ, NULL);
	posix_spawnattr_destroy(&attr);
	return err;
}

WARD_EXPORT int
system(const char *command)
{
	if (command == NULL)
		return WARD_REAL(system)(command); /* "is there a shell?" */
	struct ward_frame frame;
	ward_frame_enter(&frame, WARD_ID_system);
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_int, old_quit;
	sigset_t block, old_mask, defaults;
	sigemptyset(&ignore.sa_mask);
	sigaction(SIGINT, &ignore, &old_int);
	sigaction(SIGQUIT, &ignore, &old_quit);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	sigemptyset(&defaults);
	if (old_int.sa_handler != SIG_IGN)
		sigaddset(&defaults, SIGINT);
	if (old_quit.sa_handler != SIG_IGN)
		sigaddset(&defaults, SIGQUIT);

	pid_t pid;
	int status = -1;
	int err = spawn_shell(&frame, &pid, command, NULL, &old_mask, &defaults);
	if (err == 0) {
		if (reap(pid, &status) < 0)
			status = -1;
	} else {
		status = W_EXITCODE(127, 0); /* as glibc: the shell could not run */
	}
	int saved = errno;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	errno = err ? err : saved;
	ward_frame_count(&frame, status == -1 || err != 0);
	count_spawn(&frame, err);
	frame.saved_errno = errno;
	ward_frame_done(&frame);
	return status;
}

/* ---- popen and pclose ---- */

#define PIPES_MAX 256

static struct {
	pthread_mutex_t lock;
	FILE *stream[PIPES_MAX];
	pid_t pid[PIPES_MAX];
} pipes = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Has popen or pclose ever taken the lock?  (On start-up's page of small
 * variables, shim/start-up.ld: a fork child reads it at no cost.) */
static bool pipes_used;

/* A fork child: the lock may have been held by a thread that is gone, and
 * the parent's streams are not the child's to pclose.  A lock never taken
 * is as the initialiser left it: not written (its page, never touched by
 * a process that does not popen, was a fault a fork). */
void
ward_spawn_after_fork_child(void)
{
	if (pipes_used)
		pthread_mutex_init(&pipes.lock, NULL);
}

static void
pipes_lock(void)
{
	if (!pipes_used)
		pipes_used = true;
	pthread_mutex_lock(&pipes.lock);
}

WARD_EXPORT FILE *
popen(const char *command, const char *mode)
{
	bool reading = mode[0] == 'r', cloexec = strchr(mode, 'e') != NULL;
	if ((mode[0] != 'r' && mode[0] != 'w') || (mode[1] != '\0' && mode[1] != 'e')) {
		errno = EINVAL;
		return NULL;
	}
	struct ward_frame frame;
	ward_frame_enter(&frame, WARD_ID_popen);
	int fds[2];
	if (WARD_REAL(pipe2)(fds, O_CLOEXEC) != 0)
		return NULL;
	int mine = reading ? fds[0] : fds[1], theirs = reading ? fds[1] : fds[0];
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, theirs, reading ? 1 : 0);
	pipes_lock();
	for (int i = 0; i < PIPES_MAX; i++) /* POSIX: earlier popen streams are closed in the child */
		if (pipes.stream[i] != NULL)
			posix_spawn_file_actions_addclose(&actions, fileno(pipes.stream[i]));
	sigset_t mask;
	sigprocmask(SIG_SETMASK, NULL, &mask);
	pid_t pid;
	int err = spawn_shell(&frame, &pid, command, &actions, &mask, NULL);
	posix_spawn_file_actions_destroy(&actions);
	WARD_REAL(close)(theirs);
	FILE *stream = NULL;
	if (err == 0) {
		if (!cloexec)
			WARD_REAL(fcntl)(mine, F_SETFD, 0);
		stream = WARD_REAL(fdopen)(mine, reading ? "r" : "w");
	}
	int slot = -1;
	for (int i = 0; stream != NULL && i < PIPES_MAX && slot < 0; i++)
		if (pipes.stream[i] == NULL)
			slot = i;
	if (slot >= 0) {
		pipes.stream[slot] = stream;
		pipes.pid[slot] = pid;
		ward_fdtable_set(mine, WARD_FD_PIPE, reading ? O_RDONLY : O_WRONLY);
	}
	pthread_mutex_unlock(&pipes.lock);
	if (stream == NULL || slot < 0) {
		if (stream != NULL)
			WARD_REAL(fclose)(stream);
		else
			WARD_REAL(close)(mine);
		if (err == 0)
			reap(pid, NULL);
		errno = err ? err : EMFILE;
		ward_frame_count(&frame, true);
		frame.saved_errno = errno;
		ward_frame_done(&frame);
		return NULL;
	}
	ward_frame_count(&frame, false);
	count_spawn(&frame, 0);
	if (frame.slot != NULL)
		ward_counters_add(frame.slot, WARD_IDX_FILES_OPENED, 1);
	ward_frame_done(&frame);
	return stream;
}

WARD_EXPORT int
pclose(FILE *stream)
{
	pid_t pid = -1;
	pipes_lock();
	for (int i = 0; i < PIPES_MAX; i++) {
		if (pipes.stream[i] == stream) {
			pid = pipes.pid[i];
			pipes.stream[i] = NULL;
		}
	}
	pthread_mutex_unlock(&pipes.lock);
	if (pid < 0)
		return WARD_REAL(pclose)(stream); /* not one of ours */
	struct ward_frame frame;
	ward_frame_enter(&frame, WARD_ID_pclose);
	ward_fdtable_clear(fileno(stream));
	WARD_REAL(fclose)(stream);
	int status;
	if (reap(pid, &status) < 0)
		status = -1;
	ward_frame_count(&frame, status == -1);
	if (frame.slot != NULL && status != -1)
		ward_counters_add(frame.slot, WARD_IDX_FILES_CLOSED, 1);
	frame.saved_errno = status == -1 ? errno : frame.saved_errno;
	ward_frame_done(&frame);
	return status;
}
