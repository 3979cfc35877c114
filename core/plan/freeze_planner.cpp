#include "core/plan/freeze_planner.h"

#include "core/plan/lp_model.h"
#include "core/plan/plan_error.h"
#include "core/plan/timeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace tfreeze {

namespace {

// Relative slack on the batch time held fixed while the second objective (total freezing) is
// minimised: tight enough that the planned batch time matches the first optimum to 1e-9.
constexpr double kBatchTimeSlack = 1e-10;

std::string ratioText(double value) { return std::to_string(value); }

void validateBounds(const FreezeBounds& bounds, int stages, std::size_t actions)
{
    auto checkRatio = [](double value, const std::string& field) {
        if (!std::isfinite(value) || value < 0.0 || value > 1.0)
            throw InputError("bounds", field, "must be a number in [0, 1] (got " + ratioText(value) + ")");
    };
    checkRatio(bounds.maxFreeze, "max_freeze");
    if (!bounds.stageMaxFreeze.empty()) {
        if (bounds.stageMaxFreeze.size() != static_cast<std::size_t>(stages))
            throw InputError("bounds", "stage_max_freeze",
                "expects one value per stage: " + std::to_string(stages) + " (got "
                    + std::to_string(bounds.stageMaxFreeze.size()) + ")");
        for (std::size_t k = 0; k < bounds.stageMaxFreeze.size(); ++k)
            checkRatio(bounds.stageMaxFreeze[k], "stage_max_freeze[" + std::to_string(k) + "]");
    }
    if (!bounds.actionCap.empty()) {
        if (bounds.actionCap.size() != actions)
            throw InputError("bounds", "action_cap",
                "expects one value per action: " + std::to_string(actions) + " (got "
                    + std::to_string(bounds.actionCap.size()) + ")");
        for (std::size_t i = 0; i < bounds.actionCap.size(); ++i)
            checkRatio(bounds.actionCap[i], "action_cap[" + std::to_string(i) + "]");
    }
}

} // namespace

// The LP (METHOD.md §4) in end-time form. Columns: T, the end time e_v of every action, and
// the ratio r_v of every action whose duration can shrink (w_max > w_min). Rows:
//   e_v − e_u + Δ_v·r_v ≥ w_max_v   for each DAG edge u→v (e_v + Δ_v·r_v ≥ w_max_v for a source)
//   T − e_last ≥ 0                  for the last action of each rank (device order covers the rest)
//   Σ_{v∈stage k} r_v ≤ ρ_k·n_k      one budget row per stage with freezable actions
// Same-rank edges that skip over other actions of that rank (F(s,m)→B(s,m) with work between
// them) are implied by the device-order chain and left out.
struct FreezePlanner::Private {
    Profile profile;
    PipelineDag dag;
    PlannerOptions options;

    std::vector<int> ratioColumn; // per node; 0 when the node has no ratio column
    std::vector<int> stageBudgetRow; // per stage; 0 when the stage has no freezable action
    std::vector<int> stageFreezableCount; // n_k: freezable actions per stage, Δ = 0 included
    std::vector<double> maxMs;
    std::vector<double> minMs;
    int columnCount = 0;
    std::unique_ptr<LpModel> model; // null after a time-out: lp_solve must not re-solve an aborted model
    LpStatistics statistics;

    static constexpr int kBatchColumn = 1;
    static int endColumn(PipelineDag::Node node) { return 2 + static_cast<int>(node); }

    Private(Profile p, PlannerOptions o)
        : profile(std::move(p))
        , dag(profile.schedule())
        , options(o)
        , maxMs(profile.maxDurations())
        , minMs(profile.minDurations())
    {
        const std::size_t n = dag.nodeCount();
        ratioColumn.assign(n, 0);
        stageFreezableCount.assign(static_cast<std::size_t>(dag.stageCount()), 0);
        columnCount = 1 + static_cast<int>(n);
        for (PipelineDag::Node v = 0; v < n; ++v) {
            if (!isFreezable(dag.action(v).kind))
                continue;
            ++stageFreezableCount[static_cast<std::size_t>(dag.action(v).stage)];
            if (maxMs[v] > minMs[v])
                ratioColumn[v] = ++columnCount;
        }
    }

