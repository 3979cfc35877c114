#pragma once

// The planner's input from steps measured in a live run: what the studio plans on when the user
// asks for a plan in the middle of a run, without the engine's monitoring phases.

#include "core/plan/pipeline_dag.h"
#include "core/plan/profile.h"
#include "core/plan/telemetry.h"

#include <optional>
#include <vector>

namespace tfreeze {

// The work of each span of one step, in ms, when its ranks shared `processors` processors: while k
// spans are running, each gets min(1, processors / k) of a processor, so a span's work is the
// integral of that share over its time. What the planner's processor-sharing model needs as
// durations; the inverse of simulateTimeline with processors. processors ≤ 0: the durations.
std::vector<double> spanWorkMs(const std::vector<ActionSpan>& spans, int processors);

// How fast the machine ran one step's spans against `profile`: over the actions that freezing
// cannot change (F, I), their measured work (spanWorkMs with the profile's shared processors)
// summed, over the sum of their profiled maxMs. 1.3 means those actions took 30% longer than when
// they were profiled, so a prediction made from the profile is 30% short for reasons that are not
// the plan's. Sums, not a median of per-action ratios: with shared processors one action's work
// is its share of what ran beside it, which scatters widely, while the group's total is what the
// processors got through (and what ActionTimeProfiler::estimatedMs() makes the profile add up to).
// 0 when no such action was measured. Spans of actions the profile lacks are ignored.
double unfreezableWorkScale(const Profile& profile, const std::vector<ActionSpan>& spans);

// One step's hand-over time between ranks (Profile::transferMs), from its spans: for each action
// whose last input came from another rank (that predecessor ended after everything on the action's
// own rank it waits for), the time from that predecessor's end to the action's start, which is
// when its input had arrived (spans start after their inputs). The mean over those actions
// without the tenth at either end, in ms; nullopt when no action waited for another rank. It can be negative: a sender
// hands its output over before its span ends (it then frees its graph), and in one process a hand-over is a pointer.
// Between processes the spans' clocks may be offset by up to a few ms; the median over both directions (forwards go one
// way, backwards the other) cancels most of that. Spans of actions the DAG lacks are ignored.
std::optional<double> stepTransferMs(const PipelineDag& dag, const std::vector<ActionSpan>& spans);

// How the minMs of each freezable action was obtained.
struct ProfileEstimateInfo {
    int freezableActions = 0;
    int measuredFrozen = 0; // the median of fully frozen measurements
    int fittedPartial = 0; // a linear fit over unfrozen and partly frozen measurements, at ratio 1
    int estimated = 0; // no frozen measurement: estimated from the same microbatch's forward
};

// Per action of `schedule`: maxMs = the median duration over the unfrozen measurements (every
// measurement for F and I, which cannot freeze); for a freezable action (B, W), minMs is
//  - the median over fully frozen measurements (frozenTensors == totalTensors) when any, else
//  - a least-squares line of duration against freeze ratio (frozen/total) through the medians of
//    each measured ratio, unfrozen included, evaluated at ratio 1, when partly frozen ones exist,
//  - else max(maxMs − F, 0.5·maxMs) with F the median forward of the same stage and microbatch.
// minMs is clamped to [0, maxMs]. Medians of an even count are the mean of the two middle values.
// The profile's transfer time is the median of stepTransferMs over the steps, at least 0.
// `steps` holds the spans of each measured step; their order does not matter.
// `processors`: how many processors the ranks shared when the spans were measured (0, or as many
// as there are ranks: one each). When fewer, every duration above is the span's work
// (spanWorkMs of its step) rather than its stretched time, and the profile says so
// (Profile::processors()), so that the planner predicts with the same sharing; and the costs are
// then scaled, separately for the actions freezing cannot change (F, I) and those it can (B, W), by
// the median over the steps of the group's measured work over what its costs predict at the ratios
// of that step: one action's share of shared processors scatters widely and its medians add up to
// less than the work the processors got through (ActionTimeProfiler::estimatedMs()).
//
// Throws InputError(source "spans", field = the action's name, e.g. "1B3") for an action of the
// schedule with no (unfrozen) measurement, or a span of an action the schedule does not have.
Profile estimateProfileFromSpans(const PipelineSchedule& schedule, const std::vector<std::vector<ActionSpan>>& steps,
    ProfileEstimateInfo* info = nullptr, int processors = 0);

} // namespace tfreeze
