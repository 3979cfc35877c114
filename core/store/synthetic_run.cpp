#include "core/store/synthetic_run.h"

namespace tfreeze {

void publishSyntheticStep(TelemetrySink& sink, std::int64_t step)
{
    ActionSpan span;
    span.step = step;
    span.totalTensors = 6;
    for (int rank = 0; rank < kSyntheticRunRanks; ++rank) {
        span.rank = rank;
        span.stage = rank;
        for (int microbatch = 0; microbatch < kSyntheticRunMicrobatches; ++microbatch) {
            span.microbatch = microbatch;
            for (ActionKind kind : { ActionKind::Forward, ActionKind::Backward }) {
                span.kind = kind;
                span.startUs = rank * 1000 + microbatch * 2000 + (kind == ActionKind::Backward ? 900 : 0);
                span.endUs = span.startUs + (kind == ActionKind::Backward ? 1800 : 900);
                span.frozenTensors = kind == ActionKind::Backward ? microbatch % 4 : 0;
                sink.publish(span);
            }
        }
    }
    StepStats stats;
    stats.step = step;
    stats.loss = 5.0 / (1.0 + 0.001 * static_cast<double>(step));
    stats.tokens = 2048;
    stats.batchMs = 30.0;
    stats.tokensPerSecond = 68000.0;
    stats.bubbleFraction = 0.27;
    stats.rankBubbleFraction = { 0.2, 0.25, 0.3, 0.33 };
    stats.learningRate = 1e-3;
    stats.stageMeanFreezeRatio = { 0.1, 0.2, 0.3, 0.4 };
    sink.publish(stats);
}

} // namespace tfreeze
