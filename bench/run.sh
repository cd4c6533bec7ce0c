#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR]: ward's benchmarks, each measured side by side with
# the same program run without the shim, in one run.  docs/PERFORMANCE.md
# explains every figure and keeps the latest ones.
#
# Builds nothing: run `ninja -C BUILD_DIR` first (BUILD_DIR defaults to build;
# the bench option is on by default).  Needs only bash, awk, sed and sort;
# the memory section also runs perl, gcc and python3 as workloads, and
# taskset when it can.
#
# Sides take turns round by round, in an order that rotates every round, so
# that a drift of the machine's speed during the run weighs on every side
# alike.  A ratio is the median of the per-round ratios; the times beside it
# are the medians of each side.  The shim runs observe-only: no policy, no
# dump (every WARD_* variable is removed from the environment).
#
# The memory section compares allocators: glibc's with nothing preloaded,
# Debian's libjemalloc.so.2 preloaded alone, and libward.so with its own
# jemalloc (the default) and with WARD_MALLOC=libc, set on that side's
# command only.
#
# Tunables (environment):
#   BENCH_ROUNDS             rounds of every comparison             (default 9)
#   BENCH_SECTIONS           which sections run, separated by spaces or commas
#                            (default all): io enforce decide counters
#                            programs memory
#   BENCH_IO_ITERATIONS      calls of each kind per io_loops run     (default 100000)
#   BENCH_COUNTER_ADDS       adds per thread per counters run        (default 5000000)
#   BENCH_MALLOC_ITERATIONS  pairs per thread per size per malloc run (default 1000000)
#   BENCH_JEMALLOC           the jemalloc preloaded alone
#                            (default /usr/lib/x86_64-linux-gnu/libjemalloc.so.2,
#                            Debian's libjemalloc2)
#   BENCH_MEMORY_CPU         the CPU the memory section's programs are pinned to
#                            with taskset (default 0; empty: not pinned).  On a
#                            VM one virtual CPU can be much slower than the
#                            other, and a run's placement would outweigh the
#                            allocator.  bench_malloc pins its own threads.
#
# Exit status: 0 when every run succeeded and every total was exact, whether
# or not the figures meet the targets (the summary says which do); 1 if not.
set -euo pipefail

build=${1:-build}
rounds=${BENCH_ROUNDS:-9}
io_iterations=${BENCH_IO_ITERATIONS:-100000}
counter_adds=${BENCH_COUNTER_ADDS:-5000000}
malloc_iterations=${BENCH_MALLOC_ITERATIONS:-1000000}
jemalloc_so=${BENCH_JEMALLOC:-/usr/lib/x86_64-linux-gnu/libjemalloc.so.2}
memory_cpu=${BENCH_MEMORY_CPU-0}
sections=" ${BENCH_SECTIONS:-io enforce decide counters programs memory} "
sections=${sections//,/ }
for section in $sections; do
	case $section in
	io | enforce | decide | counters | programs | memory) ;;
	*)
		echo "run.sh: BENCH_SECTIONS: unknown section $section (io enforce decide counters programs memory)" >&2
		exit 1
		;;
	esac
done

lib=$build/libward.so
empty=$build/bench/bench_empty_preload.so
io_loops=$build/bench/bench_io_loops
counters=$build/bench/bench_counters
timeit=$build/bench/bench_timeit
decide=$build/bench/bench_decide
malloc_bench=$build/bench/bench_malloc
for f in "$lib" "$empty" "$io_loops" "$counters" "$timeit" "$decide" "$malloc_bench"; do
	if [[ ! -f $f ]]; then
		echo "run.sh: $f is missing: build first (meson configure $build -Dbench=true; ninja -C $build)" >&2
		exit 1
	fi
done
lib=$(realpath "$lib")
empty=$(realpath "$empty")
if [[ $sections == *" memory "* && ! -f $jemalloc_so ]]; then
	echo "run.sh: $jemalloc_so is missing: the memory section preloads it (apt-get install libjemalloc2, or set BENCH_JEMALLOC)" >&2
	exit 1
fi

# shellcheck source=bench/common.sh
. "$(dirname "$0")/common.sh"
clean_environment

# want SECTION: is SECTION among those to run?
want() {
	[[ $sections == *" $1 "* ]]
}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench-run.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

echo "ward benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "host: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
if rev=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null); then
	git -C "$(dirname "$0")" diff --quiet HEAD 2>/dev/null || rev="$rev + local changes"
	echo "commit: $rev"
