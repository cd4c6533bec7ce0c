/*
 * numeric.c: exp, log and round by range reduction and short series.
 * See numeric.h for why they exist.
 */
#include "numeric.h"

#include <stdint.h>
#include <string.h>

static const double ln2_hi = 6.93147180369123816490e-01; /* ln 2, high bits (exact times small ints) */
static const double ln2_lo = 1.90821492927058770002e-10; /* ln 2 - ln2_hi */
static const double ln2 = 0.69314718055994530942;

static uint64_t
bits(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof(u));
	return u;
}

static double
from_bits(uint64_t u)
{
	double x;
	memcpy(&x, &u, sizeof(x));
	return x;
}

/* x * 2^k for any k an exp result needs, in two steps so that neither
 * factor overflows or underflows on its own. */
static double
scale(double x, int k)
{
	int half = k / 2;
	return x * from_bits((uint64_t)(half + 1023) << 52) * from_bits((uint64_t)(k - half + 1023) << 52);
}

double
ward_exp(double x)
{
	if (x != x)
		return x;
	if (x > 709.782712893384)
		return from_bits(0x7ff0000000000000ull); /* +inf */
	if (x < -745.1332191019412)
		return 0.0;
	/* x = k ln2 + r, |r| <= ln2 / 2; exp(r) by its Taylor series. */
	double kf = x / ln2;
	int k = (int)(kf < 0 ? kf - 0.5 : kf + 0.5);
	double r = (x - k * ln2_hi) - k * ln2_lo;
	double term = 1.0, sum = 1.0;
	for (int n = 1; n < 20; n++) {
		term *= r / n;
		sum += term;
	}
	return scale(sum, k);
}

double
ward_log(double x)
{
	if (x != x || x < 0)
		return from_bits(0x7ff8000000000000ull); /* NaN */
	if (x == 0)
		return -from_bits(0x7ff0000000000000ull);
	uint64_t u = bits(x);
	if ((u >> 52) == 0x7ff)
		return x; /* +inf */
	int e = 0;
	if ((u >> 52) == 0) { /* subnormal: make it normal first */
		x *= 0x1p54;
		u = bits(x);
		e = -54;
	}
	/* x = m 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s). */
	e += (int)(u >> 52) - 1023;
	double m = from_bits((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
	if (m > 1.4142135623730951) {
		m /= 2;
		e++;
	}
	double s = (m - 1) / (m + 1), s2 = s * s, power = s, sum = 0;
	for (int n = 1; n < 40; n += 2) {
		sum += power / n;
		power *= s2;
	}
	return e * ln2_hi + (e * ln2_lo + 2 * sum);
}

double
ward_round(double x)
{
	if (!(x < 0x1p52 && x > -0x1p52))
		return x; /* NaN, infinities, and doubles too large to have a fraction */
	double t = (double)(int64_t)x, d = x - t;
	if (d >= 0.5)
		t += 1;
	else if (d <= -0.5)
		t -= 1;
	return t == 0 && bits(x) >> 63 ? -0.0 : t; /* round(-0.3) is -0.0 */
}
