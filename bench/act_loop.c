/*
 * act_loop: N checked calls of one kind, for counting what acting on the
 * decided path costs (bench/act_cost.sh counts their system calls with
 * strace and their user-mode instructions with callgrind).
 *
 *   bench_act_loop OP N DIR [deep]
 *
 * OP: open_close, stat, fopen_fclose, opendir, chmod, mkdir_rmdir,
 * rename, unlink_creat.  DIR is an existing empty directory; its files are
 * made before the loop.  deep: the loop runs 25 levels of 200-byte names
 * below DIR (made first, one chdir at a time: over 5,000 bytes, deeper than
 * the kernel names) on relative names.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && strcmp(argv[4], "deep") == 0))
		return 2;
	const char *op = argv[1];
	long n = strtol(argv[2], NULL, 10);
	char file[4096], other[4096], sub[4096];
	const char *here = argv[3];
	if (argc == 5) {
		char level[201];
		memset(level, 'd', 200);
		level[200] = '\0';
		if (chdir(here) != 0)
			return 3;
		for (int i = 0; i < 25; i++)
			if ((mkdir(level, 0755) != 0 && access(level, F_OK) != 0) || chdir(level) != 0)
				return 3;
		here = ".";
	}
	snprintf(file, sizeof(file), "%s/f", here);
	snprintf(other, sizeof(other), "%s/g", here);
	snprintf(sub, sizeof(sub), "%s/d", here);
	int fd = open(file, O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return 3;
	close(fd);
	struct stat st;
	for (long i = 0; i < n; i++) {
		if (strcmp(op, "open_close") == 0) {
			close(open(file, O_RDONLY));
		} else if (strcmp(op, "stat") == 0) {
			stat(file, &st);
		} else if (strcmp(op, "fopen_fclose") == 0) {
			fclose(fopen(file, "r"));
		} else if (strcmp(op, "opendir") == 0) {
			closedir(opendir(here));
		} else if (strcmp(op, "chmod") == 0) {
			chmod(file, (i & 1) ? 0644 : 0600);
		} else if (strcmp(op, "mkdir_rmdir") == 0) {
			mkdir(sub, 0755);
			rmdir(sub);
		} else if (strcmp(op, "rename") == 0) {
			rename((i & 1) ? other : file, (i & 1) ? file : other);
		} else if (strcmp(op, "unlink_creat") == 0) {
			unlink(file);
			close(creat(file, 0644));
		} else {
			return 2;
		}
	}
	return 0;
}
