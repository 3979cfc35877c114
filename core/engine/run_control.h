#pragma once

// Torch-free: the commands a user (the studio, the CLI) sends to a running pipeline.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace tfreeze {

// Thread-safe. Commands take effect only at the next step boundary (ARCHITECTURE.md: never inside
// a batch): the runtime calls awaitStepBoundary() before each step.
class RunControl {
public:
    // Freeze ratio per action, rank-major (PipelineDag's node order), each in [0, 1]; used by every
    // step that does not bring its own ratios. The last call before a boundary wins.
    void setFreezeRatios(std::vector<double> ratios);
    void pause();
    void resume();
    // The step in flight finishes (and is applied); no further step starts.
    void requestStop();

    bool paused() const;
    bool stopRequested() const;

    struct Boundary {
        bool stop = false;
        std::optional<std::vector<double>> freezeRatios; // set when new ratios were sent
    };
    // The runtime's side: blocks while paused (a stop ends the wait) and takes the pending commands.
    Boundary awaitStepBoundary();
    // The same, but gives up after `timeout` while still paused (nullopt): a multi-process run tells
    // the other processes it is paused in between, so that their c10d time-outs do not fire.
    std::optional<Boundary> awaitStepBoundaryFor(std::chrono::milliseconds timeout);

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_paused = false;
    bool m_stop = false;
    std::optional<std::vector<double>> m_pendingRatios;
};

} // namespace tfreeze
