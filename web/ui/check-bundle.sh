#!/usr/bin/env bash
# Checks that the committed bundle (web/ui/dist/, embedded in the binary by
# host/web) is exactly what `npm ci && npm run build` makes from the
# sources: installs the locked packages and builds in a temporary copy,
# then compares. Exit status 1 with the differences when they differ
# (rebuild with `npm ci && npm run build` in web/ui and commit dist/).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/webui-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cp -r "$here/package.json" "$here/package-lock.json" "$here/build.mjs" "$here/src" "$tmp/"
cd "$tmp"
# No install scripts: esbuild runs from its platform package without them.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
node build.mjs "$tmp/dist"
if ! diff -r "$tmp/dist" "$here/dist"; then
    echo "check-bundle: web/ui/dist differs from a fresh build: run 'npm ci && npm run build' in web/ui and commit dist/" >&2
    exit 1
fi
echo "check-bundle: web/ui/dist matches a fresh build"
