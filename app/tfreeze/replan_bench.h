#pragma once

namespace CLI {
class App;
}

namespace tfreeze {

struct BenchReplanOptions {
    long long maxActions = 4100;
    int profiles = 3; // re-measured profiles per shape, each re-planned both ways
    double timeLimitSeconds = 120.0;
};

// `tfreeze bench replan`: re-planning a profile measured again (same pipeline, new costs), cold
// against a start from the last plan's optimal basis (FreezePlanner::startFrom).
CLI::App* addBenchReplanCommand(CLI::App& bench, BenchReplanOptions& options);
void runBenchReplan(const BenchReplanOptions& options);

} // namespace tfreeze
