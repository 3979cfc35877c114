import json, gzip, os
# 1F1B, P = 2, M = 2: rank 0 runs 0F0 0F1 0B0 0B1, rank 1 runs 1F0 1B0 1F1 1B1.
ORDERS = [["0F0", "0F1", "0B0", "0B1"], ["1F0", "1B0", "1F1", "1B1"]]
# Durations in µs per step: the median of two steps is their mean.
DUR = {
    "0F0": (1000, 1200), "0F1": (1100, 1100), "0B0": (2000, 2400), "0B1": (2100, 2300),
    "1F0": (900, 1100), "1B0": (1900, 1900), "1F1": (1000, 1000), "1B1": (2000, 2200),
}

def x_events(pids, tids, steps=2, start=0.0, extra=True, dur=None):
    events = []
    for rank, order in enumerate(ORDERS):
        ts = start + rank * 50.0
        for step in range(steps):
            for name in order:
                d = dur(name, step) if dur else DUR[name][step]
                ev = {"name": name, "cat": "compute", "ph": "X", "pid": pids[rank], "tid": tids[rank], "ts": ts, "dur": d}
                events.append(ev)
                ev["_step"] = step
                if extra and name.endswith("F0"):
                    # A kernel inside the action and a send after it: ignored by the import.
                    events.append({"name": "aten::mm", "ph": "X", "pid": pids[rank], "tid": tids[rank], "ts": ts + 10, "dur": d / 2})
                ts += d + 7.5
            ts += 300.0
    return events

def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != "_step"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v

def write(name, doc, raw=None):
    doc = strip(doc)
    with open(name, "w") as f:
        f.write(raw if raw is not None else json.dumps(doc, indent=None) + "\n")

meta = [
    {"name": "process_name", "ph": "M", "pid": 7, "tid": 0, "args": {"name": "trainer 0"}},
    {"name": "process_name", "ph": "M", "pid": 3, "tid": 0, "args": {"name": "trainer 1"}},
]
# Object form, one process per rank (pid 7 holds stage 0), ns display unit (display only).
obj = {"displayTimeUnit": "ns", "traceEvents": meta + x_events([7, 3], [1, 1]) + [
    {"name": "ProfilerStep#1", "ph": "X", "pid": 7, "tid": 1, "ts": 0, "dur": 100000},
    {"name": "0SEND_F0", "ph": "X", "pid": 7, "tid": 2, "ts": 5, "dur": 3},
    {"name": "memory", "ph": "C", "pid": 7, "ts": 0, "args": {"MB": 12}},
]}
write("object-1f1b.json", obj)

# Bare array, B/E pairs inside outer non-action B/E slices, string pids.
arr = []
for ev in x_events(["worker-b", "worker-a"], ["main", "main"], extra=False):
    arr.append({"name": ev["name"], "ph": "B", "pid": ev["pid"], "tid": ev["tid"], "ts": ev["ts"]})
    arr.append({"ph": "E", "pid": ev["pid"], "tid": ev["tid"], "ts": ev["ts"] + ev["dur"]})
arr = [{"name": "step", "ph": "B", "pid": "worker-b", "tid": "main", "ts": -1},
       {"name": "step", "ph": "B", "pid": "worker-a", "tid": "main", "ts": -1}] + arr + \
      [{"name": "step", "ph": "E", "pid": "worker-b", "tid": "main", "ts": 100000},
       {"name": "step", "ph": "E", "pid": "worker-a", "tid": "main", "ts": 100000},
       {"name": "profiler still running", "ph": "B", "pid": "worker-a", "tid": "main", "ts": 100001}]
write("array-begin-end.json", arr)

# One process, one thread per rank (tid 11 holds stage 0), array form without its closing bracket.
thr = strip(x_events([1, 1], [11, 12]))
write("threads-unterminated.json", None, "[\n" + ",\n".join(json.dumps(e) for e in thr) + ",\n")

# gzip: one with a .gz name, one with a .json name (the magic bytes decide).
with gzip.open("object-1f1b.json.gz", "wt") as f:
    json.dump(obj, f)
with open("object-1f1b.json.gz", "rb") as f:
    data = f.read()
