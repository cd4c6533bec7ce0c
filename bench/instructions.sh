#!/usr/bin/env bash
# bench/instructions.sh [BUILD_DIR]: user-mode instructions per file call and
# per process start, counted by callgrind as SPEC 8 defines them.  Unlike
# bench/run.sh's timed ratios these do not depend on a noisy machine, so one
# run is enough and two builds (before and after a change) compare exactly.
#
# Per operation: bench_call_loop runs one operation N and 11·N times under
# `valgrind --tool=callgrind`; (I(11N) - I(N)) / (10·N) is one operation,
# start-up and every one-time cost of a preloaded library cancelling out.
# Every run gets a fresh, empty directory at the same path, so set-up and
# path lengths are the same in every run.  Cases:
#   bare      nothing preloaded
#   empty     bench_empty_preload.so preloaded: the floor of any preload
#   observe   LD_PRELOAD=libward.so, no WARD_POLICY, no WARD_STATS
#   enforce   the same with WARD_POLICY = a generated policy: default allow,
#             SIZE rules on distinct trees made as bench/run.sh makes its
#             1,000-rule policy (a third each: deny write,create,remove
#             /srv/dataI/**, allow ro /opt/toolI/**, deny all
#             /home/nobody/secretI; with deny all /etc/shadow as the last
#             of them, so no operation is unrestricted and every call is
#             decided), plus `allow all DIR/**` for the loop's files: the
#             checked call is allowed by a rule.  And `unconfined-exec
#             allow`: valgrind's launcher, preloaded with the shim too,
#             execs its statically linked tool, which a policy refuses by
#             default (it decides nothing on the calls measured).
#
# Start-up: the instructions of one /bin/true (callgrind counts the program
# it runs, not valgrind's launcher) and its minor page faults (median of
# bench_spawn_faults' runs: exec to exit, through libc's own posix_spawn):
# bare, empty preload, LD_PRELOAD=libward.so, and under `ward run` and
# `ward run -p POLICY` (1,000 rules) exactly as a process of the tree starts:
# the launcher sets LD_PRELOAD, WARD_TREE, and with -p WARD_POLICY and the
# compiled WARD_POLICY_IMAGE; the valgrind or bench_spawn_faults process
# between ward and /bin/true runs under the shim too and is not counted.
#
# Natively (BENCH_INSTR_NATIVE=1): the same loops, cases bare, observe and
# enforce (1,000 rules), the same policy and directory, single-stepped by
# bench_stepcount (bench/stepcount.c: one ptrace step is one user-mode
# instruction, a rep-prefixed instruction once per iteration as callgrind
# counts it), printed beside the callgrind figures.  Callgrind cannot run
# every path the shim takes natively (valgrind 3.19 has no openat2: a
# checked open walks by components; and it gives no working vDSO, so each
# clock read is a system call); this machine has no hardware counters.
# Counting starts at main (start-up cancels in the difference, and would
# cost most of the steps); the program sees a virtual clock of 0.3 ns an
# instruction, so the shim's 200 ms caches do not expire every few dozen
# calls at a step's real cost (some µs; see bench/stepcount.c).
#
# The loop and fault programs and the empty library are taken from TOOLS
# (default BUILD_DIR), so an older build without them is measured with the
# very same programs: BENCH_INSTR_TOOLS=build bench/instructions.sh ../old/build
#
# Tunables (environment):
#   BENCH_INSTR_N             N, a multiple of 1,000 (readdir pays whole
#                             passes of its directory)           (default 2000)
#   BENCH_INSTR_OPS           operations (default open_close stat pread
#                             readdir listdir malloc_free; see
#                             bench/call_loop.c; malloc_free's bare figure
#                             is glibc's allocator, SPEC 8's reference)
#   BENCH_INSTR_POLICY_SIZES  enforce cases by rule count; 1000 is the
#                             enforce column, others are added as columns
#                             (default 1000; e.g. "10 1000 10000")
#   BENCH_INSTR_TOP           also print, for observe and enforce, the K
#                             functions with the most inclusive instructions
#                             per operation, from callgrind_annotate's
#                             per-function totals of the two runs, and with
#                             BENCH_INSTR_NATIVE=1 the K with the most self
#                             instructions natively (bench_stepcount -p,
#                             named by addr2line)                (default 0)
#   BENCH_INSTR_STARTUP       1: measure start-up too, 0: not   (default 1)
#   BENCH_INSTR_FAULT_RUNS    starts per fault figure              (default 21)
#   BENCH_INSTR_TOOLS         build dir holding bench/bench_call_loop,
#                             bench/bench_spawn_faults and
#                             bench/bench_empty_preload.so   (default BUILD_DIR)
#   BENCH_INSTR_KEEP          a directory to copy the callgrind.out files (and
#                             the native runs' result lines) into
#                             (default: none kept)
#   BENCH_INSTR_NATIVE        1: also count natively, 0: not     (default 0)
#   BENCH_INSTR_NATIVE_OPS    operations counted natively (any of OPS'
#                             kinds)                 (default open_close stat)
#   BENCH_INSTR_NATIVE_N      N of the native runs, which run N and 11·N;
#                             the counts are exact, so a small N does (a
#                             step costs some µs, tens on a loaded VM: see
#                             docs/PERFORMANCE.md)                (default 100)
#
# A benchmark, never a test: it asserts nothing and exits 0 whenever every
# run succeeded, whether or not the figures meet SPEC 8's targets; a run that
# fails is reported, its figures print as "failed", and the others go on.
set -euo pipefail

