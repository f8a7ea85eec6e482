#!/usr/bin/env bash
# Runs every test of the project with the services they need, then stops the services.
# Called by `make test`; the variables it exports say which services must be there, so a
# test that needs one fails (never skips) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/gateway-test.XXXXXX")
cleanup() {
    status=$?
    scripts/postgres.sh stop "$work/pg" >/dev/null 2>&1 || true
    scripts/moto.sh stop "$work/moto" >/dev/null 2>&1 || true
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT INT TERM

echo "== build"
swift build --build-tests

echo "== policies"
.build/debug/policyctl validate policies --catalog providers_flat.csv --strict
.build/debug/policyctl validate policies --catalog providers_flat.csv --backends config/s3_backends.json --strict
.build/debug/policyctl test policies --catalog providers_flat.csv

echo "== services"
scripts/postgres.sh start "$work/pg"
export POSTGRES_TEST_URL=$(cat "$work/pg/url")
export REQUIRE_POSTGRES=1
echo "PostgreSQL at $POSTGRES_TEST_URL"
scripts/moto.sh start "$work/moto" 3 >/dev/null
export MOTO_URLS=$(paste -sd, "$work/moto/urls")
export REQUIRE_MOTO=1
echo "moto S3 servers at $MOTO_URLS"

echo "== real S3 clients against the embedded default"
scripts/live-test.sh

echo "== swift test"
swift test --skip-build

echo "== real S3 clients against moto zones and PostgreSQL"
scripts/live-moto-test.sh

echo "== fault tests"
scripts/fault-test.sh
