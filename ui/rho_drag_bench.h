#pragma once

#include <QString>

#include <vector>

namespace tfreeze {

// What `tfreeze-studio --bench rho` measures: the latency a user feels dragging the ρ slider,
// from PlanningService::requestPlan to its planReady on the GUI thread (the plan's conversion for
// display is measured elsewhere), and the same solves cold (a fresh FreezePlanner each) beside
// the service's warm ones.
struct RhoDragBenchResult {
    int ranks = 0;
    int microbatches = 0;
    int actions = 0;
    int steps = 0;
    std::vector<double> rhos;
    std::vector<double> latencyMs; // request → planReady, per ρ, through the service (warm after the first)
    std::vector<double> warmSolveMs; // FreezePlan::solveSeconds of the same solves
    std::vector<double> coldSolveMs; // a fresh planner per ρ, for the first few ρ values
    double medianLatencyMs = 0.0;
    double maxLatencyMs = 0.0;
    double firstLatencyMs = 0.0; // the service's cold first solve
    double maxWarmLatencyMs = 0.0; // the worst after the first
    double medianWarmSolveMs = 0.0;
    double medianColdSolveMs = 0.0;
    int failures = 0;

    QString toText() const;
};

// A 1F1B profile of 8 ranks × 64 microbatches (1,024 actions, checked), planned through a
// PlanningService for `steps` values of ρ swept from 0.05 to 0.95 as a drag does, each request
// waiting for its answer. Needs a QCoreApplication; runs its own event loop while waiting.
RhoDragBenchResult runRhoDragBench(int steps);

} // namespace tfreeze
