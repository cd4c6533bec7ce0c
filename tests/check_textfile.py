#!/usr/bin/env python3
"""Check that every *.prom file of a directory is accepted by node_exporter's
textfile collector (--collector.textfile.directory=DIR).

When prometheus-node-exporter is installed (Debian 12 packages it; ward's
install script does not install it, since the package starts a system
service listening on port 9100), runs the real collector on a free local
port with every other collector off, scrapes it once, and requires
node_textfile_scrape_error 0 and every metric family of the files in the
scrape.  Otherwise applies the collector's rules itself: each file one
exposition (check_prom.py's strict check: one HELP and one TYPE per
family, no duplicate series), no client-side timestamps, no "# EOF"
(OpenMetrics' end marker, which the 0.0.4 text parser rejects).
Exit 0 when accepted; the reason on stderr and exit 1 otherwise.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_prom  # noqa: E402


def fail(why):
    print(f"check_textfile: {why}", file=sys.stderr)
    sys.exit(1)


def families(text):
    return {m.group(1) for m in re.finditer(r"^# TYPE (\S+) ", text, re.M)}


def rules(directory):
    names = set()
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".prom"):
            continue
        text = open(os.path.join(directory, name)).read()
        if "# EOF" in text:
            fail(f"{name}: '# EOF' is OpenMetrics, not the text format")
        for line in text.splitlines():
            if line and not line.startswith("#") and check_prom.SAMPLE.match(line) and \
                    re.search(r"\} \S+ -?[0-9]+$|^[^{ ]+ \S+ -?[0-9]+$", line):
                fail(f"{name}: client-side timestamp: {line!r}")
        try:
            check_prom.strict(text)
        except SystemExit:
            fail(f"{name}: not one valid exposition")
        names |= families(text)
    if not names:
        fail("no .prom file with metrics")
    return names


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_exporter(directory, names):
    exe = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if exe is None:
        return "collector rules checked here (prometheus-node-exporter not installed)"
    port = free_port()
    proc = subprocess.Popen([exe, "--collector.disable-defaults", "--collector.textfile",
                             f"--collector.textfile.directory={directory}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        scrape = None
        for _ in range(100):
            try:
                scrape = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.05)
        if scrape is None:
            fail("node_exporter did not answer")
    finally:
        proc.terminate()
        _, log = proc.communicate(timeout=10)
    if "node_textfile_scrape_error 0" not in scrape:
        errors = [l for l in log.splitlines() if "level=error" in l]
        fail(f"node_exporter rejected a file: {errors}")
    missing = [n for n in names if f"# TYPE {n} " not in scrape]
    if missing:
        fail(f"families missing from node_exporter's scrape: {missing}")
    return f"node_exporter accepted {len(names)} families"


def main():
    if len(sys.argv) != 2:
        fail("usage: check_textfile.py DIR")
    names = rules(sys.argv[1])
    print(node_exporter(sys.argv[1], names))


if __name__ == "__main__":
    main()
