#!/usr/bin/env bash
# Gateway benchmarks: the gateway against the S3 server it writes to, in one run of s3-load
# (Benchmarks/Sources/s3-load), with everything started here and stopped at the end.
#
#   scripts/bench-gateway.sh MODE [--quick] [--out DIR] [--keep]
#
# MODE:
#   small     4 KiB PUT and GET, concurrency 16, one copy per write: gateway vs the backend
#             directly (ops/s ratio); then the same at concurrency 1 (added latency per request)
#   fanout    4 KiB PUT, three copies written synchronously (writeQuorum 3) vs one direct PUT
#   large     1 GiB PUT then GET with three copies: throughput vs one backend directly, and the
#             gateway's peak RSS above idle (VmHWM after resetting it, and VmRSS sampled)
#   metadata  4 KiB PUTs on local-disk zones (no backend cost): SQLite vs PostgreSQL metadata,
#             PostgreSQL at pool sizes 4, 10 and 20 (`max_connections` in DATABASE_URL)
#   busy      more uploads than connections: 8 MiB PUTs at concurrency 16 through a gateway
#             with GATEWAY_BACKEND_CONNECTIONS=2 (BUSY_CONNECTIONS) to one backend behind a link of
#             10 MiB/s per connection (WAN_RATE_MIB), so that each upload holds a connection for
#             ~0.8 s and the others wait seconds for one; with BASELINE_GATEWAY, that build too, in
#             the same run. Requests that fail are counted, not fatal
#   floor     what the frameworks alone add: 4 KiB PUT and GET at concurrency 1
#             (FLOOR_CONCURRENCY) through the gateway, through proxy-floor (Benchmarks: a
#             proxy on Hummingbird and async-http-client, set up as the gateway sets them up,
#             that passes requests to the backend and does nothing else), through wan-proxy
#             without delay (one more TCP hop through a NIO process, no HTTP) and to the
#             backend directly, in one run; one copy per write, BACKEND gateway-disk by default
#   all       every mode above but busy and floor
#   compare   this build against another build of the gateway (BASELINE_GATEWAY=PATH of its
#             binary, e.g. an earlier commit built in a worktree with
#             `swift build -c release --package-path Benchmarks --product gateway`), in the
#             same run: 4 KiB PUT and GET at concurrency 16 and 1 (COMPARE_CONCURRENCY), each
#             gateway on its own local-disk zone with SQLite (the embedded default); with
#             BACKEND=moto or gateway-disk, both on one such backend, also measured directly;
#             with COMPARE_DATABASE=postgres, both on one PostgreSQL server (a schema each)
#
# Backends (env BACKEND): `moto` (default for small/fanout: moto servers, scripts/moto.sh) or
# `gateway-disk` (default for large: gateway instances each serving one local-disk zone, used as
# plain S3 servers; moto keeps large objects in Python memory and temp files and is far slower).
# Env: DURATION (default 10s), ROUNDS (3), WARMUP (2s), SKIP_BUILD=1 (use the built binaries),
# GATEWAY_LOG_LEVEL (notice), LOADS (only the loads so named, glob patterns: "small-put-c1"),
# GATEWAY_DATA_ROOT (where the gateways under test, not the
# gateway-disk backends, keep their metadata: e.g. /dev/shm, to take them off a disk they would
# share with the backends).
# WAN_DELAY_MS and WAN_RATE_MIB put a wide-area link in front of every backend (Benchmarks'
# wan-proxy: a one-way delay in each direction and a bandwidth per direction and connection),
# for the direct baseline as for the gateways: backends then behave like providers in other
# data centres instead of processes that share the gateway's cores. Unset or 0: loopback.
# --quick shortens every run (DURATION=3s, ROUNDS=1) to check the set-up.
# After each load it prints the CPU seconds every server process (gateways, backend instances,
# moto) used during it: with everything on one machine, that says which one is the bottleneck.
# Results (tables, JSON, RSS samples, gateway logs) go to --out DIR (default a fresh temp folder).
# Needs: swift, python3 (moto[server], installed by scripts/moto.sh), PostgreSQL for `metadata`
# and COMPARE_DATABASE=postgres (installed by scripts/postgres.sh when missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() { echo "bench-gateway.sh: $*" >&2; exit 2; }
usage() { sed -n '2,52p' "$0"; exit 2; }

