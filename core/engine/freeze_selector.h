#pragma once

// Torch-free: the seam through which a freezer decides which tensors an action freezes.

#include "core/plan/action.h"

#include <cstdint>
#include <vector>

namespace tfreeze {

// Given an action (B or W), its stage's freezable tensor count n and the action's freeze ratio,
// the indices (into PipelineStage::freezableParameters()) to leave out of its backward. The
// default is FreezeSelection (METHOD.md §5); the APF/AutoFreeze hybrids supply their own.
// Called concurrently from every worker thread: an implementation must be thread-safe, and should
// be cheap (it runs once per freezable action).
class FreezeSelector {
public:
    virtual ~FreezeSelector() = default;
    virtual std::vector<int> frozenTensors(
        const Action& action, int tensorCount, double ratio, std::int64_t step) const = 0;
};

} // namespace tfreeze
