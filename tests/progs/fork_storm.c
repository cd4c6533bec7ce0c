/*
 * fork_storm: many forks while other threads sit inside intercepted calls
 * (TRAPS 18: whatever lock or epoch record another thread holds at the
 * moment of fork stays held in the child, which then hangs in its first
 * intercepted call).
 *
 *   fork_storm FILE FORKS
 *
 * Three threads loop open/read/close/stat on FILE for the whole run while
 * the main thread forks FORKS times; each child opens and closes FILE once
 * and _exits 0, and the parent waits for it before the next fork.  Prints
 * "forks F failed X" and exits 0 only when every fork, every child and
 * every thread call succeeded.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 3

static const char *path;
static atomic_bool stop;
static atomic_ulong thread_failures;

static void *
busy(void *unused)
{
	(void)unused;
	char buf[256];
	struct stat st;
	/* Lowest priority: on a small machine the busy threads would otherwise
	 * take the cores from the forking thread and its children, and the run
	 * would measure the scheduler.  They still run whenever a core is free,
	 * and a thread preempted at low priority is often preempted inside a
	 * call, which is the point. */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	while (!atomic_load(&stop)) {
		int fd = open(path, O_RDONLY);
		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0 || close(fd) != 0 ||
		    stat(path, &st) != 0)
			atomic_fetch_add(&thread_failures, 1);
	}
	return NULL;
}

/* The child: one intercepted open and close, then straight out. */
static void
child(void)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0 || close(fd) != 0)
		_exit(1);
	_exit(0);
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fork_storm FILE FORKS\n");
		return 2;
	}
	path = argv[1];
	unsigned long forks = strtoul(argv[2], NULL, 10);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, busy, NULL) != 0)
			return 3;
	unsigned long failed = 0;
	for (unsigned long f = 0; f < forks; f++) {
		pid_t pid = fork();
		if (pid == 0)
			child();
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed++;
	}
	atomic_store(&stop, true);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("forks %lu failed %lu\n", forks, failed);
	return failed == 0 && atomic_load(&thread_failures) == 0 ? 0 : 1;
}
