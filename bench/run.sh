#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR]: ward's benchmarks, each measured side by side with
# the same program run without the shim, in one run.  docs/PERFORMANCE.md
# explains every figure and keeps the latest ones.
#
# Builds nothing: run `ninja -C BUILD_DIR` first (BUILD_DIR defaults to build;
# the bench option is on by default).  Needs only bash, awk, sed and sort.
#
# Sides take turns round by round, in an order that rotates every round, so
# that a drift of the machine's speed during the run weighs on every side
# alike.  A ratio is the median of the per-round ratios; the times beside it
# are the medians of each side.  The shim runs observe-only: no policy, no
# dump (every WARD_* variable is removed from the environment).
#
# Tunables (environment):
#   BENCH_ROUNDS         rounds of every comparison            (default 9)
#   BENCH_IO_ITERATIONS  calls of each kind per io_loops run    (default 100000)
#   BENCH_COUNTER_ADDS   adds per thread per counters run       (default 5000000)
#
# Exit status: 0 when every run succeeded and every total was exact, whether
# or not the figures meet the targets (the summary says which do); 1 if not.
set -euo pipefail

build=${1:-build}
rounds=${BENCH_ROUNDS:-9}
io_iterations=${BENCH_IO_ITERATIONS:-100000}
counter_adds=${BENCH_COUNTER_ADDS:-5000000}

lib=$build/libward.so
empty=$build/bench/bench_empty_preload.so
io_loops=$build/bench/bench_io_loops
counters=$build/bench/bench_counters
timeit=$build/bench/bench_timeit
decide=$build/bench/bench_decide
for f in "$lib" "$empty" "$io_loops" "$counters" "$timeit" "$decide"; do
	if [[ ! -f $f ]]; then
		echo "run.sh: $f is missing: build first (meson configure $build -Dbench=true; ninja -C $build)" >&2
		exit 1
	fi
done
lib=$(realpath "$lib")
empty=$(realpath "$empty")

# Observe-only and no dump: nothing from the caller's environment may
# configure the shim or preload anything into the bare runs.
while read -r name; do
	unset "$name"
done < <(compgen -e | grep '^WARD_' || true)
unset LD_PRELOAD

# python3 by its real path: a version manager's python3 in PATH may be a
# shell script, and the workload would time that script too.
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3)

# ---- helpers ----

# field NAME LINE: the number after NAME= in LINE.
field() {
	sed -n "s/.*[[:space:]]$1=\(-\{0,1\}[0-9.]*\).*/\1/p" <<<" $2"
}

# median VALUE...: the middle value (mean of the two middle ones if even).
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR % 2) printf "%.4f\n", v[(NR + 1) / 2];
		      else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc EXPRESSION: awk arithmetic, printed with FORMAT (default %.4f).
calc() {
	awk "BEGIN { printf \"${2:-%.4f}\\n\", $1 }"
}

# verdict VALUE OP TARGET: "met" or "NOT met".
verdict() {
	awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
		ok = (op == "<=") ? (v <= t) : (v >= t); print ok ? "met" : "NOT met" }'
}

load() {
	cut -d' ' -f1-3 /proc/loadavg
}

echo "ward benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "host: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
if rev=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null); then
	git -C "$(dirname "$0")" diff --quiet HEAD 2>/dev/null || rev="$rev + local changes"
	echo "commit: $rev"
fi
echo "library: $lib"
echo "load average at start: $(load)   (anything else running skews every figure)"
echo "rounds: $rounds; sides alternate, ratio = median of per-round ratios"
echo

# ---- 1. micro-loops ----
loops=(open_close stat pread_4k readdir)
declare -A io_bare io_shim io_x io_paired_x io_added io_libc io_floor
echo "== io_loops: $io_iterations calls of each kind per run, ns per call =="
echo "   (bare | shim; then the shim run's paired ratio wrapper/libc inside the process)"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=(bare shim); else order=(shim bare); fi
	for side in "${order[@]}"; do
		if [[ $side == bare ]]; then
			bare_line=$("$io_loops" "$io_iterations")
		else
			shim_line=$(LD_PRELOAD=$lib "$io_loops" "$io_iterations")
		fi
	done
	line="round $r"
	for l in "${loops[@]}"; do
		b=$(field "${l}_ns" "$bare_line") s=$(field "${l}_ns" "$shim_line")
		io_bare[$l]+="$b " io_shim[$l]+="$s " io_x[$l]+="$(calc "$s / $b") "
		io_paired_x[$l]+="$(field "paired_${l}_x" "$shim_line") "
		io_added[$l]+="$(field "added_${l}_ns" "$shim_line") "
		io_libc[$l]+="$(field "direct_${l}_ns" "$shim_line") "
		io_floor[$l]+="$(field "paired_${l}_x" "$bare_line") "
		line+=$(printf '  %s %s|%s %s' "$l" "$b" "$s" "$(field "paired_${l}_x" "$shim_line")")
	done
	echo "$line"
done
echo

