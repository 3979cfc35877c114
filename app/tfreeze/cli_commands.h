#pragma once

#include "core/plan/synthetic_profile.h"

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace tfreeze {

struct SimulateOptions {
    std::string schedule;
    int ranks = 0;
    int microbatches = 0;
    int stagesPerRank = 0; // 0: the schedule's default (2 for Interleaved1F1B and ZBV, else 1)
    SyntheticCosts costs; // --fwd-ms, --bwd-ms, --bwd-frozen-ms, --bwd-input-ms, --jitter, --seed
    int processors = 0; // 0: one per rank
    double transferMs = 0.0;
    std::string outPath;
};

struct PlanOptions {
    std::string profilePath;
    double maxFreeze = 0.9;
    std::vector<double> stageMaxFreeze;
    std::string outPath;
    std::string csvPath;
    double timeLimitSeconds = 600.0;
    std::string dbPath; // empty: the plan is not recorded
    // Start from the optimal basis saved here by an earlier plan, if the file exists; save this
    // plan's optimal basis here. Empty: neither.
    std::string basisPath;
    // A progress line every this many seconds of solving; unset: 1 on a terminal, 10 otherwise.
    std::optional<double> progressEverySeconds;
};

struct BenchPlanOptions {
    long long maxActions = 16384;
    int repeats = 3;
    double timeLimitSeconds = 60.0;
    long long directMaxActions = 1100;
    long long slackStartMaxActions = 4100;
};

// The actions of a pipeline of this shape, without generating its schedule.
long long expectedActionCount(const ScheduleShape& shape);
// For the benches over fixed pipelines (bench plan, bench replan): a --max-actions that skips all
// of `shapes` is a mistake, not an empty table. Throws InputError naming the flag.
void requireOnePipelineWithin(const std::vector<ScheduleShape>& shapes, long long maxActions);

// Each add*Command registers a subcommand whose flags write into `options`; the matching run*
// function does the work after a successful parse. Errors are exceptions: InputError for bad
// input (exit code 2), PlannerError or any other std::exception for our own failures (exit code 1).
CLI::App* addSimulateCommand(CLI::App& parent, SimulateOptions& options);
CLI::App* addPlanCommand(CLI::App& parent, PlanOptions& options);
CLI::App* addBenchPlanCommand(CLI::App& bench, BenchPlanOptions& options);

void runSimulate(const SimulateOptions& options);
void runPlan(const PlanOptions& options);
void runBenchPlan(const BenchPlanOptions& options);

} // namespace tfreeze
