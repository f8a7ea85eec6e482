#!/usr/bin/env bash
# Starts the gateway on the embedded default (SQLite, local-disk zones) in a scratch folder on
# free ports and runs the real-client tests (aws CLI, boto3) and the raw-socket bad-input tests
# against it.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/gateway-live.XXXXXX")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
s3_port=$(free_port); mgmt_port=$(free_port)
mkdir -p "$work/zones"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
zones = {"spacetime": "FI-HEL-ST-1", "upcloud": "FI-HEL-UC-1", "hetzner": "FI-HEL-HZ-1"}
config = {name: {"provider": name, "zone_code": zone, "region": "FI-HEL", "endpoint": f"file:{work}/zones/{zone}",
                 "access_key": "", "secret_key": "", "is_primary": name == "spacetime", "enabled": True}
          for name, zone in zones.items()}
json.dump(config, open(f"{work}/backends.json", "w"), indent=2)
PY
export GATEWAY_ACCESS_KEY=live-key GATEWAY_SECRET_KEY=live-secret
.build/debug/gateway --data-dir "$work/data" --backends-config "$work/backends.json" \
    --s3-port "$s3_port" --port "$mgmt_port" --idle-timeout 5 --log-seal-interval 1 --log-level warning > "$work/gateway.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$mgmt_port/health" >/dev/null 2>&1 && break
    sleep 0.2
done
GATEWAY_ENDPOINT="http://127.0.0.1:$s3_port" GATEWAY_MANAGEMENT="http://127.0.0.1:$mgmt_port" ZONES_DIR="$work/zones" \
AWS_ACCESS_KEY_ID=live-key AWS_SECRET_ACCESS_KEY=live-secret AWS_DEFAULT_REGION=us-east-1 \
    python3 Tests/live/test_clients.py || { echo "--- gateway log"; tail -50 "$work/gateway.log"; exit 1; }
# Raw-socket bad input (stdlib only); the gateway must still be up afterwards.
GATEWAY_ENDPOINT="http://127.0.0.1:$s3_port" AWS_ACCESS_KEY_ID=live-key AWS_SECRET_ACCESS_KEY=live-secret \
    python3 Tests/live/test_bad_input.py || { echo "--- gateway log"; tail -50 "$work/gateway.log"; exit 1; }
kill -0 "$pid" || { echo "the gateway exited"; tail -50 "$work/gateway.log"; exit 1; }
