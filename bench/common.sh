# bench/common.sh: helpers the bench scripts share (sourced, not run).

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

# rotated K SIDE...: the sides starting from the K-th (mod their number),
# wrapping around: each round starts with a different side.
rotated() {
	local k=$(($1 % ($# - 1))) all=("${@:2}")
	echo "${all[@]:k}" "${all[@]:0:k}"
}

# Observe-only and no dump: nothing from the caller's environment may
# configure the shim or preload anything into the bare runs.
clean_environment() {
	local name
	while read -r name; do
		unset "$name"
	done < <(compgen -e | grep '^WARD_' || true)
	unset LD_PRELOAD
}

# python3 by its real path: a version manager's python3 in PATH may be a
# shell script, and the workload would time that script too.
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3)

# make_c_project DIR FILES: a small C project of FILES files and a main,
# with a Makefile (targets prog and clean), for the build workloads.
make_c_project() {
	local dir=$1 files=$2 i
	mkdir -p "$dir"
	for ((i = 0; i < files; i++)); do
		printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\nint f%d(int x) { char b[32]; snprintf(b, sizeof b, "%%d", x); return (int)strlen(b) + %d; }\n' "$i" "$i" >"$dir/f$i.c"
	done
	printf 'int main(void) { return 0; }\n' >"$dir/main.c"
	{
		printf 'OBJS = main.o'
		for ((i = 0; i < files; i++)); do printf ' f%d.o' "$i"; done
		printf '\nprog: $(OBJS)\n\tcc -o $@ $(OBJS)\n%%.o: %%.c\n\tcc -O2 -c $<\nclean:\n\trm -f *.o prog\n'
	} >"$dir/Makefile"
}
