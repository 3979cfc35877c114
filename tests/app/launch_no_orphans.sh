#!/usr/bin/env bash
# tfreeze launch leaves no process behind: rank 1 of a 2-process run is stopped (SIGSTOP: alive, its
# connections open, answering nothing), rank 0 fails after the c10d time-out, and the launcher must
# end rank 1 itself (grace, SIGTERM, then SIGKILL, which a stopped process cannot ignore) and exit
# with rank 0's failure.
#   launch_no_orphans.sh <tfreeze> <run config> <work dir>
set -uo pipefail
tfreeze=$1
config=$2
work=$3
rm -rf "$work" && mkdir -p "$work"
log="$work/launch.log"

"$tfreeze" launch --nproc 2 --grace 2 -- train --config "$config" --steps 500 --comm-timeout 3 >"$log" 2>&1 &
launcher=$!

fail() {
    echo "launch_no_orphans: $1" >&2
    echo "--- launch output ---" >&2
    cat "$log" >&2
    kill -KILL "$launcher" $(pgrep -P "$launcher") 2>/dev/null
    exit 1
}

# Both ranks train: rank 0 printed its first step.
for _ in $(seq 1 600); do
    grep -q "^step 1/500" "$log" && break
    kill -0 "$launcher" 2>/dev/null || fail "the launcher ended before the first step"
    sleep 0.2
done
grep -q "^step 1/500" "$log" || fail "no step after 120 s"

ranks=$(pgrep -P "$launcher")
rank1=""
for pid in $ranks; do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "RANK=1" && rank1=$pid
done
[ -n "$rank1" ] || fail "no child of the launcher has RANK=1 (children: $ranks)"
kill -STOP "$rank1"
echo "stopped rank 1 (pid $rank1); rank 0 and the launcher must end it"

started=$(date +%s)
wait "$launcher"
code=$?
elapsed=$(($(date +%s) - started))
echo "the launcher exited with code $code after ${elapsed} s"
[ "$code" -ne 0 ] || fail "the launcher exited 0 although the run failed"
grep -q "did not answer in time" "$log" || fail "rank 0 did not report the time-out"
for pid in $ranks; do
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        fail "rank pid $pid outlived the launcher"
    fi
done
echo "no process left behind"
