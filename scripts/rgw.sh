#!/usr/bin/env bash
# Throwaway Ceph RADOS Gateway zones for tests (Debian packages radosgw, ceph-mon, ceph-osd).
#
#   scripts/rgw.sh start DIR N   starts N independent single-zone Ceph clusters, each one
#                                ceph-mon, one ceph-osd on memstore and one radosgw (beast on a
#                                free 127.0.0.1 port), with authentication off between the
#                                daemons and everything under DIR/zone-I; creates the S3 user
#                                whose keys are written to DIR/access_key and DIR/secret_key;
#                                waits until each gateway answers, then writes the URLs
#                                (http://127.0.0.1:PORT), one per line, to DIR/urls and prints them.
#   scripts/rgw.sh stop DIR      stops the daemons started in DIR (DIR/pids) and removes their data.
#
# Each daemon must come up within RGW_START_SECONDS (default 90); otherwise the start fails,
# naming the daemon and its log.
set -euo pipefail

die() { echo "rgw.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start DIR N | stop DIR"; }

[[ $# -ge 2 ]] || usage
cmd="$1"
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"
ACCESS_KEY="rgwtestaccess"
SECRET_KEY="rgwtestsecretkey0123456789"
START_SECONDS="${RGW_START_SECONDS:-90}"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

http_ready() {
    python3 - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/", timeout=2).read()
except urllib.error.HTTPError:
    pass  # an S3 error answer means the gateway is serving
PY
}

# wait_for SECONDS DESCRIPTION PID COMMAND...: polls COMMAND until it succeeds; fails when the
# daemon PID exits or the time is up.
wait_for() {
    local seconds="$1" what="$2" pid="$3"
    shift 3
    local deadline=$((SECONDS + seconds))
    while (( SECONDS < deadline )); do
        "$@" >/dev/null 2>&1 && return 0
        [[ -z "$pid" ]] || kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}

kill_daemons() {
    if [[ -f "$DIR/pids" ]]; then
        # radosgw first, the mon last: each daemon leaves cleanly while its peers still answer.
        local pids; mapfile -t pids < <(tac "$DIR/pids")
        local pid
        for pid in "${pids[@]}"; do
            [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
        done
        for _ in $(seq 1 50); do
            local alive=0
            for pid in "${pids[@]}"; do
                [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && alive=1
            done
            [[ $alive -eq 0 ]] && break
            sleep 0.1
        done
        for pid in "${pids[@]}"; do
            [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
        done
    fi
    rm -f "$DIR/pids"
}

stop() {
    kill_daemons
    rm -rf "$DIR"/zone-* "$DIR/pids" "$DIR/urls" "$DIR/urls.tmp" "$DIR/access_key" "$DIR/secret_key"
}

# start_zone I: one cluster; appends its daemons' pids to DIR/pids and prints its URL.
start_zone() {
    local i="$1" home="$DIR/zone-$1"
    local mon_port rgw_port fsid conf
    mon_port="$(free_port)"
    rgw_port="$(free_port)"
    fsid="$(python3 -c 'import uuid; print(uuid.uuid4())')"
    conf="$home/ceph.conf"
    mkdir -p "$home"/{mon,osd,rgw,run,log}
    cat > "$conf" <<EOF
[global]
fsid = $fsid
mon_host = v1:127.0.0.1:$mon_port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr2 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
keyring = $home/keyring
run_dir = $home/run
pid_file = $home/run/\$name.pid
admin_socket = $home/run/\$name.asok
log_file = $home/log/\$name.log
crash_dir = $home/log
mon_data = $home/mon/\$name
osd_data = $home/osd/\$name
rgw_data = $home/rgw/\$name
osd_objectstore = memstore
memstore_device_bytes = 2147483648
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
osd_memory_target = 536870912
[client.rgw.zone$i]
rgw_frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw_dns_name = 127.0.0.1
EOF
    touch "$home/keyring"
    monmaptool --create --addv a "[v1:127.0.0.1:$mon_port]" --fsid "$fsid" "$home/monmap" >"$home/log/mkfs.log" 2>&1 \
        || die "monmaptool failed for zone $i; see $home/log/mkfs.log"
    ceph-mon -c "$conf" --mkfs -i a --monmap "$home/monmap" >>"$home/log/mkfs.log" 2>&1 \
        || die "ceph-mon --mkfs failed for zone $i; see $home/log/mkfs.log"
    nohup ceph-mon -c "$conf" -f -i a >"$home/log/mon.out" 2>&1 </dev/null &
    echo $! >> "$DIR/pids"
    local mon_pid=$!
    wait_for "$START_SECONDS" mon "$mon_pid" ceph -c "$conf" --connect-timeout 5 mon stat \
        || die "ceph-mon of zone $i did not come up within ${START_SECONDS}s; see $home/log/mon.a.log"

    local osd_id
    osd_id="$(ceph -c "$conf" osd create 2>>"$home/log/mkfs.log")" || die "ceph osd create failed for zone $i"
    mkdir -p "$home/osd/osd.$osd_id"
    ceph-osd -c "$conf" -i "$osd_id" --mkfs >>"$home/log/mkfs.log" 2>&1 \
        || die "ceph-osd --mkfs failed for zone $i; see $home/log/mkfs.log"
    osd_up() { ceph -c "$conf" --connect-timeout 5 osd dump 2>/dev/null | grep -q "^osd\.$osd_id up"; }
    # With authentication off, ceph-osd sometimes sends its first command before it has the
    # monmap and the mon refuses it ("wrong fsid"); the daemon exits and a second start works.
    local osd_started=0
    for _try in 1 2 3; do
        nohup ceph-osd -c "$conf" -f -i "$osd_id" >>"$home/log/osd.out" 2>&1 </dev/null &
        local osd_pid=$!
        echo "$osd_pid" >> "$DIR/pids"
        if wait_for "$START_SECONDS" osd "$osd_pid" osd_up; then osd_started=1; break; fi
        kill -0 "$osd_pid" 2>/dev/null && break  # alive but not up within the time: give up
    done
    [[ $osd_started -eq 1 ]] \
        || die "ceph-osd of zone $i did not come up within ${START_SECONDS}s; see $home/log/osd.$osd_id.log"

    nohup radosgw -c "$conf" -f -n "client.rgw.zone$i" >"$home/log/rgw.out" 2>&1 </dev/null &
    echo $! >> "$DIR/pids"
    local rgw_pid=$!
    local url="http://127.0.0.1:$rgw_port"
    wait_for "$START_SECONDS" radosgw "$rgw_pid" http_ready "$url" \
        || die "radosgw of zone $i did not answer on $url within ${START_SECONDS}s; see $home/log/client.rgw.zone$i.log"
    radosgw-admin -c "$conf" -n "client.rgw.zone$i" user create --uid tests --display-name "Tests" \
        --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >>"$home/log/mkfs.log" 2>&1 \
        || die "radosgw-admin user create failed for zone $i; see $home/log/mkfs.log"
    echo "$url" >> "$DIR/urls.tmp"
}

start() {
    local n="$1"
    [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || usage
    local tool
    for tool in ceph ceph-mon ceph-osd monmaptool radosgw radosgw-admin python3; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (apt-get install radosgw ceph-mon ceph-osd)"
    done
    stop
    : > "$DIR/pids"
    : > "$DIR/urls.tmp"
    # On failure, stop what already runs; the logs stay for the report (stop removes them).
    trap 'status=$?; [[ $status -eq 0 ]] || kill_daemons; exit $status' EXIT
    for i in $(seq 1 "$n"); do
        start_zone "$i"
    done
    mv "$DIR/urls.tmp" "$DIR/urls"
    echo "$ACCESS_KEY" > "$DIR/access_key"
    echo "$SECRET_KEY" > "$DIR/secret_key"
    trap - EXIT
    cat "$DIR/urls"
}

case "$cmd" in
    start) [[ $# -eq 3 ]] || usage; start "$3" ;;
    stop) [[ $# -eq 2 ]] || usage; stop ;;
    *) usage ;;
esac
