/*
 * policy: the version 1 policy language (SPEC 5), parsed into a flat list
 * of rules and settings.
 *
 * Loading happens once, at start-up or in the launcher; it may allocate.
 * Every problem is reported as FILE:LINE:COL (1-based, COL of the first
 * character of the offending token) with a message naming what was
 * expected.  Nothing here knows about LD_PRELOAD.
 *
 * Settings (mode, default, limits, memory wx, unconfined-exec, log, stats,
 * backtrace, strict): within one file the last line wins; a file's own setting
 * wins over any its includes make (wherever the include line stands);
 * between files that do not include one another the later wins.  Each
 * setting that loses to another file's is noted in policy->warning.
 * Policy files must be regular files (a FIFO or a device never ends).
 */
#ifndef WARD_POLICY_H
#define WARD_POLICY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ward_op {
	WARD_OP_READ = 1 << 0,
	WARD_OP_STAT = 1 << 1,
	WARD_OP_WRITE = 1 << 2,
	WARD_OP_CREATE = 1 << 3,
	WARD_OP_REMOVE = 1 << 4,
	WARD_OP_EXEC = 1 << 5,
	WARD_OP_ALL = (1 << 6) - 1,
};

enum ward_mode { WARD_MODE_ENFORCE, WARD_MODE_AUDIT, WARD_MODE_KILL };
enum ward_exec_rule { WARD_UNCONFINED_DENY, WARD_UNCONFINED_AUDIT, WARD_UNCONFINED_ALLOW };

struct ward_rule {
	unsigned int ops;     /* enum ward_op bits */
	bool deny;
	bool quiet;           /* deny quiet: no violation record */
	char *pattern;        /* absolute, variables expanded */
	const char *file;     /* the policy file it came from */
	int line;
};

struct ward_policy {
	enum ward_mode mode;
	bool default_deny;
	struct ward_rule *rule;
	size_t nrules;
	uint64_t limit_memory;   /* bytes; 0 = no limit */
	uint64_t limit_children; /* 0 = no limit */
	uint64_t limit_fds;      /* 0 = no limit */
	bool memory_wx_deny;
	enum ward_exec_rule unconfined_exec;
	char *log;               /* NULL when not set */
	char *stats;
	int backtrace;           /* -1 not set, 0 off, 1 on */
	bool strict;             /* strict on: the launcher adds the kernel's enforcement (SPEC 5.6) */
	char **files;            /* every file read, for rule origins */
	size_t nfiles;
	char **warning;          /* "FILE:LINE:COL: warning: ..." (a setting overridden) */
	size_t nwarnings;
	void *image;             /* set when loaded from a compiled image (match.h): rule is NULL */
	size_t image_size;       /* its mapping's length */
	bool image_in_storage;   /* ward_matcher_map_image's: never freed */
};

/* Rule i (< nrules), parsed or from a compiled image (whose rules are
 * offsets into it): code that may see an image's policy uses this, not
 * policy->rule. */
struct ward_rule ward_policy_rule(const struct ward_policy *policy, size_t i);

/* Where variables come from.  Any field may be NULL: getenv for lookup,
 * the process's working directory for cwd. */
struct ward_policy_env {
	const char *(*lookup)(const char *name, void *context);
	void *context;
	const char *cwd;
};

struct ward_policy_error {
	char file[PATH_MAX];
	int line;
	int col;
	char message[256];
};

/* Parse a policy file.  Returns NULL and fills *error on any problem. */
struct ward_policy *ward_policy_load(const char *path, const struct ward_policy_env *env,
                                     struct ward_policy_error *error);
/* Same, from text in memory; name is used in messages and for includes. */
struct ward_policy *ward_policy_parse(const char *name, const char *text, size_t len,
                                      const struct ward_policy_env *env,
                                      struct ward_policy_error *error);
void ward_policy_free(struct ward_policy *policy);

/* "read,write" style; returns 0 and sets *bad to the offending op's offset
 * when a name is unknown. */
unsigned int ward_policy_parse_ops(const char *text, size_t *bad);
const char *ward_op_name(unsigned int op);

#endif
