#!/usr/bin/env bash
# bench/strict_startup.sh [BUILD_DIR]: what `ward run --strict` adds to a
# run's start-up with a 1,000-rule policy (docs/PERFORMANCE.md, "Strict
# mode"): the launcher plans the Landlock ruleset and adds one rule per
# allowed tree before CMD starts.
#
# POLICY: examples/base.ward, then 1,000 `allow ro` rules, each on a
# directory of its own that exists (a rule on a missing path adds nothing
# to the ruleset), and `allow rw` on the scratch tree.  CMD is /bin/true.
# `ward run -s none -p POLICY -- /bin/true` and the same with --strict
# alternate, ROUNDS times each; the figure is the median of each, and
# their difference: the ruleset's cost.  `ward check --strict` says how
# many rules the kernel backs.
#
# Tunables: BENCH_STRICT_STARTUP_ROUNDS (default 41), BENCH_STRICT_STARTUP_RULES
# (default 1000).
set -euo pipefail
build=${1:-build}
ward=$(cd "$build" && pwd)/ward
[[ -x $ward ]] || { echo "strict_startup: no $ward (build first)" >&2; exit 2; }
rounds=${BENCH_STRICT_STARTUP_ROUNDS:-41}
rules=${BENCH_STRICT_STARTUP_RULES:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d /tmp/ward-strict-startup.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

policy=$scratch/p.ward
{
	echo "version 1"
	echo "include $here/examples/base.ward"
	for ((i = 0; i < rules; i++)); do
		mkdir -p "$scratch/trees/t$i"
		echo "allow ro $scratch/trees/t$i/**"
	done
	echo "allow rw $scratch/run/**"
} >"$policy"
mkdir -p "$scratch/run"
check=$("$ward" check --strict "$policy" 2>&1) || true
grep -m1 -i "kernel" <<<"$check" || echo "${check%%$'\n'*}"

# now_ns: the monotonic clock in nanoseconds.
now_ns() { date +%s%N; }

plain=() strict=()
for ((r = 0; r < rounds; r++)); do
	t0=$(now_ns)
	(cd "$scratch/run" && "$ward" run -s none -p "$policy" -- /bin/true)
	t1=$(now_ns)
	(cd "$scratch/run" && "$ward" run --strict -s none -p "$policy" -- /bin/true 2>/dev/null)
	t2=$(now_ns)
	plain+=($(((t1 - t0) / 1000)))
	strict+=($(((t2 - t1) / 1000)))
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mp=$(median "${plain[@]}")
ms=$(median "${strict[@]}")
printf '%-40s %10s\n' "run (median of $rounds, µs)" "start-up"
printf '%-40s %10d\n' "ward run -p ($rules rules) -- /bin/true" "$mp"
printf '%-40s %10d\n' "ward run --strict -p ... -- /bin/true" "$ms"
printf '%-40s %10d\n' "the ruleset (difference)" "$((ms - mp))"