# ---- 1b. the same micro-loops enforcing a 1,000-rule policy ----
# default allow, 999 rules naming other places, and a deny for every
# operation on one file: no operation is unrestricted, so every call's path
# is resolved and decided (SPEC 8: <= 1.10x).
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
policy=$scratch/policy-1000.ward
{
	echo "version 1"
	echo "default allow"
	for ((i = 0; i < 999; i++)); do
		case $((i % 3)) in
		0) echo "deny write,create,remove /srv/data$i/**" ;;
		1) echo "allow ro /opt/tool$i/**" ;;
		2) echo "deny all /home/nobody/secret$i" ;;
		esac
	done
	echo "deny all /etc/shadow"
} >"$policy"
declare -A enf_bare enf_shim enf_x
echo "== io_loops enforcing a 1,000-rule policy: ns per call =="
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=(bare shim); else order=(shim bare); fi
	for side in "${order[@]}"; do
		if [[ $side == bare ]]; then
			bare_line=$("$io_loops" "$io_iterations")
		else
			shim_line=$(LD_PRELOAD=$lib WARD_POLICY=$policy "$io_loops" "$io_iterations")
		fi
	done
	line="round $r"
	for l in "${loops[@]}"; do
		b=$(field "${l}_ns" "$bare_line") s=$(field "${l}_ns" "$shim_line")
		enf_bare[$l]+="$b " enf_shim[$l]+="$s " enf_x[$l]+="$(calc "$s / $b") "
		line+=$(printf '  %s %s|%s' "$l" "$b" "$s")
	done
	echo "$line"
done
echo

# ---- 1c. decision cost against policy size ----
echo "== policy decisions: ns per decision by policy size and bucket compare =="
decide_out=$("$decide" 2000000)
echo "$decide_out"
echo

# ---- 2. counters ----
echo "== counters: $counter_adds adds per thread, Mops/s (median of 5 runs) =="
counters_out=$("$counters" "$counter_adds" 5)
echo "$counters_out"
echo
counters_x=$(sed -n 's/.*slots\/shared_atomic threads=2 x=\([0-9.]*\).*/\1/p' <<<"$counters_out")
counters_atomic=$(sed -n 's/.*variant=shared_atomic threads=2 mops=\([0-9.]*\).*/\1/p' <<<"$counters_out")
counters_slots=$(sed -n 's/.*variant=slots threads=2 mops=\([0-9.]*\).*/\1/p' <<<"$counters_out")

# ---- 3. whole programs ----
# name|runs per timed sample|command.  Short programs run several times in a
# sample so that a sample lasts long enough to time well.
# A small C project for the build workload: 12 files, make -j2.
project=$scratch/project
mkdir -p "$project"
for ((i = 0; i < 12; i++)); do
	printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint f%d(int x) { char b[32]; snprintf(b, sizeof b, "%%d", x); return (int)strlen(b) + %d; }\n' "$i" "$i" >"$project/f$i.c"
done
{
	printf 'int main(void) { return 0; }\n'
} >"$project/main.c"
{
	printf 'OBJS = main.o'
	for ((i = 0; i < 12; i++)); do printf ' f%d.o' "$i"; done
	printf '\nprog: $(OBJS)\n\tcc -o $@ $(OBJS)\n%%.o: %%.c\n\tcc -O2 -c $<\nclean:\n\trm -f *.o prog\n'
} >"$project/Makefile"

workloads=(
	"make|1|sh -c 'make -s -C $project clean && make -s -j2 -C $project'"
	"find|1|find /usr -xdev"
	"ls-lR|4|ls -lR /usr/include"
	"python3|5|$python -c 'import json, email, http.client, xml.dom.minidom'"
	"spawn|1|sh -c 'for i in \$(seq 1000); do /bin/true; done'"
)
declare -A describe=(
	[make]="make -j2 (13 C files)"
	[find]="find /usr -xdev"
	[ls-lR]="ls -lR /usr/include"
	[python3]="python3 -c 'import json, email, ...'"
	[spawn]="sh: 1,000 x /bin/true"
)
sides=(bare empty shim)
declare -A wall cpu
echo "== whole programs: wall-clock ms per run, bare|empty preload|shim =="
for w in "${workloads[@]}"; do # warm the page cache and the bytecode caches
	IFS='|' read -r name repeat command <<<"$w"
	eval "set -- $command"
	"$timeit" -- "$@" >/dev/null
done
for ((r = 1; r <= rounds; r++)); do
	# rotate the order: bare empty shim, empty shim bare, shim bare empty...
	order=("${sides[@]:$(((r - 1) % 3))}" "${sides[@]:0:$(((r - 1) % 3))}")
	line="round $r"
	for w in "${workloads[@]}"; do
		IFS='|' read -r name repeat command <<<"$w"
		eval "set -- $command"
		declare -A out=()
		for side in "${order[@]}"; do
			case $side in
			bare) out[$side]=$("$timeit" -n "$repeat" -- "$@") ;;
			empty) out[$side]=$("$timeit" -n "$repeat" -p "$empty" -- "$@") ;;
			shim) out[$side]=$("$timeit" -n "$repeat" -p "$lib" -- "$@") ;;
			esac
		done
		line+="  $name"
		for side in "${sides[@]}"; do
			wall[$name.$side]+="$(field wall_us "${out[$side]}") "
			cpu[$name.$side]+="$(field cpu_us "${out[$side]}") "
			line+=$(calc "$(field wall_us "${out[$side]}") / 1000" ' %.1f')
		done
		bw=$(field wall_us "${out[bare]}") ew=$(field wall_us "${out[empty]}") sw=$(field wall_us "${out[shim]}")
		wall[$name.x]+="$(calc "$sw / $bw") "
		wall[$name.xe]+="$(calc "$sw / $ew") "
		wall[$name.ex]+="$(calc "$ew / $bw") "
		cpu[$name.x]+="$(calc "$(field cpu_us "${out[shim]}") / $(field cpu_us "${out[bare]}")") "
	done
	echo "$line"
