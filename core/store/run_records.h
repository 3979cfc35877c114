#pragma once

// What the run database returns: plain structs, one per table row (the telemetry types of
// core/plan/telemetry.h are reused for steps, evals and spans).

#include "core/plan/telemetry.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tfreeze {

// Stopped: the user stopped it before its last step (the failure reason then says when);
// Interrupted: its process ended without saying how the run ended.
enum class RunStatus : std::uint8_t { Running, Finished, Failed, Interrupted, Stopped };

// "running", "finished", "failed", "interrupted", "stopped"
const char* runStatusName(RunStatus status);
// Throws InputError(source, field) for an unknown name.
RunStatus parseRunStatus(const std::string& name, const std::string& source = {}, const std::string& field = {});

// A new run's description, written by RunStore::beginRun.
struct NewRun {
    std::string name;
    std::string configJson = "{}";
    std::string toolVersion;
};

struct RunRecord {
    std::int64_t id = 0;
    std::string name;
    std::string created; // ISO 8601 UTC, e.g. "2025-01-31T12:00:00.000Z"
    std::optional<std::string> finished;
    RunStatus status = RunStatus::Running;
    std::optional<std::string> failureReason; // why it failed, was stopped or was interrupted
    std::string configJson;
    std::string toolVersion;
    std::string host;
    std::int64_t pid = 0;
    std::int64_t stepCount = 0; // rows in steps
    std::string notes; // the user's, free text; empty when none
};

struct RunFilter {
    std::optional<RunStatus> status;
    std::optional<std::int64_t> limit; // newest first
};

// A row of plans; the actions and the whole plan come from RunStore::plan(id).
struct PlanRecord {
    std::int64_t id = 0;
    std::optional<std::int64_t> run; // none: an offline plan
    std::int64_t createdAtStep = 0;
    PlanSource source = PlanSource::Offline;
    std::string boundsJson;
    double batchMsNoFreeze = 0.0;
    double batchMsPlanned = 0.0;
    double batchMsAllFrozen = 0.0;
    std::optional<std::int64_t> appliedAtStep;
    std::int64_t actionCount = 0;
};

struct EventRecord {
    EventLevel level = EventLevel::Info;
    std::string time; // ISO 8601 UTC
    std::string message;
};

// One run's side of `runs compare`.
struct RunSummary {
    std::int64_t run = 0;
    std::int64_t steps = 0;
    double meanBubbleFraction = 0.0;
    double meanTokensPerSecond = 0.0;
    std::optional<double> finalLoss; // loss of the last step
    // Mean duration in ms of the retained spans, per stage and kind: [stage][kind index]; negative
    // where the run has no span of that kind.
    std::vector<std::vector<double>> stageKindMeanMs;
};

struct RunComparison {
    RunSummary a;
    RunSummary b;
};

} // namespace tfreeze