MODE="${1:-}"
[[ -n "$MODE" ]] || usage
shift
OUT=""
KEEP=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) DURATION="${DURATION:-3s}"; ROUNDS="${ROUNDS:-1}"; WARMUP="${WARMUP:-1s}"; shift ;;
        --out) OUT="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage ;;
        *) die "unknown argument: $1" ;;
    esac
done
case "$MODE" in small|fanout|large|metadata|all|compare|busy|floor) ;; *) usage ;; esac
DURATION="${DURATION:-10s}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2s}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-gateway.XXXXXX")"
OUT="${OUT:-$WORK/results}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
BIN="$ROOT/Benchmarks/.build/release"
ACCESS_KEY="bench-access"
SECRET_KEY="bench-secret-key"
BUCKET="bench"

# Processes started here, stopped on exit.
GATEWAY_PIDS=()
# "NAME=PID" of every server started here: each load reports the CPU time each one used, which
# shows whether the gateway or its backends are the bottleneck (they share the machine's cores).
CPU_WATCH=()
MOTO_DIRS=()
PG_DIR=""
# Metadata folders made under GATEWAY_DATA_ROOT, removed on exit.
DATA_DIRS=()

cleanup() {
    local pid
    for pid in "${GATEWAY_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${GATEWAY_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    local dir
    for dir in "${MOTO_DIRS[@]}"; do scripts/moto.sh stop "$dir" >/dev/null 2>&1 || true; done
    [[ -n "$PG_DIR" ]] && scripts/postgres.sh stop "$PG_DIR" >/dev/null 2>&1 || true
    for dir in "${DATA_DIRS[@]}"; do rm -rf "$dir"; done
    if [[ $KEEP -eq 1 ]]; then
        echo "kept $WORK" >&2
    else
        # Keep the results when they were written inside the scratch folder.
        if [[ "$OUT" == "$WORK/results" ]]; then
            find "$WORK" -mindepth 1 -maxdepth 1 ! -name results -exec rm -rf {} +
        else
            rm -rf "$WORK"
        fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

build() {
    [[ "${SKIP_BUILD:-0}" == 1 ]] && return
    echo "building gateway and s3-load (release, Benchmarks/.build)..." >&2
    local log="$WORK/build.log"
    # SwiftPM does not notice files added to the root package (a path dependency here) and
    # would reuse an old build plan without them: drop the plan so it is made again.
    rm -f Benchmarks/.build/release.yaml Benchmarks/.build/release/description.json
    local products=(gateway s3-load)
    wan && products+=(wan-proxy)
    [[ "$MODE" == floor ]] && products+=(proxy-floor wan-proxy)
    for product in "${products[@]}"; do
        if ! swift build -c release --package-path Benchmarks --product "$product" >"$log" 2>&1; then
            cat "$log" >&2
            die "release build of $product failed"
        fi
    done
}

machine() {
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "cpu: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
        echo "memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
        echo "kernel: $(uname -r)"
        echo "swift: $(swift --version 2>/dev/null | head -n1)"
        echo "moto: $(python3 -c 'import moto; print(moto.__version__)' 2>/dev/null || echo not installed)"
        echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } | tee "$OUT/machine.txt"
}

