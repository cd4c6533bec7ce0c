/*
 * decide: cost of one policy decision against policy size, per bucket
 * compare (scalar, SSE2, AVX2), with the naive every-rule reference beside
 * it for scale.
 *
 * Policies of 10, 100, 1,000 and 10,000 rules mix literal paths, subtrees
 * and globs the way real policies do; the queried paths hit and miss them.
 * SPEC 8: a decision with 10,000 rules may cost at most 1.5x one with 10.
 *
 *   build/bench/bench_decide [iterations [RULES[,RULES...] [scalar|sse2|avx2|naive]]]
 *
 * RULES picks policy sizes (default 10,100,1000,10000) and the last
 * argument one compare (or the naive reference alone), for counting instructions under callgrind: run N
 * and 11N iterations, the difference over 10N is one decision.
 *
 * Environment: BENCH_DECIDE_PATHS=N queries, at every size, the paths made
 * for N rules (the same directories whatever the policy: the per-directory
 * cache hits as often at every size); BENCH_DECIDE_UNCACHED=1 decides
 * without that cache (ward_matcher_decide_uncached: the prefix table
 * alone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "match.h"
#include "policy.h"

static double
now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static char *
make_policy(int rules, size_t *len)
{
	size_t cap = (size_t)rules * 64 + 256;
	char *text = malloc(cap);
	size_t n = (size_t)snprintf(text, cap, "default deny\nallow stat /**\n");
	for (int i = 0; n < cap && i < rules - 1; i++) {
		switch (i % 4) {
		case 0: n += (size_t)snprintf(text + n, cap - n, "allow ro /usr/share/pkg%d/**\n", i); break;
		case 1: n += (size_t)snprintf(text + n, cap - n, "deny all /home/u/d%d/secret%d\n", i % 97, i); break;
		case 2: n += (size_t)snprintf(text + n, cap - n, "allow exec /opt/bin%d/*\n", i); break;
		default: n += (size_t)snprintf(text + n, cap - n, "allow rw /srv/p%d/*.c\n", i); break;
		}
	}
	*len = n;
	return text;
}

static void
make_paths(char paths[][96], int count, int rules)
{
	for (int i = 0; i < count; i++) {
		int k = (i * 7919) % (rules > 4 ? rules : 4);
		switch (i % 5) {
		case 0: snprintf(paths[i], 96, "/usr/share/pkg%d/doc/README", k - k % 4); break;
		case 1: snprintf(paths[i], 96, "/home/u/d%d/secret%d", (k - k % 4 + 1) % 97, k - k % 4 + 1); break;
		case 2: snprintf(paths[i], 96, "/opt/bin%d/tool", k - k % 4 + 2); break;
		case 3: snprintf(paths[i], 96, "/srv/p%d/main.c", k - k % 4 + 3); break;
		default: snprintf(paths[i], 96, "/var/lib/nothing/here/%d", i); break;
		}
	}
}

#define NPATHS 1024

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 2000000;
	static char paths[NPATHS][96];
	int sizes[16] = { 10, 100, 1000, 10000 };
	size_t nsizes = 4;
	static const char *const simd_names[] = { "scalar", "sse2", "avx2" };
	int only_simd = -1;
	if (argc > 2) {
		nsizes = 0;
		for (char *s = argv[2], *end; *s != '\0' && nsizes < 16; s = *end == ',' ? end + 1 : end)
			sizes[nsizes++] = (int)strtol(s, &end, 10);
	}
	for (int simd = WARD_SIMD_SCALAR; argc > 3 && simd <= WARD_SIMD_AVX2; simd++)
		if (strcmp(argv[3], simd_names[simd]) == 0)
			only_simd = simd;
	if (argc > 3 && strcmp(argv[3], "naive") == 0)
		only_simd = 3;
	const char *env = getenv("BENCH_DECIDE_PATHS");
	int paths_for = env != NULL ? atoi(env) : 0;
	env = getenv("BENCH_DECIDE_UNCACHED");
	struct ward_decision (*decide)(const struct ward_matcher *, unsigned int, const char *) =
		env != NULL && strcmp(env, "1") == 0 ? ward_matcher_decide_uncached : ward_matcher_decide;
	double base[3] = { 0 };
	printf("%-8s %-8s %12s %14s\n", "rules", "compare", "ns/decision", "vs 10 rules");
	for (size_t s = 0; s < nsizes; s++) {
		size_t len;
		char *text = make_policy(sizes[s], &len);
		struct ward_policy_error e;
		struct ward_policy *p = ward_policy_parse("bench.ward", text, len, NULL, &e);
		if (p == NULL) {
			fprintf(stderr, "bench policy: %d:%d: %s\n", e.line, e.col, e.message);
			return 1;
		}
		struct ward_matcher *m = ward_matcher_build(p);
		make_paths(paths, NPATHS, paths_for > 0 ? paths_for : sizes[s]);
		for (int simd = WARD_SIMD_SCALAR; simd <= WARD_SIMD_AVX2; simd++) {
			if ((only_simd >= 0 && simd != only_simd) || !ward_matcher_set_simd((enum ward_simd)simd))
				continue;
			unsigned long allowed = 0;
			double t0 = now_ns();
			for (long i = 0; i < iterations; i++)
				allowed += decide(m, WARD_OP_READ, paths[i & (NPATHS - 1)]).allow;
			double per = (now_ns() - t0) / (double)iterations;
			if (s == 0)
				base[simd] = per;
			printf("%-8d %-8s %12.1f %13.2fx   (%lu allowed)\n", sizes[s], simd_names[simd], per,
			       per / base[simd], allowed);
		}
		long naive_iterations = only_simd < 0 || only_simd == 3 ? iterations / (sizes[s] / 10 + 1) : 0;
		double t0 = now_ns();
		unsigned long allowed = 0;
		for (long i = 0; i < naive_iterations; i++)
			allowed += ward_policy_decide_naive(p, WARD_OP_READ, paths[i & (NPATHS - 1)]).allow;
		if (naive_iterations > 0)
			printf("%-8d %-8s %12.1f %14s   (%lu allowed)\n", sizes[s], "naive",
			       (now_ns() - t0) / (double)naive_iterations, "", allowed);
		ward_matcher_free(m);
		ward_policy_free(p);
		free(text);
	}
	return 0;
}