fi
echo "library: $lib"
echo "load average at start: $(load)   (anything else running skews every figure)"
echo "rounds: $rounds; sides alternate, ratio = median of per-round ratios"
echo "sections:$sections"
echo

# ---- 1. micro-loops ----
loops=(open_close stat pread_4k readdir)
declare -A io_bare io_shim io_x io_paired_x io_added io_libc io_floor
if want io; then
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
fi

# ---- 1b. the same micro-loops enforcing a 1,000-rule policy ----
# default allow, 999 rules naming other places, and a deny for every
# operation on one file: no operation is unrestricted, so every call's path
# is resolved and decided (SPEC 8: <= 1.10x).
declare -A enf_bare enf_shim enf_x
if want enforce; then
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
fi

# ---- 1c. decision cost against policy size ----
if want decide; then
	echo "== policy decisions: ns per decision by policy size and bucket compare =="
	decide_out=$("$decide" 2000000)
	echo "$decide_out"
	echo
fi

# ---- 2. counters ----
if want counters; then
	echo "== counters: $counter_adds adds per thread, Mops/s (median of 5 runs) =="
	counters_out=$("$counters" "$counter_adds" 5)
	echo "$counters_out"
	echo
	counters_x=$(sed -n 's/.*slots\/shared_atomic threads=2 x=\([0-9.]*\).*/\1/p' <<<"$counters_out")
	counters_atomic=$(sed -n 's/.*variant=shared_atomic threads=2 mops=\([0-9.]*\).*/\1/p' <<<"$counters_out")
	counters_slots=$(sed -n 's/.*variant=slots threads=2 mops=\([0-9.]*\).*/\1/p' <<<"$counters_out")
fi

# ---- 3. whole programs ----
# name|runs per timed sample|command.  Short programs run several times in a
# sample so that a sample lasts long enough to time well.
# A small C project for the build workload: 12 files, make -j2.
project=$scratch/project
workloads=(
	"make|1|sh -c 'make -s -C $project clean && make -s -j2 -C $project'"
	"find|1|find /usr -xdev"
	"ls-lR|4|ls -lR /usr/include"
	"python3|5|$python -c 'import json, email, http.client, xml.dom.minidom'"
)
declare -A describe=(
	[make]="make -j2 (13 C files)"
	[find]="find /usr -xdev"
	[ls-lR]="ls -lR /usr/include"
	[python3]="python3 -c 'import json, email, ...'"
)
sides=(bare empty shim)
declare -A wall cpu
if want programs; then
	make_c_project "$project" 12

	echo "== whole programs: wall-clock ms per run, bare|empty preload|shim =="
	for w in "${workloads[@]}"; do # warm the page cache and the bytecode caches
		IFS='|' read -r name repeat command <<<"$w"
		eval "set -- $command"
		"$timeit" -- "$@" >/dev/null
	done
	for ((r = 1; r <= rounds; r++)); do
		# rotate the order: bare empty shim, empty shim bare, shim bare empty...
		read -ra order <<<"$(rotated $((r - 1)) "${sides[@]}")"
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
fi

# ---- 4. memory ----
# The same programs under four allocators: bare (glibc's, nothing
# preloaded), jemalloc (libjemalloc.so.2 preloaded alone), ward (libward.so,
# its own jemalloc) and ward_libc (libward.so with WARD_MALLOC=libc); the
# spawn loop adds the empty preload.  The SPEC 8 targets: ward no slower than
# glibc on the malloc micro and on allocation-heavy programs; a spawn loop
# <= 1.05x bare with WARD_MALLOC=libc, and with ward's default allocator no
# slower than jemalloc preloaded alone.
mem_sides=(bare jemalloc ward ward_libc)
spawn_sides=(bare empty jemalloc ward ward_libc)
declare -A mem_label=([bare]=glibc [empty]=empty [jemalloc]=jemalloc [ward]=ward [ward_libc]=ward-libc)

# preload_of SIDE: the library SIDE preloads (nothing for bare).
preload_of() {
	case $1 in
	empty) echo "$empty" ;;
	jemalloc) echo "$jemalloc_so" ;;
	ward | ward_libc) echo "$lib" ;;
	esac
}

# on_side SIDE CMD...: CMD with SIDE's environment (WARD_MALLOC=libc for
# ward_libc; nothing for the others, run.sh having removed every WARD_*).
on_side() {
	local side=$1
	shift
	if [[ $side == ward_libc ]]; then
		WARD_MALLOC=libc "$@"
	else
		"$@"
	fi
}

