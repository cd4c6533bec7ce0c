/*
 * tty_route: push input into a terminal (a pseudo-terminal of its own).
 *   tty_route sti|syscall-sti|linux|winsize
 * sti: ioctl(TIOCSTI) of "id\n" on the terminal, then what the terminal's
 * reader gets ("typed: ..."); syscall-sti: the same through syscall();
 * linux: TIOCLINUX set selection (a pty is no console: the kernel's error);
 * winsize: TIOCGWINSZ, an ordinary request.
 * Prints "NAME: result R errno E".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r, r == -1 ? errno : 0);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *mode = argv[1];
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0)
		return 3;
	int tty = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (tty < 0)
		return 4;
	if (strcmp(mode, "sti") == 0 || strcmp(mode, "syscall-sti") == 0) {
		long r = 0;
		for (const char *c = "id\n"; *c != '\0' && r == 0; c++)
			r = mode[0] == 's' && mode[1] == 'y' ? syscall(SYS_ioctl, tty, TIOCSTI, c) : ioctl(tty, TIOCSTI, c);
		show(mode, r);
		char buf[64] = { 0 };
		if (read(tty, buf, sizeof(buf) - 1) > 0)
			printf("typed: %s", buf);
	} else if (strcmp(mode, "linux") == 0) {
		char sel[12] = { 2 };
		show(mode, ioctl(tty, TIOCLINUX, sel));
	} else if (strcmp(mode, "winsize") == 0) {
		struct winsize ws = { .ws_row = 24, .ws_col = 80 };
		show("set", ioctl(master, TIOCSWINSZ, &ws));
		memset(&ws, 0, sizeof(ws));
		show(mode, ioctl(tty, TIOCGWINSZ, &ws));
		printf("rows %d cols %d\n", ws.ws_row, ws.ws_col);
	} else {
		return 2;
	}
	return 0;
}
