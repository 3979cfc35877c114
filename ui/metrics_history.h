#pragma once

#include "core/plan/telemetry.h"

#include <QtGlobal>

#include <cstddef>
#include <vector>

namespace tfreeze {

// One step's values, for a hover tooltip. NaN where the step had no value (a rank that had not
// reported, or no evaluation yet).
struct StepValues {
    qint64 step = 0;
    double loss = 0.0;
    double batchMs = 0.0;
    double tokensPerSecond = 0.0;
    std::vector<double> rankBubbleFraction;
    std::vector<double> stageMeanFreezeRatio;
    double validationLoss = 0.0; // of the latest evaluation at or before the step
};

// A run's per-step metrics accumulated column by column for the charts: plain vectors, one value
// per step, so that 10,000+ steps cost a few hundred KiB and a chart refresh is a linear scan.
// Steps are expected in increasing order (the engine emits them so); valueAt() searches by
// bisection. Steps double as chart x values, so they are stored as doubles (exact below 2^53).
class MetricsHistory {
public:
    void append(const StepStats& stats);
    void append(const EvalStats& stats);
    void clear();

    std::size_t stepCount() const { return m_steps.size(); }
    bool isEmpty() const { return m_steps.empty(); }

    const std::vector<double>& steps() const { return m_steps; }
    const std::vector<double>& loss() const { return m_loss; }
    const std::vector<double>& batchMs() const { return m_batchMs; }
    const std::vector<double>& tokensPerSecond() const { return m_tokensPerSecond; }
    // Columns per rank/stage, each aligned with steps() (NaN where a step did not report it).
    int rankCount() const { return static_cast<int>(m_rankBubble.size()); }
    const std::vector<double>& rankBubbleFraction(int rank) const;
    int stageCount() const { return static_cast<int>(m_stageFreeze.size()); }
    const std::vector<double>& stageMeanFreezeRatio(int stage) const;

    const std::vector<double>& evalSteps() const { return m_evalSteps; }
    const std::vector<double>& validationLoss() const { return m_validationLoss; }

    // Index of the recorded step nearest to `step` (the earlier one on a tie); -1 when empty.
    qsizetype indexNear(qint64 step) const;
    // Values of the recorded step nearest to `step`; empty values (step 0, NaNs) when empty.
    StepValues valueAt(qint64 step) const;

private:
    std::vector<double> m_steps;
    std::vector<double> m_loss;
    std::vector<double> m_batchMs;
    std::vector<double> m_tokensPerSecond;
    std::vector<std::vector<double>> m_rankBubble; // [rank][step index]
    std::vector<std::vector<double>> m_stageFreeze; // [stage][step index]
    std::vector<double> m_evalSteps;
    std::vector<double> m_validationLoss;
};

} // namespace tfreeze
