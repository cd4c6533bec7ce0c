/*
 * deep_routes: what a program can try from a directory deeper than the
 * kernel names (over 5,000 bytes), under a policy that lets it stat and
 * enter DIR/c/.../s but not read, write, make or run anything there.
 *
 *   deep_routes setup DIR     (bare) DIR/c/ 25 levels of 200 bytes, and at
 *                             the bottom ok.txt, s/data.txt, s/prog (a copy
 *                             of /bin/true)
 *   deep_routes run DIR       one line per attempt: NAME RESULT (0, or the
 *                             errno; "ran" when the program ran)
 *   deep_routes threads DIR   two threads, one fchdir'ing to the bottom and
 *                             one chdir'ing to DIR, 200 times: how often the
 *                             working directory the shim remembers is not
 *                             the kernel's afterwards ("stale N")
 *   deep_routes anchor DIR    1.5 s of O_CREAT opens of a new deep name while
 *                             a thread dup2s a descriptor of DIR/outside
 *                             (which the policy does not let be written)
 *                             onto the numbers the shim's walk takes:
 *                             "outside N", the files made there
 *
 * Through /proc/self/cwd and /proc/self/fd/N a magic link leads to a name
 * longer than /proc gives (the shim once decided on the link's own name
 * and allowed); fexecve's /proc/self/fd/N the same; an open from there
 * takes the lowest free descriptor as bare; statx(fd, "", AT_EMPTY_PATH)
 * on a deep file is what fstat gives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LEVELS 25

static char level[201];

static void
die(const char *what)
{
	perror(what);
	exit(2);
}

static void
go_down(const char *dir, bool make)
{
	char top[4096];
	snprintf(top, sizeof(top), "%s/c", dir);
	if ((make && mkdir(top, 0755) != 0) || chdir(top) != 0)
		die(top);
	for (int i = 0; i < LEVELS; i++)
		if ((make && mkdir(level, 0755) != 0) || chdir(level) != 0)
			die("level");
}

static void
put(const char *name, const char *text, mode_t mode)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) != 0)
		die(name);
}

static void
say(const char *name, long r)
{
	printf("%s %d\n", name, r < 0 ? errno : 0);
}

static void
run(void)
{
	/* the lowest free number, as bare: fd 0 closed first */
	int keep = dup(0);
	close(0);
	int fd = open("ok.txt", O_RDONLY);
	printf("lowest %d\n", fd);
	if (fd >= 0)
		close(fd);
	dup2(keep, 0);
	close(keep);
	if (chdir("s") != 0)
		die("chdir s");
	say("open", open("data.txt", O_RDONLY));
	say("proc-cwd", open("/proc/self/cwd/data.txt", O_RDONLY));
	say("proc-cwd-create", open("/proc/self/cwd/made", O_WRONLY | O_CREAT, 0644));
	int path_fd = open("data.txt", O_PATH);
	say("o-path", path_fd);
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", path_fd);
	say("proc-fd-write", open(link, O_WRONLY | O_APPEND));
	say("proc-fd-read", open(link, O_RDONLY));
	struct statx sx;
	say("statx-empty-path", syscall(SYS_statx, path_fd, "", AT_EMPTY_PATH, STATX_SIZE, &sx));
	int prog = open("prog", O_PATH | O_CLOEXEC);
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		char *argv[] = { "prog", NULL }, *envp[] = { NULL };
		fexecve(prog, argv, envp);
		_exit(errno == EACCES ? 13 : 99);
	}
	int status = 0;
	waitpid(child, &status, 0);
	printf("fexecve %s\n", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ran" : "13");
}

/* openat made by the kernel alone: libc's syscall() is the shim's too */
static long
raw_openat(int dir, const char *path, int flags)
{
#if defined(__x86_64__)
	long r;
	register long r10 __asm__("r10") = 0;
	__asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_openat), "D"((long)dir), "S"(path), "d"((long)flags), "r"(r10)
	                 : "rcx", "r11", "memory");
	return r;
#else
	return syscall(SYS_openat, dir, path, flags); /* (decided by the shim too: the comparison proves less) */
