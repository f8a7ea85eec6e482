#!/usr/bin/env bash
# Starts the gateway on the embedded default: SQLite metadata in data/, local-disk zones in
# data/zones/ for the Helsinki zones, the example policies and the catalog.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data/zones
exec .build/${CONFIGURATION:-debug}/gateway "$@"
