/*
 * numeric: exp, log and round without libm.
 *
 * libward.so carries a private jemalloc whose heap-profiling code (off
 * unless MALLOC_CONF asks for it) calls exp, log and round; linking libm
 * for three functions would load one more library into every process.
 * Accurate to a few units in the last place, which is far beyond what a
 * sampling interval needs; unit-tested against libm.
 */
#ifndef WARD_CORE_NUMERIC_H
#define WARD_CORE_NUMERIC_H

double ward_exp(double x);
double ward_log(double x);
double ward_round(double x);

#endif
