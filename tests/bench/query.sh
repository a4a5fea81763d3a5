#!/usr/bin/env bash
# Query benchmark: Pharos vs Prometheus 2.42 vs VictoriaMetrics 1.79 on the
# same day of data, one system after the other on this machine.
#
#   tests/bench/query.sh [--series N] [--samples M] [--runs R] [--only a,b]
#
# Installs the reference systems when missing (needs root), builds Pharos
# and the benchmark in release, then runs it. See tests/bench/README.md.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
"$repo/tests/scripts/install-references.sh" prometheus victoria-metrics
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -p pharos -p pharos-tests
exec "$target/release/pharos-query-bench" --pharos-bin "$target/release/pharos" "$@"
