/*
 * fork_threads: fork repeatedly while other threads are busy inside
 * intercepted calls (TRAPS 18: a lock or an active epoch record held by
 * another thread at fork stays held in the child).
 *
 *   fork_threads THREADS FORKS CHILD_OPENS
 *
 * Each child opens and closes /dev/null CHILD_OPENS times and exits
 * normally, so its own dump must show exactly that, from zero.  The parent
 * prints "child PID" for each child and exits 0 when every child did.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_bool stop;

static void *
busy(void *unused)
{
	(void)unused;
	struct stat st;
	while (!atomic_load(&stop)) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			close(fd);
		stat("/dev/null", &st);
	}
	return NULL;
}

static void
child(unsigned long opens)
{
	for (unsigned long i = 0; i < opens; i++) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || close(fd) != 0)
			exit(1);
	}
	exit(0);
}

int
main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	unsigned long threads = strtoul(argv[1], NULL, 10), forks = strtoul(argv[2], NULL, 10);
	unsigned long opens = strtoul(argv[3], NULL, 10);
	pthread_t t[64];
	for (unsigned long i = 0; i < threads && i < 64; i++)
		pthread_create(&t[i], NULL, busy, NULL);
	int failed = 0;
	for (unsigned long f = 0; f < forks; f++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			child(opens);
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
		printf("child %ld\n", (long)pid);
	}
	atomic_store(&stop, true);
	for (unsigned long i = 0; i < threads && i < 64; i++)
		pthread_join(t[i], NULL);
	return failed;
}