done
echo "load average at end: $(load)"
echo

# ---- summary ----
# shellcheck disable=SC2086 # the lists are space-separated numbers
{
echo "== summary: micro-loops, ns per call (medians over $rounds rounds) =="
printf '%-11s %8s %8s %7s | %8s %8s %7s %7s %7s | %s\n' \
	"" "bare" "shim" "ratio" "libc" "wrapper" "ratio" "added" "floor" "SPEC 8: <= 1.03x"
printf '%-11s %25s | %41s |\n' "" "separate processes" "same process, paired slices"
for l in "${loops[@]}"; do
	b=$(median ${io_bare[$l]}) s=$(median ${io_shim[$l]}) x=$(median ${io_x[$l]})
	libc=$(median ${io_libc[$l]}) px=$(median ${io_paired_x[$l]})
	added=$(median ${io_added[$l]}) floor=$(median ${io_floor[$l]})
	case $l in
	open_close | stat) target="$(verdict "$x" "<=" 1.03) / $(verdict "$px" "<=" 1.03)" ;;
	*) target="(no target)" ;;
	esac
	printf '%-11s %8.1f %8.1f %7.3f | %8.1f %8.1f %7.3f %+7.1f %7.3f | %s\n' \
		"$l" "$b" "$s" "$x" "$libc" "$s" "$px" "$added" "$floor" "$target"
done
echo "(floor: the same paired ratio in the bare run, where both sides are libc: the method's own error)"
echo

echo "== summary: micro-loops enforcing a 1,000-rule policy (medians over $rounds rounds) =="
printf '%-11s %8s %8s %7s  %s\n' "" "bare" "enforce" "ratio" "SPEC 8: <= 1.10x"
for l in "${loops[@]}"; do
	b=$(median ${enf_bare[$l]}) s=$(median ${enf_shim[$l]}) x=$(median ${enf_x[$l]})
	case $l in
	open_close | stat) target=$(verdict "$x" "<=" 1.10) ;;
	*) target="(no target)" ;;
	esac
	printf '%-11s %8.1f %8.1f %7.3f  %s\n' "$l" "$b" "$s" "$x" "$target"
done
echo

echo "== summary: decision cost, 10,000 rules against 10 (SPEC 8: <= 1.5x) =="
awk '$1 == 10000 && $2 != "naive" { printf "%-7s %s ns, %s of 10 rules  %s\n", $2, $3, $4, ($4 + 0 <= 1.5 ? "met" : "NOT met") }' <<<"$decide_out"
echo

echo "== summary: whole programs, wall-clock ms per run (medians over $rounds rounds) =="
printf '%-38s %8s %8s %8s %9s %9s %9s %8s  %s\n' \
	"" "bare" "empty" "shim" "shim/bare" "empty/bare" "shim/empty" "cpu s/b" "SPEC 8"
for w in "${workloads[@]}"; do
	IFS='|' read -r name repeat command <<<"$w"
	b=$(median ${wall[$name.bare]}) e=$(median ${wall[$name.empty]}) s=$(median ${wall[$name.shim]})
	x=$(median ${wall[$name.x]}) xe=$(median ${wall[$name.xe]}) ex=$(median ${wall[$name.ex]})
	cx=$(median ${cpu[$name.x]})
	if [[ $name == make ]]; then
		target="<= 1.01x: $(verdict "$x" "<=" 1.01) (observe only)"
	elif [[ $name == spawn ]]; then
		target="<= 1.05x: $(verdict "$x" "<=" 1.05) (SPEC: with WARD_MALLOC=libc, not built yet)"
	else
		target="<= 1.01x: $(verdict "$x" "<=" 1.01)"
	fi
	printf '%-38s %8.1f %8.1f %8.1f %9.3f %10.3f %10.3f %8.3f  %s\n' "${describe[$name]}" \
		"$(calc "$b / 1000")" "$(calc "$e / 1000")" "$(calc "$s / 1000")" "$x" "$ex" "$xe" "$cx" "$target"
done
echo "(empty: the same program with a preloaded library that does nothing, the floor of any LD_PRELOAD shim)"
echo

echo "== summary: counters, 2 threads =="
printf 'shared atomic %.1f Mops/s, ward slots %.1f Mops/s: %.2fx   SPEC 8 >= 5x: %s\n' \
	"$counters_atomic" "$counters_slots" "$counters_x" "$(verdict "$counters_x" ">=" 5)"
}
