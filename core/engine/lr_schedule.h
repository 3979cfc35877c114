#pragma once

// Torch-free: the studio may plot the schedule.

#include "core/engine/run_config.h"

#include <cstdint>

namespace tfreeze {

// The learning rate of optimizer step `step` (0-based) of a run of `totalSteps` steps:
// - warm-up, step < w: lr · (step + 1) / w (the first step already moves);
// - then cosine: lrMin + ½(lr − lrMin)(1 + cos(π·p)), p = (step − w) / max(1, totalSteps − 1 − w),
//   so the last step runs at lrMin = lr · minLrRatio exactly; constant decay keeps lr.
// Steps past the end hold lrMin.
double learningRateAt(std::int64_t step, const OptimizerConfig& optimizer, std::int64_t totalSteps);

} // namespace tfreeze
