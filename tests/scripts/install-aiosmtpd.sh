#!/usr/bin/env bash
# Installs aiosmtpd (PyPI), the SMTP server the email plugin's system test
# (tests/tests/email_plugin.rs) delivers to, into a virtualenv:
#   install-aiosmtpd.sh VENV_DIR
# Idempotent and non-interactive: does nothing when VENV_DIR's python
# already imports aiosmtpd. Needs python3 with the venv module (Debian's
# python3-venv, installed with apt-get when missing and running as root).
set -euo pipefail

venv=${1:?usage: install-aiosmtpd.sh VENV_DIR}
version=1.4.6

if [[ -x $venv/bin/python ]] && "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
    echo "install-aiosmtpd: python3 is missing (apt-get install python3 python3-venv)" >&2
    exit 1
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "install-aiosmtpd: python3 lacks the venv module; need root to apt-get install python3-venv" >&2
        exit 1
    fi
    echo "install-aiosmtpd: installing python3-venv" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends python3-venv </dev/null ||
        { apt-get update </dev/null && apt-get install -y --no-install-recommends python3-venv </dev/null; }
fi

echo "install-aiosmtpd: installing aiosmtpd $version into $venv" >&2
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "aiosmtpd==$version" </dev/null
"$venv/bin/python" -c 'import aiosmtpd' || {
    echo "install-aiosmtpd: aiosmtpd does not import after installing it" >&2
    exit 1
}
