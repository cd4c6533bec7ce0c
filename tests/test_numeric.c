/*
 * core/numeric: exp, log and round against libm (the private jemalloc's
 * heap profiling calls them; see core/numeric.h).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "numeric.h"

/* Distance in units in the last place. */
static double
ulps(double got, double want)
{
	if (got == want)
		return 0;
	return fabs(got - want) / fabs(nextafter(want, INFINITY) - want);
}

Test(numeric, exp_matches_libm)
{
	uint64_t seed = 42;
	for (int i = 0; i < 200000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		double x = ((double)(seed >> 11) / (double)(1ull << 53)) * 1400 - 700;
		cr_assert_leq(ulps(ward_exp(x), exp(x)), 4, "exp(%a): %a, libm %a", x, ward_exp(x), exp(x));
	}
	cr_assert_eq(ward_exp(0), 1);
	cr_assert(isinf(ward_exp(1000)));
	cr_assert_eq(ward_exp(-1000), 0);
	cr_assert(isnan(ward_exp(NAN)));
	cr_assert_leq(ulps(ward_exp(-740), exp(-740)), 4, "subnormal result");
}

Test(numeric, log_matches_libm)
{
	uint64_t seed = 7;
	for (int i = 0; i < 200000; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		double x;
		uint64_t bits = (seed >> 2) & 0x7fefffffffffffffull; /* any positive finite double */
		memcpy(&x, &bits, sizeof(x));
		if (x == 0)
			continue;
		cr_assert_leq(ulps(ward_log(x), log(x)), 4, "log(%a): %a, libm %a", x, ward_log(x), log(x));
	}
	cr_assert_eq(ward_log(1), 0);
	cr_assert(isinf(ward_log(0)) && ward_log(0) < 0);
	cr_assert(isnan(ward_log(-1)));
	cr_assert(isinf(ward_log(INFINITY)));
	cr_assert_leq(ulps(ward_log(0x1p-1070), log(0x1p-1070)), 4, "subnormal argument");
}

Test(numeric, round_matches_libm)
{
	static const double cases[] = { 0.0, -0.0, 0.3, -0.3, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5,
		                        0.49999999999999994, -0.49999999999999994, 4503599627370495.5,
		                        1e300, -1e300, 123456.789, -98765.4321 };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got = ward_round(cases[i]), want = round(cases[i]);
		cr_assert(got == want && signbit(got) == signbit(want), "round(%a): %a, libm %a", cases[i], got, want);
	}
	cr_assert(isnan(ward_round(NAN)));
	cr_assert(isinf(ward_round(INFINITY)));
}