build=${1:-build}
tools=${BENCH_INSTR_TOOLS:-$build}
n=${BENCH_INSTR_N:-2000}
ops=${BENCH_INSTR_OPS:-open_close stat pread readdir listdir malloc_free}
sizes=${BENCH_INSTR_POLICY_SIZES:-1000}
top=${BENCH_INSTR_TOP:-0}
startup=${BENCH_INSTR_STARTUP:-1}
fault_runs=${BENCH_INSTR_FAULT_RUNS:-21}
keep=${BENCH_INSTR_KEEP:-}
native=${BENCH_INSTR_NATIVE:-0}
native_ops=${BENCH_INSTR_NATIVE_OPS:-open_close stat}
native_n=${BENCH_INSTR_NATIVE_N:-100}

die() {
	echo "instructions.sh: $*" >&2
	exit 1
}

for tool in valgrind callgrind_annotate; do
	command -v "$tool" >/dev/null ||
		die "$tool is missing: apt-get install valgrind (callgrind and callgrind_annotate come with it)"
done
[[ $n =~ ^[1-9][0-9]*$ && $((n % 1000)) == 0 ]] || die "BENCH_INSTR_N=$n: expected a positive multiple of 1000"
[[ $top =~ ^[0-9]+$ ]] || die "BENCH_INSTR_TOP=$top: expected a number"
[[ $native == 0 || $native == 1 ]] || die "BENCH_INSTR_NATIVE=$native: expected 0 or 1"
[[ $native_n =~ ^[1-9][0-9]*$ ]] || die "BENCH_INSTR_NATIVE_N=$native_n: expected a positive number"
[[ " $sizes " == *" 1000 "* ]] || die "BENCH_INSTR_POLICY_SIZES=$sizes: 1000 must be among them"
for s in $sizes; do
	[[ $s =~ ^[1-9][0-9]*$ ]] || die "BENCH_INSTR_POLICY_SIZES: $s is not a rule count"
done

lib=$build/libward.so
ward=$build/ward
loop=$tools/bench/bench_call_loop
faults=$tools/bench/bench_spawn_faults
empty=$tools/bench/bench_empty_preload.so
stepcount=$tools/bench/bench_stepcount
for f in "$lib" "$ward"; do
	[[ -f $f ]] || die "$f is missing: build first (ninja -C $build)"
done
for f in "$loop" "$faults" "$empty"; do
	[[ -f $f ]] || die "$f is missing: build first (ninja -C $tools; the bench option is on by default), or set BENCH_INSTR_TOOLS to a build that has it"
