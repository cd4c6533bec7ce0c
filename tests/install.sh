#!/bin/bash
# meson install (what make install runs) into a DESTDIR, then the staged
# tree moved elsewhere: its bin/ward finds ../lib/<multiarch>/ward/libward.so
# by itself, runs confined by the installed profiles (and a policy that
# includes one by absolute path), and fails with 125 once the library is
# gone; WARD_LIB still overrides.  Usage: tests/install.sh BUILD_DIR PREFIX
set -euo pipefail

build=$1
prefix=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

meson install -C "$build" --no-rebuild --destdir "$tmp/stage" >/dev/null
mv "$tmp/stage$prefix" "$tmp/moved"
x=$tmp/moved
for f in bin/ward share/ward/base.ward share/ward/build.ward share/ward/observe.ward \
	share/man/man1/ward.1 share/man/man5/ward-policy.5 share/man/man5/ward-stats.5 \
	share/doc/ward/README.md share/doc/ward/LICENSE share/doc/ward/NEWS share/doc/ward/POLICY.md \
	share/bash-completion/completions/ward; do
	[[ -f $x/$f ]] || fail "not installed: $f"
done
lib=$(echo "$x"/lib/*/ward/libward.so)
[[ -f $lib ]] || fail "not installed: lib/<multiarch>/ward/libward.so"

unset WARD_LIB
"$x/bin/ward" --version | grep -q '^ward ' || fail "ward --version"
"$x/bin/ward" run -s none -- true || fail "moved tree: ward run -- true: exit $?"

mkdir "$tmp/job"
cd "$tmp/job"
"$x/bin/ward" run -s none -p "$x/share/ward/build.ward" -- /bin/sh -c 'echo made > file' ||
	fail "ward run -p share/ward/build.ward: exit $?"
[[ $(cat file) == made ]] || fail "the confined write did not happen"
printf 'version 1\ninclude %s\nallow rw /dev/null\n' "$x/share/ward/base.ward" >mine.ward
"$x/bin/ward" check mine.ward >/dev/null || fail "a policy including the installed base.ward"
status=0
"$x/bin/ward" run -s none -p mine.ward -- /bin/sh -c 'echo x > denied' 2>/dev/null || status=$?
[[ $status -ne 0 && ! -e denied ]] || fail "base.ward let the job write (exit $status)"
cd /

status=0
WARD_LIB=/nonexistent/libward.so "$x/bin/ward" run -s none -- true 2>/dev/null || status=$?
[[ $status -eq 125 ]] || fail "WARD_LIB=/nonexistent: exit $status, expected 125"
WARD_LIB=$lib "$x/bin/ward" run -s none -- true || fail "WARD_LIB=$lib: exit $?"

mv "$lib" "$tmp/away.so"
if [[ -e $prefix/${lib#"$x"/} ]]; then
	echo "skipped: the library is also installed under $prefix, so it is not missing" >&2
else
	status=0
	"$x/bin/ward" run -s none -- true 2>"$tmp/err" || status=$?
	[[ $status -eq 125 ]] || fail "library removed: exit $status, expected 125"
	grep -q "cannot find libward.so" "$tmp/err" || fail "library removed: $(cat "$tmp/err")"
fi
echo "ok: installed, moved, run, include, WARD_LIB, missing library" >&2
