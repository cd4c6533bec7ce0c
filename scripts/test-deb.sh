#!/bin/bash
# The .deb as a user gets it: build it from debian/ with dpkg-buildpackage
# and check it with lintian (scripts/make-deb.sh, as make deb), install it
# with dpkg -i, run the installed ward from /usr (--version, a confined run
# that may write its directory and is refused /etc), then purge it and check
# that none of its files is left.  Needs root and dpkg; skipped otherwise,
# and when a package named ward is already installed (it is not ours to
# replace).  make test runs it.  Usage: scripts/test-deb.sh [BUILD_DIR]
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
skip() {
	echo "deb: skipped: $*" >&2
	exit 0
}
[[ $(id -u) -eq 0 ]] || skip "not root"
for tool in dpkg dpkg-deb dpkg-buildpackage dh; do
	command -v $tool >/dev/null || skip "no $tool (scripts/install-deps.sh installs it)"
done
if dpkg-query -W -f='${Status}' ward 2>/dev/null | grep -q "ok installed"; then
	skip "a package named ward is installed already"
fi

# One installer at a time on this machine (dpkg's own lock fails, not waits).
exec 9>/tmp/ward-test-deb.lock
flock 9

started=$SECONDS
deb=$("$src/scripts/make-deb.sh" "${1:-$src/build-deb}")
work=$(mktemp -d)
cleanup() {
	dpkg --purge ward >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "deb: FAIL: $*" >&2
	exit 1
}

dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
version=$(dpkg-deb -f "$deb" Version)
[[ $(/usr/bin/ward --version) == "ward $version" ]] || fail "ward --version is not 'ward $version'"

cd "$work"
/usr/bin/ward run -s none -p /usr/share/ward/build.ward -- /bin/sh -c 'echo inside > made; cat made' >out 2>err ||
	fail "confined run: exit $? ($(cat err))"
[[ $(cat out) == inside ]] || fail "confined run printed '$(cat out)'"
status=0
/usr/bin/ward run -s none -p /usr/share/ward/build.ward -- /bin/sh -c 'echo x > /etc/ward-deb-escape' 2>err || status=$?
[[ $status -ne 0 && ! -e /etc/ward-deb-escape ]] || fail "a write to /etc was not refused (exit $status)"
grep -q "denied create /etc/ward-deb-escape" err || fail "no record of the refused write: $(cat err)"
man -l /usr/share/man/man1/ward.1.gz >/dev/null 2>&1 || fail "man -l ward.1.gz"
cd /

dpkg --purge ward >/dev/null || fail "dpkg --purge ward"
left=""
while read -r path; do
	path=${path#.}
	[[ -n $path && -e $path && ! -d $path ]] && left="$left $path"
done < <(dpkg-deb --fsys-tarfile "$deb" | tar -t)
for dir in /usr/share/ward /usr/share/doc/ward /usr/lib/*/ward; do
	[[ -e $dir ]] && left="$left $dir"
done
[[ -z $left ]] || fail "left behind after purge:$left"
echo "deb: ok: $(basename "$deb") built by dpkg-buildpackage, lintian-clean, installed, run from /usr and purged in $((SECONDS - started))s" >&2
