/*
 * libc_file_route: files a caller names that glibc opens inside itself.
 *   libc_file_route mntent-read FILE     setmntent(FILE, "r"), getmntent: "got: FIELD"
 *   libc_file_route mntent-append FILE   setmntent(FILE, "a"), addmntent
 *   libc_file_route utmp-read FILE       utmpname(FILE), getutent: "got: RAW"
 *   libc_file_route utmpx-read FILE      the same with utmpxname, getutxent
 *   libc_file_route utmp-write FILE      updwtmp(FILE), updwtmpx(FILE), utmpname + pututline
 * Prints "NAME: result R errno E".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <mntent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <utmp.h>
#include <utmpx.h>

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r, r == -1 ? errno : 0);
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *mode = argv[1], *file = argv[2];
	if (strcmp(mode, "mntent-read") == 0 || strcmp(mode, "mntent-append") == 0) {
		bool append = mode[7] == 'a';
		FILE *f = setmntent(file, append ? "a" : "r");
		show("setmntent", f == NULL ? -1 : 0);
		if (f == NULL)
			return 0;
		if (append) {
			struct mntent e = { "fs", "/dir", "type", "opts", 0, 0 };
			show("addmntent", addmntent(f, &e));
		} else {
			struct mntent *m = getmntent(f);
			if (m != NULL)
				printf("got: %s\n", m->mnt_fsname);
		}
		endmntent(f);
	} else if (strcmp(mode, "utmp-read") == 0 || strcmp(mode, "utmpx-read") == 0) {
		bool x = mode[4] == 'x';
		errno = 0;
		int r = x ? utmpxname(file) : utmpname(file);
		show(x ? "utmpxname" : "utmpname", r);
		if (r != 0)
			return 0;
		setutent();
		const void *u = x ? (const void *)getutxent() : (const void *)getutent();
		if (u != NULL) {
			char raw[65] = { 0 };
			memcpy(raw, u, 64);
			for (int i = 0; i < 64; i++)
				if (raw[i] == '\0')
					raw[i] = '.';
			printf("got: %s\n", raw);
		}
		endutent();
	} else if (strcmp(mode, "utmp-write") == 0) {
		struct utmp u;
		memset(&u, 0, sizeof(u));
		u.ut_type = USER_PROCESS;
		strcpy(u.ut_host, "written");
		errno = 0;
		updwtmp(file, &u);
		show("updwtmp", errno == 0 ? 0 : -1);
		struct utmpx ux;
		memset(&ux, 0, sizeof(ux));
		ux.ut_type = USER_PROCESS;
		errno = 0;
		updwtmpx(file, &ux);
		show("updwtmpx", errno == 0 ? 0 : -1);
		int r = utmpname(file);
		show("utmpname", r);
		if (r == 0) {
			setutent();
			show("pututline", pututline(&u) == NULL ? -1 : 0);
			endutent();
		}
	} else {
		return 2;
	}
	return 0;
}
