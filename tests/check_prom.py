#!/usr/bin/env python3
"""Check that stdin is one valid Prometheus text exposition (format 0.0.4).

Used by the stats tests on ward's `prom` dumps.  Always runs a strict
line-format check (names, label syntax and escapes, values, one HELP and
one TYPE per metric before its samples, a family's samples together, no
duplicate series, trailing newline); when the
python3-prometheus-client package is installed, also parses the text with its
official parser.  Exit 0 when valid; otherwise the reason on stderr, exit 1.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\[\\"n]|[^"\\\n])*"'
SAMPLE = re.compile(
    rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*,?)?\}})? "
    r"([-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|Inf|NaN))(?: -?[0-9]+)?$")
HELP = re.compile(rf"^# HELP ({NAME}) (.*)$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|untyped|summary|histogram)$")


def fail(why):
    print(f"check_prom: {why}", file=sys.stderr)
    sys.exit(1)


def strict(text):
    if not text:
        fail("empty exposition")
    if not text.endswith("\n"):
        fail("does not end with a newline")
    types, helps, seen, samples = {}, set(), set(), 0
    finished, current = set(), None  # a family's samples stay together
    for number, line in enumerate(text[:-1].split("\n"), 1):
        if line.startswith("#"):
            m = TYPE.match(line)
            h = HELP.match(line)
            if m:
                if m.group(1) in types:
                    fail(f"line {number}: second TYPE for {m.group(1)}")
                types[m.group(1)] = m.group(2)
            elif h:
                if h.group(1) in helps:
                    fail(f"line {number}: second HELP for {h.group(1)}")
                helps.add(h.group(1))
            else:
                fail(f"line {number}: malformed comment: {line!r}")
            continue
        m = SAMPLE.match(line)
        if not m:
            fail(f"line {number}: malformed sample: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if name not in types:
            fail(f"line {number}: sample {name} before its TYPE")
        if name != current:
            if name in finished:
                fail(f"line {number}: samples of {name} split by another family")
            if current is not None:
                finished.add(current)
            current = name
        if types[name] == "counter" and float(value) < 0:
            fail(f"line {number}: negative counter")
        if (name, labels) in seen:
            fail(f"line {number}: duplicate series {name}{{{labels}}}")
        seen.add((name, labels))
        samples += 1
    if samples == 0:
        fail("no samples")
    return samples


def official(text):
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return "builtin check only (python3-prometheus-client not installed)"
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends
        fail(f"prometheus_client parser: {e}")
    if not families:
        fail("prometheus_client parser found no metric families")
    return f"prometheus_client: {len(families)} families"


def main():
    text = sys.stdin.read()
    samples = strict(text)
    print(f"{samples} samples; {official(text)}")


if __name__ == "__main__":
    main()
