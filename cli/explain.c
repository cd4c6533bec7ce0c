/*
 * explain.c: `ward explain`, the policy's answer for operations on one
 * path, resolved exactly as the shim resolves it (core/resolve: the same
 * code, so explain and enforcement cannot disagree).
 *
 * OP is any operation or alias of SPEC 5.1, or a comma list of them
 * (`ro`, `rw,exec`, `all`): each operation gets its own answer line, and
 * the status is deny as soon as one is denied.  For `exec`, a NAME without
 * '/' is looked up on $PATH as execvp does (core/program: the search the
 * shim runs for execvp and `ward run` for CMD), and every #! interpreter
 * the kernel would start is answered for too, as the shim decides each.
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explain.h"
#include "match.h"
#include "policy.h"
#include "program.h"
#include "resolve.h"


static const char help[] =
	"usage: ward explain -p POLICY [--follow|--no-follow] OP PATH\n"
	"\n"
	"Print the policy's answer for OP on PATH: 'allow' or 'deny', the operation,\n"
	"the path as the shim resolves it, and the deciding rule (FILE:LINE or default).\n"
	"OP is read, stat, write, create, remove, exec, an alias (ro = read,stat;\n"
	"rw = read,stat,write,create,remove; rx = read,stat,exec; all) or a comma list\n"
	"of them: one answer line per operation.  'exec NAME' with no '/' in NAME\n"
	"searches $PATH as execvp does, and answers for each #! interpreter too.\n"
	"\n"
	"  -p, --policy FILE   the policy to ask\n"
	"      --follow        follow a symlink at the last component\n"
	"      --no-follow     do not (default: as the operation's calls do)\n"
	"  -h, --help          this help\n"
	"\n"
	"Exit status: 0 every operation allowed; 1 one is denied; 2 error.\n";
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

struct explain {
	const struct ward_policy *policy;
	const struct ward_matcher *matcher;
	int follow; /* -1: as the operation's calls do */
};

/* One operation on one path: 0 allow, 1 deny, 2 the call fails by itself. */
static int
explain_one(const struct explain *e, unsigned int op, const char *path)
{
	static char resolved[WARD_NAME_MAX];
	static struct ward_resolve_scratch scratch;
	static const struct ward_resolve_options options = { .use_cwd_cache = false };
	const char *op_name = ward_op_name(op);
	bool follow_last = e->follow < 0 ? follows_by_default(op) : e->follow == 1;
	int r = path[0] == '\0' ? WARD_RESOLVE_FAILS
	                        : ward_resolve(&options, AT_FDCWD, path, follow_last, resolved, &scratch);
	if (r == WARD_RESOLVE_UNKNOWN) {
		printf("deny %s %s: the path cannot be resolved (a name too long to tell, or no working directory); the shim refuses it\n",
		       op_name, path);
		return 1;
	}
	if (r != 0) {
		fprintf(stderr, "ward: explain: %s: the call would fail by itself (an empty path, a symlink loop, or %d bytes or more)\n",
		        path, PATH_MAX);
		return 2;
	}
	return answer(e->policy, e->matcher, op_name, op, resolved, follow_last);
}

/* exec: the program execvp would start (NAME on $PATH), then each #!
 * interpreter the kernel would open, as the shim decides them. */
static int
explain_exec(const struct explain *e, const char *path)
{
	static struct ward_program program;
	static char found[PATH_MAX];
	const char *file = path;
	if (strchr(path, '/') == NULL && path[0] != '\0') {
		file = ward_program_search(path, getenv("PATH"), true, found, sizeof(found), &program);
		if (file == NULL) {
			fprintf(stderr, "ward: explain: %s: not found on PATH (execvp would fail)\n", path);
			return 2;
		}
		printf("exec %s: found on PATH as %s\n", path, file);
	} else {
		ward_program_inspect(AT_FDCWD, path, false, &program);
	}
	int status = explain_one(e, WARD_OP_EXEC, file);
	for (unsigned int i = 1; i < program.levels && status != 2; i++) {
		const char *interp = ward_program_level(&program, i, NULL);
		printf("%s is a #! script run by %s:\n", i == 1 ? file : ward_program_level(&program, i - 1, NULL), interp);
		int s = explain_one(e, WARD_OP_EXEC, interp);
		status = s > status ? s : status;
	}
	return status;
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
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+p:h", longs, NULL)) != -1) {
		if (opt == 'p')
			policy_file = optarg;
		else if (opt == 'F' || opt == 'N')
			follow = opt == 'F';
		else if (opt == 'h') {
			fputs(help, stdout);
			return 0;
		} else {
			return cli_usage_error("explain", 2, "unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (policy_file == NULL)
		return cli_usage_error("explain", 2, "no policy given (-p POLICY)");
	if (argc - optind != 2)
		return cli_usage_error("explain", 2, "expected OP PATH");
	const char *op_name = argv[optind], *path = argv[optind + 1];
	size_t bad;
	unsigned int ops = ward_policy_parse_ops(op_name, &bad);
	if (ops == 0)
		return cli_usage_error("explain", 2,
		                       "'%s': expected read, stat, write, create, remove, exec, ro, rw, rx, all "
		                       "or a comma list of them",
		                       op_name);
	struct ward_policy_error error;
	struct ward_policy *policy = ward_policy_load(policy_file, NULL, &error);
	if (policy == NULL) {
		fprintf(stderr, "%s:%d:%d: error: %s\n", error.file, error.line, error.col, error.message);
		return 2;
	}
	struct ward_matcher *matcher = ward_matcher_build(policy);
	if (matcher == NULL) {
		fputs("ward: explain: out of memory\n", stderr);
		ward_policy_free(policy);
		return 2;
	}
	struct explain e = { policy, matcher, follow };
	int status = 0;
	for (unsigned int op = 1; op <= ops && op <= WARD_OP_ALL; op <<= 1) {
		if (!(ops & op))
			continue;
		int s = op == WARD_OP_EXEC ? explain_exec(&e, path) : explain_one(&e, op, path);
		status = s > status ? s : status;
	}
	ward_matcher_free(matcher);
	ward_policy_free(policy);
	return status;
}
