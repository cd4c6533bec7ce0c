/*
 * empty_preload: a shared library with nothing in it, preloaded by run.sh as
 * the floor of any LD_PRELOAD shim.  The dynamic loader opens, maps and
 * relocates a preloaded library in every process, whatever the library
 * does; timing a workload with this one preloaded separates that fixed cost
 * (not ward's to remove) from what libward.so adds on top of it.
 */

/* ISO C wants one declaration per translation unit. */
int ward_bench_empty_preload;