done
if [[ $native == 1 ]]; then
	[[ -f $stepcount ]] || die "$stepcount is missing: build first (x86-64 only), or set BENCH_INSTR_TOOLS to a build that has it"
	stepcount=$(realpath "$stepcount")
fi
lib=$(realpath "$lib") ward=$(realpath "$ward") loop=$(realpath "$loop")
faults=$(realpath "$faults") empty=$(realpath "$empty")

# Nothing from the caller's environment may configure the shim or preload
# anything into the bare runs.
while read -r name; do
	unset "$name"
done < <(compgen -e | grep '^WARD_' || true)
unset LD_PRELOAD

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ward-instr.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
rundir=$scratch/run # every loop's files, fresh for each run
[[ -z $keep ]] || mkdir -p "$keep"

# policy SIZE: a generated policy file's path (see the top of this file).
policy() {
	local file=$scratch/policy-$1.ward i
	if [[ ! -f $file ]]; then
		{
			echo "version 1"
			echo "default allow"
			for ((i = 0; i < $1 - 1; i++)); do
				case $((i % 3)) in
				0) echo "deny write,create,remove /srv/data$i/**" ;;
				1) echo "allow ro /opt/tool$i/**" ;;
				2) echo "deny all /home/nobody/secret$i" ;;
				esac
			done
			echo "deny all /etc/shadow"
			echo "allow all $rundir/**"
			echo "unconfined-exec allow"
		} >"$file"
	fi
	echo "$file"
}

# case_env CASE: the environment assignments of a case, one a line.
case_env() {
	case $1 in
	bare) ;;
	empty) echo "LD_PRELOAD=$empty" ;;
	observe) echo "LD_PRELOAD=$lib" ;;
	enforce*)
		echo "LD_PRELOAD=$lib"
		echo "WARD_POLICY=$(policy "${1#enforce}")"
		;;
	esac
}

# callgrind OUT COMMAND...: run COMMAND under callgrind with the assignments
# in the array env (valgrind passes the environment and LD_PRELOAD on to the
# program it runs), profile to OUT; valgrind's and the command's messages go
# to OUT.log, shown on failure.
callgrind() {
	local out=$1
	shift
	if ! env "${env[@]}" valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$out" \
		-q "$@" >"$out.log" 2>&1; then
		cat "$out.log" >&2
		echo "instructions.sh: failed: $*" >&2
		echo "$*" >>"$scratch/failures" # (count runs in a subshell)
		return 1
	fi
	[[ -z $keep ]] || cp "$out" "$keep/"
}

# total OUT: the total Ir of a callgrind.out file.
total() {
	sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$1"
}

# count CASE OP CALLS: the profile file of one loop run.
count() {
	local out=$scratch/callgrind.out.$2.$1.$3 env
	mapfile -t env < <(case_env "$1")
	rm -rf "$rundir"
	mkdir "$rundir"
	"$loop" "$2" 0 "$rundir" # the files, made bare (see bench/call_loop.c)
	callgrind "$out" "$loop" "$2" "$3" "$rundir" || return 0
	echo "$out"
}

# per_call SMALL LARGE: instructions per operation from the two profiles.
per_call() {
	[[ -n $1 && -n $2 ]] || {
		echo failed
		return
	}
	awk -v a="$(total "$1")" -v b="$(total "$2")" -v n="$n" 'BEGIN { printf "%.1f\n", (b - a) / (10 * n) }'
}

# functions OUT: "inclusive-Ir<TAB>function" per function.  callgrind_annotate
# lists a function under several names (once per source file its code, with
# what was inlined into it, comes from, and once whole, as called); the
# largest is the whole function, calls included.
functions() {
	callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$1" |
		sed -n 's/^ *\([0-9,][0-9,]*\) ([ 0-9.]*%)  \(.*\)$/\1\t\2/p' | tr -d , |
		awk -F '\t' '{ f = $2; sub(/ \[.*\]$/, "", f); sub(/^.*:/, "", f)
			if ($2 ~ /PROGRAM TOTALS|^\?\?\?:0x|below main|__libc_start|:main( |$)/) next
			if (!(f in max) || $1 > max[f]) max[f] = $1 }
			END { for (f in max) printf "%s\t%s\n", max[f], f }'
}

