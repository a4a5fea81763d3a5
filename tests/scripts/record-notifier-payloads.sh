#!/usr/bin/env bash
# Records what Alertmanager 0.25 (Debian's prometheus-alertmanager) sends to
# webhook, Slack and PagerDuty receivers, as golden files for the notifier
# plugins' tests (tests/tests/notifier_plugins.rs):
#
#   plugins/webhook/testdata/    firing.json resolved.json (defaults),
#                                firing_max_alerts.json resolved_max_alerts.json
#                                (max_alerts: 1, basic auth)
#   plugins/slack/testdata/      firing.json resolved.json (incoming webhook,
#                                defaults), firing_postmessage.json
#                                resolved_postmessage.json (chat.postMessage,
#                                bearer token, every option set)
#   plugins/pagerduty/testdata/  firing.json resolved.json (defaults),
#                                firing_full.json resolved_full.json (every
#                                option set)
#   each testdata/requests.txt   method, path and the headers that matter
#
# One receiver holds all six integrations, so every body comes from the same
# alert group (same group key, fingerprints and template data). The alerts
# (testdata/alerts.json in plugins/webhook) have fixed times and a fixed
# external URL, so the files are byte-for-byte reproducible.
#
# Usage: tests/scripts/record-notifier-payloads.sh
# (needs prometheus-alertmanager: tests/scripts/install-references.sh
#  prometheus-alertmanager, as root; python3 and curl)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
am=$(command -v prometheus-alertmanager || command -v alertmanager || true)
[[ -n $am ]] || { echo "record: prometheus-alertmanager is not installed" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { # Alertmanager first (it may still be sending), then the recorder
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rec_port=$(free_port)
am_port=$(free_port)
mkdir -p "$work/rec" "$work/am"

# The recorder: every request becomes $work/rec/<seq>.json with its method,
# path, headers and body; the answer is 200 with a body each API accepts.
cat >"$work/recorder.py" <<'EOF'
import json, os, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
out, port = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()
seq = [0]
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        with lock:
            seq[0] += 1
            i = seq[0]
        rec = {"method": "POST", "path": self.path,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body.decode("utf-8")}
        tmp = os.path.join(out, "%04d.tmp" % i)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(out, "%04d.json" % i))
        reply = b'{"ok":true,"status":"success","message":"Event processed"}'
        self.send_response(202 if "pagerduty" in self.path else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
python3 "$work/recorder.py" "$work/rec" "$rec_port" &
pids+=($!)
for _ in $(seq 100); do # until the recorder listens
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$rec_port" 2>/dev/null && break
    sleep 0.1
done

rec="http://127.0.0.1:$rec_port"
cat >"$work/alertmanager.yml" <<EOF
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: team
    webhook_configs:
      - url: $rec/webhook
      - url: $rec/webhook-max-alerts
        max_alerts: 1
        http_config:
          basic_auth: {username: alice, password: s3cret}
    slack_configs:
      - api_url: $rec/slack
        send_resolved: true
      - api_url: $rec/api/chat.postMessage
        send_resolved: true
        http_config:
          authorization: {credentials: xoxb-test-token}
        channel: '#alerts'
        username: 'pharos-{{ .Receiver }}'
        icon_emoji: ':fire:'
        link_names: true
        title: '{{ .CommonLabels.alertname }} on {{ .CommonLabels.job }} <{{ .Status }}>'
        title_link: 'https://dash.example/d/{{ .CommonLabels.alertname }}?a=1&b=2'
        pretext: 'Pretext {{ .Alerts.Firing | len }}'
        text: '{{ range .Alerts }}* {{ .Annotations.summary }}{{ "\n" }}{{ end }}'
        fallback: 'fallback: {{ .CommonLabels.alertname }}'
        callback_id: 'cb-{{ .GroupLabels.alertname }}'
        footer: 'footer & more'
        image_url: 'https://img.example/i.png'
        thumb_url: 'https://img.example/t.png'
        color: '{{ if eq .Status "firing" }}#ff0000{{ else }}#00ff00{{ end }}'
        mrkdwn_in: [title, text]
        short_fields: true
        fields:
          - {title: Severity, value: '{{ .CommonLabels.severity }}'}
          - {title: Count, value: '{{ len .Alerts }}', short: false}
        actions:
          - type: button
            text: 'Runbook {{ .CommonLabels.alertname }}'
            url: 'https://runbooks.example/{{ .CommonLabels.alertname }}'
            style: primary
            confirm: {title: 'Sure?', text: 'Open it', ok_text: 'Yes', dismiss_text: 'No'}
          - type: button
            text: Ack
            name: ack
            value: '{{ .GroupLabels.alertname }}'
    pagerduty_configs:
      - routing_key: r0ut1ngk3y
        url: $rec/pagerduty
      - routing_key: r0ut1ngk3y-full
        url: $rec/pagerduty-full
        client: 'Pharos {{ .Receiver }}'
        client_url: 'https://pharos.example/#/alerts'
        description: '{{ .CommonLabels.alertname }}: {{ .CommonAnnotations.summary }}'
        severity: '{{ if eq .CommonLabels.severity "page" }}critical{{ else }}warning{{ end }}'
        source: 'src-{{ .CommonLabels.job }}'
        class: disk
        component: storage
        group: '{{ .CommonLabels.job }}'
        details:
          team: infra
          firing: '{{ .Alerts.Firing | len }} firing'
        images:
          - {src: 'https://img.example/graph.png', alt: Graph, href: 'https://dash.example/'}
          - {src: '', alt: 'dropped: no src'}
        links:
          - {href: 'https://runbooks.example/{{ .CommonLabels.alertname }}', text: Runbook}
          - {href: '', text: 'dropped: no href'}
EOF

"$am" --config.file="$work/alertmanager.yml" --storage.path="$work/am" \
    --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address= \
    --web.external-url=http://alertmanager.example:9093 --log.level=warn &
pids+=($!)

api="http://127.0.0.1:$am_port/api/v2/alerts"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$am_port/-/ready" >/dev/null && break; sleep 0.1; done

alerts="$repo/plugins/webhook/testdata/alerts.json"
wait_for() { # wait_for N: until N requests were recorded
    for _ in $(seq 300); do
        (($(find "$work/rec" -name '*.json' | wc -l) >= $1)) && return 0
        sleep 0.1
    done
    echo "record: timed out waiting for $1 requests" >&2
    exit 1
}

curl -sf -XPOST -H 'Content-Type: application/json' --data-binary @"$alerts" "$api"
wait_for 6
sleep 1.5 # nothing else may arrive (repeat_interval is 1h)
# The same alerts, ended in the past: the group resolves.
python3 -c '
import json, sys
alerts = json.load(open(sys.argv[1]))
for a in alerts:
    a["endsAt"] = "2024-03-01T11:00:00.5Z"
print(json.dumps(alerts))' "$alerts" >"$work/resolved.json"
curl -sf -XPOST -H 'Content-Type: application/json' --data-binary @"$work/resolved.json" "$api"
wait_for 12
sleep 1.5

python3 - "$work/rec" "$repo/plugins" <<'EOF'
import json, os, sys
rec, plugins = sys.argv[1], sys.argv[2]
files = sorted(f for f in os.listdir(rec) if f.endswith(".json"))
if len(files) != 12:
    sys.exit("record: expected 12 requests, got %d" % len(files))
names = {
    "/webhook": ("webhook", ""),
    "/webhook-max-alerts": ("webhook", "_max_alerts"),
    "/slack": ("slack", ""),
    "/api/chat.postMessage": ("slack", "_postmessage"),
    "/pagerduty": ("pagerduty", ""),
    "/pagerduty-full": ("pagerduty", "_full"),
}
requests = {}
for i, f in enumerate(files):
    r = json.load(open(os.path.join(rec, f)))
    plugin, suffix = names[r["path"]]
    phase = "firing" if i < 6 else "resolved"
    name = phase + suffix + ".json"
    with open(os.path.join(plugins, plugin, "testdata", name), "w") as out:
        out.write(r["body"])
    h = r["headers"]
    line = "%s %s %s content-type=%s authorization=%s" % (
        name, r["method"], r["path"], h.get("content-type", "-"), h.get("authorization", "-"))
    requests.setdefault(plugin, []).append(line)
for plugin, lines in requests.items():
    with open(os.path.join(plugins, plugin, "testdata", "requests.txt"), "w") as out:
        out.write("# Recorded from Alertmanager 0.25 by tests/scripts/record-notifier-payloads.sh\n")
        out.write("\n".join(sorted(lines)) + "\n")
print("record: wrote %d bodies" % len(files))
EOF
