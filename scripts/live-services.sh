# Sourced by scripts/live-moto-test.sh and scripts/fault-test.sh: the deployment their Python
# suites run against. Four moto S3 servers are the zones FI-HEL-ST-1, FI-HEL-UC-1, FI-HEL-HZ-1
# (Helsinki) and SE-STO-SS-1 (Stockholm), which the test policies (Tests/live/policies) forbid
# for fin-* buckets; PostgreSQL is the metadata store. The gateways themselves are started by
# the Python suites (they stop, kill and restart them); each leaves its pid in
# $work/gateway-NAME.pid so that the exit trap stops it whatever happens.
#
# Usage: source it, call `live_services_start NAME`, run the suite. Everything is stopped and
# removed on exit (KEEP_WORK=1 keeps the scratch folder with the gateway logs). A missing tool
# or a service that does not start fails the run.

export PYTHONDONTWRITEBYTECODE=1

live_fail() { echo "FAIL: $*" >&2; exit 1; }

live_require_tools() {
    local tool
    for tool in python3 aws rclone s3cmd psql runuser curl; do
        command -v "$tool" >/dev/null 2>&1 || live_fail "$tool is not installed (make test installs it: WITH_TEST_SERVICES=1 scripts/install-deps.sh)"
    done
    python3 -c 'import boto3' 2>/dev/null || live_fail "python3 cannot import boto3 (pip install boto3)"
    [[ -x .build/debug/gateway ]] || live_fail ".build/debug/gateway is missing: run swift build --product gateway"
    [[ -x .build/debug/policyctl ]] || live_fail ".build/debug/policyctl is missing: run swift build --product policyctl"
}

live_cleanup() {
    local status=$? pidfile pid
    for pidfile in "$live_work"/gateway-*.pid; do
        [[ -f "$pidfile" ]] || continue
        pid=$(cat "$pidfile")
        kill -9 "$pid" 2>/dev/null || true
    done
    scripts/moto.sh stop "$live_work/moto" >/dev/null 2>&1 || true
    scripts/postgres.sh stop "$live_work/pg" >/dev/null 2>&1 || true
    local root
    root=$(cat "$live_work/pg/root" 2>/dev/null || true)
    if [[ -n "${KEEP_WORK:-}" ]]; then
        echo "scratch folder kept: $live_work (gateway logs: gateway-*.log; PostgreSQL's log: $root/log)"
    else
        [[ -n "$root" && "$root" == /tmp/postgres-test.* ]] && rm -rf "$root"
        rm -rf "$live_work"
    fi
    exit $status
}

# live_services_start NAME: scratch folder, four moto servers, PostgreSQL, the backends file;
# exports what Tests/live/harness.py reads.
live_services_start() {
    live_require_tools
    live_work=$(mktemp -d "${TMPDIR:-/tmp}/gateway-$1.XXXXXX")
    trap live_cleanup EXIT
    trap 'exit 130' INT TERM

    scripts/moto.sh start "$live_work/moto" 4 >/dev/null || live_fail "the moto S3 servers did not start"
    scripts/postgres.sh start "$live_work/pg" >/dev/null || live_fail "PostgreSQL did not start"
    mapfile -t urls < "$live_work/moto/urls"
    [[ ${#urls[@]} -eq 4 ]] || live_fail "expected 4 moto servers, got ${#urls[@]}"

    python3 - "$live_work/backends.json" "${urls[@]}" <<'PY'
import json, sys
path, *urls = sys.argv[1:]
zones = [("spacetime", "Spacetime", "FI-HEL-ST-1"), ("upcloud", "UpCloud", "FI-HEL-UC-1"),
         ("hetzner", "Hetzner", "FI-HEL-HZ-1"), ("safespring", "Safespring", "SE-STO-SS-1")]
config = {name: {"provider": provider, "zone_code": zone, "region": "us-east-1", "endpoint": url,
                 "access_key": "test", "secret_key": "test", "is_primary": name == "spacetime", "enabled": True}
          for (name, provider, zone), url in zip(zones, urls)}
json.dump(config, open(path, "w"), indent=2)
PY
    export WORK_DIR="$live_work"
    export GATEWAY_BIN="$PWD/.build/debug/gateway"
    export BACKENDS_CONFIG="$live_work/backends.json"
    export POLICIES_DIR="$PWD/Tests/live/policies"
    export PROVIDERS_FILE="$PWD/providers_flat.csv"
    export MOTO_DIR="$live_work/moto"
    export ZONE_URLS="FI-HEL-ST-1=${urls[0]},FI-HEL-UC-1=${urls[1]},FI-HEL-HZ-1=${urls[2]},SE-STO-SS-1=${urls[3]}"
    export FORBIDDEN_ZONE="SE-STO-SS-1"
    export POSTGRES_DIR="$live_work/pg"
    DATABASE_URL=$(cat "$live_work/pg/url")
    export DATABASE_URL

    # The gateway refuses invalid policies (fail closed); check them as CI would first.
    .build/debug/policyctl validate "$POLICIES_DIR" --catalog "$PROVIDERS_FILE" --backends "$BACKENDS_CONFIG" --strict \
        || live_fail "policyctl refuses the test policy set"
    echo "zones: $ZONE_URLS (forbidden for fin-* buckets: $FORBIDDEN_ZONE)"
    echo "PostgreSQL: $DATABASE_URL"
}