# top SMALL LARGE K: the K functions with the most inclusive instructions
# per operation (the difference of the two profiles' per-function totals).
top_functions() {
	join -t $'\t' -1 2 -2 2 -a 2 -e 0 -o 1.1,2.1,0 \
		<(functions "$1" | sort -t $'\t' -k2,2) <(functions "$2" | sort -t $'\t' -k2,2) |
		awk -F '\t' -v n="$n" '{ d = ($2 - $1) / (10 * n); if (d >= 0.5) printf "%10.1f  %s\n", d, $3 }' |
		sort -rn | head -n "$3"
}

cases=(bare empty observe)
for s in $sizes; do
	cases+=("enforce$s")
done

echo "ward instructions per call (callgrind), $(date -u '+%Y-%m-%d %H:%M UTC')"
if rev=$(git -C "$(dirname "$lib")" rev-parse --short HEAD 2>/dev/null); then
	git -C "$(dirname "$lib")" diff --quiet HEAD 2>/dev/null || rev="$rev + local changes"
	echo "commit of the build: $rev"
fi
echo "library: $lib"
echo "loop: $loop; N=$n and 11N=$((11 * n)); $(valgrind --version)"
echo

declare -A figure
for op in $ops; do
	for c in "${cases[@]}"; do
		small=$(count "$c" "$op" "$n")
		large=$(count "$c" "$op" "$((11 * n))")
		figure[$op.$c]=$(per_call "$small" "$large")
		if ((top > 0)) && [[ -n $small && -n $large ]] && [[ $c == observe || $c == enforce1000 ]]; then
			figure[$op.$c.top]=$(top_functions "$small" "$large" "$top")
		fi
	done
done

# over VALUE BASE: VALUE - BASE, signed.
over() {
	[[ $1 != failed && $2 != failed ]] || {
		echo failed
		return
	}
	awk -v v="$1" -v b="$2" 'BEGIN { printf "%+.1f\n", v - b }'
}

declare -A target_observe=([open_close]=+150 [stat]=+60 [malloc_free]=+0) target_enforce=([open_close]=+900 [stat]=+700)
echo "== instructions per operation: bare, then each case over bare =="
header=$(printf '%-11s %8s %8s %9s %9s' operation bare +empty +observe +enforce)
for s in $sizes; do
	[[ $s == 1000 ]] || header+=$(printf ' %10s' "+enf/$s")
done
header+=$(printf '   %s' "SPEC 8: observe / enforce (1,000 rules)")
echo "$header"
for op in $ops; do
	bare=${figure[$op.bare]}
	line=$(printf '%-11s %8s %8s %9s %9s' "$op" "$bare" "$(over "${figure[$op.empty]}" "$bare")" \
		"$(over "${figure[$op.observe]}" "$bare")" "$(over "${figure[$op.enforce1000]}" "$bare")")
	for s in $sizes; do
		[[ $s == 1000 ]] || line+=$(printf ' %10s' "$(over "${figure[$op.enforce$s]}" "$bare")")
	done
	line+=$(printf '   %s / %s' "${target_observe[$op]:--}" "${target_enforce[$op]:--}")
	echo "$line"
