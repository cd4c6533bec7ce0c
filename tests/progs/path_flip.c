/*
 * path_flip DIR: a thread flips the bytes of one path buffer between
 * DIR/abcd/zzzzzzzz (in the write tree) and DIR/abcd/../../XY (the same
 * length and directory part, but outside it) while the main thread opens
 * the buffer O_WRONLY|O_CREAT again and again, for about a second.  Under
 * a policy that lets it write only under DIR, nothing may appear at
 * DIR/../XY: the check must decide and open one reading of the buffer
 * (test_enforce).  Prints "held opened=N refused=M" or "escaped after N".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char buffer[4096] __attribute__((aligned(64)));
static char inside[4096], outside[4096];
static volatile int stop;

static void *
flip(void *unused)
{
	(void)unused;
	size_t n = strlen(inside);
	while (!stop) {
		memcpy(buffer, outside, n);
		memcpy(buffer, inside, n);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	char escaped[4096];
	snprintf(inside, sizeof(inside), "%s/abcd/zzzzzzzz", argv[1]);
	snprintf(outside, sizeof(outside), "%s/abcd/../../XY", argv[1]);
	snprintf(escaped, sizeof(escaped), "%s/../XY", argv[1]);
	strcpy(buffer, inside);
	pthread_t t;
	if (pthread_create(&t, NULL, flip, NULL) != 0)
		return 2;
	long opened = 0, refused = 0;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (long i = 0;; i++) {
		int fd = open(buffer, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0) {
			opened++;
			close(fd);
		} else if (errno == EACCES) {
			refused++;
		}
		struct stat st;
		if (stat(escaped, &st) == 0) {
			stop = 1;
			pthread_join(t, NULL);
			printf("escaped after %ld\n", i + 1);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 2 || i >= 300000)
			break;
	}
	stop = 1;
	pthread_join(t, NULL);
	printf("held opened=%ld refused=%ld\n", opened, refused);
	return 0;
}
