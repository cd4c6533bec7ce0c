/*
 * dumps: find and read the shim's JSON stats dumps in captured text.
 *
 * A dump is one line starting with {"ward_stats_version" (JSON lines: several
 * processes may append to one file).  The tests assert figures by name, the
 * way a user reading the dump would: calls of open, bytes_read, reason.
 * Calls absent from a dump were made zero times (only non-zero calls appear).
 */
#ifndef WARD_TESTS_DUMPS_H
#define WARD_TESTS_DUMPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dump {
	long pid;
	char exe[256];
	char reason[32];
	bool valid;  /* the line is well-formed JSON with pid, exe and reason */
	char *json;  /* the line itself */
};

struct dump_set {
	struct dump *d;
	size_t n;
};

/* Every dump line in text, in order. */
void dumps_parse(const char *text, struct dump_set *set);
void dumps_free(struct dump_set *set);

/* The first dump of pid with this reason (NULL: any reason). */
const struct dump *dumps_find(const struct dump_set *set, long pid, const char *reason);
/* How many dumps pid wrote. */
size_t dumps_count(const struct dump_set *set, long pid);

uint64_t dump_calls(const struct dump *d, const char *call);
uint64_t dump_errors(const struct dump *d, const char *call);
/* A field of "files": opened, closed, open_now, open_peak, bytes_read... */
uint64_t dump_files(const struct dump *d, const char *field);

#endif
