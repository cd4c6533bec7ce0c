/*
 * sockets.c: a Unix socket's path is a file (SPEC 5.1).
 *
 * bind() of an AF_UNIX path makes a new name: `create` on it, decided
 * without following the last component (the kernel refuses an existing name,
 * symlink included, with EADDRINUSE).  connect(), sendto() and sendmsg()
 * to a path talk to whoever listens there: `write` on it, following links as
 * the kernel does.  Abstract addresses (sun_path[0] == '\0') and unnamed ones
 * (no path bytes) are not files.  sun_path need not be NUL-terminated: the
 * path is the bytes within addrlen up to the first NUL, copied into a small
 * buffer (108 bytes; no PATH_MAX on the caller's stack).  A relative path is
 * taken from the working directory, as the kernel takes it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "routes.h"
#include "../policy/policy.h"

int
ward_check_sockaddr(struct ward_frame *f, unsigned int ops, const struct sockaddr *addr, socklen_t len)
{
	if (__builtin_expect((ward_restricted & ops) == 0, 1) || addr == NULL || !f->active)
		return 0;
	const size_t start = offsetof(struct sockaddr_un, sun_path);
	if (len <= start || len > sizeof(struct sockaddr_un) || addr->sa_family != AF_UNIX)
		return 0; /* not a Unix path (the kernel rejects an oversized one) */
	const char *name = ((const struct sockaddr_un *)addr)->sun_path;
	size_t n = strnlen(name, len - start);
	if (n == 0)
		return 0; /* abstract or unnamed */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	memcpy(path, name, n);
	path[n] = '\0';
	return ward_check_path(f, ops, AT_FDCWD, path, !(ops & WARD_OP_CREATE));
}

int
ward_check_msghdr(struct ward_frame *f, const struct msghdr *msg)
{
	if (__builtin_expect((ward_restricted & WARD_OP_WRITE) == 0, 1) || msg == NULL)
		return 0;
	return ward_check_sockaddr(f, WARD_OP_WRITE, msg->msg_name, msg->msg_namelen);
}

/* sendmmsg: every message's address; the first refusal refuses the call
 * (nothing is sent). */
int
ward_check_mmsghdr(struct ward_frame *f, const struct mmsghdr *msgs, unsigned int count)
{
	if (__builtin_expect((ward_restricted & WARD_OP_WRITE) == 0, 1) || msgs == NULL)
		return 0;
	for (unsigned int i = 0; i < count && i < 1024; i++) { /* the kernel sends at most UIO_MAXIOV */
		int r = ward_check_msghdr(f, &msgs[i].msg_hdr);
		if (r != 0)
			return r;
	}
	return 0;
}
