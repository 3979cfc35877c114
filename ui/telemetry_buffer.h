#pragma once

#include "core/plan/telemetry.h"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace tfreeze {

// The spans of one step, in the order the engine published them.
struct StepSpans {
    std::int64_t step = 0;
    std::vector<ActionSpan> spans;
};

// Everything a run published since the last drain, grouped for the GUI: one batch per GUI tick.
struct TelemetryBatch {
    std::vector<StepStats> steps; // every one, in publish order
    std::vector<EvalStats> evals;
    std::vector<StepSpans> stepSpans; // only steps whose StepStats arrived, in completion order
    std::vector<PlanApplied> plans;
    std::vector<RunEvent> events;
    std::optional<RunFinished> finished;
    std::optional<RunFailed> failed;
    // Steps whose spans were dropped because the GUI did not drain in time (see TelemetryBuffer).
    std::int64_t droppedSpanSteps = 0;

    bool empty() const
    {
        return steps.empty() && evals.empty() && stepSpans.empty() && plans.empty() && events.empty() && !finished
            && !failed && droppedSpanSteps == 0;
    }
};

// The TelemetrySink between the engine's threads and the GUI thread. publish() (any thread) only
// appends under a mutex; drain() (the GUI's timer) takes everything since the last drain at once,
// so the GUI handles one batch per tick however fast the engine publishes.
//
// Never drops StepStats, EvalStats, plans, events or the end: they are small, one per step at most.
// Spans are most of the telemetry (a few hundred per step on big schedules), so their memory is
// bounded: at most `maxSpanSteps` steps' worth are held, pending (StepStats not yet published) and
// complete (not yet drained) together. When the GUI falls behind, the oldest complete steps' spans
// go first (the timeline shows the latest steps; older ones are in the run database), then the
// oldest pending ones (a step that never completes, e.g. a failed one); droppedSpanSteps counts
// them. (The engine publishes a step's spans before its StepStats; a span that came after would
// wait as pending until the bound drops it.)
class TelemetryBuffer : public TelemetrySink {
public:
    static constexpr std::size_t kDefaultMaxSpanSteps = 64;

    explicit TelemetryBuffer(std::size_t maxSpanSteps = kDefaultMaxSpanSteps);

    void publish(const TelemetryEvent& event) override;
    // Everything since the last drain; empty() when nothing came.
    TelemetryBatch drain();

    std::size_t maxSpanSteps() const { return m_maxSpanSteps; }

private:
    void dropSpansBeyondBound();

    const std::size_t m_maxSpanSteps;
    std::mutex m_mutex;
    TelemetryBatch m_ready;
    std::map<std::int64_t, std::vector<ActionSpan>> m_pendingSpans; // by step, StepStats not yet seen
    std::deque<StepSpans> m_completeSpans; // StepStats seen, not yet drained
};

} // namespace tfreeze
