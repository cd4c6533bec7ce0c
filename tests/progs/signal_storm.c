/*
 * signal_storm: a SIGALRM handler that opens, writes and closes, firing
 * every 50 microseconds while the main loop makes intercepted calls (TRAPS
 * 22: a wrapper that locks or allocates deadlocks when re-entered from a
 * handler; counting must not lose or double calls either).
 *
 *   signal_storm FILE ITERATIONS
 *
 * Main loop, per iteration: open FILE, stat, read 16 bytes, close.
 * Handler: open /dev/null, write 1 byte, close (errno saved and restored).
 * Prints "handled H iterations I" so the test can compute the exact figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static volatile sig_atomic_t handler_failed;

static void
on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	int fd = open("/dev/null", O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) != 0)
		handler_failed = 1;
	handled++;
	errno = saved;
}

static void
set_timer(long usec)
{
	struct itimerval t = { { 0, usec }, { 0, usec } };
	setitimer(ITIMER_REAL, &t, NULL);
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	sigaction(SIGALRM, &sa, NULL);
	long iterations = strtol(argv[2], NULL, 10);
	char buf[16];
	struct stat st;
	set_timer(50);
	for (long i = 0; i < iterations; i++) {
		int fd = open(argv[1], O_RDONLY);
		if (fd < 0 || stat(argv[1], &st) != 0 || read(fd, buf, sizeof(buf)) != sizeof(buf) ||
		    close(fd) != 0) {
			perror("signal_storm");
			return 1;
		}
	}
	set_timer(0);
	printf("handled %ld iterations %ld\n", (long)handled, iterations);
	return handler_failed;
}
