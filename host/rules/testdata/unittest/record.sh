#!/usr/bin/env bash
# Records what `promtool test rules` (Prometheus 2.42, Debian's package)
# prints for every *.test.yml here, stdout and stderr together, followed by
# its exit status: the expectations tests/unittest_files.rs compares
# `pharos test rules` with. Rerun after adding or changing a test file.
set -euo pipefail
cd "$(dirname "$0")"
../../../../tests/scripts/install-references.sh promtool
for f in *.test.yml; do
    set +e
    out=$(promtool test rules "$f" 2>&1)
    status=$?
    set -e
    printf '%s\nexit %d\n' "$out" "$status" >"${f%.test.yml}.promtool"
done
