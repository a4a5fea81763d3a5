#!/usr/bin/env bash
# Rule-evaluation benchmark: Pharos vs Prometheus 2.42 evaluating the same
# real rule files (kube-prometheus mixins, awesome-prometheus-alerts) over
# the same remote-written data, one after the other.
#
#   tests/bench/rules.sh [--series-per-metric N] [--eval-interval S] [--duration D] [--only a,b]
#
# Installs Prometheus with apt when missing (needs root), builds Pharos and
# the benchmark in release, then runs it. See tests/bench/README.md.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

"$repo/tests/scripts/install-references.sh" prometheus

target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -p pharos -p pharos-tests --bin pharos --bin pharos-rules-bench

exec "$target/release/pharos-rules-bench" --pharos-bin "$target/release/pharos" \
    --corpus "$repo/host/rules/testdata/rulefmt/corpus" "$@"
