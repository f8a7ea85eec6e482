#!/usr/bin/env bash
# Cold `policyctl validate` of the benchmark policy set (100 residency + 100 replication
# policies against a 1,000-zone catalog), timed with hyperfine on the RELEASE binary.
#
#   scripts/bench-validate.sh [--runs N] [--warmup N] [--export-markdown FILE] [--keep] [--baseline POLICYCTL]
#
# --baseline times another policyctl binary (for example a release build of an earlier commit)
# on the same set in the same hyperfine run, so that both see the same machine load; hyperfine
# then prints the ratio, and perf stat the CPU time of both.
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
BASELINE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --warmup) WARMUP="$2"; shift 2 ;;
        --export-markdown) EXPORT=(--export-markdown "$2"); shift 2 ;;
        --keep) KEEP=1; shift ;;
        --baseline) BASELINE="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
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

COMMANDS=(--command-name "policyctl validate (200 policies x 1000 zones)"
          "$POLICYCTL validate $WORK/policies --catalog $WORK/providers.csv")
if [ -n "$BASELINE" ]; then
    [ -x "$BASELINE" ] || { echo "--baseline: $BASELINE is not an executable" >&2; exit 2; }
    echo "==> checking that the set validates with the baseline"
    "$BASELINE" validate "$WORK/policies" --catalog "$WORK/providers.csv"
    COMMANDS+=(--command-name "baseline policyctl validate (200 policies x 1000 zones)"
               "$BASELINE validate $WORK/policies --catalog $WORK/providers.csv")
fi
REPOSITORY=(--command-name "policyctl validate (repository policies/, providers_flat.csv)"
            "$POLICYCTL validate $ROOT/policies --catalog $ROOT/providers_flat.csv")

echo "==> machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "$BASELINE" ]; then
    hyperfine --warmup "$WARMUP" --runs "$RUNS" "${EXPORT[@]}" "${COMMANDS[@]}" "${REPOSITORY[@]}"
else
    # Two runs, so that hyperfine's summary compares the set with its baseline (it relates every
    # command to the fastest one, which would otherwise be the small repository set).
    hyperfine --warmup "$WARMUP" --runs "$RUNS" "${EXPORT[@]}" "${COMMANDS[@]}"
    hyperfine --warmup "$WARMUP" --runs "$RUNS" "${REPOSITORY[@]}"
fi

# On a machine shared with other work the wall clock above says more about the neighbours than
# about policyctl; the process's CPU time (single-threaded) is the figure to compare.
if command -v perf >/dev/null; then
    echo "==> CPU time (perf stat -r $RUNS)"
    perf stat -r "$RUNS" "$POLICYCTL" validate "$WORK/policies" --catalog "$WORK/providers.csv" 2>&1 >/dev/null \
        | grep -E 'task-clock|elapsed' || true
    if [ -n "$BASELINE" ]; then
        echo "==> CPU time of the baseline (perf stat -r $RUNS)"
        perf stat -r "$RUNS" "$BASELINE" validate "$WORK/policies" --catalog "$WORK/providers.csv" 2>&1 >/dev/null \
            | grep -E 'task-clock|elapsed' || true
    fi
fi
