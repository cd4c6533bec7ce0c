/*
 * handle_route: reach a file through a file handle instead of its path.
 *   handle_route save FILE OUT     name_to_handle_at(FILE), written to OUT
 *   handle_route name FILE         name_to_handle_at(FILE) only
 *   handle_route open HANDLE [rw]  open_by_handle_at of the saved handle,
 *                                  then read it (or write "changed")
 * Each call prints "NAME: result R errno E", and what a read got.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r, r == -1 ? errno : 0);
}

int
main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	union {
		struct file_handle h;
		char room[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	int mount_id;
	u.h.handle_bytes = MAX_HANDLE_SZ;
	if (strcmp(argv[1], "save") == 0 || strcmp(argv[1], "name") == 0) {
		long r = name_to_handle_at(AT_FDCWD, argv[2], &u.h, &mount_id, 0);
		show("name_to_handle_at", r);
		if (r == 0 && argc > 3) {
			FILE *f = fopen(argv[3], "w");
			fwrite(&u, 1, sizeof(u), f);
			fclose(f);
		}
		return 0;
	}
	if (strcmp(argv[1], "open") == 0) {
		FILE *f = fopen(argv[2], "r");
		if (f == NULL || fread(&u, 1, sizeof(u), f) != sizeof(u))
			return 3;
		fclose(f);
		int mount_fd = open("/", O_RDONLY | O_DIRECTORY);
		bool rw = argc > 3 && strcmp(argv[3], "rw") == 0;
		long fd = open_by_handle_at(mount_fd, &u.h, rw ? O_WRONLY : O_RDONLY);
		show("open_by_handle_at", fd);
		if (fd >= 0 && rw) {
			show("write", write((int)fd, "changed\n", 8));
		} else if (fd >= 0) {
			char buf[256];
			long n = read((int)fd, buf, sizeof(buf) - 1);
			if (n > 0) {
				buf[n] = '\0';
				printf("got: %s", buf);
			}
		}
		/* nothing the shim opened is left behind: the next descriptor is the next free one */
		int next = open("/dev/null", O_RDONLY);
		printf("next fd: %d\n", next - (fd >= 0 ? (int)fd : mount_fd));
		return 0;
	}
	return 2;
}