#endif
}

static int bottom;
static pthread_barrier_t barrier;
static const char *top_dir;

static void *
to_bottom(void *unused)
{
	(void)unused;
	pthread_barrier_wait(&barrier);
	fchdir(bottom);
	return NULL;
}

static void *
to_top(void *spin)
{
	pthread_barrier_wait(&barrier);
	for (volatile long i = 0; i < (long)spin; i++)
		;
	chdir(top_dir);
	return NULL;
}

static volatile int anchor_stop;
static int outside_dir;

static void *
swap_numbers(void *unused)
{
	(void)unused;
	while (!anchor_stop)
		for (int n = outside_dir + 1; n < outside_dir + 4; n++) {
			dup2(outside_dir, n);
			close(n);
		}
	return NULL;
}

static void
anchor_race(void)
{
	char outside[4096], made[4096 + 300], name[251];
	snprintf(outside, sizeof(outside), "%s/outside", top_dir);
	outside_dir = open(outside, O_PATH | O_DIRECTORY);
	if (outside_dir < 0)
		die(outside);
	memset(name, 'N', 250);
	name[250] = '\0';
	/* down to where the name just passes PATH_MAX: the walk's one anchor is
	 * the directory itself and the rest the bare name (deeper, the rest has
	 * directories in it that the swapped-in one does not) */
	size_t len = strlen(top_dir) + 2;
	if (chdir(top_dir) != 0 || chdir("c") != 0)
		die("c");
	while (len + 1 + 250 < 4096) {
		if (chdir(level) != 0)
			die("level");
		len += 201;
	}
	pthread_t t;
	pthread_create(&t, NULL, swap_numbers, NULL);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		int fd = open(name, O_CREAT | O_WRONLY, 0644);
		if (fd >= 0)
			close(fd);
		unlink(name);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 1500);
	anchor_stop = 1;
	pthread_join(t, NULL);
	snprintf(made, sizeof(made), "%s/%s", outside, name);
	printf("outside %d\n", access(made, F_OK) == 0);
}

static void
threads(void)
{
	bottom = open(".", O_RDONLY | O_DIRECTORY);
	int stale = 0;
	for (int i = 0; i < 200; i++) {
		chdir(top_dir);
		pthread_barrier_init(&barrier, NULL, 2);
		pthread_t a, b;
		pthread_create(&a, NULL, to_bottom, NULL);
		pthread_create(&b, NULL, to_top, (void *)(long)(i * 500));
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		pthread_barrier_destroy(&barrier);
		/* "." through the shim against the kernel's own working directory */
		int shim = open(".", O_RDONLY | O_DIRECTORY);
		int kernel = (int)raw_openat(AT_FDCWD, ".", O_RDONLY | O_DIRECTORY);
		struct stat x, y;
		if (shim < 0 || kernel < 0 || fstat(shim, &x) != 0 || fstat(kernel, &y) != 0 || x.st_ino != y.st_ino)
			stale++;
		close(shim);
		close(kernel);
	}
	printf("stale %d\n", stale);
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	memset(level, 'd', 200);
	top_dir = argv[2];
	if (strcmp(argv[1], "setup") == 0) {
		char outside[4096];
		snprintf(outside, sizeof(outside), "%s/outside", argv[2]);
		if (mkdir(outside, 0755) != 0)
			die(outside);
		go_down(argv[2], true);
		put("ok.txt", "ok\n", 0644);
		if (mkdir("s", 0755) != 0)
			die("s");
		put("s/data.txt", "deep secret\n", 0644);
		put("s/prog", "", 0755);
		int in = open("/bin/true", O_RDONLY), out = open("s/prog", O_WRONLY | O_TRUNC);
		char buf[65536];
		ssize_t n;
		while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				die("copy");
		close(in);
		close(out);
		return 0;
	}
	go_down(argv[2], false);
	if (strcmp(argv[1], "run") == 0)
		run();
	else if (strcmp(argv[1], "threads") == 0)
		threads();
	else if (strcmp(argv[1], "anchor") == 0)
		anchor_race();
	else
		return 2;
	return 0;
}
