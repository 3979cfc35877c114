#pragma once

#include "core/plan/freeze_plan.h"
#include "core/plan/telemetry.h"

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace tfreeze {

// What a Chrome Trace Event export shows: the measured spans of some steps, optionally their
// statistics and a plan's predicted timeline. Plain data, so that any source (the run database,
// a live run, a test) can fill it.
struct TraceExportInput {
    // Any steps, in any order; times are µs from the start of their step's batch (ActionSpan).
    std::vector<ActionSpan> spans;
    // Optional. A step's batchMs sets its length on the time axis when longer than its last span
    // (the batch includes the optimizer step), and rankBubbleFraction its bubble counter; without
    // them the length is the last span's end and the bubble is computed from the spans.
    std::vector<StepStats> steps;
    // Optional, not owned: drawn as processes "rank r (planned)", once per exported step (at the
    // step's start, to compare with it) or once at time 0 when there are no steps.
    const FreezePlan* plan = nullptr;
};

// Writes the trace in the Chrome Trace Event object form (Perfetto, chrome://tracing):
// - steps in increasing order one after another on one time axis (ts in µs);
// - pid r = rank r ("rank r"), tid s = stage s ("stage s");
// - one X event per span, named "{stage}{F|B|I|W}{microbatch}", cat "compute", args step, stage,
//   microbatch, kind, freeze_ratio, frozen, total;
// - a C counter "bubble %" per rank at the start of each step;
// - flow events (s/f, cat "dependency") from each F to the next stage's F of the same microbatch
//   and from each B/I to the previous stage's B/I, each bound to the slices' midpoints;
// - the plan's actions as X events (cat "planned") on pids ranks + r, "rank r (planned)".
// Throws InputError(source "trace export", field "spans[i]") for a span with a negative rank,
// stage or microbatch, an end before its start, or frozen tensors outside [0, total].
void writeChromeTrace(const TraceExportInput& input, std::ostream& out);

// Why `plan` is not a plan of the pipeline that ran `spans`, e.g. "the run's steps have 8
// microbatches, the plan's 1F1B schedule 2"; nothing when it is (or when there are no spans). Its
// predicted timeline drawn beside them would line up with the wrong actions. Compared: the
// schedule kind (when `runSchedule`, the run's configured schedule, is given and neither is
// Custom), the ranks, microbatches and stages, and the set of actions (rank, stage, microbatch,
// kind) the spans ran against the plan's.
std::optional<std::string> planPipelineMismatch(
    const FreezePlan& plan, const std::vector<ActionSpan>& spans, const std::optional<ScheduleShape>& runSchedule = {});

// As above into a file, gzip-compressed when `path` ends with ".gz". Throws InputError(path, "",
// "cannot write file: <reason>").
void writeChromeTraceFile(const TraceExportInput& input, const std::string& path);

} // namespace tfreeze
