#!/usr/bin/env bash
# Sets up what the web interface's end-to-end test (tests/tests/web_ui.rs)
# needs: Debian's `chromium` when /usr/bin/chromium (or $PHAROS_CHROMIUM)
# is missing, and the driver's npm packages (playwright-core, exactly as
# web/ui/e2e/package-lock.json locks them). Installing chromium needs root
# (CI runs as root, with no stdin); npm needs Node.js 18 or later.
set -euo pipefail

bin=${PHAROS_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $bin ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "install-browser: need root to apt-get install chromium (or set PHAROS_CHROMIUM)" >&2
        exit 1
    fi
    echo "install-browser: installing chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends chromium fonts-liberation </dev/null; then
        apt-get update </dev/null
        apt-get install -y --no-install-recommends chromium fonts-liberation </dev/null
    fi
    [[ -x $bin ]] || { echo "install-browser: $bin still missing" >&2; exit 1; }
fi

if ! command -v npm >/dev/null 2>&1; then
    echo "install-browser: npm is missing (Node.js 18 or later with npm is needed)" >&2
    exit 1
fi
e2e=$(cd "$(dirname "$0")/../../web/ui/e2e" && pwd)
(cd "$e2e" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error </dev/null)
