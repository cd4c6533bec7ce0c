/*
 * procfd: the name /proc/self/fd/N of a descriptor, for readlink and for
 * acting on exactly the file a descriptor holds.  No stdio, no stack
 * beyond the caller's small buffer.
 */
#ifndef WARD_CORE_PROCFD_H
#define WARD_CORE_PROCFD_H

#define WARD_PROCFD_NAME_MAX 32 /* "/proc/self/fd/" and a 10-digit number */

/* Writes "/proc/self/fd/N" into out (WARD_PROCFD_NAME_MAX bytes); returns out. */
static inline char *
ward_procfd_name(char out[WARD_PROCFD_NAME_MAX], int fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0;
	unsigned int v = fd < 0 ? 0u : (unsigned int)fd;
	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	int len = 0;
	for (; prefix[len]; len++)
		out[len] = prefix[len];
	while (n > 0)
		out[len++] = digits[--n];
	out[len] = '\0';
	return out;
}

#endif