# policies DIR COPIES QUORUM: a policy set that gives every object COPIES copies in the
# Helsinki zones, acknowledged after QUORUM of them.
policies() {
    local dir="$1" copies="$2" quorum="$3"
    mkdir -p "$dir"
    cat >"$dir/residency.yaml" <<EOF
apiVersion: sovereignty/v1
kind: ResidencyPolicy
metadata:
  name: bench-residency
  description: Benchmark objects stay in Finland.
spec:
  match: {}
  allow:
    countries: [FI]
EOF
    cat >"$dir/replication.yaml" <<EOF
apiVersion: sovereignty/v1
kind: ReplicationPolicy
metadata:
  name: bench-replication
  description: $copies copies, acknowledged after $quorum.
spec:
  match: {}
  priority: 10
  copies: $copies
  minProviders: $copies
  writeQuorum: $quorum
  placement: ordered
  prefer: [FI-HEL-ST-1, FI-HEL-UC-1, FI-HEL-HZ-1]
  versioning: enabled
EOF
}

# backends FILE ENDPOINT...: the Helsinki zones, in order, served by the given endpoints
# (http://... or file:PATH).
ZONES=(FI-HEL-ST-1 FI-HEL-UC-1 FI-HEL-HZ-1)
PROVIDERS=(Spacetime UpCloud Hetzner)
backends() {
    local file="$1"; shift
    local i=0 first=1
    {
        echo "{"
        for endpoint in "$@"; do
            [[ $first -eq 1 ]] || echo ","
            first=0
            printf '  "zone%d": {"provider": "%s", "zone_code": "%s", "region": "us-east-1", "endpoint": "%s", "access_key": "%s", "secret_key": "%s", "is_primary": %s, "enabled": true}' \
                "$i" "${PROVIDERS[$i]}" "${ZONES[$i]}" "$endpoint" "$ACCESS_KEY" "$SECRET_KEY" "$([[ $i -eq 0 ]] && echo true || echo false)"
            i=$((i + 1))
        done
        echo
        echo "}"
    } >"$file"
}

# start_gateway NAME BACKENDS_FILE POLICIES_DIR [DATABASE_URL]: starts a release gateway (the
# binary GATEWAY_BIN, default the one built here) in $WORK/NAME; sets GW_URL and GW_PID.
# Waits until it logs "gateway ready".
start_gateway() {
    local name="$1" backends_file="$2" policies_dir="$3" database_url="${4:-}"
    local dir="$WORK/$name"
    mkdir -p "$dir/data"
    local data="$dir/data"
    if [[ -n "${GATEWAY_DATA_ROOT:-}" && "$name" != backend-* ]]; then
        data="$(mktemp -d "$GATEWAY_DATA_ROOT/bench-gateway-$name.XXXXXX")"
        DATA_DIRS+=("$data")
    fi
    local s3_port mgmt_port
    s3_port="$(free_port)"
    mgmt_port="$(free_port)"
    while [[ "$mgmt_port" == "$s3_port" ]]; do mgmt_port="$(free_port)"; done
    env DATABASE_URL="$database_url" DATA_DIR="$data" S3_BACKENDS_CONFIG="$backends_file" \
        PROVIDERS_FILE="$ROOT/providers_flat.csv" POLICIES_DIR="$policies_dir" GATEWAY_HOST=127.0.0.1 \
        GATEWAY_S3_PORT="$s3_port" GATEWAY_PORT="$mgmt_port" GATEWAY_ACCESS_KEY="$ACCESS_KEY" \
        GATEWAY_SECRET_KEY="$SECRET_KEY" LOG_LEVEL="${GATEWAY_LOG_LEVEL:-notice}" \
        "${GATEWAY_BIN:-$BIN/gateway}" >"$dir/log" 2>&1 </dev/null &
    GW_PID=$!
    GATEWAY_PIDS+=("$GW_PID")
    CPU_WATCH+=("$name=$GW_PID")
    GW_URL="http://127.0.0.1:$s3_port"
    for _ in $(seq 1 300); do
        kill -0 "$GW_PID" 2>/dev/null || { cat "$dir/log" >&2; die "gateway $name exited during start-up"; }
        grep -q "gateway ready" "$dir/log" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$dir/log" >&2
    die "gateway $name did not become ready in 30 s"
}

stop_gateway() {
    local pid="$1"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local kept=()
    for p in "${GATEWAY_PIDS[@]}"; do [[ "$p" == "$pid" ]] || kept+=("$p"); done
    GATEWAY_PIDS=("${kept[@]}")
}

