#!/usr/bin/env bash
# Builds Pharos' Debian package: target/debian/pharos_<version>-1_<arch>.deb
# (the binary, the systemd unit, /etc/pharos/pharos.toml, the pharos user;
# see [package.metadata.deb] in host/pharos/Cargo.toml).
#
#   packaging/build-deb.sh              # release build, then the package
#   packaging/build-deb.sh --no-build   # package target/release/pharos as it is
#
# Installs cargo-deb (`cargo install cargo-deb --locked`) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
    echo "build-deb: installing cargo-deb" >&2
    cargo install cargo-deb --locked
fi
if [[ ${1:-} != --no-build ]]; then
    cargo build --release --locked -p pharos
fi
cargo deb -p pharos --no-build