    void buildModel()
    {
        model.reset();
        auto lp = std::make_unique<LpModel>(columnCount);
        const std::size_t n = dag.nodeCount();
        std::vector<int> columns;
        std::vector<double> values;
        lp->beginRows();
        for (PipelineDag::Node v = 0; v < n; ++v) {
            const double delta = maxMs[v] - minMs[v];
            auto addPrecedence = [&](const PipelineDag::Node* pred) {
                columns.assign({ endColumn(v) });
                values.assign({ 1.0 });
                if (pred) {
                    columns.push_back(endColumn(*pred));
                    values.push_back(-1.0);
                }
                if (ratioColumn[v]) {
                    columns.push_back(ratioColumn[v]);
                    values.push_back(delta);
                }
                lp->addRow(columns, values, LpModel::RowSense::GreaterEqual, maxMs[v]);
            };
            const auto& preds = dag.predecessors(v);
            if (preds.empty())
                addPrecedence(nullptr);
            for (PipelineDag::Node u : preds) {
                const bool impliedByDeviceOrder = dag.action(u).rank == dag.action(v).rank && u + 1 < v;
                if (!impliedByDeviceOrder)
                    addPrecedence(&u);
            }
        }
        for (int rank = 0; rank < dag.rankCount(); ++rank) {
            if (dag.rankBegin(rank) == dag.rankEnd(rank))
                continue;
            lp->addRow({ kBatchColumn, endColumn(dag.rankEnd(rank) - 1) }, { 1.0, -1.0 },
                LpModel::RowSense::GreaterEqual, 0.0);
        }
        stageBudgetRow.assign(static_cast<std::size_t>(dag.stageCount()), 0);
        for (int stage = 0; stage < dag.stageCount(); ++stage) {
            columns.clear();
            for (PipelineDag::Node v = 0; v < n; ++v) {
                if (ratioColumn[v] && dag.action(v).stage == stage)
                    columns.push_back(ratioColumn[v]);
            }
            if (columns.empty())
                continue;
            values.assign(columns.size(), 1.0);
            stageBudgetRow[static_cast<std::size_t>(stage)]
                = lp->addRow(columns, values, LpModel::RowSense::LessEqual, 0.0);
        }
        lp->endRows();
        lp->setTimeout(options.timeLimitSeconds);
        statistics = { lp->rowCount(), lp->columnCount(), lp->nonZeroCount() };
        model = std::move(lp);
    }

    void solveOrThrow(const char* what)
    {
        const LpModel::Status status = model->solve();
        switch (status) {
        case LpModel::Status::Optimal:
            return;
        case LpModel::Status::TimedOut:
            model.reset();
            throw PlannerError("the LP solver timed out after " + std::to_string(options.timeLimitSeconds)
                + " s while " + what + " (" + std::to_string(dag.nodeCount()) + " actions)");
        case LpModel::Status::Infeasible:
            model.reset();
            throw PlannerError(std::string("the freeze-planning LP is infeasible while ") + what
                + "; this should not happen with valid durations (no freezing is always feasible)");
        case LpModel::Status::Unbounded:
            model.reset();
            throw PlannerError(std::string("the freeze-planning LP is unbounded while ") + what);
        case LpModel::Status::Failed:
            model.reset();
            throw PlannerError(std::string("the LP solver failed numerically while ") + what);
        }
    }
};

FreezePlanner::FreezePlanner(Profile profile, PlannerOptions options)
    : d(std::make_unique<Private>(std::move(profile), options))
{
}

FreezePlanner::~FreezePlanner() = default;

const Profile& FreezePlanner::profile() const { return d->profile; }

const PipelineDag& FreezePlanner::dag() const { return d->dag; }

LpStatistics FreezePlanner::lpStatistics() const { return d->statistics; }

