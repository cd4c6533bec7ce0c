/*
 * check.c: `ward check [--strict] POLICY...`: load each policy as the shim
 * would and say `FILE: ok (N rules)` or `FILE:LINE:COL: error: MESSAGE`
 * (SPEC 4); --strict adds what the kernel would back (strict.c).
 * Exit 0 when every file is valid, 1 otherwise, 2 for a usage error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "policy.h"

static int
check_one(const char *file, bool strict)
{
	struct ward_policy_error error;
	struct ward_policy *policy = ward_policy_load(file, NULL, &error);
	if (policy == NULL) {
		fprintf(stderr, "%s:%d:%d: error: %s\n", error.file, error.line, error.col, error.message);
		return 1;
	}
	for (size_t i = 0; i < policy->nwarnings; i++)
		fprintf(stderr, "%s\n", policy->warning[i]);
	printf("%s: ok (%zu rule%s)\n", file, policy->nrules, policy->nrules == 1 ? "" : "s");
	int status = strict ? strict_check(file, policy) : 0;
	ward_policy_free(policy);
	return status;
}

int
cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "strict", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	bool strict = false;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		if (opt == 'h') {
			cli_help("check", stdout);
			return 0;
		}
		if (opt == 'S') {
			strict = true;
			continue;
		}
		return cli_usage_error("check", 2, "unknown option: %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error("check", 2, "no policy file given");
	int status = 0;
	for (int i = optind; i < argc; i++)
		status |= check_one(argv[i], strict);
	return status;
}
