#!/usr/bin/env python3
"""Print one closing line for the test run: 'tests: N passed, N failed'.

Reads meson's test log (one JSON object per test) of every build directory
given and counts each TAP subtest Criterion reported, so the line counts
individual test cases."""
import json
import sys

passed = failed = skipped = 0
for build in sys.argv[1:] or ["build"]:
  log = build + "/meson-logs/testlog.json"
  try:
    with open(log) as f:
        for line in f:
            test = json.loads(line)
            out = test.get("stdout") or ""
            subtests = [l for l in out.splitlines() if l.startswith(("ok ", "not ok "))]
            if not subtests:
                if test["result"] in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif test["result"] == "SKIP":
                    skipped += 1
                else:
                    failed += 1
                continue
            for l in subtests:
                if l.startswith("not ok"):
                    failed += 1
                elif "# SKIP" in l:
                    skipped += 1
                else:
                    passed += 1
            if test["result"] not in ("OK", "EXPECTEDFAIL", "SKIP") and not any(
                    l.startswith("not ok") for l in subtests):
                failed += 1  # crashed or timed out after its last subtest
  except FileNotFoundError:
    print(f"no test log at {log}", file=sys.stderr)
    sys.exit(1)
print(f"tests: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
