/*
 * threads_files: T threads, all alive at once, each doing I rounds of
 * open(O_APPEND) + write 10 bytes + close + stat on a file of its own in DIR.
 *
 *   threads_files DIR T I
 *
 * Every figure is then known exactly (T*I of each call, 10*T*I bytes
 * written), however the calls interleave; with T above the shim's private
 * counter slots some threads share the overflow slot.  Prints nothing.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_barrier_t start;
static const char *dir;
static unsigned long rounds;

static void *
worker(void *arg)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/t%lu.txt", dir, (unsigned long)arg);
	pthread_barrier_wait(&start);
	for (unsigned long i = 0; i < rounds; i++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || write(fd, "0123456789", 10) != 10 || close(fd) != 0 ||
		    stat(path, &st) != 0)
			return (void *)1;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	dir = argv[1];
	unsigned long n = strtoul(argv[2], NULL, 10);
	rounds = strtoul(argv[3], NULL, 10);
	pthread_t *t = calloc(n, sizeof(pthread_t));
	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (unsigned long i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			return 3;
	int bad = 0;
	for (unsigned long i = 0; i < n; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= r != NULL;
	}
	return bad;
}
