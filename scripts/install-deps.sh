#!/usr/bin/env bash
# Installs what building and testing need, where it is missing, on a Debian machine.
# Safe to run again: it only installs what is not there.
set -euo pipefail

want_apt=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for pkg in libyaml-dev pkg-config; do
    have_pkg "$pkg" || want_apt+=("$pkg")
done
if [ "${WITH_TEST_SERVICES:-0}" = 1 ]; then
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || want_apt+=(postgresql)
    command -v rclone >/dev/null 2>&1 || want_apt+=(rclone)
    command -v s3cmd >/dev/null 2>&1 || want_apt+=(s3cmd)
    command -v curl >/dev/null 2>&1 || want_apt+=(curl)
fi

if [ "${#want_apt[@]}" -gt 0 ]; then
    echo "installing: ${want_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${want_apt[@]}" >/dev/null
fi

if [ "${WITH_TEST_SERVICES:-0}" = 1 ]; then
    py=${PYTHON:-python3}
    want_pip=()
    "$py" -c 'import moto.server, flask_cors' 2>/dev/null || want_pip+=("moto[server]")
    "$py" -c 'import boto3' 2>/dev/null || want_pip+=(boto3)
    command -v aws >/dev/null 2>&1 || want_pip+=(awscli)
    if [ "${#want_pip[@]}" -gt 0 ]; then
        echo "installing (pip): ${want_pip[*]}"
        "$py" -m pip install -q "${want_pip[@]}"
    fi
fi
