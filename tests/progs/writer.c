/*
 * writer: writes one line into the file it is given (default
 * /etc/ward-static-escape) and exits 0, or 1 when it cannot.  Built twice:
 * statically linked (static_writer: the shim is never in it, so only the
 * exec decision can stop it) and with a dynamic loader of its own
 * (foreign_loader: PT_INTERP "./myld", the kernel starts whatever file of
 * that name the working directory holds).
 */
#include <stdio.h>

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/etc/ward-static-escape";
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return 1;
	}
	fputs("escaped\n", f);
	return fclose(f) == 0 ? 0 : 1;
}
