#!/usr/bin/env bash
# bench/strict_cost.sh [BUILD_DIR]: what `ward run --strict` costs a call,
# timed side by side (docs/PERFORMANCE.md, "Strict mode").
#
# callgrind cannot count it: valgrind passes the shim's
# PR_SET_SYSCALL_USER_DISPATCH on to the kernel, whose dispatch then traps
# valgrind's own system calls (the run dies of SIGSYS), and the kernel's
# Landlock check is not user-mode work anyway.  So each case is timed: the
# same bench_call_loop under `ward run -p POLICY` and `ward run --strict -p
# POLICY`, alternating, ROUNDS times; one call is (t(N) - t(0)) / N of the
# same mode in the same round, so start-up (the launcher, the ruleset)
# cancels out.  Cases:
#   open_close, stat           libc's calls: the wrappers decide them, the
#                              kernel's dispatch lets libc's text through
#   raw_getppid                a system call made outside libc that needs no
#                              decision: under --strict, the SIGSYS round trip
#   raw_stat, raw_open_close   raw calls the handler decides as the wrappers do
# Plain runs never see the raw calls: there the figure is the bare call.
# Then bench_dispatch_loop: dispatch alone, without the shim (below).
#
# POLICY is examples/base.ward plus `allow rw $CWD/**`: the loop's calls
# are decided (open), or unrestricted (stat: base.ward allows stat /**).
#
# With BENCH_STRICT_BASE=OTHER_BUILD, OTHER_BUILD's ward (and its libward.so)
# runs --strict in the same rounds too, on this build's loop program: two
# builds compared under the same load (the column "base strict" and
# strict / base strict).
#
# Tunables: BENCH_STRICT_N (default 200000), BENCH_STRICT_ROUNDS (default 5),
# BENCH_STRICT_OPS (default "open_close stat raw_getppid raw_stat raw_open_close"),
# BENCH_STRICT_BASE (default: none).
# A benchmark, never a test: it asserts nothing.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_STRICT_N:-200000}
rounds=${BENCH_STRICT_ROUNDS:-5}
ops=${BENCH_STRICT_OPS:-open_close stat raw_getppid raw_stat raw_open_close}
base=${BENCH_STRICT_BASE:+$(cd "$BENCH_STRICT_BASE" && pwd)}
work=$(mktemp -d /tmp/ward-strict-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/d"
printf 'version 1\ninclude %s/examples/base.ward\nallow rw $CWD/**\nallow exec %s/bench/*\n' "$src" "$build" \
	>"$work/p.ward"
"$build/bench/bench_call_loop" open_close 0 "$work/d" # the loop's files, made bare

# ns of one run of OP with N calls in MODE ("", --strict, or base: the
# other build's --strict)
run() {
	local mode=$1 op=$2 count=$3 start end ward=$build/ward
	if [ "$mode" = base ]; then ward=$base/ward mode=--strict; fi
	start=$(date +%s%N)
	(cd "$work" && "$ward" run $mode -s none -p p.ward -- "$build/bench/bench_call_loop" "$op" "$count" "$work/d") \
		2>/dev/null
	end=$(date +%s%N)
	echo $((end - start))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

modes=("" --strict)
[ -z "$base" ] || modes+=(base)
if [ -n "$base" ]; then
	printf '%-16s %12s %12s %8s %12s %8s   (ns per call, median of %d rounds, N = %d; base: %s)\n' case plain strict \
		ratio "base strict" "/base" "$rounds" "$n" "$base"
else
	printf '%-16s %12s %12s %8s   (ns per call, median of %d rounds, N = %d)\n' case plain strict ratio "$rounds" "$n"
fi
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (a > 0 ? "%.2fx" : "-"), b / a }'; }
for op in $ops; do
	plain=() strict=() based=()
	for ((i = 0; i < rounds; i++)); do
		for mode in "${modes[@]}"; do
			t0=$(run "$mode" "$op" 0)
			t1=$(run "$mode" "$op" "$n")
			per=$(((t1 - t0) / n))
			case $mode in
			"") plain+=("$per") ;;
			--strict) strict+=("$per") ;;
			base) based+=("$per") ;;
			esac
		done
	done
	p=$(printf '%s\n' "${plain[@]}" | median)
	s=$(printf '%s\n' "${strict[@]}" | median)
	if [ -n "$base" ]; then
		b=$(printf '%s\n' "${based[@]}" | median)
		printf '%-16s %12s %12s %8s %12s %8s   plain: %s  strict: %s  base strict: %s\n' "$op" "$p" "$s" "$(ratio "$p" "$s")" \
			"$b" "$(ratio "$b" "$s")" "${plain[*]}" "${strict[*]}" "${based[*]}"
	else
		printf '%-16s %12s %12s %8s   plain: %s  strict: %s\n' "$op" "$p" "$s" "$(ratio "$p" "$s")" "${plain[*]}" \
			"${strict[*]}"
	fi
done

# Dispatch by itself, in one process (no shim): libc's calls with it off and
# on, and the floor of a raw call's round trip through a handler.
if [ -x "$build/bench/bench_dispatch_loop" ]; then
	echo "== Syscall User Dispatch alone, one process, no shim (bench_dispatch_loop $n $rounds): median ns per call"
	"$build/bench/bench_dispatch_loop" "$n" "$rounds" "$work/d"
fi
