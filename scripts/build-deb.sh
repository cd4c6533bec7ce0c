#!/bin/bash
# Build a Debian package of ward without debian/ or debhelper: a release
# configuration of meson (no tests, no benchmarks, prefix /usr) installed
# into a staging root, Depends from dpkg-shlibdeps, Built-Using naming the
# jemalloc source whose libjemalloc_pic.a is linked into libward.so, then
# dpkg-deb --build.  Usage: scripts/build-deb.sh [BUILD_DIR]; prints the
# path of the .deb on stdout.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath -m "${1:-$src/build-deb}")
root=$build/root

if [[ ! -f $build/build.ninja ]]; then
	meson setup "$build" "$src" --prefix=/usr -Dtests=false -Dbench=false >/dev/null
fi
ninja -C "$build" >/dev/null
rm -rf "$root"
meson install -C "$build" --no-rebuild --strip --destdir "$root" >/dev/null
chmod 0644 "$root"/usr/lib/*/ward/libward.so # a library, not a program

version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
	"$build/meson-info/intro-projectinfo.json")
arch=$(dpkg --print-architecture)
doc=$root/usr/share/doc/ward

# Debian's places: compressed man pages and changelog, the copyright file.
gzip -9nf "$root"/usr/share/man/man*/*
cp "$src/LICENSE" "$doc/copyright"
gzip -9nc "$src/NEWS" >"$doc/changelog.gz"
rm -f "$doc/NEWS" "$doc/LICENSE"

# Depends: what the binaries link (dpkg-shlibdeps wants a debian/control).
meta=$build/meta
mkdir -p "$meta/debian"
printf 'Source: ward\n\nPackage: ward\nArchitecture: any\n' >"$meta/debian/control"
depends=$(cd "$meta" && dpkg-shlibdeps -O "$root/usr/bin/ward" "$root"/usr/lib/*/ward/libward.so 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' libjemalloc-dev)

mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: ward
Version: $version
Architecture: $arch
Maintainer: The ward authors <ward@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: libunwind8
Built-Using: $built_using
Section: devel
Priority: optional
Description: LD_PRELOAD sandbox and call statistics for process trees
 ward runs a command and every process it starts with libward.so
 preloaded: each libc file, process and memory call is decided against a
 policy ("read the system, write only here") and counted, and the figures
 of the whole tree are merged at the end, like strace -f -c without ptrace.
 .
 libunwind8 is loaded only for backtraces in violation records.
CONTROL

deb=$build/ward_${version}_${arch}.deb
dpkg-deb --build --root-owner-group "$root" "$deb" >/dev/null
echo "$deb"
