#!/bin/sh
# Install the Debian 12 packages ward needs to build, test and benchmark,
# when they are missing.  Runs apt-get as root (or through sudo).
set -eu

PACKAGES="gcc make meson ninja-build pkg-config binutils \
libck-dev libjemalloc-dev libunwind-dev libcriterion-dev \
python3 python3-prometheus-client coreutils findutils clang git perl \
groff-base man-db dpkg-dev debhelper lintian"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "ward: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "ward: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
