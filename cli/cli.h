/*
 * cli.h: what the launcher's subcommands share.
 *
 * Each subcommand lives in its own file (run.c, learn.c, check.c,
 * report.c; explain.c with its own header and help) with the others' help
 * texts in help.c; launch.c holds the
 * machinery that starts a confined, watched process tree (libward.so, the
 * tree's shared figures, the compiled policy, the records file), used by
 * both `ward run` and `ward learn`.
 */
#ifndef WARD_CLI_H
#define WARD_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

enum {
	EXIT_POLICY_DENIED = 3,   /* CMD exited 0 but the policy denied something */
	EXIT_WARD_ERROR = 125,
	EXIT_NOT_RUNNABLE = 126,
	EXIT_NOT_FOUND = 127,
};

/* "ward: MESSAGE" on stderr, exit 125. */
__attribute__((format(printf, 1, 2), noreturn)) void cli_fail(const char *fmt, ...);
/* One line for a usage error and a pointer to `ward SUBCOMMAND --help`;
 * returns status for the caller to return. */
__attribute__((format(printf, 3, 4))) int cli_usage_error(const char *subcommand, int status,
                                                          const char *fmt, ...);

/* help.c: each subcommand's own help; NULL subcommand is the overview. */
void cli_help(const char *subcommand, FILE *out);

/* launch.c */
struct launch {
	const char *policy;   /* -p, or NULL */
	bool audit;           /* WARD_MODE=audit for the tree */
	const char *log;      /* --log, or NULL */
	bool backtrace;
	bool figures;         /* report the tree's shared figures (WARD_TREE; made under a policy anyway) */
	bool strict;          /* --strict: the kernel holds the tree too (strict.c) */
};
/* Everything the tree needs, in the environment; fails with 125. */
void launch_prepare(const struct launch *l);
/* Start argv, wait for it: its status, 128+N, 126 or 127. */
int launch_run(char **argv);
/* The tree's figures (launch.figures), merged; false without a tree. */
bool launch_figures(struct ward_report *report);
/* Refusals by the policy's rules the tree's merged figures count (quiet
 * ones included): the records should say as many; 0 without a tree. */
unsigned long launch_denied(void);
/* The records file every process of the tree appended to (WARD_RECORDS). */
const char *launch_records_path(void);
/* Remove what launch_prepare made (also run at exit). */
void launch_cleanup(void);

/* command.c: decide CMD's exec under the tree's policy before it starts
 * (SPEC 4): 0 to start it (allowed, audited, or it would not start
 * anyway), or 126 after a violation record when it is refused. */
struct ward_policy;
struct ward_matcher;
int launch_decide_command(const struct ward_policy *policy, const struct ward_matcher *matcher, char *const argv[],
                          const char *records_path);

/* strict.c (SPEC 5.6): under --strict or `strict on`, the Landlock
 * ruleset, built before CMD starts (125 where the kernel has none), and
 * entered by the child just before its exec; `ward check --strict`. */
void launch_strict_prepare(const struct launch *l, const struct ward_policy *policy,
                           const struct ward_matcher *matcher);
void launch_strict_enter(void);
int strict_check(const char *file, const struct ward_policy *policy);

int cmd_run(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* report.c: the counter layout of libward.so's call table. */
extern const struct ward_report_layout cli_layout;

#endif
