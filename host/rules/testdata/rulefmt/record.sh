#!/bin/sh
# Records what `promtool check rules` (Prometheus 2.42, Debian's `prometheus`
# package) prints for every rule file under cases/ and corpus/: for FILE,
# FILE.promtool holds stdout and stderr as one stream (promtool writes them
# unbuffered, so the order is the order of the lines) and a last line
# `exit status: N`. Paths are relative to host/rules, as the test loads them.
#
# Usage: host/rules/testdata/rulefmt/record.sh [FILE...]
# Install promtool with: tests/scripts/install-references.sh prometheus promtool
set -eu
cd "$(dirname "$0")/../.."
command -v promtool >/dev/null || { echo "promtool not found" >&2; exit 1; }
if [ "$#" -eq 0 ]; then
    set -- $(find testdata/rulefmt/cases testdata/rulefmt/corpus -type f \( -name '*.yml' -o -name '*.yaml' \) 2>/dev/null | sort)
fi
for f in "$@"; do
    status=0
    promtool check rules "$f" > "$f.promtool" 2>&1 || status=$?
    echo "exit status: $status" >> "$f.promtool"
done
