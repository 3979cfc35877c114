#include "app/tfreeze/replan_bench.h"

#include "app/tfreeze/cli_commands.h"
#include "app/tfreeze/cli_validators.h"
#include "app/tfreeze/plan_progress.h"
#include "app/tfreeze/text_table.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/statistics.h"
#include "core/plan/synthetic_profile.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

namespace tfreeze {

namespace {

constexpr double kMaxFreeze = 0.5;

struct TimedPlan {
    double seconds = 0.0;
    long long pivots = 0;
    double batchMs = 0.0;
    PlannerBasis basis;
};

// One plan of `profile` at ρ = 0.5 by a new planner, cold or from `start`. Throws PlannerError
// when `start` is given but does not fit: the bench compares like with like or not at all.
TimedPlan timedPlan(
    const Profile& profile, const PlannerOptions& options, const PlannerBasis* start, PlanProgressReporter& progress)
{
    FreezeBounds bounds;
    bounds.maxFreeze = kMaxFreeze;
    const auto started = std::chrono::steady_clock::now();
    FreezePlanner planner(profile, options);
    progress.attachTo(planner);
    if (start && planner.startFrom(*start) != FreezePlanner::BasisStart::Taken)
        throw PlannerError("bench replan: the last plan's basis does not fit the re-measured profile's LP");
    const FreezePlan plan = planner.plan(bounds);
    TimedPlan timed;
    timed.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    timed.pivots = planner.lpStatistics().pivots;
    timed.batchMs = plan.batchMsPlanned;
    timed.basis = planner.optimalBasis();
    return timed;
}

Profile remeasuredProfile(const ScheduleShape& shape, unsigned seed)
{
    SyntheticCosts costs;
    costs.jitter = 0.1;
    costs.seed = seed;
    return makeSyntheticProfile(PipelineSchedule::generate(shape), costs);
}

void benchReplanShape(
    const ScheduleShape& shape, const BenchReplanOptions& options, PlanProgressReporter& progress, TextTable& table)
{
    const std::string name = scheduleKindName(shape.kind);
    PlannerOptions plannerOptions;
    plannerOptions.timeLimitSeconds = options.timeLimitSeconds;
    const long long actions = expectedActionCount(shape);
    if (actions > options.maxActions)
        return;
    const Profile first = remeasuredProfile(shape, 1);
    std::cerr << "bench replan: " << name << " P=" << shape.ranks << " M=" << shape.microbatches << " (" << actions
              << " actions)..." << std::endl;

    std::vector<double> coldMs;
    std::vector<double> fromBasisMs;
    std::vector<double> coldPivots;
    std::vector<double> fromBasisPivots;
    double worstDifference = 0.0;
    try {
        PlannerBasis last = timedPlan(first, plannerOptions, nullptr, progress).basis;
        for (int i = 0; i < options.profiles; ++i) {
            // Seed i + 2: every action's cost drawn again within ±10%, as a new measurement.
            const Profile again = remeasuredProfile(shape, static_cast<unsigned>(i) + 2U);
            const TimedPlan cold = timedPlan(again, plannerOptions, nullptr, progress);
            const TimedPlan warm = timedPlan(again, plannerOptions, &last, progress);
            coldMs.push_back(cold.seconds * 1000.0);
            fromBasisMs.push_back(warm.seconds * 1000.0);
            coldPivots.push_back(static_cast<double>(cold.pivots));
            fromBasisPivots.push_back(static_cast<double>(warm.pivots));
            worstDifference = std::max(worstDifference, std::abs(warm.batchMs - cold.batchMs) / cold.batchMs);
            last = warm.basis;
        }
    } catch (const PlanCancelled&) {
        throw;
    } catch (const PlannerError& error) {
        std::cerr << "bench replan: " << name << " " << actions << " actions: " << error.what() << std::endl;
        table.addRow({ name, std::to_string(shape.ranks), std::to_string(shape.microbatches), std::to_string(actions),
            "failed", "-", "-", "-", "-", "-" });
        return;
    }
    const double cold = median(coldMs);
    const double fromBasis = median(fromBasisMs);
    table.addRow({ name, std::to_string(shape.ranks), std::to_string(shape.microbatches), std::to_string(actions),
        formatFixed(cold, 1), formatFixed(fromBasis, 1), formatFixed(cold / fromBasis, 2) + "x",
        formatFixed(median(coldPivots), 0), formatFixed(median(fromBasisPivots), 0),
        formatScientific(worstDifference) });
}

} // namespace

CLI::App* addBenchReplanCommand(CLI::App& bench, BenchReplanOptions& options)
{
    CLI::App* command = bench.add_subcommand(
        "replan", "Time re-planning a profile measured again: cold against a start from the last plan's optimal basis");
    command->add_option("--max-actions", options.maxActions, "Skip pipelines with more actions than this")
        ->check(positiveInteger())
        ->capture_default_str();
    command->add_option("--profiles", options.profiles, "Re-measured profiles per pipeline (medians are printed)")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command->add_option("--time-limit", options.timeLimitSeconds, "Per solve; a pipeline that takes longer fails")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str();
    return command;
}

void runBenchReplan(const BenchReplanOptions& options)
{
    const std::vector<ScheduleShape> shapes {
        { ScheduleKind::OneFOneB, 4, 8, 1 },
        { ScheduleKind::OneFOneB, 8, 16, 1 },
        { ScheduleKind::OneFOneB, 8, 64, 1 },
        { ScheduleKind::ZBH1, 8, 64, 1 },
        { ScheduleKind::OneFOneB, 16, 128, 1 },
        { ScheduleKind::OneFOneB, 16, 256, 1 },
        { ScheduleKind::OneFOneB, 32, 256, 1 },
    };
    requireOnePipelineWithin(shapes, options.maxActions);

    std::cout << "re-planning a profile measured again (synthetic costs: forward 1 ms, backward 2 ms, frozen backward "
                 "1 ms, every action's cost drawn again within ±10%: jitter seeds 2.."
              << options.profiles + 1 << "), at max freeze " << formatFixed(kMaxFreeze, 2) << "\n"
              << "cold: a new planner from its critical-path start; from basis: a new planner started from the "
                 "optimal basis of the previous profile's plan (seed 1 for the first); medians\n"
              << "batch diff: the largest relative difference of the two plans' batch times\n\n";
    TextTable table;
    table.addColumn("schedule", TextTable::Align::Left);
    table.addColumn("P");
    table.addColumn("M");
    table.addColumn("actions");
    table.addColumn("cold (ms)");
    table.addColumn("from basis (ms)");
    table.addColumn("speed-up");
    table.addColumn("cold pivots");
    table.addColumn("from-basis pivots");
    table.addColumn("batch diff");
    PlanProgressReporter progress(0.0);
    try {
        for (const ScheduleShape& shape : shapes)
            benchReplanShape(shape, options, progress, table);
    } catch (const PlanCancelled&) {
        table.print(std::cout);
        std::cout << "\ninterrupted: the pipelines from the one being measured on are missing\n";
        throw;
    }
    table.print(std::cout);
}

} // namespace tfreeze
