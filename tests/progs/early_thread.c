/*
 * early_thread: a library whose constructor (run before the shim's: the
 * program is linked with it) starts a thread that opens, stats and fopens
 * EARLY_FILE in a loop for 300 ms, while the shim's constructor loads the
 * policy.  early_thread_main prints what it reached; a refused file must
 * never be opened, not even in that window.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

long early_tries, early_reached;
pthread_t early_thread;
static int early_started;

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void *
loop(void *file)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		early_tries++;
		int fd = open(file, O_RDONLY);
		if (fd >= 0) {
			early_reached++;
			close(fd);
		}
		struct stat st;
		if (stat(file, &st) == 0)
			early_reached++;
		FILE *f = fopen(file, "r");
		if (f != NULL) {
			early_reached++;
			fclose(f);
		}
	} while (ms_since(&t0) < 300);
	return NULL;
}

__attribute__((constructor)) static void
early_thread_start(void)
{
	char *file = getenv("EARLY_FILE");
	if (file != NULL && pthread_create(&early_thread, NULL, loop, file) == 0)
		early_started = 1;
}

int
early_thread_join(void)
{
	return early_started ? pthread_join(early_thread, NULL) : -1;
}