done
echo "(enforce: 1,000 rules; +enf/S: S rules; the call is allowed by a rule)"
if grep -qs 'unhandled amd64-linux syscall: 437' "$scratch"/*.log; then
	echo "note: this valgrind does not implement openat2 (syscall 437, ENOSYS), so every checked"
	echo "open took the shim's openat2-unavailable fallback; natively (kernel >= 5.6, no seccomp"
	echo "filter refusing it) a checked open costs less: BENCH_INSTR_NATIVE=1 counts it natively"
fi
echo

if ((top > 0)); then
	for op in $ops; do
		for c in observe enforce1000; do
			echo "== $op, $c: top $top functions, inclusive instructions per operation =="
			echo "${figure[$op.$c.top]:-(no profile: the run failed)}"
			echo
		done
	done
fi

if [[ $native == 1 ]]; then
	# native_count CASE OP CALLS: the result file of one loop run counted by
	# bench_stepcount from main, the case's assignments in the loop's
	# environment only (the counter itself runs bare).
	native_count() {
		local out=$scratch/native.$2.$1.$3 assignment env=()
		while read -r assignment; do
			env+=(-e "$assignment")
		done < <(case_env "$1")
		((top == 0)) || [[ $1 == bare ]] || env+=(-p "$out.profile")
		rm -rf "$rundir"
		mkdir "$rundir"
		"$loop" "$2" 0 "$rundir"
		if ! "$stepcount" -b main -o "$out" "${env[@]}" "$loop" "$2" "$3" "$rundir" >"$out.log" 2>&1; then
			cat "$out.log" >&2
			echo "instructions.sh: failed: bench_stepcount $1 $2 $3" >&2
			echo "native: bench_stepcount $loop $2 $3 ($1)" >>"$scratch/failures"
			return 0
		fi
		[[ -z $keep ]] || cp "$out" "$out.profile" "$keep/" 2>/dev/null || true
		echo "$out"
	}
	# native_functions PROFILE: "steps<TAB>function" per function of a
	# bench_stepcount profile, the function named by addr2line (from debug
	# information where installed; code inlined into a function is its),
	# what no file holds by its map ([vdso]).  Self instructions: a
	# function's own, not those of the functions it calls.
	native_functions() {
		local file
		cut -f2 "$1" | sort -u | while read -r file; do
			awk -F '\t' -v f="$file" '$2 == f { print $3 }' "$1" | sort -u >"$1.offsets"
			if [[ $file == /* && -f $file ]]; then
				addr2line -f -i -a -C -e "$file" <"$1.offsets" |
					awk '/^0x/ { if (n) print fn; n = 1; odd = 0; next } { if (odd = !odd) fn = $0 } END { if (n) print fn }'
			else
				sed "s|.*|$file|" "$1.offsets"
			fi | paste "$1.offsets" - | sed "s|^|$file\t|"
		done >"$1.names"
		awk -F '\t' 'FILENAME == ARGV[1] { name[$1 "\t" $2] = $3 == "??" ? $1 ":??" : $3; next }
			{ steps[name[$2 "\t" $3]] += $1 } END { for (f in steps) printf "%s\t%s\n", steps[f], f }' \
			"$1.names" "$1"
	}
	# native_top SMALL LARGE K: the K functions with the most self
	# instructions per operation (the difference of the two profiles).
	native_top() {
		[[ -s $1.profile && -s $2.profile ]] || {
			echo "(no profile: the run failed)"
			return
		}
		join -t $'\t' -1 2 -2 2 -a 2 -e 0 -o 1.1,2.1,0 \
			<(native_functions "$1.profile" | sort -t $'\t' -k2,2) <(native_functions "$2.profile" | sort -t $'\t' -k2,2) |
			awk -F '\t' -v n="$native_n" '{ d = ($2 - $1) / (10 * n); if (d >= 0.5) printf "%10.1f  %s\n", d, $3 }' |
			sort -rn | head -n "$3"
	}
	# native_per_call SMALL LARGE FIELD: FIELD (instructions, syscalls,
	# vdso_calls) per operation from the two result files.
	native_per_call() {
		[[ -n $1 && -n $2 ]] || {
			echo failed
			return
		}
		awk -v field="$3" -v n="$native_n" '{ for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[1] == field) v[FILENAME] = kv[2] }
			END { printf (field == "instructions" ? "%.1f\n" : "%.2f\n"), (v[ARGV[2]] - v[ARGV[1]]) / (10 * n) }' "$1" "$2"
	}
	seconds=0
	declare -A natively
	for op in $native_ops; do
		for c in bare observe enforce1000; do
			small=$(native_count "$c" "$op" "$native_n")
			large=$(native_count "$c" "$op" "$((11 * native_n))")
			for field in instructions syscalls vdso_calls; do
				natively[$op.$c.$field]=$(native_per_call "$small" "$large" "$field")
			done
			if ((top > 0)) && [[ $c != bare ]]; then
				natively[$op.$c.top]=$(native_top "$small" "$large" "$top")
			fi
			for f in $small $large; do
				seconds=$(awk -v a="$seconds" -v f="$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' "$f")" 'BEGIN { print a + f }')
			done
		done
	done
	echo "== instructions per operation natively (bench_stepcount), beside callgrind: bare, then over bare =="
	printf '%-11s %-9s %10s %10s %13s %11s\n' operation case callgrind native "syscalls/op" "vDSO/op"
	for op in $native_ops; do
		for c in bare observe enforce1000; do
			cg=${figure[$op.$c]:--} nat=${natively[$op.$c.instructions]} label=${c%1000}
			if [[ $c != bare ]]; then
				[[ $cg == - ]] || cg=$(over "$cg" "${figure[$op.bare]}")
				nat=$(over "$nat" "${natively[$op.bare.instructions]}")
				label=+$label
			fi
			printf '%-11s %-9s %10s %10s %13s %11s\n' "$op" "$label" "$cg" "$nat" \
				"${natively[$op.$c.syscalls]}" "${natively[$op.$c.vdso_calls]}"
		done
	done
	echo "(native: N=$native_n and 11N=$((11 * native_n)), counted from main, virtual clock; the steps took ${seconds} s;"
	echo " callgrind: N=$n and 11N, - where OPS left the operation out; syscalls and vDSO calls: native, per operation)"
	echo
	if ((top > 0)); then
		for op in $native_ops; do
			for c in observe enforce1000; do
				echo "== $op, $c natively: top $top functions, self instructions per operation (callgrind's above: inclusive) =="
				echo "${natively[$op.$c.top]}"
				echo
			done
		done
	fi
fi

if [[ $startup == 1 ]]; then
	# start_prefix CASE: sets prefix, the command that starts a process of CASE.
	start_prefix() {
		case $1 in
		bare) prefix=(env) ;;
		empty) prefix=(env "LD_PRELOAD=$empty") ;;
		preload) prefix=(env "LD_PRELOAD=$lib") ;;
		ward-run) prefix=("$ward" run -s "$scratch/report" --) ;;
		ward-run-p) prefix=("$ward" run -s "$scratch/report" -p "$(policy 1000)" --) ;;
		esac
	}
	echo "== start-up: one /bin/true =="
	printf '%-12s %12s %10s %13s %8s\n' case instructions "over bare" "minor faults" "over bare"
	for c in bare empty preload ward-run ward-run-p; do
		start_prefix "$c"
		out=$scratch/callgrind.out.true.$c
		"${prefix[@]}" valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$out" \
			-q /bin/true >"$out.log" 2>&1 || {
			cat "$out.log" >&2
			die "failed: ${prefix[*]} valgrind /bin/true"
		}
		[[ -z $keep ]] || cp "$out" "$keep/"
		ir=$(total "$out")
		line=$("${prefix[@]}" "$faults" "$fault_runs" /bin/true)
		pf=$(sed -n 's/.*minflt_median=\([0-9]*\).*/\1/p' <<<"$line")
		if [[ $c == bare ]]; then
			bare_ir=$ir bare_pf=$pf
		fi
		printf '%-12s %12s %10s %13s %8s\n' "$c" "$ir" "$(over "$ir" "$bare_ir")" "$pf" "$(over "$pf" "$bare_pf")"
	done
	echo "(preload: LD_PRELOAD=libward.so alone; ward-run-p: 1,000 rules, from the image ward run compiles;"
	echo " faults: median of $fault_runs starts; SPEC 8: ward run -p at most +100,000 instructions and +25 faults)"
fi

if [[ -s $scratch/failures ]]; then
	echo
	echo "runs that failed (their figures say \"failed\"; messages above):"
	sed 's/^/  /' "$scratch/failures"
	exit 1
fi
