#pragma once

// The telemetry a training run emits: defined once here, below every layer that produces or
// consumes it (the engine produces; the run store, the exports and the studio consume). Plain
// structs, no torch, no Qt.

#include "core/plan/action.h"
#include "core/plan/freeze_plan.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tfreeze {

// One timed action of one step. Times are microseconds from the start of the step's batch.
struct ActionSpan {
    std::int64_t step = 0;
    int rank = 0;
    int stage = 0;
    int microbatch = 0;
    ActionKind kind = ActionKind::Forward;
    std::int64_t startUs = 0;
    std::int64_t endUs = 0;
    int frozenTensors = 0; // parameter tensors of the stage excluded from this backward
    int totalTensors = 0; // freezable parameter tensors of the stage
};

// The training phase of METHOD.md §6 (freezers without phases report Stable throughout).
enum class TrainingPhase : std::uint8_t { WarmUp, MonitorMax, MonitorMin, Plan, Ramp, Stable };

// "warmup", "monitor_max", "monitor_min", "plan", "ramp", "stable": the name in JSON, SQL and CSV.
const char* trainingPhaseName(TrainingPhase phase);
// Throws InputError(source, field) for an unknown name.
TrainingPhase parseTrainingPhase(
    const std::string& name, const std::string& source = {}, const std::string& field = {});

struct StepStats {
    std::int64_t step = 0;
    double loss = 0.0;
    std::int64_t tokens = 0;
    double batchMs = 0.0;
    double tokensPerSecond = 0.0;
    double bubbleFraction = 0.0; // Σ idle / (ranks · batch time)
    std::vector<double> rankBubbleFraction; // per rank
    TrainingPhase phase = TrainingPhase::Stable;
    double learningRate = 0.0;
    std::vector<double> stageMeanFreezeRatio; // per stage, frozen/total over the step's backwards
};

struct EvalStats {
    std::int64_t step = 0;
    double validationLoss = 0.0;
    double perplexity = 0.0;
    double tokenAccuracy = 0.0;
    // Exact-match accuracy on a synthetic task's held-out set; negative when the data has none.
    double exactMatch = -1.0;
};

// Who made a plan: the engine's own planning phase, the user (bounds set in the studio or CLI),
// or an offline run of `tfreeze plan` on a profile.
enum class PlanSource : std::uint8_t { Engine, User, Offline };

const char* planSourceName(PlanSource source); // "engine", "user", "offline"
PlanSource parsePlanSource(const std::string& name, const std::string& source = {}, const std::string& field = {});

struct PlanApplied {
    std::int64_t createdAtStep = 0;
    std::int64_t appliedAtStep = 0;
    PlanSource source = PlanSource::Engine;
    std::shared_ptr<const FreezePlan> plan;
};

enum class EventLevel : std::uint8_t { Debug, Info, Warning, Error };

const char* eventLevelName(EventLevel level); // "debug", "info", "warning", "error"
EventLevel parseEventLevel(const std::string& name, const std::string& source = {}, const std::string& field = {});

// A line for the run's log (phase changes, re-plans, warnings).
struct RunEvent {
    EventLevel level = EventLevel::Info;
    std::string message;
};

struct RunFinished {
    std::int64_t steps = 0; // steps completed
    // Set when the user stopped the run before its last step: says when, for the run's history.
    std::optional<std::string> stopReason;
};

struct RunFailed {
    std::int64_t step = 0; // the step that failed
    std::string reason;
};

using TelemetryEvent = std::variant<ActionSpan, StepStats, EvalStats, PlanApplied, RunEvent, RunFinished, RunFailed>;

// Receives a run's telemetry. publish() is called from the engine's threads: an implementation
// must be thread-safe and must not block for long (queue, then do the work elsewhere).
class TelemetrySink {
public:
    virtual ~TelemetrySink() = default;
    virtual void publish(const TelemetryEvent& event) = 0;
};

} // namespace tfreeze
