#!/usr/bin/env bash
# Scrape benchmark: Pharos vs Prometheus 2.42 vs VictoriaMetrics 1.79
# scraping the same avalanche-like targets, one after the other.
#
#   tests/bench/scrape.sh [--targets N] [--series M] [--interval S] [--duration D] [--only a,b]
#
# Installs the reference systems with apt when missing (needs root), builds
# Pharos and the benchmark in release, then runs it. See tests/bench/README.md.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

"$repo/tests/scripts/install-references.sh" prometheus victoria-metrics

target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -p pharos -p pharos-tests --bin pharos --bin pharos-scrape-bench

exec "$target/release/pharos-scrape-bench" --pharos-bin "$target/release/pharos" "$@"
