#pragma once

#include "core/plan/profile.h"

#include <optional>
#include <vector>

namespace tfreeze {

// Costs for a synthetic profile (`tfreeze simulate`). Each vector holds one value (every stage)
// or one value per stage.
struct SyntheticCosts {
    std::vector<double> forwardMs { 1.0 };
    std::vector<double> backwardMs { 2.0 };
    std::vector<double> backwardFrozenMs { 1.0 };
    // Split backward: I takes this (default: half of backwardMs), W the rest of backwardMs, and a
    // frozen W takes backwardFrozenMs minus the I time (never below 0).
    std::vector<double> backwardInputMs;
    // Each action's durations are scaled by a factor drawn uniformly from [1 − jitter, 1 + jitter].
    double jitter = 0.0;
    unsigned seed = 0;
};

// Throws InputError(source "--fwd-ms" etc.) when a list has neither 1 nor stageCount values, a
// value is negative/NaN or (times 1 + jitter) above kMaxDurationMs, frozen > unfrozen, jitter is
// outside [0, 1), or backwardInputMs is given for a schedule without a split backward.
Profile makeSyntheticProfile(const PipelineSchedule& schedule, const SyntheticCosts& costs);

} // namespace tfreeze
