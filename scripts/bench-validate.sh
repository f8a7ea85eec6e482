#!/usr/bin/env bash
# Cold `policyctl validate` of the benchmark policy set (100 residency + 100 replication
# policies against a 1,000-zone catalog), timed with hyperfine on the RELEASE binary.
#
#   scripts/bench-validate.sh [--runs N] [--warmup N] [--export-markdown FILE] [--keep]
#
# Needs: swift, hyperfine (apt-get install -y hyperfine).
# The workload is written by Benchmarks' `policy-workload` (the same generator, seed and bytes
# as the in-process benchmarks of Benchmarks/, see BENCHMARKS.md).
# Environment: SCRATCH (default .build-release) is the scratch path of the release policyctl
# build, kept apart from the debug .build; both are git-ignored.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRATCH="${SCRATCH:-$ROOT/.build-release}"
RUNS=10
WARMUP=3
EXPORT=()
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --export-markdown) EXPORT=(--export-markdown "$2"); shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

command -v hyperfine >/dev/null || { echo "hyperfine is not installed (apt-get install -y hyperfine)" >&2; exit 2; }

# build DIR ARGS...: runs `swift build ARGS` in DIR, showing the log only when it fails.
build() {
    local dir="$1"; shift
    local log
    log="$(mktemp)"
    if ! (cd "$dir" && swift build "$@" >"$log" 2>&1); then
        cat "$log" >&2
        rm -f "$log"
        echo "build failed: swift build $*" >&2
        exit 1
    fi
    tail -1 "$log"
    rm -f "$log"
}

echo "==> building policyctl (release, scratch path $SCRATCH)"
build "$ROOT" -c release --product policyctl --scratch-path "$SCRATCH"
POLICYCTL="$SCRATCH/release/policyctl"

echo "==> building the workload generator (Benchmarks/, release)"
build "$ROOT/Benchmarks" -c release --product policy-workload
GENERATOR="$ROOT/Benchmarks/.build/release/policy-workload"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-validate.XXXXXX")"
if [ "$KEEP" = 0 ]; then trap 'rm -rf "$WORK"' EXIT; else echo "keeping $WORK"; fi
"$GENERATOR" write "$WORK"

# The set must validate cleanly: a run that exits 1 would time the error path instead.
echo "==> checking that the set validates"
"$POLICYCTL" validate "$WORK/policies" --catalog "$WORK/providers.csv"

echo "==> machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
hyperfine --warmup "$WARMUP" --runs "$RUNS" "${EXPORT[@]}" \
    --command-name "policyctl validate (200 policies x 1000 zones)" \
    "$POLICYCTL validate $WORK/policies --catalog $WORK/providers.csv" \
    --command-name "policyctl validate (repository policies/, providers_flat.csv)" \
    "$POLICYCTL validate $ROOT/policies --catalog $ROOT/providers_flat.csv"

# On a machine shared with other work the wall clock above says more about the neighbours than
# about policyctl; the process's CPU time (single-threaded) is the figure to compare.
if command -v perf >/dev/null; then
    echo "==> CPU time (perf stat -r $RUNS)"
    perf stat -r "$RUNS" "$POLICYCTL" validate "$WORK/policies" --catalog "$WORK/providers.csv" 2>&1 >/dev/null \
        | grep -E 'task-clock|elapsed' || true
fi
