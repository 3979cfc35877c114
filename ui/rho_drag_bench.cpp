#include "ui/rho_drag_bench.h"

#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/synthetic_profile.h"
#include "ui/planning_service.h"

#include <QEventLoop>

#include <algorithm>
#include <chrono>

namespace tfreeze {

namespace {

constexpr int benchRanks = 8;
constexpr int benchMicrobatches = 64;
constexpr int coldSamples = 5; // each cold solve costs a full LP build: a few tell the story

double median(std::vector<double> values)
{
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 != 0 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
}

double millisecondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

QString RhoDragBenchResult::toText() const
{
    QString text;
    text += QStringLiteral("rho drag: 1F1B %1 ranks x %2 microbatches, %3 actions, %4 steps\n")
                .arg(ranks)
                .arg(microbatches)
                .arg(actions)
                .arg(steps);
    text += QStringLiteral("  request -> planReady: median %1 ms, max %2 ms, first (cold) %3 ms, max after it %4 ms\n")
                .arg(medianLatencyMs, 0, 'f', 1)
                .arg(maxLatencyMs, 0, 'f', 1)
                .arg(firstLatencyMs, 0, 'f', 1)
                .arg(maxWarmLatencyMs, 0, 'f', 1);
    text += QStringLiteral("  solve: warm median %1 ms (service), cold median %2 ms (fresh planner, %3 samples)\n")
                .arg(medianWarmSolveMs, 0, 'f', 1)
                .arg(medianColdSolveMs, 0, 'f', 1)
                .arg(coldSolveMs.size());
    if (failures > 0)
        text += QStringLiteral("  failures: %1\n").arg(failures);
    return text;
}

RhoDragBenchResult runRhoDragBench(int steps)
{
    RhoDragBenchResult result;
    result.ranks = benchRanks;
    result.microbatches = benchMicrobatches;
    result.steps = std::max(steps, 1);
    const PipelineSchedule schedule
        = PipelineSchedule::generate({ ScheduleKind::OneFOneB, benchRanks, benchMicrobatches, 1 });
    result.actions = static_cast<int>(schedule.actionCount());
    if (result.actions != 1024)
        throw PlannerError("rho bench: expected 1,024 actions, the schedule has " + std::to_string(result.actions));
    SyntheticCosts costs;
    costs.forwardMs = { 1.0 };
    costs.backwardMs = { 2.0 };
    costs.backwardFrozenMs = { 1.0 };
    costs.jitter = 0.2; // uneven actions, as measured ones are: a uniform DAG is degenerate
    costs.seed = 1;
    const Profile profile = makeSyntheticProfile(schedule, costs);

    for (int i = 0; i < result.steps; ++i)
        result.rhos.push_back(result.steps == 1 ? 0.5 : 0.05 + 0.9 * i / (result.steps - 1));

    PlanningService service;
    service.setProfile(profile);
    QEventLoop loop;
    quint64 awaited = 0;
    std::shared_ptr<const FreezePlan> answer;
    QObject::connect(
        &service, &PlanningService::planReady, &loop, [&](quint64 generation, std::shared_ptr<const FreezePlan> plan) {
            if (generation == awaited) {
                answer = std::move(plan);
                loop.quit();
            }
        });
    QObject::connect(&service, &PlanningService::planFailed, &loop, [&](quint64 generation, const QString&) {
        if (generation == awaited) {
            answer.reset();
            loop.quit();
        }
    });
    for (double rho : result.rhos) {
        FreezeBounds bounds;
        bounds.maxFreeze = rho;
        const auto start = std::chrono::steady_clock::now();
        awaited = service.requestPlan(bounds);
        loop.exec();
        result.latencyMs.push_back(millisecondsSince(start));
        if (answer)
            result.warmSolveMs.push_back(answer->solveSeconds * 1000.0);
        else
            ++result.failures;
    }

    for (std::size_t i = 0; i < result.rhos.size() && i < static_cast<std::size_t>(coldSamples); ++i) {
        FreezeBounds bounds;
        bounds.maxFreeze = result.rhos[i];
        const auto start = std::chrono::steady_clock::now();
        FreezePlanner planner(profile);
        planner.plan(bounds);
        result.coldSolveMs.push_back(millisecondsSince(start));
    }

    result.medianLatencyMs = median(result.latencyMs);
    result.maxLatencyMs = *std::max_element(result.latencyMs.begin(), result.latencyMs.end());
    result.firstLatencyMs = result.latencyMs.front();
    if (result.latencyMs.size() > 1)
        result.maxWarmLatencyMs = *std::max_element(result.latencyMs.begin() + 1, result.latencyMs.end());
    // The first service solve is cold: the warm median is over the rest.
    result.medianWarmSolveMs = median(std::vector<double>(
        result.warmSolveMs.begin() + (result.warmSolveMs.size() > 1 ? 1 : 0), result.warmSolveMs.end()));
    result.medianColdSolveMs = median(result.coldSolveMs);
    return result;
}

} // namespace tfreeze