FreezePlan FreezePlanner::plan(const FreezeBounds& bounds)
{
    const auto started = std::chrono::steady_clock::now();
    const std::size_t n = d->dag.nodeCount();
    validateBounds(bounds, d->dag.stageCount(), n);
    if (!d->model)
        d->buildModel();
    LpModel& lp = *d->model;

    for (int stage = 0; stage < d->dag.stageCount(); ++stage) {
        const auto k = static_cast<std::size_t>(stage);
        if (d->stageBudgetRow[k])
            lp.setRhs(d->stageBudgetRow[k], bounds.stageBound(stage) * d->stageFreezableCount[k]);
    }
    for (PipelineDag::Node v = 0; v < n; ++v) {
        if (d->ratioColumn[v])
            lp.setBounds(d->ratioColumn[v], 0.0, bounds.actionCap.empty() ? 1.0 : bounds.actionCap[v]);
    }
    lp.setUpperBound(Private::kBatchColumn, LpModel::infinity());

    // 1. Minimise T with a small price on freezing. On its own "min T" is massively degenerate
    //    (many equally long paths) and lp_solve stalls for minutes on a 1,024-action 1F1B DAG with
    //    16 ranks; the price makes the optimum unique enough to reach in seconds. Its vertex is
    //    then the warm start of the exact lexicographic solves below.
    std::vector<double> objective(static_cast<std::size_t>(d->columnCount) + 1, 0.0);
    objective[Private::kBatchColumn] = 1.0;
    double meanDelta = 0.0;
    int ratioCount = 0;
    for (PipelineDag::Node v = 0; v < n; ++v) {
        if (d->ratioColumn[v]) {
            meanDelta += d->maxMs[v] - d->minMs[v];
            ++ratioCount;
        }
    }
    meanDelta = ratioCount ? meanDelta / ratioCount : 0.0;
    for (PipelineDag::Node v = 0; v < n; ++v) {
        if (d->ratioColumn[v])
            objective[static_cast<std::size_t>(d->ratioColumn[v])] = 1e-4 * meanDelta;
    }
    lp.setObjective(objective);
    d->solveOrThrow("minimising the batch time");

    // 2. Exactly: minimise T alone, from the vertex above (usually zero pivots).
    std::fill(objective.begin(), objective.end(), 0.0);
    objective[Private::kBatchColumn] = 1.0;
    lp.setObjective(objective);
    d->solveOrThrow("minimising the batch time");
    const double batchOptimum = lp.columnValues()[Private::kBatchColumn];

    // 3. At that batch time, freeze as little as possible.
    lp.setUpperBound(Private::kBatchColumn, batchOptimum * (1.0 + kBatchTimeSlack) + 1e-12);
    std::fill(objective.begin(), objective.end(), 0.0);
    for (PipelineDag::Node v = 0; v < n; ++v) {
        if (d->ratioColumn[v])
            objective[static_cast<std::size_t>(d->ratioColumn[v])] = 1.0;
    }
    lp.setObjective(objective);
    d->solveOrThrow("minimising total freezing at the optimal batch time");
    const std::vector<double> solution = lp.columnValues();

    FreezePlan plan { d->profile, bounds, 0.0, 0.0, 0.0, {}, {}, 0.0 };
    std::vector<double> durations(n);
    plan.actions.resize(n);
    for (PipelineDag::Node v = 0; v < n; ++v) {
        double ratio = 0.0;
        if (d->ratioColumn[v]) {
            const double cap = bounds.actionCap.empty() ? 1.0 : bounds.actionCap[v];
            ratio = std::clamp(solution[static_cast<std::size_t>(d->ratioColumn[v])], 0.0, cap);
            if (ratio < 1e-9)
                ratio = 0.0; // simplex round-off, not freezing
        }
        plan.actions[v].ratio = ratio;
        durations[v] = d->maxMs[v] - ratio * (d->maxMs[v] - d->minMs[v]);
    }
    // The predicted timeline is the earliest-start schedule under the planned durations; its
    // batch time equals the LP optimum up to round-off.
    const Timeline timeline = simulateTimeline(d->dag, durations);
    for (PipelineDag::Node v = 0; v < n; ++v) {
        plan.actions[v].startMs = timeline.startMs[v];
        plan.actions[v].endMs = timeline.endMs[v];
    }
    plan.batchMsPlanned = timeline.batchMs;
    plan.batchMsNoFreeze = simulateTimeline(d->dag, d->maxMs).batchMs;
    plan.batchMsAllFrozen = simulateTimeline(d->dag, d->minMs).batchMs;

    plan.stageMeanRatio.assign(static_cast<std::size_t>(d->dag.stageCount()), 0.0);
    for (PipelineDag::Node v = 0; v < n; ++v)
        plan.stageMeanRatio[static_cast<std::size_t>(d->dag.action(v).stage)] += plan.actions[v].ratio;
    for (std::size_t k = 0; k < plan.stageMeanRatio.size(); ++k) {
        if (d->stageFreezableCount[k])
            plan.stageMeanRatio[k] /= d->stageFreezableCount[k];
    }
    plan.solveSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return plan;
}

} // namespace tfreeze
