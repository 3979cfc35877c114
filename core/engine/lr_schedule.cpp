#include "core/engine/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace tfreeze {

double learningRateAt(std::int64_t step, const OptimizerConfig& optimizer, std::int64_t totalSteps)
{
    const double peak = optimizer.lr;
    const std::int64_t warmup = optimizer.warmupSteps;
    if (step < warmup)
        return peak * static_cast<double>(step + 1) / static_cast<double>(warmup);
    if (optimizer.decay == LearningRateDecay::Constant)
        return peak;
    const double floor = peak * optimizer.minLrRatio;
    const double span = static_cast<double>(std::max<std::int64_t>(1, totalSteps - 1 - warmup));
    const double progress = std::min(1.0, static_cast<double>(step - warmup) / span);
    return floor + 0.5 * (peak - floor) * (1.0 + std::cos(M_PI * progress));
}

} // namespace tfreeze
