#!/usr/bin/env bash
# tfreeze plan reports a long solve on stderr and stops it on Ctrl-C: exit code 130, a message that
# says how far it got, and no output file; tfreeze bench plan stops too and prints what it measured. The signal is sent only once a progress line shows the
# solve running (not by a timer), so a slow machine cannot make it arrive before the handler.
#   plan_progress_interrupt.sh <tfreeze> <work dir>
set -uo pipefail
tfreeze=$1
work=$2
rm -rf "$work" && mkdir -p "$work"

fail() {
    echo "plan_progress_interrupt: $1" >&2
    for file in "$work"/*.log; do
        echo "--- $file ---" >&2
        cat "$file" >&2
    done
    exit 1
}

# Sends Ctrl-C to process $1 once file $2 has a line matching $3 (then waits for it to end and leaves
# its exit code in $status); $4 names the wait in a failure.
interrupt_after() {
    local pid=$1 file=$2 pattern=$3 what=$4
    for _ in $(seq 1 600); do
        grep -q -- "$pattern" "$file" && break
        kill -0 "$pid" 2>/dev/null || fail "$what: ended before its line showed"
        sleep 0.1
    done
    grep -q -- "$pattern" "$file" || fail "$what: no line after 60 s"
    kill -INT "$pid"
    wait "$pid"
    status=$?
}

# 4,096 actions: a cold solve of seconds.
"$tfreeze" simulate --schedule 1F1B --ranks 16 --microbatches 128 --jitter 0.25 --seed 3 \
    --out "$work/profile.json" >"$work/simulate.log" 2>&1 || fail "simulate failed"

# Not a terminal: one line per interval, appended.
"$tfreeze" plan --profile "$work/profile.json" --max-freeze 0.5 --progress-every 0.05 --out "$work/plan.json" \
    >"$work/plan.log" 2>"$work/plan-stderr.log" &
interrupt_after $! "$work/plan-stderr.log" "^planning: " "tfreeze plan"
grep -Eq '^planning: [0-9]+\.[0-9] s, [0-9][0-9,]* simplex pivots' "$work/plan-stderr.log" \
    || fail "no progress line of the expected form"
[ "$status" -eq 130 ] || fail "exit code $status after Ctrl-C, expected 130"
grep -Eq '^tfreeze: planning cancelled after [0-9.]+ s \([0-9]+ simplex pivots, 4096 actions\); nothing written$' \
    "$work/plan-stderr.log" || fail "no cancel message of the expected form"
[ ! -e "$work/plan.json" ] || fail "a plan file was written"

# tfreeze bench plan: Ctrl-C during the 4,096-action size prints the sizes measured before it.
"$tfreeze" bench plan --repeats 1 --max-actions 4100 --slack-start-max-actions 0 --direct-max-actions 0 \
    >"$work/bench.log" 2>"$work/bench-stderr.log" &
interrupt_after $! "$work/bench-stderr.log" "(4096 actions)" "tfreeze bench plan"
[ "$status" -eq 130 ] || fail "bench plan: exit code $status after Ctrl-C, expected 130"
grep -Eq '^1F1B +8 +64 +1024 ' "$work/bench.log" || fail "bench plan: the 1,024-action row is missing"
grep -q '^interrupted: ' "$work/bench.log" || fail "bench plan: no interrupted line"
grep -Eq '^1F1B +16 +128 ' "$work/bench.log" && fail "bench plan: a row for the interrupted size"
grep -q 'planning cancelled after .*4096 actions' "$work/bench-stderr.log" || fail "bench plan: no cancel message"

echo "plan_progress_interrupt: ok ($(grep -c '^planning: ' "$work/plan-stderr.log") progress lines before Ctrl-C)"