# start_moto NAME N: starts N moto servers; sets MOTO_URLS.
start_moto() {
    local dir="$WORK/$1"
    MOTO_DIRS+=("$dir")
    mapfile -t MOTO_URLS < <(scripts/moto.sh start "$dir" "$2")
    local i=0 pid
    while read -r pid; do
        if [[ -n "$pid" ]]; then
            CPU_WATCH+=("moto-$i=$pid")
            i=$((i + 1))
        fi
    done <"$dir/pids"
}

# cpu_ticks PID: user + system CPU time of a process, in clock ticks (0 once it has exited).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# cpu_report SECONDS BEFORE...: the CPU seconds each watched server (still running) used since
# the ticks in BEFORE (one per CPU_WATCH entry, same order), over the load's wall time SECONDS.
cpu_report() {
    local wall="$1"; shift
    local before=("$@") hz i line=""
    hz="$(getconf CLK_TCK)"
    for i in "${!CPU_WATCH[@]}"; do
        local name="${CPU_WATCH[$i]%%=*}" pid="${CPU_WATCH[$i]#*=}"
        kill -0 "$pid" 2>/dev/null || continue
        line+="$(awk -v a="${before[$i]}" -v b="$(cpu_ticks "$pid")" -v hz="$hz" -v n="$name" \
            'BEGIN {printf "%s %.1f s, ", n, (b - a) / hz}')"
    done
    echo "CPU time in ${wall} s of wall time: ${line%, }"
}

# start_disk_backends N: N gateway instances, each with one local-disk zone and one copy per
# object, used as plain S3 servers; sets BACKEND_URLS.
start_disk_backends() {
    local n="$1"
    BACKEND_URLS=()
    policies "$WORK/backend-policies" 1 1
    for i in $(seq 0 $((n - 1))); do
        backends "$WORK/backend-$i.json" "file:$WORK/backend-$i/zone"
        start_gateway "backend-$i" "$WORK/backend-$i.json" "$WORK/backend-policies"
        BACKEND_URLS+=("$GW_URL")
    done
}

# wan: whether backends are reached over a simulated wide-area link (WAN_DELAY_MS, WAN_RATE_MIB).
wan() { [[ "${WAN_DELAY_MS:-0}" != 0 || "${WAN_RATE_MIB:-0}" != 0 ]]; }

# start_listener NAME COMMAND...: starts COMMAND, a proxy that prints "listening on PORT" once
# it accepts connections, with its output in $WORK/NAME.log; it is stopped on exit and its CPU
# reported as NAME. Waits for that line.
start_listener() {
    local name="$1"; shift
    "$@" >"$WORK/$name.log" 2>&1 </dev/null &
    local pid=$!
    GATEWAY_PIDS+=("$pid")
    CPU_WATCH+=("$name=$pid")
    for _ in $(seq 1 100); do
        grep -q "listening on" "$WORK/$name.log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "$name exited"; }
        sleep 0.1
    done
    die "$name did not start listening in 10 s"
}

# behind_wan URL...: a wan-proxy in front of each URL; sets BACKEND_URLS to the proxies' URLs.
behind_wan() {
    local urls=("$@") i=0 url port
    BACKEND_URLS=()
    for url in "${urls[@]}"; do
        port="$(free_port)"
        start_listener "wan-proxy-$i" "$BIN/wan-proxy" --listen "$port" --target "${url#http://}" \
            --delay-ms "${WAN_DELAY_MS:-0}" --rate-mib "${WAN_RATE_MIB:-0}"
        BACKEND_URLS+=("http://127.0.0.1:$port")
        i=$((i + 1))
    done
}

