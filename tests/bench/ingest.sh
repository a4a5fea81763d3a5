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

"$repo/tests/scripts/install-references.sh" prometheus victoria-metrics

target="${CARGO_TARGET_DIR:-$repo/target}"
if ! cargo build --release -p pharos -p pharos-tests; then
    echo "warning: building pharos failed; the benchmark runs without it" >&2
    cargo build --release -p pharos-tests --bin pharos-ingest-bench
fi

exec "$target/release/pharos-ingest-bench" --pharos-bin "$target/release/pharos" "$@"
