#!/bin/bash
# The man pages (docs/man/) as a user reads them: groff -ww reports no
# warning for any of them, and man -l renders each one.
# Usage: tests/man.sh PAGE...
set -euo pipefail

status=0
for page in "$@"; do
	warnings=$(groff -ww -man -z "$page" 2>&1) || true
	if [[ -n $warnings ]]; then
		echo "FAIL: $page: groff -ww:" >&2
		echo "$warnings" >&2
		status=1
	fi
	if command -v man >/dev/null; then
		text=$(MANWIDTH=80 man -l "$page" 2>&1 >/dev/null) || true
		lines=$(MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
		if [[ -n $text || $lines -lt 20 ]]; then
			echo "FAIL: $page: man -l: $lines lines; $text" >&2
			status=1
		fi
	fi
	echo "ok: $page" >&2
done
exit $status
