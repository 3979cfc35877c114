#pragma once

#include "core/plan/profile.h"

#include <vector>

namespace tfreeze {

// The accuracy bound: a max freeze ratio ρ per stage (METHOD.md §4), each in [0, 1].
struct FreezeBounds {
    double maxFreeze = 0.9;
    // Empty: maxFreeze for every stage; otherwise one value per stage.
    std::vector<double> stageMaxFreeze;
    // Empty: no cap; otherwise one upper bound on the ratio per action (rank-major order).
    std::vector<double> actionCap;

    double stageBound(int stage) const
    {
        return stageMaxFreeze.empty() ? maxFreeze : stageMaxFreeze.at(static_cast<std::size_t>(stage));
    }
};

struct PlannedAction {
    double ratio = 0.0;
    double startMs = 0.0;
    double endMs = 0.0;
};

// Per action, the expected freeze ratio and the predicted start/end (tfreeze-plan/1).
struct FreezePlan {
    Profile profile;
    FreezeBounds bounds;
    double batchMsNoFreeze = 0.0;
    double batchMsPlanned = 0.0;
    double batchMsAllFrozen = 0.0;
    std::vector<PlannedAction> actions; // aligned with profile.actions()
    std::vector<double> stageMeanRatio; // mean ratio over the freezable actions of each stage
    double solveSeconds = 0.0;
};

} // namespace tfreeze
