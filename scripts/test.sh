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

# Runs `swift test` with the arguments given. The output is long (the gateway's logs of many
# tests), so a failure's issues are repeated at the end, where a CI log's last lines show them.
swift_test() {
    local status=0
    swift test --skip-build "$@" 2>&1 | tee "$work/swift-test.log" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "== swift test $* failed (exit $status); the issues it recorded:"
        grep -a -E -A4 "recorded an issue|error: |Fatal error|✘ Test [^ ]+ failed|✘ Suite" "$work/swift-test.log" \
            | grep -a -v -E "^(20[0-9]{2}-|\[|✔)" | tail -n 120 || true
        exit "$status"
    fi
}

# The suites that measure how long a call waits (deadlines, stall and failover timeouts) run
# on their own after the rest: Swift Testing runs every test at once, and on a two-core
# machine a test that takes half a second alone took over 20 s among the others.
timed='WriteStragglerTests|WriteStallTests|BackendOutageTests|ConnectionWaitTests|DeadlineTests|ReadResumeTests|ReadPauseTests'

echo "== swift test"
swift_test --skip "$timed"

echo "== swift test: the suites that measure waits"
swift_test --filter "$timed"

echo "== real S3 clients against moto zones and PostgreSQL"
scripts/live-moto-test.sh

echo "== fault tests"
scripts/fault-test.sh
