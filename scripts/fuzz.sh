#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (with AddressSanitizer) and runs each in turn for
# FUZZ_SECONDS seconds (default 60), starting from the seed corpus in Fuzz/Corpus/<target>.
# New inputs the fuzzer finds go to Fuzz/.build/corpus/<target> (kept between runs, not
# committed); a crashing input is written to Fuzz/.build/artifacts/<target>/ and fails the run.
#   FUZZ_TARGETS="fuzz-sigv4" FUZZ_SECONDS=600 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_TARGETS=${FUZZ_TARGETS:-"fuzz-policy fuzz-sigv4 fuzz-s3xml"}
FLAGS=(--package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)

for target in $FUZZ_TARGETS; do
    "$SWIFT" build "${FLAGS[@]}" --product "$target"
done
BIN=$("$SWIFT" build "${FLAGS[@]}" --show-bin-path)

failed=0
for target in $FUZZ_TARGETS; do
    corpus=Fuzz/.build/corpus/$target
    artifacts=Fuzz/.build/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    echo "== $target: ${FUZZ_SECONDS}s"
    # -rss_limit_mb: the parsers cap their inputs; using more than this is a finding too.
    status=0
    "$BIN/$target" "$corpus" "Fuzz/Corpus/$target" \
        -max_total_time="$FUZZ_SECONDS" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"Fuzz/.build/$target.log" 2>&1 || status=$?
    grep -E '(INITED|DONE|^stat::|ERROR|SUMMARY|Fatal error|Test unit written)' "Fuzz/.build/$target.log" || true
    if [ "$status" -ne 0 ]; then
        echo "!! $target failed (exit $status): see Fuzz/.build/$target.log and $artifacts/" >&2
        failed=1
    fi
done
exit $failed
