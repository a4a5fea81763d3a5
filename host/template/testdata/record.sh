#!/usr/bin/env bash
# Re-records the expected outputs in prometheus.cases from a real
# Prometheus 2.42 (Debian's package: tests/scripts/install-references.sh
# prometheus promtool).
#
# For every case it writes an alerting rule whose series carries the case's
# labels and value and whose annotation `t` is the case's template:
#   - cases promtool refuses get `parse_error:` = promtool's message;
#   - the others are loaded into one Prometheus (evaluation_interval 1s)
#     and `want:` is the annotation read back from /api/v1/alerts.
# Everything else in the file (names, templates, comments) is kept.
#
# Usage: host/template/testdata/record.sh [CASES_FILE]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cases="${1:-$here/prometheus.cases}"
command -v prometheus >/dev/null && command -v promtool >/dev/null || {
  echo "prometheus/promtool missing: run tests/scripts/install-references.sh prometheus promtool" >&2
  exit 1
}
exec python3 - "$cases" <<'PY'
import json, os, re, socket, subprocess, sys, tempfile, time, urllib.request

path = sys.argv[1]
EXTERNAL_URL = "http://pharos.example:9090/prefix/"
EXTERNAL_LABELS = {"cluster": "eu1"}
DEFAULT_LABELS = 'instance="host.example.com:9100", job="node"'
DEFAULT_VALUE = "1234.5678"

# ---- parse the cases file (same format as tests/cases.rs reads) ----
lines = open(path).read().split("\n")
cases, cur = [], None
i = 0
def field_value(i):
    """Value of a `key:` line at i: inline text, or following `|` lines."""
    key, _, rest = lines[i].partition(":")
    if rest.strip() == "" and i + 1 < len(lines) and lines[i + 1].startswith("|"):
        vals = []
        j = i + 1
        while j < len(lines) and lines[j].startswith("|"):
            vals.append(lines[j][1:])
            j += 1
        return key, "\n".join(vals), j
    return key, rest[1:] if rest.startswith(" ") else rest, i + 1
while i < len(lines):
    l = lines[i]
    if l.startswith("=== "):
        cur = {"name": l[4:].strip(), "start": i}
        cases.append(cur)
        i += 1
        continue
    if cur is not None and re.match(r"^(labels|value|template|want|parse_error):", l):
        key, val, j = field_value(i)
        cur[key] = val
        i = j
        continue
    i += 1

def yaml_str(s):
    return json.dumps(s)  # JSON strings are YAML double-quoted strings

def parse_labels(s):
    out = {}
    for m in re.finditer(r'(\w+)="((?:[^"\\]|\\.)*)"', s):
        out[m.group(1)] = m.group(2)
    return out

def expr_for(c):
    e = "vector(%s)" % c.get("value", DEFAULT_VALUE)
    for k, v in parse_labels(c.get("labels", DEFAULT_LABELS)).items():
        e = 'label_replace(%s, "%s", "%s", "", "")' % (e, k, v)
    return e

def alert_name(c):
    return "case_" + re.sub(r"\W", "_", c["name"])

def rule(c):
    return ("  - alert: %s\n    expr: %s\n    annotations:\n      t: %s\n"
            % (alert_name(c), yaml_str(expr_for(c)), yaml_str(c["template"])))

tmp = tempfile.mkdtemp()
results = {}
ok_cases = []
for c in cases:
    f = os.path.join(tmp, "one.yml")
    open(f, "w").write("groups:\n- name: g\n  rules:\n" + rule(c))
    p = subprocess.run(["promtool", "check", "rules", f], capture_output=True, text=True)
    if p.returncode != 0:
        out = p.stdout + p.stderr
        m = re.search(r'annotation "t": (.*)', out)
        results[c["name"]] = ("parse_error", m.group(1) if m else out.strip())
    else:
        ok_cases.append(c)

rules = os.path.join(tmp, "rules.yml")
open(rules, "w").write("groups:\n- name: g\n  interval: 1s\n  rules:\n" + "".join(rule(c) for c in ok_cases))
cfg = os.path.join(tmp, "prometheus.yml")
open(cfg, "w").write("global:\n  evaluation_interval: 1s\n  external_labels:\n"
                     + "".join("    %s: %s\n" % (k, v) for k, v in EXTERNAL_LABELS.items())
                     + "rule_files:\n  - %s\n" % rules)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
proc = subprocess.Popen(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                         "--web.listen-address=127.0.0.1:%d" % port, "--web.external-url=" + EXTERNAL_URL],
                        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "log"), "w"))
try:
    got = {}
    for _ in range(60):
        time.sleep(1)
        try:
            body = urllib.request.urlopen("http://127.0.0.1:%d/prefix/api/v1/alerts" % port, timeout=5).read()
        except Exception:
            continue
        got = {a["labels"]["alertname"]: a["annotations"].get("t", "")
               for a in json.loads(body)["data"]["alerts"]}
        if all(alert_name(c) in got for c in ok_cases):
            break
    for c in ok_cases:
        if alert_name(c) not in got:
            sys.exit("no alert for %s (see %s/log)" % (c["name"], tmp))
        results[c["name"]] = ("want", got[alert_name(c)])
finally:
    proc.terminate()
    proc.wait()

# ---- rewrite the file: drop old want/parse_error, append the new one ----
out = []
i = 0
def emit(key, val):
    if "\n" in val or val != val.strip() or val == "":
        out.append(key + ":")
        out.extend("|" + v for v in val.split("\n"))
    else:
        out.append("%s: %s" % (key, val))
name = None
while i < len(lines):
    l = lines[i]
    if l.startswith("=== "):
        name = l[4:].strip()
    if re.match(r"^(want|parse_error):", l):
        _, _, i = field_value(i)
        continue
    out.append(l)
    if l.startswith("template:") and name in results:
        _, _, j = field_value(i)
        out.extend(lines[i + 1:j])
        emit(*results[name])
        i = j
        continue
    i += 1
open(path, "w").write("\n".join(out))
print("recorded %d cases (%d parse errors)" % (len(cases), len(cases) - len(ok_cases)))
PY
