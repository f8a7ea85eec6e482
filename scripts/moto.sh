#!/usr/bin/env bash
# Throwaway moto S3 servers for tests (one process = one independent zone).
#
#   scripts/moto.sh start DIR N   starts N moto servers on free 127.0.0.1 ports; each keeps its
#                                 temporary files in DIR/moto-I/tmp and logs to DIR/moto-I/log;
#                                 waits until each answers GET /moto-api/, then writes their
#                                 URLs (http://127.0.0.1:PORT), one per line, to DIR/urls and
#                                 prints them.
#   scripts/moto.sh stop DIR      stops the servers started in DIR (their pids are in DIR/pids).
#
# Installs PyPI's moto[server] for the current user when python3 cannot import it.
set -euo pipefail

die() { echo "moto.sh: $*" >&2; exit 1; }
usage() { die "usage: $0 start DIR N | stop DIR"; }

[[ $# -ge 2 ]] || usage
cmd="$1"
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

ready() {
    python3 - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=2).read()
PY
}

stop() {
    [[ -f "$DIR/pids" ]] || return 0
    while read -r pid; do
        [[ -n "$pid" ]] || continue
        kill "$pid" 2>/dev/null || true
    done < "$DIR/pids"
    # Give them a moment, then make sure.
    for _ in $(seq 1 20); do
        alive=0
        while read -r pid; do
            [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && alive=1
        done < "$DIR/pids"
        [[ $alive -eq 0 ]] && break
        sleep 0.1
    done
    while read -r pid; do
        [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
    done < "$DIR/pids"
    rm -f "$DIR/pids" "$DIR/urls"
}

start() {
    local n="$1"
    [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || usage
    if ! python3 -c 'import moto.server' 2>/dev/null; then
        python3 -m pip install --quiet --user 'moto[server]' 2>/dev/null \
            || python3 -m pip install --quiet --user --break-system-packages 'moto[server]' \
            || die "moto[server] is not installed and could not be installed"
    fi
    stop
    : > "$DIR/pids"
    : > "$DIR/urls.tmp"
    local urls=()
    for i in $(seq 1 "$n"); do
        local started=0
        for _try in 1 2 3; do
            local port; port="$(free_port)"
            local home="$DIR/moto-$i"
            mkdir -p "$home/tmp"
            TMPDIR="$home/tmp" nohup python3 -m moto.server -H 127.0.0.1 -p "$port" >"$home/log" 2>&1 </dev/null &
            local pid=$!
            local url="http://127.0.0.1:$port"
            for _ in $(seq 1 300); do
                kill -0 "$pid" 2>/dev/null || break
                if ready "$url"; then started=1; break; fi
                sleep 0.1
            done
            if [[ $started -eq 1 ]]; then
                echo "$pid" >> "$DIR/pids"
                urls+=("$url")
                break
            fi
            kill "$pid" 2>/dev/null || true
        done
        if [[ $started -ne 1 ]]; then
            stop
            die "moto server $i did not start; see $DIR/moto-$i/log"
        fi
    done
    printf '%s\n' "${urls[@]}" > "$DIR/urls"
    rm -f "$DIR/urls.tmp"
    cat "$DIR/urls"
}

case "$cmd" in
    start) [[ $# -eq 3 ]] || usage; start "$3" ;;
    stop) [[ $# -eq 2 ]] || usage; stop ;;
    *) usage ;;
esac
