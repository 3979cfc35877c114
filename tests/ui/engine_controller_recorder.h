#pragma once

// For the EngineController suites: everything a controller emits, in order. Test code.

#include "ui/engine_controller.h"

#include <QObject>
#include <QStringList>

#include <cstdint>
#include <vector>

namespace tfreeze::testing {

class Recorder : public QObject {
public:
    explicit Recorder(EngineController& controller)
    {
        connect(&controller, &EngineController::stateChanged, this,
            [this](EngineController::State state) { states.push_back(state); });
        connect(&controller, &EngineController::telemetryArrived, this, [this](const TelemetryBatch& batch) {
            ++batches;
            steps.insert(steps.end(), batch.steps.begin(), batch.steps.end());
            for (const StepSpans& group : batch.stepSpans)
                stepSpans.push_back(group);
            droppedSpanSteps += batch.droppedSpanSteps;
        });
        connect(&controller, &EngineController::planApplied, this,
            [this](const PlanApplied& applied) { plans.push_back(applied); });
        connect(&controller, &EngineController::runFinished, this,
            [this](const TrainingOutcome& outcome) { finished.push_back(outcome); });
        connect(&controller, &EngineController::runFailed, this,
            [this](const QString& reason) { runFailures.push_back(reason); });
        connect(&controller, &EngineController::failed, this,
            [this](const QString& message) { startFailures.push_back(message); });
        connect(&controller, &EngineController::applyFailed, this,
            [this](const QString& message) { applyFailures.push_back(message); });
    }

    QString failures() const
    {
        QStringList all;
        for (const QString& reason : runFailures)
            all << reason;
        for (const QString& message : startFailures)
            all << message;
        return all.join(QStringLiteral("; "));
    }
    bool ended() const { return !finished.empty() || !runFailures.empty() || !startFailures.empty(); }
    std::vector<std::int64_t> stepNumbers() const
    {
        std::vector<std::int64_t> numbers;
        for (const StepStats& s : steps)
            numbers.push_back(s.step);
        return numbers;
    }

    std::vector<EngineController::State> states;
    int batches = 0;
    std::vector<StepStats> steps;
    std::vector<StepSpans> stepSpans;
    std::int64_t droppedSpanSteps = 0;
    std::vector<PlanApplied> plans;
    std::vector<TrainingOutcome> finished;
    std::vector<QString> runFailures;
    std::vector<QString> startFailures;
    std::vector<QString> applyFailures;
};

} // namespace tfreeze::testing