# malloc_ns OUTPUT MODE SIZE THREADS: ns from the bench_malloc line for them.
malloc_ns() {
	sed -n "s/^malloc mode=$2 size=$3 threads=$4 ns=\([0-9.]*\)\$/\1/p" <<<"$1"
}

# Inputs of the allocation-heavy programs, generated the same every run.
make_memory_inputs() {
	# ~20 MB of random hex lines, 10-89 characters each
	awk 'BEGIN { srand(1); for (i = 0; i < 400000; i++) { n = int(rand() * 80) + 10; s = "";
		for (j = 0; j < n; j += 8) s = s sprintf("%08x", int(rand() * 4294967295));
		print substr(s, 1, n) } }' >"$scratch/lines.txt"
	# perl (Debian's uses the system malloc): a hash of 200,000 entries, each
	# an array holding a string of up to 200 bytes and a hash; sorted, deleted
	cat >"$scratch/hash.pl" <<-'EOF'
		my %h;
		$h{"key$_"} = [ $_, "v" x ($_ % 200), { n => $_ } ] for 1 .. 200000;
		my $s = 0;
		$s += length($h{$_}[1]) for sort keys %h;
		delete $h{"key$_"} for 1 .. 200000;
		print "$s\n";
	EOF
	# python3: blocks over 512 bytes bypass pymalloc, so the records carry
	# strings of up to 1.5 KB, and the JSON text itself is several MB
	cat >"$scratch/objects.py" <<-'EOF'
		import json
		rows = []
		for i in range(30000):
		    rows.append({"id": i, "name": "item-%d" % i,
		                 "text": ("lorem ipsum %d " % i) * (i % 90 + 1),
		                 "tags": [str(j) * (j % 40 + 1) for j in range(i % 12)],
		                 "values": list(range(i % 50))})
		text = json.dumps(rows)
		assert len(json.loads(text)) == len(rows)
	EOF
	# gcc: 100 functions with a struct, a loop and a switch each
	{
		printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n'
		for ((i = 0; i < 100; i++)); do
			printf 'struct s%d { int a; double b; char c[%d]; };\n' "$i" $((i % 50 + 1))
			printf 'int f%d(int x, const char *p) { struct s%d v; v.a = x * %d; v.b = x / %d.0; memset(v.c, x, sizeof v.c);\n' "$i" "$i" "$i" $((i + 1))
			printf '  for (int k = 0; k < x; k++) { if (p[k %% 7] == %d) v.a += k * %d; else v.b -= k; }\n' $((i % 128)) $((i % 13))
			printf '  switch (x %% 5) { case 0: return v.a; case 1: return (int)v.b; case 2: return v.c[0]; case 3: return (int)strlen(p) + %d; default: return atoi(p) ^ %d; } }\n' "$i" "$i"
		done
	} >"$scratch/generated.c"
}

# name|runs per timed sample|command
mem_workloads=(
	"perl|1|perl $scratch/hash.pl"
	"python3|1|$python $scratch/objects.py"
	"gcc|1|gcc -O2 -c $scratch/generated.c -o $scratch/generated.o"
	"sort|1|sort $scratch/lines.txt"
)
declare -A mem_describe=(
	[perl]="perl: 200,000-entry hash"
	[python3]="python3: 30,000 records to JSON and back"
	[gcc]="gcc -O2 -c (100 functions)"
	[sort]="sort (20 MB, 400,000 lines)"
	[spawn]="sh: 1,000 x /bin/true"
)
declare -A mem_ns mem_wall mem_cpu
mem_keys=()
pinned=()
if [[ -n $memory_cpu ]] && command -v taskset >/dev/null; then
	pinned=(taskset -c "$memory_cpu")
else
	memory_cpu=
