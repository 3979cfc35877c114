#!/usr/bin/env bash
# tfreeze plan reports a long solve on stderr and stops it on Ctrl-C: exit code 130, a message that
# says how far it got, and no output file. The signal is sent only once a progress line shows the
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

# 4,096 actions: a cold solve of seconds.
"$tfreeze" simulate --schedule 1F1B --ranks 16 --microbatches 128 --jitter 0.25 --seed 3 \
    --out "$work/profile.json" >"$work/simulate.log" 2>&1 || fail "simulate failed"

# Not a terminal: one line per interval, appended.
"$tfreeze" plan --profile "$work/profile.json" --max-freeze 0.5 --progress-every 0.05 --out "$work/plan.json" \
    >"$work/plan.log" 2>"$work/plan-stderr.log" &
planner=$!
for _ in $(seq 1 600); do
    grep -q "^planning: " "$work/plan-stderr.log" && break
    kill -0 "$planner" 2>/dev/null || fail "tfreeze plan ended before reporting progress"
    sleep 0.1
done
grep -Eq '^planning: [0-9]+\.[0-9] s, [0-9][0-9,]* simplex pivots' "$work/plan-stderr.log" \
    || fail "no progress line of the expected form"
kill -INT "$planner"
wait "$planner"
status=$?
[ "$status" -eq 130 ] || fail "exit code $status after Ctrl-C, expected 130"
grep -Eq '^tfreeze: planning cancelled after [0-9.]+ s \([0-9]+ simplex pivots, 4096 actions\); nothing written$' \
    "$work/plan-stderr.log" || fail "no cancel message of the expected form"
[ ! -e "$work/plan.json" ] || fail "a plan file was written"
echo "plan_progress_interrupt: ok ($(grep -c '^planning: ' "$work/plan-stderr.log") progress lines before Ctrl-C)"
