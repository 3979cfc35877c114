#pragma once

// Helpers shared by the trace suites: spans of a simulated run (what the engine would record),
// and structural checks of a written Chrome trace that do not use the import code.

#include "core/plan/pipeline_dag.h"
#include "core/plan/plan_error.h"
#include "core/plan/profile.h"
#include "core/plan/synthetic_profile.h"
#include "core/plan/telemetry.h"
#include "core/plan/timeline.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace tfreeze::test {

inline const std::string kDataDir = TFREEZE_TEST_DATA_DIR "/export";

constexpr int kTensorsPerStage = 4;

inline std::int64_t toUs(double ms) { return std::llround(ms * 1000.0); }

// One step of a run at a uniform freeze ratio: every action of `profile` at its duration
// d(r) = max − r·(max − min), at the start the earliest-start timeline gives it. Freezable
// actions record round(r · 4) of 4 tensors frozen; F and I none.
inline std::vector<ActionSpan> simulatedStep(const Profile& profile, std::int64_t step, double ratio)
{
    const PipelineDag dag(profile.schedule());
    std::vector<double> durations;
    for (const ActionCost& cost : profile.costs())
        durations.push_back(cost.maxMs - ratio * (cost.maxMs - cost.minMs));
    const Timeline timeline = simulateTimeline(dag, durations);
    std::vector<ActionSpan> spans;
    for (std::size_t v = 0; v < dag.nodeCount(); ++v) {
        const Action& action = dag.action(static_cast<PipelineDag::Node>(v));
        ActionSpan span;
        span.step = step;
        span.rank = action.rank;
        span.stage = action.stage;
        span.microbatch = action.microbatch;
        span.kind = action.kind;
        span.startUs = toUs(timeline.startMs[v]);
        span.endUs = toUs(timeline.endMs[v]);
        span.totalTensors = kTensorsPerStage;
        span.frozenTensors = isFreezable(action.kind) ? static_cast<int>(std::lround(ratio * kTensorsPerStage)) : 0;
        spans.push_back(span);
    }
    return spans;
}

inline Profile jitteredProfile(ScheduleKind kind, int ranks, int microbatches, int stagesPerRank, unsigned seed)
{
    SyntheticCosts costs;
    costs.forwardMs = { 1.1 };
    costs.backwardMs = { 2.3 };
    costs.backwardFrozenMs = { 0.9 };
    costs.jitter = 0.2;
    costs.seed = seed;
    return makeSyntheticProfile(PipelineSchedule::generate({ kind, ranks, microbatches, stagesPerRank }), costs);
}

template <typename Function> std::optional<InputError> inputErrorOf(Function&& function)
{
    try {
        function();
    } catch (const InputError& error) {
        return error;
    }
    return std::nullopt;
}

} // namespace tfreeze::test
