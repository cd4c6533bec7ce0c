/*
 * unix_socket: reach a Unix socket by its path.
 *   unix_socket bind PATH          bind a stream socket there (a new name)
 *   unix_socket bind-raw PATH      the same, addrlen without the NUL
 *   unix_socket connect PATH       connect and send "ping"
 *   unix_socket sendto PATH        send a datagram "ping" to it
 *   unix_socket sendmsg PATH       the same through sendmsg
 *   unix_socket abstract NAME      server and client on an abstract address
 * Each call prints "NAME: result R errno E".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void
show(const char *name, long r)
{
	printf("%s: result %ld errno %d\n", name, r, r == -1 ? errno : 0);
}

static socklen_t
address(struct sockaddr_un *sun, const char *path, bool abstract, bool with_nul)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (n > sizeof(sun->sun_path) - 2)
		n = sizeof(sun->sun_path) - 2;
	memcpy(sun->sun_path + abstract, path, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + n + (with_nul && !abstract));
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *mode = argv[1];
	struct sockaddr_un sun;
	if (strcmp(mode, "bind") == 0 || strcmp(mode, "bind-raw") == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		show(mode, bind(s, (struct sockaddr *)&sun, address(&sun, argv[2], false, mode[4] == '\0')));
	} else if (strcmp(mode, "connect") == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		long r = connect(s, (struct sockaddr *)&sun, address(&sun, argv[2], false, true));
		show(mode, r);
		if (r == 0)
			show("write", write(s, "ping", 4));
	} else if (strcmp(mode, "sendto") == 0) {
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);
		show(mode, sendto(s, "ping", 4, 0, (struct sockaddr *)&sun, address(&sun, argv[2], false, true)));
	} else if (strcmp(mode, "sendmsg") == 0) {
		int s = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct iovec iov = { "ping", 4 };
		struct msghdr msg = { .msg_name = &sun, .msg_namelen = address(&sun, argv[2], false, true),
		                      .msg_iov = &iov, .msg_iovlen = 1 };
		show(mode, sendmsg(s, &msg, 0));
	} else if (strcmp(mode, "abstract") == 0) {
		int server = socket(AF_UNIX, SOCK_STREAM, 0), client = socket(AF_UNIX, SOCK_STREAM, 0);
		socklen_t len = address(&sun, argv[2], true, false);
		show("bind", bind(server, (struct sockaddr *)&sun, len));
		show("listen", listen(server, 1));
		show("connect", connect(client, (struct sockaddr *)&sun, len));
		int peer = accept(server, NULL, NULL);
		char buf[8] = "";
		show("write", write(client, "ping", 4));
		show("read", read(peer, buf, 4));
		printf("got: %s\n", buf);
	} else {
		return 2;
	}
	return 0;
}