# start_backends N: N S3 servers of the kind BACKEND names; sets BACKEND_URLS (behind
# wan-proxies with WAN_DELAY_MS or WAN_RATE_MIB).
start_backends() {
    case "$BACKEND_KIND" in
        moto) start_moto "moto-$RANDOM" "$1"; BACKEND_URLS=("${MOTO_URLS[@]}") ;;
        gateway-disk) start_disk_backends "$1" ;;
        *) die "BACKEND must be moto or gateway-disk" ;;
    esac
    if wan; then
        behind_wan "${BACKEND_URLS[@]}"
        echo "backends behind a simulated wide-area link: ${WAN_DELAY_MS:-0} ms one way, ${WAN_RATE_MIB:-0} MiB/s per direction and connection (0: unlimited)"
    fi
}

# load NAME ARGS...: one s3-load run; the table goes to the terminal and OUT/NAME.txt, the
# JSON to OUT/NAME.json.
load() {
    local name="$1"; shift
    # LOADS="small-put-c1 small-get-*": only the loads named (glob patterns), e.g. to profile one.
    if [[ -n "${LOADS:-}" ]]; then
        local pattern wanted=0
        for pattern in $LOADS; do
            # shellcheck disable=SC2053
            [[ "$name" == $pattern ]] && wanted=1
        done
        [[ $wanted -eq 1 ]] || return 0
    fi
    echo
    echo "== $name"
    local before=() entry started
    for entry in "${CPU_WATCH[@]}"; do before+=("$(cpu_ticks "${entry#*=}")"); done
    started="$(date +%s.%N)"
    "$BIN/s3-load" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" --bucket "$BUCKET" --create-bucket \
        --key-prefix "$name/" "$@" --json >"$OUT/$name.json" 2>"$OUT/$name.log" || {
        # LOAD_ALLOW_ERRORS=1: failed requests are a result (s3-load exits 1 but reports them).
        [[ -n "${LOAD_ALLOW_ERRORS:-}" && -s "$OUT/$name.json" ]] || {
        cat "$OUT/$name.log" >&2
        echo "s3-load failed; see $OUT/$name.json" >&2
        return 1
        }
    }
    python3 - "$OUT/$name.json" <<'PY' | tee "$OUT/$name.txt"
import json, sys
r = json.load(open(sys.argv[1]))
size = r["objectSize"]
unit = next(((n, s) for n, s in (("GiB", 30), ("MiB", 20), ("KiB", 10)) if size >= 1 << s and size % (1 << s) == 0), ("B", 0))
length = f'{r["countPerRound"]} requests' if r.get("countPerRound") else f'{r["durationSeconds"]:.0f} s'
print(f'{r["operation"]} of {size >> unit[1]} {unit[0]}, concurrency {r["concurrency"]}, {r["rounds"]} round(s) x {length} per target, payload {r["payload"]}')
print(f'{"target":<12} {"requests":>8} {"errors":>6} {"ops/s":>9} {"MiB/s":>9} {"p50 ms":>8} {"p90 ms":>8} {"p99 ms":>8} {"p99.9 ms":>9} {"max ms":>9}')
for t in r["targets"]:
    l = t["latencyMs"]
    print(f'{t["name"]:<12} {t["requests"]:>8} {t["errors"]:>6} {t["opsPerSecond"]:>9.1f} {t["mibPerSecond"]:>9.2f} {l["p50"]:>8.3f} {l["p90"]:>8.3f} {l["p99"]:>8.3f} {l["p999"]:>9.3f} {l["max"]:>9.3f}')
for q in r["ratios"]:
    a = q["addedLatencyMs"]
    rounds = ", ".join(f"{x:.2f}" for x in q["roundRatios"])
    print(f'ratio {q["target"]}/{q["baseline"]}: ops/s {q["opsPerSecond"]:.3f}x (rounds {rounds}), MiB/s {q["mibPerSecond"]:.3f}x; '
          f'added latency p50 {a["p50"]:+.3f} ms, p90 {a["p90"]:+.3f} ms, p99 {a["p99"]:+.3f} ms')
PY
    cpu_report "$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')" "${before[@]}" | tee -a "$OUT/$name.txt"
}

TIMED=(--duration "$DURATION" --rounds "$ROUNDS" --warmup "$WARMUP")

mode_small() {
    BACKEND_KIND="${BACKEND:-moto}"
    echo
    echo "### small: 4 KiB, one copy per write, backend $BACKEND_KIND"
    start_backends 1
    policies "$WORK/policies-1" 1 1
    backends "$WORK/backends-1.json" "${BACKEND_URLS[0]}"
    start_gateway gateway-1copy "$WORK/backends-1.json" "$WORK/policies-1"
    local targets=(--target "gateway=$GW_URL" --target "direct=${BACKEND_URLS[0]}")
    load small-put-c16 "${targets[@]}" --op put --size 4KiB --concurrency 16 "${TIMED[@]}"
    load small-get-c16 "${targets[@]}" --op get --size 4KiB --concurrency 16 --objects 256 "${TIMED[@]}"
    load small-put-c1 "${targets[@]}" --op put --size 4KiB --concurrency 1 "${TIMED[@]}"
    load small-get-c1 "${targets[@]}" --op get --size 4KiB --concurrency 1 --objects 64 "${TIMED[@]}"
    stop_gateway "$GW_PID"
}

mode_floor() {
    BACKEND_KIND="${BACKEND:-gateway-disk}"
    echo
    echo "### floor: 4 KiB, one copy per write, backend $BACKEND_KIND: the gateway and proxy-floor, each against the backend directly"
    start_backends 1
    policies "$WORK/policies-1" 1 1
    backends "$WORK/backends-1.json" "${BACKEND_URLS[0]}"
    start_gateway gateway-1copy "$WORK/backends-1.json" "$WORK/policies-1"
    local port tcp_port
    port="$(free_port)"
    start_listener proxy-floor "$BIN/proxy-floor" --listen "$port" --target "${BACKEND_URLS[0]}"
    # One more TCP hop and nothing else: wan-proxy without delay or rate limit.
    tcp_port="$(free_port)"
    start_listener tcp-proxy "$BIN/wan-proxy" --listen "$tcp_port" --target "${BACKEND_URLS[0]#http://}"
    local targets=(--target "gateway=$GW_URL" --target "floor=http://127.0.0.1:$port" --target "tcp=http://127.0.0.1:$tcp_port"
        --target "direct=${BACKEND_URLS[0]}")
    local c="${FLOOR_CONCURRENCY:-1}"
    load "floor-put-c$c" "${targets[@]}" --op put --size 4KiB --concurrency "$c" "${TIMED[@]}"
    load "floor-get-c$c" "${targets[@]}" --op get --size 4KiB --concurrency "$c" --objects 64 "${TIMED[@]}"
    stop_gateway "$GW_PID"
}

mode_compare() {
    [[ -n "${BASELINE_GATEWAY:-}" && -x "${BASELINE_GATEWAY:-}" ]] || die "compare needs BASELINE_GATEWAY=PATH of a gateway binary"
    echo
    policies "$WORK/policies-1" 1 1
    local direct=()
    if [[ -n "${BACKEND:-}" ]]; then
        # Both gateways write to one backend, which is also measured directly.
        BACKEND_KIND="$BACKEND"
        echo "### compare: this build vs $BASELINE_GATEWAY, 4 KiB, both on one $BACKEND_KIND backend"
        start_backends 1
        backends "$WORK/backends-baseline.json" "${BACKEND_URLS[0]}"
        backends "$WORK/backends-this.json" "${BACKEND_URLS[0]}"
        direct=(--target "direct=${BACKEND_URLS[0]}")
    else
        echo "### compare: this build vs $BASELINE_GATEWAY, 4 KiB, each on a local-disk zone with SQLite"
        backends "$WORK/backends-baseline.json" "file:$WORK/zones-baseline"
        backends "$WORK/backends-this.json" "file:$WORK/zones-this"
    fi
    # COMPARE_DATABASE=postgres: both gateways on one PostgreSQL server, each in its own schema.
    local baseline_db="" this_db=""
    case "${COMPARE_DATABASE:-sqlite}" in
        sqlite) ;;
        postgres)
            PG_DIR="$WORK/postgres"
            local pg_url
            pg_url="$(scripts/postgres.sh start "$PG_DIR")"
            baseline_db="${pg_url}?sslmode=disable&schema=compare_baseline"
            this_db="${pg_url}?sslmode=disable&schema=compare_this"
            echo "metadata: PostgreSQL (one schema per gateway)"
            ;;
        *) die "COMPARE_DATABASE must be sqlite or postgres" ;;
    esac
    GATEWAY_BIN="$BASELINE_GATEWAY" start_gateway gateway-baseline "$WORK/backends-baseline.json" "$WORK/policies-1" "$baseline_db"
    local targets=(--target "baseline=$GW_URL")
    start_gateway gateway-this "$WORK/backends-this.json" "$WORK/policies-1" "$this_db"
    targets+=(--target "this=$GW_URL" "${direct[@]}" --baseline baseline)
    for c in ${COMPARE_CONCURRENCY:-16 1}; do
        load "compare-put-c$c" "${targets[@]}" --op put --size 4KiB --concurrency "$c" "${TIMED[@]}"
        load "compare-get-c$c" "${targets[@]}" --op get --size 4KiB --concurrency "$c" --objects 64 "${TIMED[@]}"
    done
}