fi
if want memory; then
	echo "== malloc micro: $malloc_iterations pairs per thread per size, ns per malloc+free pair =="
	echo "   (glibc | jemalloc | ward | ward-libc; ring: each thread its own ring of blocks, cross: freed by another thread)"
	for ((r = 1; r <= rounds; r++)); do
		declare -A out=()
		for side in $(rotated $((r - 1)) "${mem_sides[@]}"); do
			p=$(preload_of "$side")
			out[$side]=$(on_side "$side" env ${p:+"LD_PRELOAD=$p"} "$malloc_bench" "$malloc_iterations")
		done
		if ((r == 1)); then
			mapfile -t mem_keys < <(sed -n 's/^malloc mode=\([a-z]*\) size=\([0-9]*\) threads=\([0-9]*\) .*/\1 \2 \3/p' <<<"${out[bare]}")
		fi
		echo "round $r"
		for key in "${mem_keys[@]}"; do
			read -r mode size threads <<<"$key"
			line=$(printf '  %-5s %6s B %d thread(s) ' "$mode" "$size" "$threads")
			for side in "${mem_sides[@]}"; do
				ns=$(malloc_ns "${out[$side]}" "$mode" "$size" "$threads")
				[[ -n $ns ]] || { echo "run.sh: bench_malloc printed no $key figure for $side" >&2; exit 1; }
				mem_ns[$key.$side]+="$ns "
				line+=$(printf ' %s' "$ns")
			done
			a=$(malloc_ns "${out[bare]}" "$mode" "$size" "$threads")
			b=$(malloc_ns "${out[jemalloc]}" "$mode" "$size" "$threads")
			c=$(malloc_ns "${out[ward]}" "$mode" "$size" "$threads")
			d=$(malloc_ns "${out[ward_libc]}" "$mode" "$size" "$threads")
			mem_ns[$key.ca]+="$(calc "$c / $a") " mem_ns[$key.cb]+="$(calc "$c / $b") " mem_ns[$key.da]+="$(calc "$d / $a") "
			echo "$line"
		done
	done
	echo

	make_memory_inputs
	echo "== allocation-heavy programs and the spawn loop: wall-clock ms per run =="
	echo "   (programs: glibc | jemalloc | ward | ward-libc; spawn: glibc | empty | jemalloc | ward | ward-libc)"
	if [[ -n $memory_cpu ]]; then echo "   (each run pinned to CPU $memory_cpu)"; else echo "   (not pinned)"; fi
	spawn_command="sh -c 'for i in \$(seq 1000); do /bin/true; done'"
	for w in "${mem_workloads[@]}" "spawn|1|$spawn_command"; do # warm the caches
		IFS='|' read -r name repeat command <<<"$w"
		eval "set -- $command"
		"${pinned[@]}" "$timeit" -- "$@" >/dev/null
	done
	for ((r = 1; r <= rounds; r++)); do
		line="round $r"
		for w in "${mem_workloads[@]}" "spawn|1|$spawn_command"; do
			IFS='|' read -r name repeat command <<<"$w"
			eval "set -- $command"
			these=("${mem_sides[@]}")
			[[ $name == spawn ]] && these=("${spawn_sides[@]}")
			declare -A out=()
			for side in $(rotated $((r - 1)) "${these[@]}"); do
				p=$(preload_of "$side")
				out[$side]=$(on_side "$side" "${pinned[@]}" "$timeit" -n "$repeat" ${p:+-p "$p"} -- "$@")
			done
			line+="  $name"
			for side in "${these[@]}"; do
				mem_wall[$name.$side]+="$(field wall_us "${out[$side]}") "
				line+=$(calc "$(field wall_us "${out[$side]}") / 1000" ' %.1f')
			done
			for pair in ward/bare ward/jemalloc ward_libc/bare empty/bare jemalloc/bare ward/empty ward_libc/empty; do
				x=${pair%/*} y=${pair#*/}
				[[ -n ${out[$x]:-} && -n ${out[$y]:-} ]] || continue
				mem_wall[$name.$x/$y]+="$(calc "$(field wall_us "${out[$x]}") / $(field wall_us "${out[$y]}")") "
				mem_cpu[$name.$x/$y]+="$(calc "$(field cpu_us "${out[$x]}") / $(field cpu_us "${out[$y]}")") "
			done
		done
		echo "$line"
	done
	echo "load average at end: $(load)"
	echo
fi

