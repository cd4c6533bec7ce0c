/*
 * syscall_route: make file system calls through libc's syscall(), not the
 * functions that wrap them.
 *   syscall_route read|open|openat2|beneath FILE   open and print it
 *   syscall_route creat|mkdir|unlink|rmdir|chmod|truncate PATH
 *   syscall_route symlink|link|rename FROM TO
 *   syscall_route fd-link NEW | fd-chmod | fd-chown | fd-truncate | fd-utimens
 *                                  on descriptor 7 (inherited)
 *   syscall_route getpid | write | errno
 *   syscall_route execve FILE      /bin/cat FILE with an empty environment
 *   syscall_route fork|vfork|clone-vfork FILE   a child made through
 *                                  syscall() runs /bin/cat FILE
 * Each call prints "NAME: result R errno E" (errno only when R is -1), and
 * what a read got, so a test sees exactly what the program saw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r, r == -1 ? errno : 0);
}

static void
dump(long fd)
{
	char buf[256];
	long n = read((int)fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		printf("got: %s", buf);
	}
	close((int)fd);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *mode = argv[1], *a = argc > 2 ? argv[2] : "", *b = argc > 3 ? argv[3] : "";
	long r;
	if (strcmp(mode, "read") == 0 || strcmp(mode, "open") == 0 || strcmp(mode, "openat2") == 0 ||
	    strcmp(mode, "beneath") == 0) {
		struct open_how how = { .flags = O_RDONLY, .resolve = strcmp(mode, "beneath") == 0 ? RESOLVE_BENEATH : 0 };
		if (strcmp(mode, "read") == 0)
			r = syscall(SYS_openat, AT_FDCWD, a, O_RDONLY);
		else if (strcmp(mode, "open") == 0)
			r = syscall(SYS_open, a, O_RDONLY);
		else
			r = syscall(SYS_openat2, AT_FDCWD, a, &how, sizeof(how));
		show(mode, r);
		if (r >= 0)
			dump(r);
	} else if (strcmp(mode, "creat") == 0) {
		show(mode, r = syscall(SYS_openat, AT_FDCWD, a, O_WRONLY | O_CREAT | O_TRUNC, 0644));
		if (r >= 0)
			close((int)r);
	} else if (strcmp(mode, "mkdir") == 0) {
		show(mode, syscall(SYS_mkdir, a, 0755));
	} else if (strcmp(mode, "unlink") == 0) {
		show(mode, syscall(SYS_unlink, a));
	} else if (strcmp(mode, "rmdir") == 0) {
		show(mode, syscall(SYS_rmdir, a));
	} else if (strcmp(mode, "chmod") == 0) {
		show(mode, syscall(SYS_chmod, a, 0777));
	} else if (strcmp(mode, "truncate") == 0) {
		show(mode, syscall(SYS_truncate, a, 0L));
	} else if (strcmp(mode, "symlink") == 0) {
		show(mode, syscall(SYS_symlink, a, b));
	} else if (strcmp(mode, "link") == 0) {
		show(mode, syscall(SYS_link, a, b));
	} else if (strcmp(mode, "rename") == 0) {
		show(mode, syscall(SYS_rename, a, b));
	} else if (strcmp(mode, "fd-link") == 0) { /* on descriptor 7, inherited */
		show(mode, syscall(SYS_linkat, 7, "", AT_FDCWD, a, AT_EMPTY_PATH));
	} else if (strcmp(mode, "fd-chmod") == 0) {
		show(mode, syscall(SYS_fchmod, 7, 0777));
	} else if (strcmp(mode, "fd-chown") == 0) {
		show(mode, syscall(SYS_fchownat, 7, "", -1, -1, AT_EMPTY_PATH));
	} else if (strcmp(mode, "fd-truncate") == 0) {
		show(mode, syscall(SYS_ftruncate, 7, 0L));
	} else if (strcmp(mode, "fd-utimens") == 0) {
		show(mode, syscall(SYS_utimensat, 7, NULL, NULL, 0));
	} else if (strcmp(mode, "getpid") == 0) {
		r = syscall(SYS_getpid);
		printf("getpid: %s\n", r == getpid() ? "same" : "different");
	} else if (strcmp(mode, "write") == 0) {
		r = syscall(SYS_write, 1, "written through syscall\n", 24);
		show(mode, r);
	} else if (strcmp(mode, "errno") == 0) {
		errno = 0;
		show("close", syscall(SYS_close, 9999));
		show("openat", syscall(SYS_openat, AT_FDCWD, "/nonexistent/ward/x", O_RDONLY));
		errno = 1234;
		r = syscall(SYS_getppid);
		printf("getppid: errno after success %d\n", errno);
	} else if (strcmp(mode, "fork") == 0 || strcmp(mode, "vfork") == 0 || strcmp(mode, "clone-vfork") == 0) {
		char *cat[] = { "cat", (char *)a, NULL };
		fflush(stdout);
		if (strcmp(mode, "fork") == 0)
			r = syscall(SYS_fork);
		else if (strcmp(mode, "vfork") == 0)
			r = syscall(SYS_vfork);
		else
			r = syscall(SYS_clone, CLONE_VM | CLONE_VFORK | SIGCHLD, 0L, 0L, 0L, 0L);
		if (r == 0) {
			execv("/bin/cat", cat);
			_exit(127);
		}
		int status = 0;
		waitpid((pid_t)r, &status, 0);
		printf("%s: child exit %d\n", mode, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	} else if (strcmp(mode, "execve") == 0) {
		char *cat[] = { "cat", (char *)a, NULL }, *empty[] = { NULL };
		fflush(stdout);
		show(mode, syscall(SYS_execve, "/bin/cat", cat, empty));
	} else {
		return 2;
	}
	return 0;
}