open("gzip-named-json.json", "wb").write(data)
open("bad-truncated.json.gz", "wb").write(data[: len(data) // 2])

# Starts mid-batch: each rank's trace begins with the last two actions of an earlier batch.
mid = x_events([0, 1], [0, 0], start=100000.0, extra=False)
early = [{"name": "0B0", "ph": "X", "pid": 0, "tid": 0, "ts": 90000, "dur": 2200},
         {"name": "0B1", "ph": "X", "pid": 0, "tid": 0, "ts": 93000, "dur": 2200},
         {"name": "1F1", "ph": "X", "pid": 1, "tid": 0, "ts": 90000, "dur": 1000},
         {"name": "1B1", "ph": "X", "pid": 1, "tid": 0, "ts": 92000, "dur": 2100}]
write("starts-mid-batch.json", {"traceEvents": early + mid})

# Freeze ratios in args (as our export writes them): step 0 unfrozen, step 1 fully frozen B.
# B frozen takes 40 % of its unfrozen time (DUR's step-0 value); F is the same in both steps.
fr = x_events([0, 1], [0, 0], extra=False,
              dur=lambda name, step: DUR[name][0] * (0.4 if step == 1 and "B" in name else 1.0))
for ev in fr:
    ev["args"] = {"frozen": 4 if (ev["_step"] == 1 and "B" in ev["name"]) else 0, "total": 4}
write("freeze-args.json", {"traceEvents": fr})

# ---- malformed ----
good = x_events([0, 1], [0, 0], steps=1, extra=False)
def variant(name, events):
    write(name, {"traceEvents": events})
write("bad-not-json.json", None, "this is not JSON\n")
write("bad-nan.json", None, '{"traceEvents": [{"name": "0F0", "ph": "X", "pid": 0, "tid": 0, "ts": 0, "dur": NaN}]}\n')
e = [dict(x) for x in good]; e[2]["ts"] = "12"; variant("bad-ts-string.json", e)
e = [dict(x) for x in good]; e[1]["dur"] = -5; variant("bad-negative-dur.json", e)
e = [dict(x) for x in good]; e[1]["ts"] = e[0]["ts"] + 10; variant("bad-overlap.json", e)
e = [dict(x) for x in good]; e[3]["pid"] = {"id": 1}; variant("bad-pid-object.json", e)
variant("bad-no-actions.json", [{"name": "aten::mm", "ph": "X", "pid": 0, "tid": 0, "ts": 0, "dur": 5},
                                {"name": "forward", "ph": "X", "pid": 0, "tid": 0, "ts": 10, "dur": 5}])
variant("bad-unmatched-b.json", good + [{"name": "0F0", "ph": "B", "pid": 0, "tid": 0, "ts": 50000}])
variant("bad-unmatched-e.json", good + [{"ph": "E", "pid": 0, "tid": 0, "ts": 50000}])
variant("bad-mismatched-e.json", [{"name": "0F0", "ph": "B", "pid": 0, "tid": 0, "ts": 0},
                                  {"name": "0B0", "ph": "E", "pid": 0, "tid": 0, "ts": 5}])
write("bad-events-not-array.json", {"traceEvents": {"name": "0F0"}})
variant("bad-missing-backward.json", [x for x in good if x["name"] != "1B1"])
# Rank 1 runs 1B1 before 1F1: a deadlock (its own forward must come first).
e = [dict(x) for x in good]
i, j = [k for k, x in enumerate(e) if x["name"] in ("1B0", "1B1")]
e[i]["name"], e[j]["name"] = "1B1", "1B0"
variant("bad-deadlock.json", e)
# Stage 1's events on two processes and two threads: no way to tell ranks apart.
e = [dict(x) for x in good]
for x in e:
    if x["name"] == "1B1":
        x["pid"], x["tid"] = 0, 5
variant("bad-ranks-ambiguous.json", e)
# Three stages on two ranks.
three = [dict(x) for x in good] + [
    {"name": "2F0", "ph": "X", "pid": 1, "tid": 0, "ts": 90000, "dur": 10},
    {"name": "2B0", "ph": "X", "pid": 1, "tid": 0, "ts": 90020, "dur": 10},
    {"name": "2F1", "ph": "X", "pid": 1, "tid": 0, "ts": 90040, "dur": 10},
    {"name": "2B1", "ph": "X", "pid": 1, "tid": 0, "ts": 90060, "dur": 10}]
variant("bad-uneven-stages.json", three)
write("bad-wrong-root.json", None, '"traceEvents"\n')

# ---- malformed events and args ----
variant("bad-event-not-object.json", [5] + good)
e = [dict(x) for x in good]; e[0]["name"] = 7; variant("bad-name-number.json", e)
e = [dict(x) for x in good]; del e[1]["ph"]; variant("bad-ph-missing.json", e)
e = [dict(x) for x in good]; e[0]["args"] = [4]; variant("bad-args-array.json", e)
e = [dict(x) for x in good]; e[2]["args"] = {"frozen": 5, "total": 3}; variant("bad-frozen-over-total.json", e)
e = [dict(x) for x in good]; e[2]["args"] = {"frozen": 1.5, "total": 4}; variant("bad-frozen-fraction.json", e)
e = [dict(x) for x in good]; e[2]["args"] = {"freeze_ratio": 1.5}; variant("bad-freeze-ratio.json", e)
variant("bad-e-before-b.json", [{"name": "0F0", "ph": "B", "pid": 0, "tid": 0, "ts": 10},
                                {"ph": "E", "pid": 0, "tid": 0, "ts": 5}])
write("bad-ts-infinite.json", None,
      '{"traceEvents": [{"name": "0F0", "ph": "X", "pid": 0, "tid": 0, "ts": 1e999, "dur": 5}]}\n')

# ---- batches that do not agree (each batch of a rank begins at its first forward) ----
def ranks(order0, order1):
    events = []
    for pid, order in enumerate((order0, order1)):
        for k, name in enumerate(order):
            events.append({"name": name, "ph": "X", "pid": pid, "tid": 0, "ts": 1000.0 * k + 10 * pid, "dur": 500})
    return events
R1 = ["1F0", "1B0", "1F1", "1B1"]
variant("bad-twice-in-batch.json", ranks(["0F0", "0F1", "0F1", "0B0", "0B1"], R1))
variant("bad-batch-order.json", ranks(["0F0", "0F1", "0B0", "0B1", "0F0", "0B0", "0F1", "0B1"], R1 + R1))
variant("bad-no-complete-batch.json", ranks(["0F0", "0F1", "0B0", "0F0", "0F1", "0B1"], R1 + R1))
