#!/usr/bin/env python3
"""Records what Prometheus makes of every parser test case.

Serves each testdata/{text,openmetrics}/{valid,invalid}/NAME.txt over HTTP
with the suite's Content-Type, lets a real Prometheus (default
/usr/bin/prometheus, 2.42 on the team's machines) scrape each one as a
target, and writes testdata/prometheus-2.42.txt: one line per case with
"up" or Prometheus' scrape error. tests/suites.rs checks that our verdicts
agree, except for the cases in deviations.txt.

Usage: python3 testdata/check-prometheus.py [path/to/prometheus]
"""

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CONTENT_TYPES = {
    "text": "text/plain; version=0.0.4; charset=utf-8",
    "openmetrics": "application/openmetrics-text; version=1.0.0; charset=utf-8",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        suite = self.path.strip("/").split("/")[0]
        path = os.path.join(HERE, self.path.strip("/") + ".txt")
        if suite not in CONTENT_TYPES or not os.path.isfile(path):
            self.send_response(404)
            self.end_headers()
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES[suite])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    prometheus = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/prometheus"
    cases = []
    for suite in ("text", "openmetrics"):
        for kind in ("valid", "invalid"):
            d = os.path.join(HERE, suite, kind)
            cases += [f"{suite}/{kind}/{n[:-4]}" for n in sorted(os.listdir(d)) if n.endswith(".txt")]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{server.server_address[1]}"
    work = tempfile.mkdtemp(prefix="textparse-prom-")
    config = ["global: {scrape_interval: 1s, scrape_timeout: 1s}", "scrape_configs:", "- job_name: cases", "  static_configs:"]
    for case in cases:
        config.append(f'  - {{targets: ["{target}"], labels: {{__metrics_path__: "/{case}", case: "{case}"}}}}')
    with open(os.path.join(work, "prometheus.yml"), "w") as f:
        f.write("\n".join(config) + "\n")
    port = free_port()
    proc = subprocess.Popen(
        [prometheus, "--config.file", os.path.join(work, "prometheus.yml"),
         "--storage.tsdb.path", os.path.join(work, "data"), "--web.listen-address", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        verdicts = {}
        deadline = time.time() + 60
        while time.time() < deadline:
            time.sleep(1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets") as r:
                    targets = json.load(r)["data"]["activeTargets"]
            except OSError:
                continue
            verdicts = {t["labels"]["case"]: ("up" if t["health"] == "up" else t["lastError"])
                        for t in targets if t["health"] != "unknown"}
            if len(verdicts) == len(cases):
                break
        version = subprocess.run([prometheus, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    finally:
        proc.terminate()
        proc.wait()
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    missing = [c for c in cases if c not in verdicts]
    if missing:
        sys.exit(f"not scraped in time: {missing}")
    with open(os.path.join(HERE, "prometheus-2.42.txt"), "w") as f:
        f.write(f"# What {version} made of each case when scraping it:\n")
        f.write("# \"up\", or its scrape error. Written by check-prometheus.py.\n")
        for case in cases:
            f.write(f"{case}\t{verdicts[case]}\n")


if __name__ == "__main__":
    main()
