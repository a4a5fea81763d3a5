#!/usr/bin/env bash
# Remote-write ingestion benchmark: Pharos vs Prometheus 2.42 vs
# VictoriaMetrics 1.79 on the same data, one after the other on this machine.
#
#   tests/bench/ingest.sh [--series N] [--samples M] [--only a,b] [--json PATH] ...
#
# Installs the reference systems with apt when missing (needs root), builds
# Pharos and the generator in release, then runs the generator, which starts
# each system itself. All options are the generator's: see --help and
# tests/bench/README.md.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Keep apt from starting Debian's services: the benchmark starts its own
    # instances on free ports with fresh data directories.
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    if ! apt-get install -y "${missing[@]}"; then
        apt-get update
        apt-get install -y "${missing[@]}"
    fi
    # In case a service was started anyway (systemd hosts).
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
        systemctl stop prometheus victoria-metrics 2>/dev/null || true
    fi
fi

target="${CARGO_TARGET_DIR:-$repo/target}"
if ! cargo build --release -p pharos -p pharos-tests; then
    echo "warning: building pharos failed; the benchmark runs without it" >&2
    cargo build --release -p pharos-tests --bin pharos-ingest-bench
fi

exec "$target/release/pharos-ingest-bench" --pharos-bin "$target/release/pharos" "$@"
