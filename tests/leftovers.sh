#!/bin/bash
# Nothing left in /dev/shm (cli/scratch.c): a ward run -p killed with
# SIGKILL mid-run leaves none of its files (its janitor removes them), the
# files of a launcher that is gone with its janitor are removed by the next
# run (a live launcher's are kept), and names differ from run to run.
# Usage: tests/leftovers.sh WARD POLICY
# shellcheck disable=SC2016 # $$ and $WARD_TREE are the command's
set -euo pipefail

ward=$1
policy=$2
shm=/dev/shm
[[ -d $shm && -w $shm ]] || {
	echo "skipped: no writable /dev/shm" >&2
	exit 0
}
unset TMPDIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
mine() { # the files of launcher $1
	find "$shm" -maxdepth 1 -name "ward-*.$1.*" -printf '%f\n'
}

# 1. SIGKILL of the launcher mid-run (-s FILE: with the shared figures).
"$ward" run -s "$tmp/report" -p "$policy" -- /bin/sh -c 'echo $$ > "$0"; exec sleep 60' "$tmp/child" &
launcher=$!
trap '[[ -n $launcher ]] && kill -KILL "$launcher" 2>/dev/null; [[ -s $tmp/child ]] && kill -KILL "$(cat "$tmp/child")" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do
	[[ -s $tmp/child ]] && break
	sleep 0.05
done
[[ -s $tmp/child ]] || fail "the command did not start"
[[ $(mine "$launcher" | wc -l) -eq 3 ]] || fail "expected the tree, policy and records files: $(mine "$launcher")"
kill -KILL "$launcher"
wait "$launcher" 2>/dev/null || true
launcher=""
kill -KILL "$(cat "$tmp/child")" 2>/dev/null || true
rm "$tmp/child"
for _ in $(seq 100); do
	[[ -z $(mine "$launcher") ]] && break
	sleep 0.05
done
[[ -z $(mine "$launcher") ]] || fail "left behind by a SIGKILLed launcher: $(mine "$launcher")"
"$ward" run -s none -p "$policy" -- true
[[ -z $(mine "$launcher") ]] || fail "left behind after the next run: $(mine "$launcher")"

# 2. A launcher gone with its janitor: the next run sweeps what it left;
#    files of a live process and of another kind stay.
/bin/true &
dead=$!
wait "$dead"
kill -0 "$dead" 2>/dev/null && fail "pid $dead was reused at once"
# (another ward run's janitor may sweep these first: the test only needs them gone)
touch "$shm/ward-tree.$dead.0123abcd" "$shm/ward-policy.$dead.0123abcd" 2>/dev/null || true
mkdir "$shm/ward-records.$dead.XyZ123" 2>/dev/null || true
touch "$shm/ward-records.$dead.XyZ123/0123abcd.jsonl" 2>/dev/null || true
touch "$shm/ward-tree.$$.0123abcd" "$shm/ward-treeish.$dead.0123abcd"
"$ward" run -s none -- true
left=$(mine "$dead")
kept=$(mine $$)
rm -f "$shm/ward-tree.$$.0123abcd" "$shm/ward-treeish.$dead.0123abcd"
[[ $left == "ward-treeish.$dead.0123abcd" ]] || fail "stale files of a dead launcher not swept: $left"
[[ -n $kept ]] || fail "the file of a live process was removed"

# 3. Names carry fresh randomness.
a=$("$ward" run -s "$tmp/report" -- /bin/sh -c 'echo "$WARD_TREE"')
b=$("$ward" run -s "$tmp/report" -- /bin/sh -c 'echo "$WARD_TREE"')
[[ ${a##*.} =~ ^[0-9a-f]{32}$ ]] || fail "tree name without 128 random bits: $a"
[[ ${a##*.} != "${b##*.}" ]] || fail "two runs used the same suffix: $a $b"
echo "ok: nothing left after SIGKILL, stale files swept, names random" >&2
