#!/usr/bin/env bash
# The gateway against Ceph RADOS Gateway, the most faithful S3 backend on this machine: two
# single-zone Ceph clusters (scripts/rgw.sh) are the zones FI-HEL-ST-1 and DE-FSN-HZ-1, whose
# catalog rows have Object Lock, so the gateway creates its physical bucket with Object Lock
# there and locks every backend copy. Tests/live/test_rgw.py then checks round trips, the
# copies on each cluster and that RADOS Gateway itself refuses to delete them. The metadata
# store is the embedded SQLite. Installs the Ceph packages when missing; anything missing or
# not starting fails the run. Needs the gateway and policyctl built (swift build).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1

fail() { echo "FAIL: $*" >&2; exit 1; }

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
want_apt=()
for pkg in radosgw ceph-mon ceph-osd; do
    have_pkg "$pkg" || want_apt+=("$pkg")
done
if [[ ${#want_apt[@]} -gt 0 ]]; then
    echo "installing: ${want_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || fail "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${want_apt[@]}" >/dev/null || fail "could not install ${want_apt[*]}"
fi
for tool in python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done
python3 -c 'import boto3' 2>/dev/null || fail "python3 cannot import boto3 (pip install boto3)"
[[ -x .build/debug/gateway ]] || fail ".build/debug/gateway is missing: run swift build --product gateway"
[[ -x .build/debug/policyctl ]] || fail ".build/debug/policyctl is missing: run swift build --product policyctl"

work=$(mktemp -d "${TMPDIR:-/tmp}/gateway-rgw.XXXXXX")
gateway_pid=""
rgw_up=0
cleanup() {
    local status=$?
    [[ -n "$gateway_pid" ]] && kill "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null
    if [[ $status -ne 0 ]]; then
        [[ -f "$work/gateway.log" ]] && { echo "--- gateway log (last 30 lines)"; tail -30 "$work/gateway.log"; } >&2
        # The daemons' own logs while the clusters start, the gateways' afterwards.
        local logs=("$work"/rgw/zone-*/log/client.rgw.*.log)
        [[ $rgw_up -eq 1 ]] || logs=("$work"/rgw/zone-*/log/{mkfs,mon.a,osd.0,client.rgw.*}.log)
        for log in "${logs[@]}"; do
            [[ -f "$log" ]] && { echo "--- ${log#"$work"/} (last 15 lines)"; tail -15 "$log"; } >&2
        done
    fi
    scripts/rgw.sh stop "$work/rgw" >/dev/null 2>&1 || true
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started=$SECONDS
scripts/rgw.sh start "$work/rgw" 2 >/dev/null || fail "the RADOS Gateway zones did not start"
mapfile -t urls < "$work/rgw/urls"
[[ ${#urls[@]} -eq 2 ]] || fail "expected 2 RADOS Gateway zones, got ${#urls[@]}"
rgw_up=1
rgw_access=$(cat "$work/rgw/access_key")
rgw_secret=$(cat "$work/rgw/secret_key")
echo "RADOS Gateway zones up in $((SECONDS - started))s: ${urls[*]}"

python3 - "$work/backends.json" "$rgw_access" "$rgw_secret" "${urls[@]}" <<'PY'
import json, sys
path, access, secret, *urls = sys.argv[1:]
zones = [("spacetime", "Spacetime", "FI-HEL-ST-1"), ("hetzner", "Hetzner", "DE-FSN-HZ-1")]
config = {name: {"provider": provider, "zone_code": zone, "region": "us-east-1", "endpoint": url,
                 "access_key": access, "secret_key": secret, "is_primary": name == "spacetime", "enabled": True}
          for (name, provider, zone), url in zip(zones, urls)}
json.dump(config, open(path, "w"), indent=2)
PY

policies="$PWD/Tests/live/rgw-policies"
.build/debug/policyctl validate "$policies" --catalog providers_flat.csv --backends "$work/backends.json" --strict \
    || fail "policyctl refuses the RADOS Gateway test policy set"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
s3_port=$(free_port)
mgmt_port=$(free_port)
admin_token="rgw-admin-token"
export GATEWAY_URL="http://127.0.0.1:$s3_port"
export GATEWAY_ACCESS_KEY="rgw-gateway-access"
export GATEWAY_SECRET_KEY="rgw-gateway-secret-0123456789"
S3_BACKENDS_CONFIG="$work/backends.json" POLICIES_DIR="$policies" PROVIDERS_FILE="$PWD/providers_flat.csv" \
    DATA_DIR="$work/data" GATEWAY_HOST=127.0.0.1 GATEWAY_S3_PORT="$s3_port" GATEWAY_PORT="$mgmt_port" \
    GATEWAY_ADMIN_TOKEN="$admin_token" LOG_LEVEL="${GATEWAY_LOG_LEVEL:-notice}" \
    .build/debug/gateway >"$work/gateway.log" 2>&1 </dev/null &
gateway_pid=$!
for _ in $(seq 1 300); do
    kill -0 "$gateway_pid" 2>/dev/null || fail "the gateway exited at start"
    curl -fsS -o /dev/null -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$mgmt_port/health" 2>/dev/null && break
    sleep 0.2
done
curl -fsS -o /dev/null -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$mgmt_port/health" \
    || fail "the gateway did not become ready within 60s"

# The physical bucket, with Object Lock on both zones (their catalog rows have it).
init=$(curl -fsS -X POST -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$mgmt_port/initialize-bucket") \
    || fail "POST /initialize-bucket failed"
echo "initialize-bucket: $init"
python3 - "$init" <<'PY' || fail "POST /initialize-bucket did not create the bucket on every zone"
import json, sys
zones = json.loads(sys.argv[1])["zones"]
assert sorted(zones) == ["DE-FSN-HZ-1", "FI-HEL-ST-1"] and all(v == "created" for v in zones.values()), zones
PY

export RGW_ZONE_URLS="FI-HEL-ST-1=${urls[0]},DE-FSN-HZ-1=${urls[1]}"
export RGW_ACCESS_KEY="$rgw_access" RGW_SECRET_KEY="$rgw_secret"
export PHYSICAL_BUCKET="2025-datatransfer"
python3 Tests/live/test_rgw.py
echo "make test-rgw took $((SECONDS - started))s"
