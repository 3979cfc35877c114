#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz over its seed corpus for SECONDS each, one target per
# core at a time (FUZZ_JOBS overrides the count).
#
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DTFREEZE_FUZZ=ON \
#         -DTFREEZE_TESTS=OFF -DTFREEZE_GUI=OFF -DTFREEZE_CUDA=OFF
#   cmake --build build-fuzz --target fuzz_profile_json fuzz_plan_json fuzz_basis_json fuzz_trace_import \
#       fuzz_run_config_json
#   tests/fuzz/run_fuzzers.sh 60 build-fuzz
#
# The seed corpus is copied to a temporary directory, so the repository is not modified; crash
# inputs (crash-*, timeout-*, oom-*) go to $FUZZ_ARTIFACTS (default /tmp/tfreeze-fuzz-artifacts).
# Exits non-zero if any target finds something.
#
# Running longer: pass a larger SECONDS (e.g. 3600), or run one target by hand with a corpus that
# persists and several workers, e.g.
#   mkdir -p /tmp/corpus-profile && cp tests/fuzz/corpus/profile/* /tmp/corpus-profile/
#   build-fuzz/tests/fuzz/fuzz_profile_json /tmp/corpus-profile -dict=tests/fuzz/tfreeze.dict \
#       -timeout=10 -rss_limit_mb=2048 -max_total_time=36000 -jobs=8 -workers=8
# and reproduce a crash with: build-fuzz/tests/fuzz/fuzz_profile_json /tmp/tfreeze-fuzz-artifacts/profile-crash-<hash>
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 SECONDS BUILD_DIR" >&2
    exit 2
fi
seconds=$1
build_dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
artifacts=${FUZZ_ARTIFACTS:-/tmp/tfreeze-fuzz-artifacts}
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One target: copies its seed corpus, fuzzes for $seconds, leaves its log and exit status in $work.
fuzzOne() {
    local fuzzer=$1 name=$2 dict=$3
    local corpus="$work/corpus-$name" status=0
    mkdir -p "$corpus"
    cp "$here/corpus/$name"/* "$corpus/"
    "$build_dir/tests/fuzz/$fuzzer" "$corpus" -dict="$here/$dict" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/${name}-" >"$work/$fuzzer.log" 2>&1 \
        || status=$?
    echo "$status" >"$work/$fuzzer.status"
}

# target:corpus:dictionary, one entry per libFuzzer target.
entries=(fuzz_profile_json:profile:tfreeze.dict fuzz_plan_json:plan:tfreeze.dict fuzz_basis_json:basis:tfreeze.dict
    fuzz_trace_import:trace_import:trace_import.dict fuzz_run_config_json:run_config:run_config.dict)
for entry in "${entries[@]}"; do
    IFS=: read -r fuzzer _ _ <<<"$entry"
    if [[ ! -x "$build_dir/tests/fuzz/$fuzzer" ]]; then
        echo "missing $build_dir/tests/fuzz/$fuzzer (build with -DTFREEZE_FUZZ=ON)" >&2
        exit 2
    fi
done

# Each target is one process on one core: as many run at once as there are cores (FUZZ_JOBS), so
# that every target still gets $seconds of a whole core.
parallel=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
for entry in "${entries[@]}"; do
    IFS=: read -r fuzzer name dict <<<"$entry"
    while [[ $(jobs -rp | wc -l) -ge $parallel ]]; do
        wait -n || true
    done
    fuzzOne "$fuzzer" "$name" "$dict" &
done
wait

failed=0
for entry in "${entries[@]}"; do
    IFS=: read -r fuzzer _ _ <<<"$entry"
    log="$work/$fuzzer.log"
    status=$(cat "$work/$fuzzer.status" 2>/dev/null || echo "no status")
    # The last status line, e.g. "#123456 DONE cov: 812 ft: 3021 corp: 410/60Kb exec/s: 2057 ...".
    stats=$(grep -aE '^#[0-9]+' "$log" | tail -n 1 || true)
    echo "$fuzzer: ${stats:-no stats line}"
    grep -aE '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb):' "$log" | sed 's/^/    /' || true
    if [[ $status != 0 ]]; then
        echo "$fuzzer FAILED (exit $status):" >&2
        grep -aE 'FUZZ FINDING|ERROR: |SUMMARY: |runtime error|Test unit written' "$log" >&2 || tail -n 40 "$log" >&2
        failed=1
    fi
done
exit $failed