mode_fanout() {
    BACKEND_KIND="${BACKEND:-moto}"
    echo
    echo "### fanout: 4 KiB, three copies written synchronously, backend $BACKEND_KIND"
    start_backends 3
    policies "$WORK/policies-3" 3 3
    backends "$WORK/backends-3.json" "${BACKEND_URLS[@]}"
    start_gateway gateway-3copies "$WORK/backends-3.json" "$WORK/policies-3"
    local targets=(--target "gateway=$GW_URL" --target "direct=${BACKEND_URLS[0]}")
    load fanout-put-c16 "${targets[@]}" --op put --size 4KiB --concurrency 16 "${TIMED[@]}"
    load fanout-put-c1 "${targets[@]}" --op put --size 4KiB --concurrency 1 "${TIMED[@]}"
    stop_gateway "$GW_PID"
}

mode_busy() {
    BACKEND_KIND="${BACKEND:-gateway-disk}"
    WAN_RATE_MIB="${WAN_RATE_MIB:-10}"
    echo
    echo "### busy: 8 MiB PUTs, concurrency 16, ${BUSY_CONNECTIONS:-2} connections to one $BACKEND_KIND backend"
    start_backends 1
    policies "$WORK/policies-1" 1 1
    backends "$WORK/backends-1.json" "${BACKEND_URLS[0]}"
    # The gateways under test only (the backends started above have the default).
    export GATEWAY_BACKEND_CONNECTIONS="${BUSY_CONNECTIONS:-2}"
    local targets=()
    if [[ -n "${BASELINE_GATEWAY:-}" ]]; then
        GATEWAY_BIN="$BASELINE_GATEWAY" start_gateway gateway-baseline "$WORK/backends-1.json" "$WORK/policies-1"
        targets+=(--target "baseline=$GW_URL")
    fi
    start_gateway gateway-this "$WORK/backends-1.json" "$WORK/policies-1"
    targets+=(--target "this=$GW_URL")
    LOAD_ALLOW_ERRORS=1 load busy-put-c16 "${targets[@]}" --op put --size 8MiB --concurrency 16 \
        --count "${BUSY_COUNT:-64}" --rounds "$ROUNDS" --warmup 0
    unset GATEWAY_BACKEND_CONNECTIONS
}

