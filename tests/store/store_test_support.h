#pragma once

// Shared by the store's tests: telemetry of a 4-rank, 8-microbatch 1F1B run (64 spans a step) and
// small file helpers.

#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/synthetic_profile.h"
#include "core/plan/telemetry.h"
#include "core/store/run_records.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace tfreeze::test {

constexpr int kRanks = 4;
constexpr int kMicrobatches = 8;
constexpr int kSpansPerStep = kRanks * kMicrobatches * 2;

// Distinct values per (step, rank, microbatch, kind), so a mixed-up row cannot compare equal.
inline std::vector<ActionSpan> makeSpans(std::int64_t step)
{
    std::vector<ActionSpan> spans;
    for (int rank = 0; rank < kRanks; ++rank) {
        for (int microbatch = 0; microbatch < kMicrobatches; ++microbatch) {
            for (ActionKind kind : { ActionKind::Forward, ActionKind::Backward }) {
                ActionSpan span;
                span.step = step;
                span.rank = rank;
                span.stage = rank;
                span.microbatch = microbatch;
                span.kind = kind;
                span.startUs = step * 7 + rank * 1000 + microbatch * 100 + (kind == ActionKind::Backward ? 50 : 0);
                span.endUs = span.startUs + (kind == ActionKind::Backward ? 40 : 20) + rank;
                span.frozenTensors = kind == ActionKind::Backward ? microbatch % 3 : 0;
                span.totalTensors = 6;
                spans.push_back(span);
            }
        }
    }
    return spans;
}

inline StepStats makeStep(std::int64_t step)
{
    StepStats stats;
    stats.step = step;
    stats.loss = 5.5 / (1.0 + 0.01 * static_cast<double>(step)) + 1e-13;
    stats.tokens = 2048 + step;
    stats.batchMs = 120.25 + static_cast<double>(step % 7);
    stats.tokensPerSecond = 3100.0 + 0.1 * static_cast<double>(step);
    stats.bubbleFraction = 0.27 + 0.001 * static_cast<double>(step % 5);
    stats.rankBubbleFraction = { 0.1, 0.2, 0.3 + 1e-12, 0.4 };
    stats.phase = step < 10 ? TrainingPhase::WarmUp : TrainingPhase::Stable;
    stats.learningRate = 3e-3 / 3.0;
    stats.stageMeanFreezeRatio = { 0.0, 0.25, 1.0 / 3.0, 0.5 };
    return stats;
}

inline std::shared_ptr<const FreezePlan> makePlan(double maxFreeze = 0.5)
{
    const PipelineSchedule schedule = PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 2, 3, 1 });
    SyntheticCosts costs;
    costs.jitter = 0.1;
    costs.seed = 4;
    FreezePlanner planner(makeSyntheticProfile(schedule, costs));
    FreezeBounds bounds;
    bounds.maxFreeze = maxFreeze;
    return std::make_shared<const FreezePlan>(planner.plan(bounds));
}

inline NewRun newRun(std::string name, std::string configJson = "{}", std::string toolVersion = "test")
{
    NewRun run;
    run.name = std::move(name);
    run.configJson = std::move(configJson);
    run.toolVersion = std::move(toolVersion);
    return run;
}

inline std::string readBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return { std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>() };
}

inline void writeBytes(const std::string& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

} // namespace tfreeze::test
