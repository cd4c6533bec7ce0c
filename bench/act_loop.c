/*
 * act_loop: N checked calls of one kind, for counting what acting on the
 * decided path costs (bench/act_cost.sh counts their system calls with
 * strace and their user-mode instructions with callgrind).
 *
 *   bench_act_loop OP N DIR
 *
 * OP: open_close, stat, fopen_fclose, opendir, chmod, mkdir_rmdir,
 * rename, unlink_creat.  DIR is an existing empty directory; its files are
 * made before the loop.
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
	if (argc != 4)
		return 2;
	const char *op = argv[1];
	long n = strtol(argv[2], NULL, 10);
	char file[4096], other[4096], sub[4096];
	snprintf(file, sizeof(file), "%s/f", argv[3]);
	snprintf(other, sizeof(other), "%s/g", argv[3]);
	snprintf(sub, sizeof(sub), "%s/d", argv[3]);
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
			closedir(opendir(argv[3]));
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
