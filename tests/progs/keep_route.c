/*
 * keep_route: try to make the loader run the next program without the
 * shim: lower a memory limit, or install a seccomp filter, then run
 * /bin/sh -c SCRIPT (which a test makes read the secret).
 *   keep_route setrlimit|setrlimit64|prlimit|prlimit64|syscall-setrlimit|syscall-prlimit|data KIB SCRIPT
 *   keep_route prctl-filter|syscall-seccomp SCRIPT
 * KIB is the soft limit in KiB (RLIMIT_AS; RLIMIT_DATA for "data").
 * Prints "NAME: result R errno E", then runs SCRIPT whatever the result.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r, r == -1 ? errno : 0);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *mode = argv[1], *script = argv[argc - 1];
	if (strstr(mode, "seccomp") != NULL || strstr(mode, "filter") != NULL) {
		/* a filter that allows everything: what it could do instead is the point */
		struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
		struct sock_fprog prog = { 1, allow };
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		long r = strcmp(mode, "prctl-filter") == 0 ? prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0)
		                                          : syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
		show(mode, r);
	} else {
		if (argc != 4)
			return 2;
		int resource = strcmp(mode, "data") == 0 ? RLIMIT_DATA : RLIMIT_AS;
		struct rlimit rl;
		getrlimit(resource, &rl);
		rl.rlim_cur = strtoull(argv[2], NULL, 10) << 10;
		long r;
		if (strcmp(mode, "setrlimit64") == 0)
			r = setrlimit64(resource, (struct rlimit64 *)&rl);
		else if (strcmp(mode, "prlimit") == 0)
			r = prlimit(0, resource, &rl, NULL);
		else if (strcmp(mode, "prlimit64") == 0)
			r = prlimit64(getpid(), resource, (struct rlimit64 *)&rl, NULL);
		else if (strcmp(mode, "syscall-setrlimit") == 0)
			r = syscall(SYS_setrlimit, resource, &rl);
		else if (strcmp(mode, "syscall-prlimit") == 0)
			r = syscall(SYS_prlimit64, 0, resource, &rl, NULL);
		else
			r = setrlimit(resource, &rl);
		show(mode, r);
	}
	execl("/bin/sh", "sh", "-c", script, (char *)NULL);
	show("execl", -1);
	return 1;
}
