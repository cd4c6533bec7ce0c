#!/bin/bash
# make deb: build the Debian package the Debian way (debian/, debhelper,
# dpkg-buildpackage -b -us -uc) on a copy of the tree in a temporary
# directory, so that neither the tree nor its parent gets obj-*/,
# debian/ward/ or ../ward_*.deb; move the results (the .deb, its -dbgsym,
# .buildinfo, .changes) into OUT_DIR; run lintian on the .deb and fail on
# errors (warnings are printed).  Usage: scripts/make-deb.sh [OUT_DIR]
# (default build-deb/); prints the path of the .deb on stdout.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:-$src/build-deb}")

# The package's version and the launcher's (meson.build) must be one.
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" | head -n1)
deb_version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
if [[ $meson_version != "$deb_version" ]]; then
	echo "deb: debian/changelog says $deb_version, meson.build says $meson_version" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/ward-$deb_version
mkdir "$copy"
# What git knows of (tracked, or new and not ignored: no build*/), else
# everything but the build directories.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$copy"
else
	tar -C "$src" --exclude='./build' --exclude='./build-*' -cf - . | tar -xf - -C "$copy"
fi

log=$tmp/build.log
if ! (cd "$copy" && dpkg-buildpackage -b -us -uc -j"$(nproc)") >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deb: dpkg-buildpackage failed (the last 40 lines above)" >&2
	exit 1
fi
mkdir -p "$out"
arch=$(dpkg --print-architecture)
rm -f "$out"/ward_*.deb "$out"/ward-dbgsym_*.deb "$out"/ward_*.buildinfo "$out"/ward_*.changes
mv "$tmp"/ward_*.deb "$tmp"/ward_*.buildinfo "$tmp"/ward_*.changes "$out"/
mv "$tmp"/ward-dbgsym_*.deb "$out"/ 2>/dev/null || true
cp "$log" "$out/dpkg-buildpackage.log"
deb=$out/ward_${deb_version}_${arch}.deb

# lintian: errors fail the build, warnings and the rest are shown.
if command -v lintian >/dev/null; then
	lintian --fail-on error --tag-display-limit 0 "$deb" >&2 || {
		echo "deb: lintian reports errors in $(basename "$deb")" >&2
		exit 1
	}
else
	echo "deb: lintian is not installed; not checked" >&2
fi
echo "$deb"
