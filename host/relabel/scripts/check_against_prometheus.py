#!/usr/bin/env python3
"""Checks host/relabel/testdata against a real Prometheus.

Every run case (input/configs/output) becomes a scrape job whose target
serves the input labels as one sample and whose metric_relabel_configs are
the case's configs; the series Prometheus stores must equal the expected
output (or be missing for `dropped = true`). Every config case is checked
with `promtool check config`, and its error text compared.

Cases with `differs_from_prometheus` are skipped and listed.

Usage: check_against_prometheus.py [--prometheus /usr/bin/prometheus]
       [--promtool /usr/bin/promtool]
Needs Python 3.11 (tomllib). Starts Prometheus on a free loopback port with
a temporary data directory and stops it when done.
"""

import argparse
import http.server
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

TESTDATA = Path(__file__).resolve().parent.parent / "testdata"
NAMELESS = "pharos_case_nameless"


def load_cases():
    for path in sorted(TESTDATA.glob("*.toml")):
        for case in tomllib.loads(path.read_text())["case"]:
            yield path.name, case


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(labels):
    name = labels.get("__name__", NAMELESS)
    rest = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}} 1\n"


def job(i, case, port):
    inp = case["input"]
    prefix = [{"action": "labeldrop", "regex": n} for n in ("job", "instance") if n not in inp]
    suffix = [
        {"source_labels": ["__name__"], "regex": "", "target_label": "__name__", "replacement": NAMELESS},
        {"target_label": "zz_case", "replacement": str(i)},
    ]
    return {
        "job_name": f"case{i}",
        "honor_labels": True,
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "metrics_path": f"/case/{i}",
        "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
        "metric_relabel_configs": prefix + case["configs"] + suffix,
    }


def check_runs(cases, prometheus):
    bodies = {}
    port = free_port()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = bodies.get(self.path.removeprefix("/case/"), "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    jobs = []
    for i, (_, case) in enumerate(cases):
        bodies[str(i)] = exposition(case["input"])
        jobs.append(job(i, case, port))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "prometheus.yml"
        config.write_text(json.dumps({"scrape_configs": jobs}))
        web = free_port()
        proc = subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{web}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            got = {}
            for _ in range(30):
                time.sleep(1)
                try:
                    q = urllib.parse.urlencode({"match[]": '{zz_case=~".+"}'})
                    with urllib.request.urlopen(f"http://127.0.0.1:{web}/api/v1/series?{q}") as r:
                        series = json.load(r)["data"]
                except OSError:
                    continue
                got = {}
                for s in series:
                    n = s.pop("zz_case")
                    if s.get("__name__") == NAMELESS:
                        del s["__name__"]
                    got[n] = s
                # Every case that keeps its series has been scraped.
                if all(str(i) in got for i, (_, c) in enumerate(cases) if not c.get("dropped")):
                    time.sleep(2)
                    break
        finally:
            proc.terminate()
            proc.wait()
            server.shutdown()
    for i, (file, case) in enumerate(cases):
        want = None if case.get("dropped") else case["output"]
        have = got.get(str(i))
        if have != want:
            failures.append(f"{file}: {case['name']}: prometheus {have}, testdata {want}")
    return failures


def check_configs(cases, promtool):
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (file, case) in enumerate(cases):
            path = Path(tmp) / f"c{i}.yml"
            path.write_text(json.dumps({"scrape_configs": [{
                "job_name": "j",
                "static_configs": [{"targets": ["a:1"]}],
                "metric_relabel_configs": [case["config"]],
            }]}))
            out = subprocess.run([promtool, "check", "config", str(path)],
                                 capture_output=True, text=True)
            text = out.stdout + out.stderr
            marker = f"parsing YAML file {path}: "
            have = None
            if out.returncode != 0:
                line = next((l for l in text.splitlines() if marker in l), text.strip())
                have = line.split(marker, 1)[-1].strip()
            want = case.get("error")
            if have != want:
                failures.append(f"{file}: {case['name']}: promtool {have!r}, testdata {want!r}")
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prometheus", default="/usr/bin/prometheus")
    ap.add_argument("--promtool", default="/usr/bin/promtool")
    args = ap.parse_args()
    runs, configs, skipped = [], [], []
    for file, case in load_cases():
        if case.get("differs_from_prometheus"):
            skipped.append(f"{file}: {case['name']}: {case['differs_from_prometheus']}")
        elif "config" in case:
            configs.append((file, case))
        else:
            runs.append((file, case))
    failures = check_runs(runs, args.prometheus) + check_configs(configs, args.promtool)
    for s in skipped:
        print("skipped", s)
    for f in failures:
        print("FAILED", f)
    checked = len(runs) + len(configs)
    print(f"{checked - len(failures)} passed, {len(failures)} failed, {len(skipped)} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
