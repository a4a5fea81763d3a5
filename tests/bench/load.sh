#!/usr/bin/env bash
# Load benchmark: Pharos ingests by remote write (the ingestion benchmark's
# workload) alone, then while 50 clients run heavy and hostile queries in a
# loop, then alone again; it reports ingestion under load against alone,
# the answers (checked against Prometheus' error texts), RSS against a
# bound derived from the query limits, and whether the server stayed up and
# ready.
#
#   tests/bench/load.sh [--period S] [--clients N] [--json PATH] ...
#
# Builds Pharos and the generator in release, then runs the generator,
# which starts Pharos itself with a fresh data directory under /tmp. Exits
# non-zero when a target is missed. All options are the generator's: see
# --help and tests/bench/README.md.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --release -p pharos -p pharos-tests
exec "$target/release/pharos-load-bench" --pharos-bin "$target/release/pharos" "$@"
