#!/usr/bin/env bash
# Fault tests: PostgreSQL stopped under load and started again, the gateway killed (SIGKILL)
# during large uploads and restarted, two gateway instances on one PostgreSQL. Same
# deployment as scripts/live-moto-test.sh (see scripts/live-services.sh). Needs the gateway
# and policyctl built (swift build). `make test-faults` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/live-services.sh
live_services_start faults
python3 Tests/live/test_faults.py
