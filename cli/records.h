/*
 * records: the violation records of a whole process tree, as the launcher
 * collects them (SPEC 4, 5.5).
 *
 * The launcher makes one private file and names it in WARD_RECORDS; every
 * process of the tree appends one JSON line per record to it (O_APPEND, one
 * write each), quiet denials included (with "quiet":true).  After the run
 * the launcher reads the file back, merges equal records (same decision,
 * operations, path and rule) and prints the summary, or learns a policy
 * from them.  Nothing here knows about LD_PRELOAD; tests feed it
 * hand-written files.
 */
#ifndef WARD_CLI_RECORDS_H
#define WARD_CLI_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define WARD_RECORDS_PROGRAMS 8 /* program names kept per entry */

struct ward_record_entry {
	char *decision;    /* denied, audited, killed */
	char *op;          /* comma list, or a limit's name */
	char *path;        /* or what a limit counted */
	char *rule;        /* FILE:LINE, default, limit ..., unconfined-exec (...) */
	char *via;         /* "raw syscall": made outside libc (--strict), or "" */
	bool quiet;
	unsigned long count;
	char *program[WARD_RECORDS_PROGRAMS];
	size_t nprograms;
	bool more_programs; /* more than WARD_RECORDS_PROGRAMS distinct names */
	size_t first;       /* order of first appearance */
};

struct ward_records {
	struct ward_record_entry *entry;
	size_t n, cap;
	size_t *slot;       /* open-addressing index into entry; 0 = empty, else index + 1 */
	size_t nslots;
	unsigned long lines;     /* records read */
	unsigned long malformed; /* lines that were not a record */
	unsigned long quiet, denied, audited, killed; /* per record, not per entry */
	unsigned long probed; /* access() probes the policy answered no (not violations) */
	unsigned long kernel_confined; /* --strict: processes only the kernel held (not violations) */
	unsigned long by_rule; /* denied or killed by a rule or the default, quiet included: what the tree's figures count */
};

/* Create the records file in a fresh private directory under the first of
 * dirs[] that works (NULL entries skipped).  path receives the file's name,
 * dir the directory's.  0, or -1 with errno. */
int ward_records_create(const char *const dirs[], size_t ndirs, char *dir, size_t dircap, char *path,
                        size_t pathcap);
/* Remove both again (missing ones are fine). */
void ward_records_remove(const char *dir, const char *path);

void ward_records_init(struct ward_records *r);
void ward_records_free(struct ward_records *r);
/* One JSON line; false (and counted as malformed) if it is not a record. */
bool ward_records_add_line(struct ward_records *r, const char *line);
/* Every line of a file; false with errno if it cannot be read. */
bool ward_records_read(struct ward_records *r, const char *path);

/* Non-quiet denials and kills: what makes `ward run` exit 3. */
unsigned long ward_records_refusals(const struct ward_records *r);
/* The summary, most frequent first, at most max_lines entries listed;
 * nothing at all when there were no records. */
void ward_records_summary(const struct ward_records *r, FILE *out, size_t max_lines);
/* "rule base.ward:3", "default deny", "limit fds 10": how a record's rule
 * reads after "by". */
void ward_records_describe_rule(const char *rule, char *out, size_t cap);

#endif
