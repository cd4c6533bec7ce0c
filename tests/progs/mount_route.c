/*
 * mount_route: the new mount API through glibc's own functions, and the
 * system calls newer than glibc's headers through syscall().
 *   mount_route clone DIR TARGET   open_tree(DIR, OPEN_TREE_CLONE) then move_mount onto TARGET
 *   mount_route fsopen|fspick DIR|mount_setattr DIR|fsmount|fsconfig
 *   mount_route setxattrat|removexattrat|getxattrat|listxattrat|file_setattr|file_getattr PATH
 *   mount_route open_tree_attr DIR
 *   mount_route number N          syscall(N) with no arguments
 * Prints "NAME: result R errno E" (R is 0 for a descriptor).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct xattr_args_ {
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r < 0 ? -1L : r > 2 ? 0L : r, r < 0 ? errno : 0);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	const char *mode = argv[1], *a = argc > 2 ? argv[2] : "", *b = argc > 3 ? argv[3] : "";
	struct xattr_args_ args = { (uint64_t)(uintptr_t) "v", 1, 0 };
	char buf[256];
	if (strcmp(mode, "clone") == 0) {
		int fd = open_tree(AT_FDCWD, a, OPEN_TREE_CLONE | AT_RECURSIVE);
		show("open_tree", fd);
		if (fd >= 0)
			show("move_mount", move_mount(fd, "", AT_FDCWD, b, MOVE_MOUNT_F_EMPTY_PATH));
		int m = move_mount(AT_FDCWD, a, AT_FDCWD, b, 0);
		show("move_mount-path", m);
	} else if (strcmp(mode, "fsopen") == 0) {
		show(mode, fsopen("tmpfs", 0));
	} else if (strcmp(mode, "fspick") == 0) {
		show(mode, fspick(AT_FDCWD, a, 0));
	} else if (strcmp(mode, "mount_setattr") == 0) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		show(mode, mount_setattr(AT_FDCWD, a, 0, &attr, sizeof(attr)));
	} else if (strcmp(mode, "fsmount") == 0) {
		show(mode, fsmount(-1, 0, 0));
	} else if (strcmp(mode, "fsconfig") == 0) {
		show(mode, fsconfig(-1, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
	} else if (strcmp(mode, "setxattrat") == 0) {
		show(mode, syscall(463, AT_FDCWD, a, 0, "user.ward", &args, sizeof(args)));
	} else if (strcmp(mode, "getxattrat") == 0) {
		args.value = (uint64_t)(uintptr_t)buf;
		args.size = sizeof(buf);
		show(mode, syscall(464, AT_FDCWD, a, 0, "user.ward", &args, sizeof(args)));
	} else if (strcmp(mode, "listxattrat") == 0) {
		show(mode, syscall(465, AT_FDCWD, a, 0, buf, sizeof(buf)));
	} else if (strcmp(mode, "removexattrat") == 0) {
		show(mode, syscall(466, AT_FDCWD, a, 0, "user.ward"));
	} else if (strcmp(mode, "open_tree_attr") == 0) {
		show(mode, syscall(467, AT_FDCWD, a, OPEN_TREE_CLONE, NULL, 0));
	} else if (strcmp(mode, "file_getattr") == 0) {
		char attr[64] = { 0 };
		show(mode, syscall(468, AT_FDCWD, a, attr, 24, 0));
	} else if (strcmp(mode, "file_setattr") == 0) {
		char attr[64] = { 0 };
		show(mode, syscall(469, AT_FDCWD, a, attr, 24, 0));
	} else if (strcmp(mode, "number") == 0) {
		show(mode, syscall(strtol(a, NULL, 0)));
	} else {
		return 2;
	}
	(void)b;
	return 0;
}
