#!/usr/bin/env bash
# Real S3 clients (aws CLI, boto3, rclone, s3cmd) against the gateway with moto S3 servers as
# its zones and PostgreSQL as its metadata store (see scripts/live-services.sh), then one zone
# stopped during writes and repaired by the replication worker. Placement is checked on each
# zone's S3 server directly. Needs the gateway and policyctl built (swift build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/live-services.sh
live_services_start live-moto
python3 Tests/live/test_moto_backends.py
