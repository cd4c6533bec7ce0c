#!/usr/bin/env bash
# bench/peers.sh [BUILD_DIR]: ward against its peers on real workloads, side
# by side in one run (SPEC 8: ward's overhead at most a tenth of
# `strace -f -c`'s and a third of Gentoo sandbox's, observing and enforcing).
#
# Sides, each the whole command a user types, timed from outside:
#   bare      the workload alone
#   empty     the workload with a preloaded library that does nothing (the
#             floor of any LD_PRELOAD tool)
#   ward      ward run -s FILE -- CMD           (observe, figures to a file)
#   ward-p    ward run -p build.ward -s FILE -- CMD
#             (examples/build.ward: read the system, write only below the
#             directory the run starts in and the temporary directories)
#   strace    strace -f -c -o FILE -- CMD        (figures to a file)
#   sandbox   SANDBOX_WRITE=DIR sandbox CMD      (Gentoo's sandbox, when one
#             is found: PEERS_SANDBOX or `sandbox` in PATH; it is not a Debian
#             package: build it from https://github.com/gentoo/sandbox with
#             ./autogen.sh && ./configure AWK=gawk && make, or leave it out)
#
# Workloads (every one run in a scratch directory that is also the directory
# the policy lets write):
#   walk       find /usr -xdev
#   build      make -j2 of a 24-file C project, from clean
#   configure  an autoconf configure script of 60 checks (needs autoconf;
#              left out without it), from clean
#   spawn      sh running /bin/true 500 times
#   io         cp of a 200 MB file to /dev/null, 5 runs (from the page cache:
#              no disk writes whose writeback would land in another run)
#   pyimport   python3 -c 'import json, email, http.client, xml.dom.minidom' (5 runs)
#
# Sides take turns round by round in an order that rotates every round,
# after one untimed bare run of the workload in every round; a ratio is
# the median of the per-round ratios to bare, the times beside it
# the medians of each side.  Overhead is ratio - 1; ward's share of a peer's
# is ward's overhead over the peer's.
#
# Tunables (environment): PEERS_ROUNDS (default 5), PEERS_WORKLOADS (default
# "walk build configure spawn io pyimport"), PEERS_SIDES (default all that
# are found), PEERS_IO_MB (default 200), PEERS_SPAWNS (default 500),
# PEERS_SANDBOX (the sandbox binary).
#
# Exit status 0 when every run succeeded, whether or not the targets are met
# (the summary says which are); 1 if a run failed.
set -euo pipefail

build=${1:-build}
rounds=${PEERS_ROUNDS:-5}
io_mb=${PEERS_IO_MB:-200}
spawns=${PEERS_SPAWNS:-500}
here=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=bench/common.sh
. "$here/common.sh"
clean_environment

ward=$build/ward
empty=$build/bench/bench_empty_preload.so
timeit=$build/bench/bench_timeit
for f in "$ward" "$build/libward.so" "$empty" "$timeit"; do
	if [[ ! -f $f ]]; then
		echo "peers.sh: $f is missing: build first (meson configure $build -Dbench=true; ninja -C $build)" >&2
		exit 1
	fi
done
ward=$(realpath "$ward") empty=$(realpath "$empty") timeit=$(realpath "$timeit")
policy=$(realpath "$here/../examples/build.ward")

sandbox=${PEERS_SANDBOX:-$(command -v sandbox || true)}
all_sides="bare empty ward ward-p strace"
command -v strace >/dev/null || all_sides=${all_sides% strace}
[[ -n $sandbox && -x $sandbox ]] && all_sides+=" sandbox"
read -ra sides <<<"${PEERS_SIDES:-$all_sides}"
for side in "${sides[@]}"; do
	case " $all_sides " in
	*" $side "*) ;;
	*)
		echo "peers.sh: PEERS_SIDES: $side is not one of: $all_sides" >&2
		exit 1
		;;
	esac
done
[[ ${sides[0]} == bare ]] || {
	echo "peers.sh: PEERS_SIDES must start with bare (every ratio is to it)" >&2
	exit 1
}

