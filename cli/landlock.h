/*
 * landlock: a policy compiled into Landlock beneath-rules (SPEC 5.6).
 *
 * Policy in, list of (path, access mask) out: ward_landlock_plan turns
 * every allow rule into the tree its longest literal prefix names, with
 * the Landlock rights its operations need, and says for every rule
 * whether the kernel backs it, backs it widened (the shim narrows), or
 * leaves it to the shim alone, and why.  The kernel layer never refuses
 * what the policy allows; it holds what the policy denies wherever an
 * allow-list of trees can (docs/POLICY.md "Strict mode").  Planning
 * looks at the file system (what exists, what is a symlink) and makes no
 * change to it; ward_landlock_ruleset makes the directories the plan
 * creates, opens every path and builds the ruleset; ward_landlock_restrict
 * (in the child, just before exec) sets no_new_privs and enters it.
 */
#ifndef WARD_CLI_LANDLOCK_H
#define WARD_CLI_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match.h"
#include "policy.h"

/* The kernel's values (Debian 12's headers stop at ABI 2). */
#define WARD_LL_EXECUTE (1ULL << 0)
#define WARD_LL_WRITE_FILE (1ULL << 1)
#define WARD_LL_READ_FILE (1ULL << 2)
#define WARD_LL_READ_DIR (1ULL << 3)
#define WARD_LL_REMOVE_DIR (1ULL << 4)
#define WARD_LL_REMOVE_FILE (1ULL << 5)
#define WARD_LL_MAKE_CHAR (1ULL << 6)
#define WARD_LL_MAKE_DIR (1ULL << 7)
#define WARD_LL_MAKE_REG (1ULL << 8)
#define WARD_LL_MAKE_SOCK (1ULL << 9)
#define WARD_LL_MAKE_FIFO (1ULL << 10)
#define WARD_LL_MAKE_BLOCK (1ULL << 11)
#define WARD_LL_MAKE_SYM (1ULL << 12)
#define WARD_LL_REFER (1ULL << 13)    /* ABI 2 */
#define WARD_LL_TRUNCATE (1ULL << 14) /* ABI 3 */
#define WARD_LL_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define WARD_LL_MAKE_ALL (WARD_LL_MAKE_CHAR | WARD_LL_MAKE_DIR | WARD_LL_MAKE_REG | WARD_LL_MAKE_SOCK | \
                          WARD_LL_MAKE_FIFO | WARD_LL_MAKE_BLOCK | WARD_LL_MAKE_SYM)
/* The rights a rule on a file (not a directory) may carry. */
#define WARD_LL_FILE_RIGHTS (WARD_LL_EXECUTE | WARD_LL_WRITE_FILE | WARD_LL_READ_FILE | WARD_LL_TRUNCATE | \
                             WARD_LL_IOCTL_DEV)

enum ward_landlock_backing {
	WARD_LL_KERNEL,    /* the kernel holds the rule exactly */
	WARD_LL_WIDENED,   /* the kernel grants a wider tree; the shim narrows to the pattern */
	WARD_LL_SHIM_ONLY, /* only the shim decides it (why says why) */
};

struct ward_landlock_verdict {
	enum ward_landlock_backing backing;
	const char *why;   /* a short reason, static text */
};

struct ward_landlock_rule {
	char *path;        /* absolute; opened (following symlinks) when the ruleset is built */
	uint64_t access;   /* WARD_LL_* rights granted beneath path */
	bool directory;
	int origin;        /* the first policy rule it comes from, or -1 (extra) */
	const char *extra; /* why ward grants it (an extra), or NULL */
};

struct ward_landlock_extra {
	const char *path;
	uint64_t access;
	const char *why;   /* "the dynamic loader", "ward's records file" ... */
};

struct ward_landlock_plan {
	int abi;
	uint64_t handled;                      /* rights the ruleset handles (0: no ruleset) */
	struct ward_landlock_rule *rule;       /* merged by path, in policy order */
	size_t nrules;
	struct ward_landlock_verdict *verdict; /* one per policy rule */
	size_t backed;                         /* policy rules with WARD_LL_KERNEL or WIDENED */
	char **create;                         /* directories made before the run, parents first */
	size_t ncreate;
};

/* Every right of Landlock ABI abi. */
uint64_t ward_landlock_abi_rights(int abi);
/* The rights one ward operation needs (the mapping of docs/POLICY.md). */
uint64_t ward_landlock_op_rights(unsigned int op);

/* Compile policy for ABI abi; extras are ward's own files (granted as
 * given, masked to what is handled).  false when out of memory. */
bool ward_landlock_plan(const struct ward_policy *policy, const struct ward_matcher *matcher, int abi,
                        const struct ward_landlock_extra *extra, size_t nextra, struct ward_landlock_plan *out);
void ward_landlock_plan_free(struct ward_landlock_plan *plan);

/* "read_file,read_dir" into out. */
void ward_landlock_rights_name(uint64_t access, char *out, size_t cap);

/* The ABI the kernel offers, or -errno (ENOSYS, EOPNOTSUPP: none). */
int ward_landlock_abi(void);
/* Make plan->create, open every path and build the ruleset: its fd, or
 * -1 with a message in err. */
int ward_landlock_ruleset(const struct ward_landlock_plan *plan, char *err, size_t cap);
/* no_new_privs, then landlock_restrict_self(fd): 0 or -errno. */
int ward_landlock_restrict(int fd, int abi);

#endif
