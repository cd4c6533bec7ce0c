/*
 * fuzz_parse: libFuzzer target for the policy parser and matcher.
 *
 * Any bytes must parse or fail with a position inside the text, never
 * crash, hang or leak; a policy that parses must compile, and the compiled
 * matcher must agree with the naive reference on a few paths.
 * Built by meson when clang with -fsanitize=fuzzer is available:
 *   build/fuzz_policy -max_total_time=60 tests/fuzz-corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "match.h"
#include "policy.h"

static const char *
no_variables(const char *name, void *context)
{
	(void)context;
	return name[0] == 'H' ? "/home/fuzz" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "/", "/a", "/a/b", "/etc/shadow", "/home/fuzz/.ssh/id", "/x/y/z.c" };
	struct ward_policy_env env = { no_variables, NULL, "/work" };
	struct ward_policy_error error;
	struct ward_policy *p = ward_policy_parse("fuzz.ward", (const char *)data, size, &env, &error);
	if (p == NULL) {
		if (error.line < 1 || error.col < 1)
			abort();
		return 0;
	}
	struct ward_matcher *m = ward_matcher_build(p);
	if (m == NULL)
		abort();
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (unsigned int op = 1; op < WARD_OP_ALL; op <<= 1) {
			struct ward_decision a = ward_matcher_decide(m, op, paths[i]);
			struct ward_decision b = ward_policy_decide_naive(p, op, paths[i]);
			if (a.allow != b.allow || a.rule != b.rule || a.quiet != b.quiet)
				abort();
		}
	}
	ward_matcher_free(m);
	ward_policy_free(p);
	return 0;
}