all_workloads="walk build configure spawn io pyimport"
command -v autoconf >/dev/null || all_workloads=${all_workloads/ configure/}
read -ra workloads <<<"${PEERS_WORKLOADS:-$all_workloads}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ward-bench-peers.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
work=$scratch/work # the workloads' directory, where the policy lets write
mkdir -p "$work"

# ---- the workloads' inputs ----
make_c_project "$work/project" 24

make_configure() {
	local dir=$work/conf i
	mkdir -p "$dir"
	{
		echo 'AC_INIT([peers], [1.0])'
		echo 'AC_PROG_CC'
		echo 'AC_CHECK_HEADERS([stdio.h stdlib.h string.h unistd.h fcntl.h sys/stat.h sys/types.h sys/mman.h sys/wait.h sys/time.h poll.h pthread.h dlfcn.h errno.h limits.h signal.h stdint.h inttypes.h locale.h wchar.h])'
		echo 'AC_CHECK_FUNCS([open openat close read write pread pwrite mmap munmap fork vfork execve waitpid pipe dup2 poll select stat lstat fstat readlink])'
		echo 'AC_CHECK_SIZEOF([int])'
		echo 'AC_CHECK_SIZEOF([long])'
		echo 'AC_CHECK_SIZEOF([void *])'
		echo 'AC_CHECK_SIZEOF([size_t])'
		for ((i = 0; i < 10; i++)); do
			echo "AC_CHECK_LIB([m], [sin], [have_m$i=yes])"
		done
		echo 'AC_CONFIG_HEADERS([config.h])'
		echo 'AC_OUTPUT'
	} >"$dir/configure.ac"
	(cd "$dir" && autoconf 2>/dev/null && autoheader 2>/dev/null)
	[[ -x $dir/configure ]]
}
if [[ " ${workloads[*]} " == *" configure "* ]]; then
	make_configure || {
		echo "peers.sh: autoconf could not make the configure workload" >&2
		exit 1
	}
fi
if [[ " ${workloads[*]} " == *" io "* ]]; then
	head -c $((io_mb << 20)) /dev/urandom >"$work/big"
fi

# workload NAME: "REPEAT|COMMAND" (COMMAND as sh words, run in $work).
workload() {
	case $1 in
	walk) echo "1|find /usr -xdev" ;;
	build) echo "1|sh -c 'make -s -C project clean && make -s -j2 -C project'" ;;
	configure) echo "1|sh -c 'cd conf && rm -rf config.cache config.log config.status config.h autom4te.cache.x && ./configure -q'" ;;
	spawn) echo "1|sh -c 'i=0; while [ \$i -lt $spawns ]; do /bin/true; i=\$((i + 1)); done'" ;;
	io) echo "5|cp big /dev/null" ;;
	pyimport) echo "5|$python -c 'import json, email, http.client, xml.dom.minidom'" ;;
	*)
		echo "peers.sh: PEERS_WORKLOADS: unknown workload $1 ($all_workloads)" >&2
		return 1
		;;
	esac
}
declare -A describe=(
	[walk]="find /usr -xdev"
	[build]="make -j2 (25 C files)"
	[configure]="./configure (60 checks)"
	[spawn]="sh: /bin/true x $spawns"
	[io]="cp $io_mb MB to /dev/null (x5)"
	[pyimport]="python3 imports (x5)"
)
for w in "${workloads[@]}"; do workload "$w" >/dev/null; done

# run SIDE REPEAT CMD...: timeit's line for CMD on SIDE.
run() {
	local side=$1 repeat=$2
	shift 2
	case $side in
	bare) "$timeit" -n "$repeat" -- "$@" ;;
	empty) "$timeit" -n "$repeat" -p "$empty" -- "$@" ;;
	ward) "$timeit" -n "$repeat" -- "$ward" run -s "$scratch/ward.json" -- "$@" ;;
	ward-p) "$timeit" -n "$repeat" -- "$ward" run -p "$policy" -s "$scratch/ward-p.json" -- "$@" ;;
	strace) "$timeit" -n "$repeat" -- strace -f -c -o "$scratch/strace.txt" -- "$@" ;;
	sandbox) SANDBOX_WRITE=$work "$timeit" -n "$repeat" -- "$sandbox" "$@" 2>"$scratch/sandbox.err" ;;
	esac
}