# rss_sampler PID FILE: appends "seconds VmRSS_kB" every 50 ms until the process or the
# sampler is stopped.
rss_sampler() {
    local pid="$1" file="$2"
    while kill -0 "$pid" 2>/dev/null; do
        awk -v t="$(date +%s.%N)" '/^VmRSS:/ {print t, $2}' "/proc/$pid/status" >>"$file" 2>/dev/null || true
        sleep 0.05
    done
}

status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

mode_large() {
    BACKEND_KIND="${BACKEND:-gateway-disk}"
    echo
    echo "### large: 1 GiB PUT and GET, three copies, backend $BACKEND_KIND"
    start_backends 3
    policies "$WORK/policies-3" 3 3
    backends "$WORK/backends-3.json" "${BACKEND_URLS[@]}"
    start_gateway gateway-large "$WORK/backends-3.json" "$WORK/policies-3"
    local pid="$GW_PID"
    local targets=(--target "gateway=$GW_URL" --target "direct=${BACKEND_URLS[0]}")
    # Idle baseline: after start-up and one small request through every code path.
    "$BIN/s3-load" --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" --bucket "$BUCKET" --create-bucket \
        --target "gateway=$GW_URL" --op get --size 64KiB --objects 4 --count 8 --concurrency 1 --warmup 0 \
        --key-prefix large-idle/ >/dev/null 2>"$OUT/large-idle.log"
    sleep 2
    local idle_rss
    idle_rss="$(status_kb "$pid" VmRSS)"
    # Reset the peak (VmHWM) to the current RSS, so it measures the transfers only.
    echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || echo "note: cannot reset VmHWM; the sampled VmRSS peak is used" >&2
    : >"$OUT/large-rss.txt"
    rss_sampler "$pid" "$OUT/large-rss.txt" &
    local sampler=$!
    local count="${LARGE_COUNT:-2}"
    load large-put "${targets[@]}" --op put --size 1GiB --concurrency 1 --count "$count" --rounds 1 --warmup 0
    load large-get "${targets[@]}" --op get --size 1GiB --concurrency 1 --objects 1 --count "$count" --rounds 1 --warmup 0
    local hwm sampled
    hwm="$(status_kb "$pid" VmHWM)"
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    sampled="$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$OUT/large-rss.txt")"
    {
        echo
        echo "gateway RSS: idle $((idle_rss / 1024)) MiB; peak during 1 GiB PUT+GET (VmHWM) $((hwm / 1024)) MiB," \
            "sampled VmRSS peak $((sampled / 1024)) MiB; peak above idle $(((hwm - idle_rss) / 1024)) MiB"
    } | tee "$OUT/large-rss-summary.txt"
    stop_gateway "$pid"
}

