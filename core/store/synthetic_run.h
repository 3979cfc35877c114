#pragma once

// Telemetry of a made-up run shaped like the default one (1F1B, 4 ranks × 8 microbatches: 64
// spans a step), for the benchmarks of the run store (`tfreeze bench store`) and of the studio
// (`tfreeze-studio --bench memory`): the same load measured by both.

#include "core/plan/telemetry.h"

#include <cstdint>

namespace tfreeze {

constexpr int kSyntheticRunRanks = 4;
constexpr int kSyntheticRunMicrobatches = 8;
constexpr int kSyntheticRunSpansPerStep = kSyntheticRunRanks * kSyntheticRunMicrobatches * 2; // F and B

// Publishes one step: its 64 spans, then its StepStats.
void publishSyntheticStep(TelemetrySink& sink, std::int64_t step);

} // namespace tfreeze
