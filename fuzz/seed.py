#!/usr/bin/env python3
"""Seeds the fuzz corpora (fuzz/corpus/<target>/, not in git) from the
golden files and test data in the repository, so the fuzzers start from
inputs that reach deep into each parser. The WAL, chunk and sled seeds
come from the storage's own encoders (`pharos_tsdb::fuzz::seeds`, written
by tests/scripts/fuzz.sh). Idempotent: a seed is named after its source.

usage: fuzz/seed.py [target ...]    (default: every target)
"""

import glob
import hashlib
import json
import os
import re
import struct
import sys
import tomllib

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def files(*patterns):
    out = []
    for p in patterns:
        out.extend(sorted(glob.glob(os.path.join(ROOT, p), recursive=True)))
    return [f for f in out if os.path.isfile(f)]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def toml_cases(*patterns):
    """The `[[case]]` tables of TOML test files."""
    for f in files(*patterns):
        try:
            doc = tomllib.loads(read(f).decode())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue
        for case in doc.get("case", []):
            yield f, case


def promql_queries():
    """Query lines of the PromQL test files and the conformance scripts."""
    for f in files("host/promql/tests/testdata/*.txt"):
        for line in read(f).decode().splitlines():
            if line and not line.startswith(("#", "=>")):
                yield line
    for f in files("host/promql/**/*.test", "../shared/conformance/promql/*.test"):
        for line in read(f).decode(errors="replace").splitlines():
            m = re.match(r"\s*eval(?:_fail|_warn|_ordered|_info)?\s+(?:instant|range)\s+.*?(?:at|step)\s+\S+\s+(.*)$", line)
            if m:
                yield m.group(1)


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(num, wire, payload):
    key = uvarint(num << 3 | wire)
    if wire == 2:
        return key + uvarint(len(payload)) + payload
    return key + payload


def write_request(series):
    """A prompb WriteRequest: [(labels, [(ts_ms, value)])]."""
    out = b""
    for labels, samples in series:
        ts = b""
        for n, v in labels:
            ts += field(1, 2, field(1, 2, n.encode()) + field(2, 2, v.encode()))
        for t, v in samples:
            ts += field(2, 2, field(1, 1, struct.pack("<d", v)) + field(2, 0, uvarint(t & (2**64 - 1))))
        out += field(1, 2, ts)
    return out


def seeds():
    s = {}

    def add(target, data, name=None):
        if isinstance(data, str):
            data = data.encode()
        name = name or hashlib.sha1(data).hexdigest()[:16]
        s.setdefault(target, {})[name] = data

    for f in files("host/textparse/testdata/text/**/*.txt"):
        add("textparse_prom", read(f), "text-" + os.path.basename(f))
    for f in files("host/textparse/testdata/openmetrics/**/*.txt"):
        add("textparse_openmetrics", read(f), "om-" + os.path.basename(f))
    for f in files("host/scrape/testdata/**/*"):
        add("textparse_prom", read(f), "scrape-" + os.path.basename(f))
    for q in promql_queries():
        add("promql_parse", q)
    for f in files("host/config/testdata/**/*.toml", "host/config/default.toml", "host/alerting/testdata/config/**/*.toml"):
        add("config_toml", read(f), os.path.basename(f))
    for f, case in toml_cases("host/relabel/testdata/*.toml"):
        doc = {"configs": case.get("configs", []), "input": case.get("input", {})}
        add("relabel_config", toml_dump(doc))
    for f, case in toml_cases("host/alerting/testdata/matchers/*.toml"):
        if isinstance(case.get("input"), str):
            add("am_matchers", case["input"])
    for f in files("host/rules/testdata/**/*.yml", "host/rules/testdata/**/*.yaml"):
        add("rule_file", read(f), os.path.basename(f))
    for f in files("host/template/testdata/*.cases"):
        for line in read(f).decode().splitlines():
            if line.startswith("template: "):
                add("template_parse", line[len("template: "):])
    for f in files("host/alerting/templates/*.tmpl", "host/alerting/testdata/notify/**/*.tmpl"):
        add("template_parse", read(f), os.path.basename(f))

    for q in [
        "time=1700000000&query=up",
        "start=2023-11-14T22:13:20Z&end=2023-11-15T00:13:20.5%2B02:00&step=15s&timeout=1m30s",
        "start=-1e300&end=1e300&step=0.001&limit=10",
        "match[]=up&match[]={job=~\"n.*\",instance!=\"\"}&limit=0",
        "match[]={__name__=~\".+\"}&start=-292273086-05-16T16:47:06Z",
    ]:
        add("api_params", q)

    up = [("__name__", "up"), ("instance", "a:9100"), ("job", "node")]
    for name, series in {
        "one": [(up, [(1700000000000, 1.0)])],
        "many": [([("__name__", f"m{i}"), ("i", str(i))], [(i, float(i)), (i + 1, 0.5)]) for i in range(20)],
        "bad-labels": [([("", "x"), ("a", "1"), ("a", "2")], [(0, 1.0)])],
        "empty": [],
    }.items():
        # Mode byte 1: the fuzz target compresses the protobuf itself.
        add("remote_write", b"\x01" + write_request(series), "pb-" + name)

    for file_name, m in {
        "good": {"name": "http", "file": "http-0123456789abcdef.wasm", "kind": "discovery"},
        "traversal": {"name": "evil", "file": "../../etc/passwd", "kind": "notifier"},
        "absolute": {"name": "evil", "file": "/etc/passwd", "kind": "exporter"},
    }.items():
        doc = {
            "name": m["name"],
            "version": "1.0.0",
            "kind": m["kind"],
            "description": "a plugin",
            "sha256": "0" * 64,
            "size": 1,
            "file": m["file"],
            "source": "https://example.org/p.wasm",
            "capabilities": ["http"],
            "installed_at": 1700000000,
        }
        add("plugin_manifest", json.dumps(doc, indent=2), file_name)

    add(
        "plugin_grants",
        "\n".join(
            [
                "hhttps://events.pagerduty.com",
                "hhttp://*.example.org:8080",
                "h*://127.0.0.1:*",
                "hhttp://[::1]:9090",
                "i10.0.0.0/8",
                "i::1",
                "d*.example.org",
                "dsmtp.mail.test",
                "tsmtp.mail.test:587",
                "t[::1]:*",
                "r/etc/pharos/./targets/",
            ]
        ),
        "grants",
    )
    add("plugin_grants", bytes(16) + b"\nh*://*:*", "ip-zero")
    add("plugin_grants", bytes([0x20, 0x02, 0x7F, 0, 0, 1] + [0] * 10), "ip-6to4")
    return s


def toml_dump(doc):
    """Enough of a TOML writer for relabel cases (strings, ints, lists,
    tables of those), as inline values."""

    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{key(k)} = {val(x)}" for k, x in v.items()) + " }"
        raise TypeError(type(v))

    def key(k):
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else val(k)

    return "".join(f"{key(k)} = {val(v)}\n" for k, v in doc.items())


def main():
    wanted = set(sys.argv[1:])
    for target, entries in seeds().items():
        if wanted and target not in wanted:
            continue
        d = os.path.join(CORPUS, target)
        os.makedirs(d, exist_ok=True)
        for name, data in entries.items():
            with open(os.path.join(d, "seed-" + re.sub(r"[^A-Za-z0-9._-]", "_", name)), "wb") as f:
                f.write(data)
        print(f"seed: {target}: {len(entries)} seeds")


if __name__ == "__main__":
    main()
