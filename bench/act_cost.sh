#!/usr/bin/env bash
# bench/act_cost.sh [BUILD_DIR]: what acting on exactly the decided path
# costs per checked call (docs/PERFORMANCE.md, "Acting on the decided
# path"): system calls per operation counted with `strace -f -c` (the
# difference between N and 11·N iterations, divided by 10·N), bare, with
# the shim observing, and enforcing a policy that restricts every operation
# somewhere (so every call is checked) and allows the loop's directory.
# A benchmark, never a test: it prints figures and asserts nothing.
set -euo pipefail
build=${1:-build}
n=${BENCH_ACT_N:-200}
loop=$build/bench/bench_act_loop
lib=$(realpath "$build/libward.so")
command -v strace >/dev/null || { echo "act_cost.sh: strace is needed" >&2; exit 1; }
[ -x "$loop" ] || { echo "act_cost.sh: $loop missing (ninja -C $build)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ward-act.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/d"
printf 'default allow\ndeny all /home/nobody/secret/**\nallow all %s/**\n' "$work" > "$work/p.ward"

# A directory whose name is over 300 bytes long (12 components), as real
# builds have: longer than the directory cache's small entries.
long=$work/l
while [ ${#long} -lt 300 ]; do long=$long/a-directory-name-20-b; done

# syscalls OPS N CASE [deep|long]: total system calls of one run (long: in
# the long directory; deep: see below)
syscalls() {
	local op=$1 count=$2 side=$3 out="$work/strace.txt" dir=$work/d deep=${4:-}
	if [ "$deep" = long ]; then
		dir=$long deep=
	fi
	rm -rf "$work/d" "$work/l" && mkdir -p "$dir"
	case $side in
	bare) strace -f -c -o "$out" "$loop" "$op" "$count" "$dir" $deep ;;
	observe) strace -f -c -o "$out" env LD_PRELOAD="$lib" "$loop" "$op" "$count" "$dir" $deep ;;
	enforce) strace -f -c -o "$out" env LD_PRELOAD="$lib" WARD_POLICY="$work/p.ward" "$loop" "$op" "$count" "$dir" $deep ;;
	esac
	awk '$NF == "total" { print $(NF-2) }' "$out"
}

printf '%-14s %8s %8s %8s   (system calls per operation)\n' operation bare observe enforce
for op in open_close stat fopen_fclose opendir chmod mkdir_rmdir rename unlink_creat; do
	row=()
	for side in bare observe enforce; do
		a=$(syscalls "$op" "$n" "$side")
		b=$(syscalls "$op" $((11 * n)) "$side")
		row+=("$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / (10 * n) }')")
	done
	printf '%-14s %8s %8s %8s\n' "$op" "${row[@]}"
done

# The same in the long directory (its name ${#long} bytes).
echo
printf '%-14s %8s %8s %8s   (system calls per operation, in a directory %d bytes long)\n' operation bare observe enforce ${#long}
for op in open_close stat fopen_fclose opendir chmod mkdir_rmdir rename unlink_creat; do
	row=()
	for side in bare observe enforce; do
		a=$(syscalls "$op" "$n" "$side" long)
		b=$(syscalls "$op" $((11 * n)) "$side" long)
		row+=("$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / (10 * n) }')")
	done
	printf '%-14s %8s %8s %8s\n' "$op" "${row[@]}"
done

# The same in a working directory deeper than the kernel names (25 levels
# of 200 bytes): the name is walked up by ".." once per chdir, and every
# call on it goes through anchors (docs/POLICY.md, "Decisions").
echo
printf '%-14s %8s %8s   (system calls per operation, cwd 5,000 bytes deep)\n' operation bare enforce
for op in open_close stat fopen_fclose opendir chmod mkdir_rmdir rename unlink_creat; do
	row=()
	for side in bare enforce; do
		a=$(syscalls "$op" "$n" "$side" deep)
		b=$(syscalls "$op" $((11 * n)) "$side" deep)
		row+=("$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / (10 * n) }')")
	done
	printf '%-14s %8s %8s\n' "$op" "${row[@]}"
done
[ "${BENCH_ACT_RUNS:-5}" = 0 ] && exit 0

# Timed, side by side (noisy on a shared VM: medians of BENCH_ACT_RUNS
# runs, the sides taking turns): ns per operation.
runs=${BENCH_ACT_RUNS:-5}
tn=${BENCH_ACT_TIME_N:-20000}
echo
printf '%-14s %8s %8s %8s   (ns per operation, median of %d runs of %d)\n' operation bare observe enforce "$runs" "$tn"
now() { date +%s%N; }
for op in open_close stat fopen_fclose opendir chmod mkdir_rmdir rename unlink_creat; do
	declare -A t=()
	for ((i = 0; i < runs; i++)); do
		for side in bare observe enforce; do
			rm -rf "$work/d" && mkdir "$work/d"
			case $side in
			bare) env=() ;;
			observe) env=(LD_PRELOAD="$lib") ;;
			enforce) env=(LD_PRELOAD="$lib" WARD_POLICY="$work/p.ward") ;;
			esac
			a=$(now)
			env "${env[@]}" "$loop" "$op" "$tn" "$work/d"
			b=$(now)
			t[$side]+="$(((b - a) / tn)) "
		done
	done
	row=()
	for side in bare observe enforce; do
		row+=("$(tr ' ' '\n' <<<"${t[$side]}" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')")
	done
	printf '%-14s %8s %8s %8s\n' "$op" "${row[@]}"
	unset t
done
