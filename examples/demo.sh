#!/bin/sh
# Show a denial: a "build" that writes its output (allowed) and tries to
# edit a file outside its tree (refused, logged, nothing changed on disk).
# Usage: examples/demo.sh [path/to/ward]
set -u
WARD=$(realpath "${1:-build/ward}")
EXAMPLES=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ward-demo.XXXXXX)
outside=$(mktemp -d /var/tmp/ward-demo-outside.XXXXXX)
echo "original" > "$outside/config"
cd "$work" || exit 1
echo "\$ ward run -p examples/build.ward -- sh -c 'echo built > out.txt; echo changed > $outside/config'" >&2
"$WARD" run -s none -p "$EXAMPLES/build.ward" -- sh -c "echo built > out.txt; echo changed > $outside/config"
echo "exit status: $?" >&2
echo "out.txt: $(cat out.txt)" >&2
echo "$outside/config: $(cat "$outside/config")" >&2
rm -rf "$work" "$outside"
