#!/usr/bin/env bash
# Throwaway PostgreSQL server for tests.
#
#   scripts/postgres.sh start DIR   initialise (if needed) and start a server whose data
#                                   (DIR/data), unix socket (DIR/socket) and log (DIR/log)
#                                   live in DIR; it listens on 127.0.0.1 on a free port with
#                                   trust auth and has a database `gateway_test`. Prints the
#                                   URL postgres://postgres@127.0.0.1:PORT/gateway_test and
#                                   writes it to DIR/url. When DIR is not reachable by the
#                                   server's user (e.g. under /root) or too long for a socket
#                                   path, the files go to a /tmp directory named in DIR/root.
#   scripts/postgres.sh url DIR     prints the URL of the server started in DIR
#   scripts/postgres.sh stop DIR    stops it (pg_ctl stop -m fast); DIR is kept
#
# Silent except for errors (and the URL printed by start/url). Works as root on a bare Debian
# machine (installs the `postgresql` package when no server binaries are found and runs the
# server as the `postgres` user) and as an ordinary user.
set -euo pipefail

DB_NAME="gateway_test"
DB_USER="postgres"

die() { echo "postgres.sh: $*" >&2; exit 1; }

usage() { die "usage: $0 start|stop|url DIR"; }

[[ $# -eq 2 ]] || usage
cmd="$1"
[[ -n "$2" ]] || usage
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"
# The server's files live in DIR, or in a /tmp directory named in DIR/root when DIR is not
# reachable by the server's user or too long for a unix socket path.
ROOT="$DIR"
[[ -s "$DIR/root" ]] && ROOT="$(cat "$DIR/root")"
DATA="$ROOT/data"
SOCK="$ROOT/socket"
LOG="$ROOT/log"

# Newest /usr/lib/postgresql/*/bin with a pg_ctl, installing Debian's postgresql if none.
find_bindir() {
    local best="" v
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/pg_ctl" ]] || continue
        v="$(basename "$(dirname "$d")")"
        if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1)" == "$v" ]]; then
            best="$v"
        fi
    done
    [[ -n "$best" ]] && echo "/usr/lib/postgresql/$best/bin"
}

BINDIR="$(find_bindir || true)"
if [[ -z "$BINDIR" ]]; then
    [[ "$cmd" == "start" ]] || die "no PostgreSQL installation found"
    [[ "$(id -u)" -eq 0 ]] || die "PostgreSQL is not installed; run as root or apt-get install postgresql"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q postgresql; } >"$DIR/apt.log" 2>&1 \
        || { cat "$DIR/apt.log" >&2; die "apt-get install postgresql failed"; }
    BINDIR="$(find_bindir || true)"
    [[ -n "$BINDIR" ]] || die "postgresql installed but no server binaries in /usr/lib/postgresql"
fi

# Run a command as the server's OS user: `postgres` when we are root (initdb refuses root).
RUN_USER=""
if [[ "$(id -u)" -eq 0 ]]; then
    RUN_USER="postgres"
    getent passwd "$RUN_USER" >/dev/null 2>&1 \
        || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$RUN_USER" \
        || die "cannot create the postgres user"
fi
as_user() {
    if [[ -z "$RUN_USER" ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$RUN_USER" -- "$@"
    elif command -v setpriv >/dev/null 2>&1; then
        setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --init-groups -- "$@"
    else
        su -s /bin/sh "$RUN_USER" -c "$(printf '%q ' "$@")"
    fi
}

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port i
    for i in $(seq 1 200); do
        port=$(( 20000 + (RANDOM % 40000) ))
        if command -v ss >/dev/null 2>&1; then
            ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return; }
        elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"; return
        fi
    done
    die "no free port found"
}

is_running() { [[ -f "$DATA/PG_VERSION" ]] && as_user "$BINDIR/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

start() {
    if is_running && [[ -s "$DIR/url" ]]; then
        cat "$DIR/url"
        return
    fi
    if [[ "$ROOT" == "$DIR" ]]; then
        local reachable=1
        if [[ -n "$RUN_USER" ]]; then
            chown "$RUN_USER" "$DIR" 2>/dev/null || true
            as_user test -w "$DIR" || reachable=0
        fi
        if [[ $reachable -eq 0 || ${#DIR} -gt 80 ]]; then
            ROOT="$(mktemp -d /tmp/postgres-test.XXXXXX)"
            echo "$ROOT" >"$DIR/root"
            DATA="$ROOT/data"; SOCK="$ROOT/socket"; LOG="$ROOT/log"
        fi
    fi
    [[ -z "$RUN_USER" ]] || chown -R "$RUN_USER" "$ROOT" || die "cannot chown $ROOT to $RUN_USER"
    mkdir -p "$SOCK"
    [[ -z "$RUN_USER" ]] || chown "$RUN_USER" "$SOCK"
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
        rm -rf "$DATA"
        as_user "$BINDIR/initdb" -D "$DATA" -U "$DB_USER" --auth=trust --encoding=UTF8 \
            --locale=C --no-sync >"$ROOT/initdb.log" 2>&1 \
            || { cat "$ROOT/initdb.log" >&2; die "initdb failed"; }
        # Loopback only, trust auth: this server is for tests.
        cat >"$DATA/pg_hba.conf" <<'EOF'
local   all   all                 trust
host    all   all   127.0.0.1/32  trust
host    all   all   ::1/128       trust
EOF
        cat >>"$DATA/postgresql.conf" <<'EOF'
# throwaway test server (scripts/postgres.sh)
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
        [[ -z "$RUN_USER" ]] || chown "$RUN_USER" "$DATA/pg_hba.conf"
    fi
    local port="" attempt
    for attempt in 1 2 3 4 5; do
        port="$(free_port)"
        if as_user "$BINDIR/pg_ctl" start -w -t 60 -D "$DATA" -l "$LOG" \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $SOCK" >/dev/null 2>&1; then
            break
        fi
        port=""
    done
    [[ -n "$port" ]] || { tail -n 30 "$LOG" >&2 2>/dev/null || true; die "the server did not start"; }
    if ! as_user "$BINDIR/psql" -h "$SOCK" -p "$port" -U "$DB_USER" -d postgres -tAq \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
        as_user "$BINDIR/createdb" -h "$SOCK" -p "$port" -U "$DB_USER" "$DB_NAME" \
            || die "createdb $DB_NAME failed"
    fi
    local url="postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
    echo "$url" >"$DIR/url"
    echo "$url"
}

stop() {
    [[ -f "$DATA/PG_VERSION" ]] || return 0
    if is_running; then
        as_user "$BINDIR/pg_ctl" stop -D "$DATA" -m fast -w >/dev/null 2>&1 \
            || die "pg_ctl stop failed (see $LOG)"
    fi
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    url) [[ -s "$DIR/url" ]] || die "no server started in $DIR"; cat "$DIR/url" ;;
    *) usage ;;
esac