# ---- summary ----
# shellcheck disable=SC2086 # the lists are space-separated numbers
{
if want io; then
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
fi

if want enforce; then
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
fi

if want decide; then
	echo "== summary: decision cost, 10,000 rules against 10 (SPEC 8: <= 1.5x) =="
	awk '$1 == 10000 && $2 != "naive" { printf "%-7s %s ns, %s of 10 rules  %s\n", $2, $3, $4, ($4 + 0 <= 1.5 ? "met" : "NOT met") }' <<<"$decide_out"
	echo
fi

if want programs; then
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
		else
			target="<= 1.01x: $(verdict "$x" "<=" 1.01)"
		fi
		printf '%-38s %8.1f %8.1f %8.1f %9.3f %10.3f %10.3f %8.3f  %s\n' "${describe[$name]}" \
			"$(calc "$b / 1000")" "$(calc "$e / 1000")" "$(calc "$s / 1000")" "$x" "$ex" "$xe" "$cx" "$target"
	done
	echo "(empty: the same program with a preloaded library that does nothing, the floor of any LD_PRELOAD shim;"
	echo " the spawn loop is in the memory summary, beside the allocators)"
	echo
fi

if want counters; then
	echo "== summary: counters, 2 threads =="
	printf 'shared atomic %.1f Mops/s, ward slots %.1f Mops/s: %.2fx   SPEC 8 >= 5x: %s\n' \
		"$counters_atomic" "$counters_slots" "$counters_x" "$(verdict "$counters_x" ">=" 5)"
	echo
fi

if want memory; then
	echo "== summary: malloc micro, ns per malloc+free pair (medians over $rounds rounds) =="
	printf '%-5s %6s %7s %8s %8s %8s %9s | %10s %13s %15s | %s\n' "mode" "size" "threads" \
		"glibc" "jemalloc" "ward" "ward-libc" "ward/glibc" "ward/jemalloc" "ward-libc/glibc" "SPEC 8: ward <= 1.0x glibc"
	for key in "${mem_keys[@]}"; do
		read -r mode size threads <<<"$key"
		ca=$(median ${mem_ns[$key.ca]})
		target=$(verdict "$ca" "<=" 1.0)
		[[ $mode == ring ]] || target="(no target)"
		printf '%-5s %6s %7s %8.1f %8.1f %8.1f %9.1f | %10.3f %13.3f %15.3f | %s\n' "$mode" "$size" "$threads" \
			"$(median ${mem_ns[$key.bare]})" "$(median ${mem_ns[$key.jemalloc]})" \
			"$(median ${mem_ns[$key.ward]})" "$(median ${mem_ns[$key.ward_libc]})" \
			"$ca" "$(median ${mem_ns[$key.cb]})" "$(median ${mem_ns[$key.da]})" "$target"
	done
	echo

	echo "== summary: allocation-heavy programs, wall-clock ms per run (medians over $rounds rounds) =="
	printf '%-40s %8s %8s %8s %9s | %10s %13s %15s %9s | %s\n' "" \
		"glibc" "jemalloc" "ward" "ward-libc" "ward/glibc" "ward/jemalloc" "ward-libc/glibc" "cpu w/g" "SPEC 8: ward <= 1.0x glibc"
	for w in "${mem_workloads[@]}"; do
		IFS='|' read -r name repeat command <<<"$w"
		x=$(median ${mem_wall[$name.ward/bare]})
		printf '%-40s %8.1f %8.1f %8.1f %9.1f | %10.3f %13.3f %15.3f %9.3f | %s\n' "${mem_describe[$name]}" \
			"$(calc "$(median ${mem_wall[$name.bare]}) / 1000")" "$(calc "$(median ${mem_wall[$name.jemalloc]}) / 1000")" \
			"$(calc "$(median ${mem_wall[$name.ward]}) / 1000")" "$(calc "$(median ${mem_wall[$name.ward_libc]}) / 1000")" \
			"$x" "$(median ${mem_wall[$name.ward/jemalloc]})" "$(median ${mem_wall[$name.ward_libc/bare]})" \
			"$(median ${mem_cpu[$name.ward/bare]})" "$(verdict "$x" "<=" 1.0)"
	done
	echo "(cpu w/g: ward/glibc in user+system CPU time)"
	echo

	echo "== summary: spawn loop, sh running /bin/true 1,000 times, wall-clock ms (medians over $rounds rounds) =="
	printf '%-9s %8s | %s\n' "" "ms" "ratio (median of per-round ratios)"
	for side in "${spawn_sides[@]}"; do
		printf '%-9s %8.1f |' "${mem_label[$side]}" "$(calc "$(median ${mem_wall[spawn.$side]}) / 1000")"
		[[ $side == bare ]] || printf ' %s/glibc %.3f' "${mem_label[$side]}" "$(median ${mem_wall[spawn.$side/bare]})"
		[[ $side == ward* ]] && printf ', %s/empty %.3f' "${mem_label[$side]}" "$(median ${mem_wall[spawn.$side/empty]})"
		echo
	done
	lx=$(median ${mem_wall[spawn.ward_libc/bare]}) jx=$(median ${mem_wall[spawn.ward/jemalloc]})
	printf 'SPEC 8: ward-libc/glibc %.3f <= 1.05x: %s;  ward/jemalloc %.3f <= 1.0x: %s\n' \
		"$lx" "$(verdict "$lx" "<=" 1.05)" "$jx" "$(verdict "$jx" "<=" 1.0)"
fi
}
