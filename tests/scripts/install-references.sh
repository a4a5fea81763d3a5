#!/usr/bin/env bash
# Installs the reference systems the tests and benchmarks compare Pharos
# with, from Debian's packages, when they are missing:
#   prometheus (2.42, with promtool), victoria-metrics (1.79),
#   prometheus-node-exporter (1.5), prometheus-alertmanager (0.25).
# Needs root (CI runs as root). Debian's services are not started: tests
# start their own instances on free ports with fresh data directories.
set -euo pipefail

declare -A pkg_of=(
    [prometheus]=prometheus
    [promtool]=prometheus
    [victoria-metrics]=victoria-metrics
    [prometheus-node-exporter]=prometheus-node-exporter
    [prometheus-alertmanager]=prometheus-alertmanager
    [amtool]=prometheus-alertmanager
)
wanted=("$@")
((${#wanted[@]})) || wanted=(prometheus promtool victoria-metrics prometheus-node-exporter)

missing=()
for bin in "${wanted[@]}"; do
    pkg="${pkg_of[$bin]:-$bin}"
    if ! command -v "$bin" >/dev/null 2>&1 && [[ " ${missing[*]:-} " != *" $pkg "* ]]; then
        missing+=("$pkg")
    fi
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "install-references: need root to apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "install-references: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
# In case a service was started anyway (systemd hosts).
if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    systemctl stop prometheus victoria-metrics prometheus-node-exporter prometheus-alertmanager 2>/dev/null || true
fi