echo "ward against peers, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "host: $(nproc) CPU(s), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
if rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null); then
	git -C "$here" diff --quiet HEAD 2>/dev/null || rev="$rev + local changes"
	echo "commit: $rev"
fi
echo "ward: $ward; strace: $(command -v strace || echo none); sandbox: ${sandbox:-none}"
echo "load average at start: $(load)   (anything else running skews every figure)"
echo "rounds: $rounds; sides: ${sides[*]}; workloads: ${workloads[*]}"
echo

cd "$work"
declare -A wall
for w in "${workloads[@]}"; do # warm the page cache and the bytecode caches
	IFS='|' read -r repeat command <<<"$(workload "$w")"
	eval "set -- $command"
	for side in "${sides[@]}"; do run "$side" 1 "$@" >/dev/null; done
done
for ((r = 1; r <= rounds; r++)); do
	read -ra order <<<"$(rotated $((r - 1)) "${sides[@]}")"
	line="round $r"
	for w in "${workloads[@]}"; do
		IFS='|' read -r repeat command <<<"$(workload "$w")"
		eval "set -- $command"
		declare -A out=()
		# one untimed bare run first: whatever ran before (another
		# workload, strace's long walk) left the caches cold for the
		# first side, 2 to 14 times its time in trials
		run bare 1 "$@" >/dev/null
		for side in "${order[@]}"; do
			out[$side]=$(run "$side" "$repeat" "$@")
		done
		line+="  $w"
		bare=$(field wall_us "${out[bare]}")
		for side in "${sides[@]}"; do
			t=$(field wall_us "${out[$side]}")
			wall[$w.$side]+="$t "
			wall[$w.$side.x]+="$(calc "$t / $bare") "
			line+=$(calc "$t / 1000" ' %.0f')
		done
	done
	echo "$line"
done
echo "load average at end: $(load)"
echo

# ---- summary ----
echo "== summary: wall-clock ms per run (medians over $rounds rounds), ratio to bare =="
printf '%-28s' ""
for side in "${sides[@]}"; do printf ' %9s' "$side"; done
echo
for w in "${workloads[@]}"; do
	printf '%-28s' "${describe[$w]}"
	for side in "${sides[@]}"; do printf ' %9.1f' "$(calc "$(median ${wall[$w.$side]}) / 1000")"; done
	echo
	printf '%-28s' "   ratio"
	for side in "${sides[@]}"; do printf ' %9.3f' "$(median ${wall[$w.$side.x]})"; done
	echo
done
echo
echo "== summary: ward's overhead as a share of its peers' (SPEC 8: <= 0.10 of strace's, <= 0.33 of sandbox's) =="
for w in "${workloads[@]}"; do
	for mine in ward ward-p; do
		[[ " ${sides[*]} " == *" $mine "* ]] || continue
		o=$(calc "$(median ${wall[$w.$mine.x]}) - 1")
		line=$(printf '%-28s %-7s overhead %+.3f' "${describe[$w]}" "$mine" "$o")
		for peer in strace sandbox; do
			[[ " ${sides[*]} " == *" $peer "* ]] || continue
			po=$(calc "$(median ${wall[$w.$peer.x]}) - 1")
			limit=0.10
			[[ $peer == sandbox ]] && limit=0.3333
			if awk -v p="$po" 'BEGIN { exit !(p > 0.005) }'; then
				share=$(calc "$o / $po")
				line+=$(printf '   of %s %+.3f: %6.3f %s' "$peer" "$po" "$share" "$(verdict "$share" '<=' "$limit")")
			else
				line+=$(printf '   of %s %+.3f: (no overhead to share)' "$peer" "$po")
			fi
		done
		echo "$line"
	done
done