mode_metadata() {
    echo
    echo "### metadata: 4 KiB PUTs on local-disk zones, one copy: SQLite vs PostgreSQL"
    PG_DIR="$WORK/postgres"
    local pg_url
    pg_url="$(scripts/postgres.sh start "$PG_DIR")"
    policies "$WORK/policies-1" 1 1
    local targets=()
    backends "$WORK/backends-sqlite.json" "file:$WORK/zones-sqlite"
    start_gateway gateway-sqlite "$WORK/backends-sqlite.json" "$WORK/policies-1"
    targets+=(--target "sqlite=$GW_URL")
    for pool in ${PG_POOLS:-4 10 20}; do
        # One database schema per gateway, so their tables do not mix.
        local url="${pg_url}?sslmode=disable&max_connections=$pool&schema=bench_pool$pool"
        backends "$WORK/backends-pg$pool.json" "file:$WORK/zones-pg$pool"
        start_gateway "gateway-pg$pool" "$WORK/backends-pg$pool.json" "$WORK/policies-1" "$url"
        targets+=(--target "pg-pool$pool=$GW_URL")
    done
    for c in ${METADATA_CONCURRENCY:-16 64}; do
        load "metadata-put-c$c" "${targets[@]}" --baseline sqlite --op put --size 4KiB --concurrency "$c" "${TIMED[@]}"
    done
}

build
machine
case "$MODE" in
    small) mode_small ;;
    compare) mode_compare ;;
    fanout) mode_fanout ;;
    large) mode_large ;;
    metadata) mode_metadata ;;
    busy) mode_busy ;;
    floor) mode_floor ;;
    all) mode_small; mode_fanout; mode_large; mode_metadata ;;
esac
echo
echo "results in $OUT"
