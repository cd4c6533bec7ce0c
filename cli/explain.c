/*
 * explain.c: `ward explain`, the policy's answer for one operation on one
 * path, resolved exactly as the shim resolves it (core/resolve: the same
 * code, so explain and enforcement cannot disagree).
 *
 * Whether the last component is followed depends on the call; explain
 * follows it for the operations whose calls follow it (read, write, stat,
 * exec: open, stat, execve) and not for create and remove (mkdir,
 * symlink's and link's new name, O_CREAT|O_EXCL; unlink, rmdir, rename),
 * and says which it did.  --follow and --no-follow choose explicitly (an
 * O_CREAT open without O_EXCL follows, lstat does not).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "match.h"
#include "policy.h"
#include "resolve.h"

static const char usage[] = "usage: ward explain -p POLICY [--follow|--no-follow] OP PATH\n";

static bool
follows_by_default(unsigned int op)
{
	return !(op & (WARD_OP_CREATE | WARD_OP_REMOVE));
}

static int
answer(const struct ward_policy *policy, const struct ward_matcher *matcher, const char *op_name, unsigned int op,
       const char *resolved, bool follow)
{
	struct ward_decision d = ward_matcher_decide(matcher, op, resolved);
	printf("%s %s %s by ", d.allow ? "allow" : "deny", op_name, resolved);
	if (d.rule >= 0)
		printf("rule %s:%d%s", policy->rule[d.rule].file, policy->rule[d.rule].line, d.quiet ? " (quiet)" : "");
	else
		printf("default");
	printf(follow ? " (symlinks followed to the end, as open, stat and execve do)\n"
	              : " (the last component not followed, as unlink, rmdir, rename and mkdir do)\n");
	return d.allow ? 0 : 1;
}

int
ward_cli_explain(int argc, char **argv)
{
	static const struct option longs[] = { { "policy", required_argument, NULL, 'p' },
		                                { "follow", no_argument, NULL, 'F' },
		                                { "no-follow", no_argument, NULL, 'N' },
		                                { "help", no_argument, NULL, 'h' },
		                                { NULL, 0, NULL, 0 } };
	const char *policy_file = NULL;
	int follow = -1, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+p:h", longs, NULL)) != -1) {
		if (opt == 'p')
			policy_file = optarg;
		else if (opt == 'F' || opt == 'N')
			follow = opt == 'F';
		else if (opt == 'h') {
			fputs(usage, stdout);
			fputs("Prints allow or deny for OP (read, stat, write, create, remove, exec) on PATH,\n"
			      "the rule that decides (FILE:LINE or default), and how PATH was resolved.\n"
			      "Exit status: 0 allow, 1 deny, 2 error.\n",
			      stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (policy_file == NULL || argc - optind != 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *op_name = argv[optind], *path = argv[optind + 1];
	size_t bad;
	unsigned int op = ward_policy_parse_ops(op_name, &bad);
	if (op == 0 || (op & (op - 1)) != 0) {
		fprintf(stderr, "ward: explain: '%s': expected one of read, stat, write, create, remove, exec\n", op_name);
		return 2;
	}
	struct ward_policy_error error;
	struct ward_policy *policy = ward_policy_load(policy_file, NULL, &error);
	if (policy == NULL) {
		fprintf(stderr, "%s:%d:%d: error: %s\n", error.file, error.line, error.col, error.message);
		return 2;
	}
	struct ward_matcher *matcher = ward_matcher_build(policy);
	if (matcher == NULL) {
		fputs("ward: explain: out of memory\n", stderr);
		return 2;
	}
	static char resolved[WARD_PATH_MAX];
	static struct ward_resolve_scratch scratch;
	static const struct ward_resolve_options options = { .use_cwd_cache = false };
	bool follow_last = follow < 0 ? follows_by_default(op) : follow == 1;
	int status;
	int r = path[0] == '\0' ? WARD_RESOLVE_FAILS
	                        : ward_resolve(&options, AT_FDCWD, path, follow_last, resolved, &scratch);
	if (r == WARD_RESOLVE_UNKNOWN) {
		printf("deny %s %s: the path cannot be resolved (too long, or no working directory); the shim refuses it\n",
		       op_name, path);
		status = 1;
	} else if (r != 0) {
		fprintf(stderr, "ward: explain: %s: the call would fail by itself (empty path or a symlink loop)\n", path);
		status = 2;
	} else {
		status = answer(policy, matcher, op_name, op, resolved, follow_last);
	}
	ward_matcher_free(matcher);
	ward_policy_free(policy);
	return status;
}
