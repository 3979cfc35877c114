#pragma once

// `tfreeze-studio --bench live`: does a live run keep the GUI responsive? A small run through
// EngineController with the GUI thread's stall monitor on (targets: no stall over 50 ms, at most
// 30 telemetry updates a second).

#include "core/engine/run_config.h"

#include <QString>

#include <cstdint>

namespace tfreeze {

struct LiveRunBenchResult {
    std::int64_t steps = 0; // steps the run completed
    double wallSeconds = 0.0; // from start() to the end of the run
    int telemetryUpdates = 0; // telemetryArrived emissions
    double updatesPerSecond = 0.0; // telemetryUpdates / wallSeconds
    int maxUpdatesInOneSecond = 0; // the most in any one-second window
    double longestStallMs = 0.0; // of the GUI thread's event loop
    int stallsOver50Ms = 0;
    bool finished = false; // the run ended Finished
    QString error; // why not
};

// The run the bench makes: the engine tests' small model (width 32, 4 blocks, 2 ranks, 4
// microbatches), `steps` steps, not recorded.
RunConfig liveRunBenchConfig(std::int64_t steps);

// Needs a Q(Core)Application; runs its own event loop on the calling thread until the run ends.
// The run is recorded in a temporary database, as a studio run would be.
LiveRunBenchResult runLiveRunBench(int steps);

// The figures, one per line, for the console.
QString liveRunBenchReport(const LiveRunBenchResult& result);

} // namespace tfreeze
