#include "core/plan/freeze_planner.h"

#include "core/plan/lp_model.h"
#include "core/plan/plan_error.h"
#include "core/plan/timeline.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace tfreeze {

namespace {

std::string ratioText(double value) { return std::to_string(value); }

std::string secondsText(double seconds)
{
    std::array<char, 32> text {};
    std::snprintf(text.data(), text.size(), "%g", seconds);
    return text.data();
}

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
//   e_v − e_u + Δ_v·r_v ≥ w_max_v   for each DAG edge u→v (e_v + Δ_v·r_v ≥ w_max_v for a source);
//                                   + the transfer time (Profile::transferMs) when u is on another rank
//   T − e_last ≥ 0                  for the last action of each rank (device order covers the rest)
//   Σ_{v∈stage k} r_v ≤ ρ_k·n_k      one budget row per stage with freezable actions
//   C·T + Σ_v Δ_v·r_v ≥ Σ_v w_max_v   when the ranks share C processors (Profile::processors()):
//                                     C processors do the batch's work no faster than in Σw/C
// Same-rank edges that skip over other actions of that rank (F(s,m)→B(s,m) with work between
// them) are implied by the device-order chain and left out.
//
// The LP counts time in units of lpUnitMs (lpMax, lpMin, lpTransfer): 1 ms, except for batches
// far longer than any test or bench plans, which it brings back into that range (lpUnitFor()).
//
// One model is kept between calls and only ever solved with one objective (batchObjective()).
// A new ρ changes budget right-hand sides and caps alone, so lp_solve restarts from the last
// optimal basis (measured on a 1F1B 8×64 DAG: 5–60 ms instead of 350 ms cold). Changing the
// objective or T's bound between solves made warm starts slower than cold ones and sometimes fail.
struct FreezePlanner::Private {
    Profile profile;
    PipelineDag dag;
    PlannerOptions options;

    std::vector<int> ratioColumn; // per node; 0 when the node has no ratio column
    // Per node: its precedence rows, each with the predecessor it names (kNoPredecessor for the
    // row of a source), as buildModel() wrote them.
    struct PrecedenceRow {
        int row = 0;
        long predecessor = kNoPredecessor;
        double delay = 0.0; // the transfer time (in LP units) when the predecessor is on another rank
    };
    static constexpr long kNoPredecessor = -1;
    std::vector<std::vector<PrecedenceRow>> precedenceRows;
    std::vector<int> rankEndRow; // per rank: the row T ≥ e_last; 0 for a rank without actions
    std::vector<int> stageBudgetRow; // per stage; 0 when the stage has no freezable action
    std::vector<int> stageFreezableCount; // n_k: freezable actions per stage, Δ = 0 included
    // Per node: the ratio roundAllOrNothing() fixed it at, NaN while the LP chooses it.
    std::vector<double> fixedRatio;
    // The nodes of Profile::allOrNothingStages with a ratio column, in node order.
    std::vector<PipelineDag::Node> allOrNothingNodes;
    // Whether lp_solve settles them (PlannerOptions::allOrNothingBranchLimit).
    bool branchAndBound = false;
    // The all-or-nothing actions the last dive froze whole (retryLastWhole()).
    std::vector<PipelineDag::Node> lastWhole;
    std::vector<double> maxMs;
    std::vector<double> minMs;
    // The same in the LP's unit, and the transfer time too.
    double lpUnitMs = 1.0;
    std::vector<double> lpMax;
    std::vector<double> lpMin;
    double lpTransfer = 0.0;
    double noFreezeBatchMs = 0.0;
    double allFrozenBatchMs = 0.0;
    int sharedProcessors = 0; // Profile::sharedProcessors()
    double transferMs = 0.0; // Profile::transferMs()
    int columnCount = 0;
    int ratioColumnCount = 0;
    // Null when not built yet or after lp_solve gave up on it: it must not re-solve an aborted
    // model (it crashed doing so, SETUP-NOTES.md).
    std::unique_ptr<LpModel> model;
    bool carriedStart = false; // `model` holds a basis from startFrom(), not its own optimum
    LpStatistics statistics;
    LpModel::Status lastStatus = LpModel::Status::Optimal;
    PlanProgressHandler progressHandler;
    double progressIntervalSeconds = 0.25;
    // The plan() in progress: its start (also FreezePlan::solveSeconds'), the pivots of its
    // finished solves, and when the handler last heard of it.
    std::chrono::steady_clock::time_point planStarted;
    std::chrono::steady_clock::time_point lastProgress;
    PlanProgress progress;

    static constexpr int kBatchColumn = 1;
    static int endColumn(PipelineDag::Node node) { return 2 + static_cast<int>(node); }

    Private(Profile p, PlannerOptions o)
        : profile(std::move(p))
        , dag(profile.schedule(), o.profileSource)
        , options(std::move(o))
        , maxMs(profile.maxDurations())
        , minMs(profile.minDurations())
        , sharedProcessors(profile.sharedProcessors())
        , transferMs(profile.transferMs())
    {
        const std::size_t n = dag.nodeCount();
        ratioColumn.assign(n, 0);
        stageFreezableCount.assign(static_cast<std::size_t>(dag.stageCount()), 0);
        columnCount = 1 + static_cast<int>(n);
        for (PipelineDag::Node v = 0; v < n; ++v) {
            if (!isFreezable(dag.action(v).kind))
                continue;
            ++stageFreezableCount[static_cast<std::size_t>(dag.action(v).stage)];
            if (maxMs[v] > minMs[v]) {
                ratioColumn[v] = ++columnCount;
                ++ratioColumnCount;
                if (profile.isAllOrNothing(dag.action(v).stage))
                    allOrNothingNodes.push_back(v);
            }
        }
        branchAndBound = !allOrNothingNodes.empty()
            && allOrNothingNodes.size() <= static_cast<std::size_t>(options.allOrNothingBranchLimit);
        noFreezeBatchMs = simulateTimeline(dag, maxMs, sharedProcessors, transferMs).batchMs;
        allFrozenBatchMs = simulateTimeline(dag, minMs, sharedProcessors, transferMs).batchMs;
        lpUnitMs = lpUnitFor(noFreezeBatchMs);
        lpMax = inLpUnits(maxMs);
        lpMin = inLpUnits(minMs);
        lpTransfer = transferMs / lpUnitMs;
    }

    // lp_solve's tolerances are partly absolute, so the LP is not scale-free: on a 1F1B 8×128
    // pipeline with 10⁶ ms backwards and transfers (a no-freeze batch of 4·10⁸ ms) every solve
    // "failed numerically", and the same pipeline in units of 10⁶ ms planned the same ratios as
    // its 10³ ms version. Batches up to 2¹⁷ ms (2.2 minutes), where the tests and benches plan,
    // keep 1 ms and so the very same LP; a longer one is divided by the power of two that brings
    // it below that, which loses no bits.
    static double lpUnitFor(double batchMs)
    {
        constexpr double kLongestBatchInUnits = 131072.0; // 2^17
        double unit = 1.0;
        while (batchMs / unit > kLongestBatchInUnits)
            unit *= 2.0;
        return unit;
    }

    std::vector<double> inLpUnits(std::vector<double> durations) const
    {
        for (double& duration : durations)
            duration /= lpUnitMs;
        return durations;
    }

    std::unique_ptr<LpModel> buildModel()
    {
        auto lp = std::make_unique<LpModel>(columnCount);
        lp->beginRows();
        addPrecedenceRows(*lp);
        addRankEndRows(*lp);
        addStageBudgetRows(*lp);
        if (sharedProcessors > 0)
            addCapacityRow(*lp);
        lp->endRows();
        lp->setTimeout(options.timeLimitSeconds);
        // Without lp_solve's equilibration after the geometric scaling, one-stage solves took less
        // time (2026-12-06, interleaved runs): 1F1B 4,096 actions −15% pivots and −22..−30% time on
        // six instances (three cost seeds, ρ 0.5 and 0.9), 8,192 actions 17.1 against 22.6 s
        // (before they moved to the staged solve), ZB-H1 4,080 actions 2.3 against 4.6 s,
        // Interleaved1F1B 4,096 1.1 against 1.5 s; GPipe, ZBV and 1,024 actions the same within
        // ±3% pivots. The staged 16,384-action 1F1B solves took 7% fewer pivots but 18–30% more
        // time each (two cost seeds), so they keep lp_solve's.
        lp->setScaling(solvesInStages() ? LpModel::Scaling::GeometricEquilibrated : LpModel::Scaling::Geometric);
        lp->setAbortCheck([this](long long pivots) { return shouldStop(pivots); });
        statistics = { lp->rowCount(), lp->columnCount(), lp->nonZeroCount(), 0 };
        return lp;
    }

    // e_v − e_u + Δ_v·r_v ≥ w_max_v (+ the transfer time across ranks) per DAG edge the device
    // order does not imply; e_v + Δ_v·r_v ≥ w_max_v for a source.
    void addPrecedenceRows(LpModel& lp)
    {
        const std::size_t n = dag.nodeCount();
        std::vector<int> columns;
        std::vector<double> values;
        precedenceRows.assign(n, {});
        for (PipelineDag::Node v = 0; v < n; ++v) {
            auto addPrecedence = [&](const PipelineDag::Node* pred) {
                columns.assign({ endColumn(v) });
                values.assign({ 1.0 });
                if (pred) {
                    columns.push_back(endColumn(*pred));
                    values.push_back(-1.0);
                }
                if (ratioColumn[v] != 0) {
                    columns.push_back(ratioColumn[v]);
                    values.push_back(lpMax[v] - lpMin[v]);
                }
                const double delay = pred && dag.action(*pred).rank != dag.action(v).rank ? lpTransfer : 0.0;
                const int row = lp.addRow(columns, values, LpModel::RowSense::GreaterEqual, lpMax[v] + delay);
                precedenceRows[v].push_back({ row, pred ? static_cast<long>(*pred) : kNoPredecessor, delay });
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
    }

    // T − e_last ≥ 0 for the last action of each rank.
    void addRankEndRows(LpModel& lp)
    {
        rankEndRow.assign(static_cast<std::size_t>(dag.rankCount()), 0);
        for (int rank = 0; rank < dag.rankCount(); ++rank) {
            if (dag.rankBegin(rank) == dag.rankEnd(rank))
                continue;
            rankEndRow[static_cast<std::size_t>(rank)] = lp.addRow({ kBatchColumn, endColumn(dag.rankEnd(rank) - 1) },
                { 1.0, -1.0 }, LpModel::RowSense::GreaterEqual, 0.0);
        }
    }

    // The earliest-start schedule under the LP's own rows: each action's end time, the row that
    // sets its start (a spanning tree of tight rows) and the rank whose last action ends last.
    struct EarliestTree {
        std::vector<double> end; // in LP units
        std::vector<const PrecedenceRow*> tightRow;
        int lastRank = 0;
    };

    EarliestTree earliestTree(const std::vector<double>& durations) const
    {
        EarliestTree tree { std::vector<double>(dag.nodeCount(), 0.0),
            std::vector<const PrecedenceRow*>(dag.nodeCount(), nullptr), 0 };
        for (PipelineDag::Node v : dag.topologicalOrder()) {
            double start = -1.0;
            for (const PrecedenceRow& row : precedenceRows[v]) {
                const double ready = row.predecessor == kNoPredecessor
                    ? 0.0
                    : tree.end[static_cast<std::size_t>(row.predecessor)] + row.delay;
                if (ready > start) {
                    start = ready;
                    tree.tightRow[v] = &row;
                }
            }
            tree.end[v] = start + durations[v];
        }
        double batch = -1.0;
        for (int rank = 0; rank < dag.rankCount(); ++rank) {
            if (rankEndRow[static_cast<std::size_t>(rank)] != 0 && tree.end[dag.rankEnd(rank) - 1] > batch) {
                batch = tree.end[dag.rankEnd(rank) - 1];
                tree.lastRank = rank;
            }
        }
        return tree;
    }

    // The basis a cold solve starts from (PlannerOptions::criticalPathStart). Freeze every action
    // on the critical path of the earliest-start schedule (as far as its cap allows), re-time, and
    // repeat until the critical path has nothing left to freeze. Then:
    //   basic:    T, every end time, and the slack of every row not below;
    //   nonbasic: the row that sets each action's start and the last rank's T ≥ e_last (tight,
    //             at their lower bound), frozen ratios at their upper bound, the rest at zero.
    // The tight rows form a spanning tree over the end times, so the basis is triangular and never
    // singular; the stage budgets are not looked at (the solve repairs them). Why: lp_solve's
    // all-slack start knows nothing of the schedule, and this one already carries its timeline.
    // Measured on `tfreeze bench plan`'s DAGs: 1F1B 8×64 3,549 → 2,569 pivots, 16×128
    // 23,868 → 15,080; ZBV 8×21 1,359 → 83 (README, "How the planner solves the LP").
    std::vector<int> criticalPathBasis(const FreezeBounds& bounds, int rows) const
    {
        const std::size_t n = dag.nodeCount();
        if (n == 0)
            return {}; // nothing to start from: setBasis() refuses it and lp_solve starts on its own
        std::vector<char> frozen(n, 0);
        const EarliestTree tree = freezeCriticalPaths(bounds, frozen);

        std::vector<char> tight(static_cast<std::size_t>(rows) + 1, 0);
        for (PipelineDag::Node v = 0; v < n; ++v)
            tight[static_cast<std::size_t>(tree.tightRow[v]->row)] = 1;
        tight[static_cast<std::size_t>(rankEndRow[static_cast<std::size_t>(tree.lastRank)])] = 1;
        std::vector<int> basis { 0, -(rows + kBatchColumn) };
        basis.reserve(1 + static_cast<std::size_t>(rows + columnCount));
        for (PipelineDag::Node v = 0; v < n; ++v)
            basis.push_back(-(rows + endColumn(v)));
        for (const bool basic : { true, false }) {
            for (int row = 1; row <= rows; ++row) {
                if ((tight[static_cast<std::size_t>(row)] == 0) == basic)
                    basis.push_back(-row);
            }
        }
        for (PipelineDag::Node v = 0; v < n; ++v) {
            if (ratioColumn[v] != 0)
                basis.push_back((frozen[v] != 0 ? 1 : -1) * (rows + ratioColumn[v]));
        }
        return basis;
    }

    // Freezes (marks in `frozen`, as far as each cap allows) every action on the critical path,
    // re-times, and repeats until the critical path has nothing left to freeze; the last timeline.
    EarliestTree freezeCriticalPaths(const FreezeBounds& bounds, std::vector<char>& frozen) const
    {
        std::vector<double> durations = lpMax;
        EarliestTree tree = earliestTree(durations);
        for (bool froze = true; froze;) {
            froze = false;
            for (long v = static_cast<long>(dag.rankEnd(tree.lastRank)) - 1; v != kNoPredecessor;) {
                const auto node = static_cast<std::size_t>(v);
                if (ratioColumn[node] != 0 && frozen[node] == 0) {
                    const double cap = capOf(bounds, node);
                    frozen[node] = 1;
                    durations[node] = lpMax[node] - cap * (lpMax[node] - lpMin[node]);
                    froze = true;
                }
                v = tree.tightRow[node]->predecessor;
            }
            if (froze)
                tree = earliestTree(durations);
        }
        return tree;
    }

    // Σ_{v∈stage k} r_v ≤ ρ_k·n_k; the right-hand sides are set by applyBounds().
    void addStageBudgetRows(LpModel& lp)
    {
        std::vector<int> columns;
        std::vector<double> values;
        stageBudgetRow.assign(static_cast<std::size_t>(dag.stageCount()), 0);
        for (int stage = 0; stage < dag.stageCount(); ++stage) {
            columns.clear();
            for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
                if (ratioColumn[v] != 0 && dag.action(v).stage == stage)
                    columns.push_back(ratioColumn[v]);
            }
            if (columns.empty())
                continue;
            values.assign(columns.size(), 1.0);
            stageBudgetRow[static_cast<std::size_t>(stage)]
                = lp.addRow(columns, values, LpModel::RowSense::LessEqual, 0.0);
        }
    }

    // C·T + Σ_v Δ_v·r_v ≥ Σ_v w_max_v. Processor sharing never lets C processors finish the work
    // sooner, so the row only cuts off batch times that cannot happen; it is what makes freezing
    // off the critical path pay on a machine with fewer cores than ranks.
    void addCapacityRow(LpModel& lp)
    {
        std::vector<int> columns { kBatchColumn };
        std::vector<double> values { static_cast<double>(sharedProcessors) };
        double work = 0.0;
        for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
            work += lpMax[v];
            if (ratioColumn[v] != 0) {
                columns.push_back(ratioColumn[v]);
                values.push_back(lpMax[v] - lpMin[v]);
            }
        }
        lp.addRow(columns, values, LpModel::RowSense::GreaterEqual, work);
    }

    static double capOf(const FreezeBounds& bounds, PipelineDag::Node v)
    {
        return bounds.actionCap.empty() ? 1.0 : bounds.actionCap[v];
    }

    // ρ_k·n_k: the most a stage's ratios may sum to.
    double stageBudget(const FreezeBounds& bounds, int stage) const
    {
        return bounds.stageBound(stage) * stageFreezableCount[static_cast<std::size_t>(stage)];
    }

    void applyBounds(LpModel& lp, const FreezeBounds& bounds) const
    {
        for (int stage = 0; stage < dag.stageCount(); ++stage) {
            const auto k = static_cast<std::size_t>(stage);
            if (stageBudgetRow[k] != 0)
                lp.setRhs(stageBudgetRow[k], stageBudget(bounds, stage));
        }
        for (PipelineDag::Node v = 0; v < dag.nodeCount(); ++v) {
            if (ratioColumn[v] == 0)
                continue;
            const double cap = capOf(bounds, v);
            if (v < fixedRatio.size() && !std::isnan(fixedRatio[v])) {
                lp.setBounds(ratioColumn[v], fixedRatio[v], fixedRatio[v]);
            } else if (branchAndBound && profile.isAllOrNothing(dag.action(v).stage)) {
                // 0 or the cap; a cap of 0 leaves 0 alone (no semi-continuous column without room).
                lp.setSemiContinuous(ratioColumn[v], cap > 0.0);
                lp.setBounds(ratioColumn[v], cap, cap);
            } else {
                lp.setBounds(ratioColumn[v], 0.0, cap);
            }
        }
    }

    // Profile::allOrNothingStages: the LP's line from w_max to w_min holds for their actions at
    // ratio 0 and at their cap only, so none may end between. Up to
    // PlannerOptions::allOrNothingBranchLimit such columns, lp_solve settles them exactly by
    // branch and bound (semi-continuous columns, applyBounds()); measured on 1F1B with stage 0
    // all or nothing: 4×16 within 91 ms, 4×24 up to 1.0 s, 4×32 14 s, 8×64 over 120 s. Beyond
    // the limit, this dive: while one of them is fractional, take the one with the largest ratio,
    // solve once with it fixed at 0 and once at its cap (if the stage's budget still holds it),
    // and keep the better. Each fixing is a warm re-solve, at most three per such action; its
    // batch time was within 1.5% of branch and bound's on 2×8 to 4×24. Then retryLastWhole().
    void roundAllOrNothing(const FreezeBounds& bounds)
    {
        if (allOrNothingNodes.empty() || branchAndBound)
            return;
        std::vector<double> fixedBudget(static_cast<std::size_t>(dag.stageCount()), 0.0);
        for (long pick = fractionalAllOrNothing(bounds); pick != kNoPredecessor;
             pick = fractionalAllOrNothing(bounds)) {
            const auto v = static_cast<PipelineDag::Node>(pick);
            const auto stage = static_cast<std::size_t>(dag.action(v).stage);
            const double budget = stageBudget(bounds, static_cast<int>(stage));
            const double cap = capOf(bounds, v);
            const auto fixAndSolve = [&](double ratio) {
                fixedRatio[v] = ratio;
                model->setBounds(ratioColumn[v], ratio, ratio);
                solve(bounds, "freezing the all-or-nothing stages whole");
                return model->objectiveValue();
            };
            const double atZero = fixAndSolve(0.0);
            if (fixedBudget[stage] + cap <= budget + 1e-9 && fixAndSolve(cap) <= atZero)
                fixedBudget[stage] += cap;
            else if (fixedRatio[v] != 0.0)
                fixAndSolve(0.0);
        }
        lastWhole = retryLastWhole(bounds);
    }

    // The dive alone is not monotone in ρ (of 16 swept pipelines in tst_freezeplanner, 15 planned
    // a longer batch at some larger bound). The actions the last dive froze whole still fit a
    // larger bound, so solve once more with exactly those whole and keep that if it is shorter:
    // a planner swept up over ρ (a dragged slider) then never plans a longer batch. Returns the
    // actions whole in the solution kept.
    std::vector<PipelineDag::Node> retryLastWhole(const FreezeBounds& bounds)
    {
        std::vector<PipelineDag::Node> dived = wholeInSolution(bounds);
        if (lastWhole.empty() || lastWhole == dived)
            return dived;
        std::vector<double> used(static_cast<std::size_t>(dag.stageCount()), 0.0);
        for (PipelineDag::Node v : lastWhole)
            used[static_cast<std::size_t>(dag.action(v).stage)] += capOf(bounds, v);
        for (int stage = 0; stage < dag.stageCount(); ++stage) {
            if (used[static_cast<std::size_t>(stage)] > stageBudget(bounds, stage) + 1e-9)
                return dived; // a smaller bound: they no longer fit
        }
        const double divedObjective = model->objectiveValue();
        fixWhole(bounds, lastWhole);
        solve(bounds, "freezing the all-or-nothing stages whole");
        if (model->objectiveValue() < divedObjective)
            return lastWhole;
        fixWhole(bounds, dived);
        solve(bounds, "freezing the all-or-nothing stages whole");
        return dived;
    }

    // Fixes every all-or-nothing ratio column: at its cap for the actions in `whole`, else at 0.
    void fixWhole(const FreezeBounds& bounds, const std::vector<PipelineDag::Node>& whole)
    {
        for (PipelineDag::Node v : allOrNothingNodes) {
            // Both lists are in node order.
            fixedRatio[v] = std::binary_search(whole.begin(), whole.end(), v) ? capOf(bounds, v) : 0.0;
            model->setBounds(ratioColumn[v], fixedRatio[v], fixedRatio[v]);
        }
    }

    // The all-or-nothing actions frozen whole in the last solution (ratio at least half the cap,
    // as plan() rounds them), in node order.
    std::vector<PipelineDag::Node> wholeInSolution(const FreezeBounds& bounds) const
    {
        const std::vector<double> solution = model->columnValues();
        std::vector<PipelineDag::Node> whole;
        for (PipelineDag::Node v : allOrNothingNodes) {
            const double cap = capOf(bounds, v);
            if (cap > 0.0 && solution[static_cast<std::size_t>(ratioColumn[v])] >= 0.5 * cap)
                whole.push_back(v);
        }
        return whole;
    }

    // The free action of an all-or-nothing stage with the largest ratio strictly between 0 and
    // its cap in the last solution; kNoPredecessor when there is none.
    long fractionalAllOrNothing(const FreezeBounds& bounds) const
    {
        constexpr double kTolerance = 1e-6;
        const std::vector<double> solution = model->columnValues();
        long pick = kNoPredecessor;
        double pickRatio = 0.0;
        for (PipelineDag::Node v : allOrNothingNodes) {
            if (!std::isnan(fixedRatio[v]))
                continue;
            const double ratio = solution[static_cast<std::size_t>(ratioColumn[v])];
            if (ratio > kTolerance && ratio < capOf(bounds, v) - kTolerance && ratio > pickRatio) {
                pick = static_cast<long>(v);
                pickRatio = ratio;
            }
        }
        return pick;
    }

    // Minimise T + ε·Σr: METHOD.md §4's two objectives in one solve.
    // - Exact for the second objective: no plan with a batch time ≤ this optimum's T freezes less
    //   (it would have a smaller T + ε·Σr).
    // - Within 1e-6 for the first: T exceeds the true minimum by at most ε·Σr ≤ ε·f, and
    //   ε = 1e-6·T_no_freeze / f. In practice it is the same vertex (bench plan compares).
    // - Needed for speed: plain "min T" is massively degenerate (many equally long paths) and
    //   lp_solve stalled for minutes on a 1,024-action 1F1B DAG with 16 ranks; a price of 1e-7 per
    //   unit ratio solved it in 0.25 s (1e-8 stalled again). A separate second solve at fixed T
    //   was tried: warm it cost up to 4,600 pivots, and from a copied basis it stalled at 4,096
    //   actions.
    // `scale` multiplies ε, for the coarse first stage of a large solve (solveInStages()).
    std::vector<double> batchObjective(double scale = 1.0) const
    {
        std::vector<double> objective(static_cast<std::size_t>(columnCount) + 1, 0.0);
        objective[kBatchColumn] = 1.0;
        const double freezePrice = options.priceFreezing && ratioColumnCount > 0
            ? scale * 1e-6 * (noFreezeBatchMs / lpUnitMs) / ratioColumnCount
            : 0.0;
        for (int column : ratioColumn) {
            if (column != 0)
                objective[static_cast<std::size_t>(column)] = freezePrice;
        }
        return objective;
    }

    // Solves the model warm when it exists. Otherwise, or when lp_solve gives up on a warm start
    // (a numerical failure, or a spurious "infeasible" from a basis of changed bounds), it builds
    // a fresh model and solves it cold from the critical-path basis; should that fail too, once
    // more from lp_solve's own start, so a poor guess costs time, never a plan. A time-out is final.
    void solve(const FreezeBounds& bounds, const std::string& what)
    {
        const Start start = carriedStart ? Start::Carried : Start::Warm;
        carriedStart = false;
        if (model && solveInStages(*model, start, what))
            return;
        if (options.criticalPathStart) {
            model = freshModel(bounds);
            if (model->setBasis(criticalPathBasis(bounds, model->rowCount()))
                && solveInStages(*model, Start::Cold, what))
                return;
        }
        model = freshModel(bounds);
        if (!solveInStages(*model, Start::Cold, what)) {
            model.reset();
            throwSolveFailure(what);
        }
    }

    // Beyond PlannerOptions::coarsePriceAboveRatios ratios a solve first prices freezing higher,
    // then lower, ending at the true price. ε shrinks with the number of ratios: at 8,192 of them
    // (1F1B, 16,384 actions, ε ≈ 1.1e-7 per unit ratio) lp_solve stalled, 703,351 pivots in 519 s
    // and unfinished. Measured there on two cost seeds (2026-12-06):
    // - cold, 1,000 times higher first: 120,422 + 258 and 142,487 + 1,852 pivots, 136 and 147 s;
    //   100,000 times, then 1,000 times, then the true price: 72,834 + 13,446 + 1,173 pivots, 85 s
    //   (other ladders from 10⁶ down cost 83–111 s: the way through 10⁵ is the hard part);
    // - warm, a slider step from the optimum: 1,000 times higher first, 7.2 s where one stage
    //   stalled past 250 s. Up to 10⁵ and back would undo most of what the basis already knows
    //   (at 4,096 actions a slider step took 40× longer that way).
    // From 8,192 actions (4,096 ratios) on, the cold ladder was as fast as one stage or faster:
    // 1F1B 16×256 at ρ 0.2/0.5/0.7 on two seeds 12.7–24.3 s against 20.5–44.9 s (one stage took up
    // to 89,581 pivots), GPipe 7.5 against 10.0 s, Interleaved1F1B and ZBV the same. Not at 2,048
    // ratios and below (1F1B 4,096 actions and smaller): there the stages took as many pivots as
    // one solve or more, the time was within this machine's noise, and on one instance (ρ 0.9) the
    // 10³ stage stalled past 30 s.
    // Carried: from another profile's optimum (FreezePlanner::startFrom()), in one stage.
    enum class Start { Cold, Warm, Carried };
    bool solvesInStages() const { return options.priceFreezing && ratioColumnCount > options.coarsePriceAboveRatios; }
    static std::vector<double> coarsePriceScales(Start start)
    {
        return start == Start::Cold ? std::vector<double> { 1e5, 1e3 } : std::vector<double> { 1e3 };
    }

    // Solves from the basis `lp` holds (a start or the last optimum); large models in stages (see
    // above). The last stage is the LP itself, so the plan is the one-stage plan.
    bool solveInStages(LpModel& lp, Start start, const std::string& what)
    {
        if (solvesInStages() && start != Start::Carried) {
            for (double scale : coarsePriceScales(start)) {
                lp.setObjective(batchObjective(scale));
                if (!solveOnce(lp, what))
                    return false; // solve() discards this model
            }
            lp.setObjective(batchObjective());
        }
        return solveOnce(lp, what);
    }

    std::unique_ptr<LpModel> freshModel(const FreezeBounds& bounds)
    {
        std::unique_ptr<LpModel> lp = buildModel();
        lp->setObjective(batchObjective());
        applyBounds(*lp, bounds);
        return lp;
    }

    void startProgress()
    {
        planStarted = std::chrono::steady_clock::now();
        lastProgress = planStarted;
        progress = PlanProgress {};
    }

    // From inside lp_solve (LpModel::AbortCheck): asks the handler, at most every interval.
    bool shouldStop(long long pivotsOfThisSolve)
    {
        if (!progressHandler)
            return false;
        const auto now = std::chrono::steady_clock::now();
        if (std::chrono::duration<double>(now - lastProgress).count() < progressIntervalSeconds)
            return false;
        lastProgress = now;
        PlanProgress current = progress;
        current.elapsedSeconds = std::chrono::duration<double>(now - planStarted).count();
        current.pivots += pivotsOfThisSolve;
        return !progressHandler(current);
    }

    bool solveOnce(LpModel& lp, const std::string& what)
    {
        lastStatus = lp.solve();
        progress.pivots += lp.pivotCount();
        ++progress.solves;
        if (lastStatus == LpModel::Status::Cancelled) {
            model.reset();
            throwCancelled();
        }
        if (lastStatus == LpModel::Status::TimedOut) {
            model.reset();
            throwSolveFailure(what);
        }
        return lastStatus == LpModel::Status::Optimal;
    }

    [[noreturn]] void throwCancelled() const
    {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - planStarted).count();
        throw PlanCancelled("planning cancelled after " + secondsText(std::round(seconds * 10.0) / 10.0) + " s ("
            + std::to_string(progress.pivots) + " simplex pivots, " + std::to_string(dag.nodeCount()) + " actions)");
    }

    [[noreturn]] void throwSolveFailure(const std::string& what) const
    {
        switch (lastStatus) {
        case LpModel::Status::TimedOut:
            throw PlannerError("the LP solver timed out after " + secondsText(options.timeLimitSeconds) + " s while "
                + what + " (" + std::to_string(dag.nodeCount()) + " actions)");
        case LpModel::Status::Infeasible:
            throw PlannerError("the freeze-planning LP is infeasible while " + what
                + "; this should not happen with valid durations (no freezing is always feasible)");
        case LpModel::Status::Unbounded:
            throw PlannerError("the freeze-planning LP is unbounded while " + what);
        default:
            throw PlannerError("the LP solver failed numerically while " + what);
        }
    }
};

FreezePlanner::FreezePlanner(Profile profile, PlannerOptions options)
    : d(std::make_unique<Private>(std::move(profile), std::move(options)))
{
}

FreezePlanner::~FreezePlanner() = default;

const Profile& FreezePlanner::profile() const { return d->profile; }

const PipelineDag& FreezePlanner::dag() const { return d->dag; }

LpStatistics FreezePlanner::lpStatistics() const { return d->statistics; }

void FreezePlanner::setProgressHandler(PlanProgressHandler handler, double intervalSeconds)
{
    d->progressHandler = std::move(handler);
    d->progressIntervalSeconds = std::max(0.0, intervalSeconds);
}

namespace {
// setBasis()'s form: entry 0 unused, then every row and column index once, signed. lp_solve does
// not check this itself.
bool isPermutationOfVariables(const std::vector<int>& entries, int variables)
{
    if (entries.size() != static_cast<std::size_t>(variables) + 1)
        return false;
    std::vector<bool> seen(entries.size(), false);
    for (std::size_t i = 1; i < entries.size(); ++i) {
        const int index = std::abs(entries[i]);
        if (index < 1 || index > variables || seen[static_cast<std::size_t>(index)])
            return false;
        seen[static_cast<std::size_t>(index)] = true;
    }
    return true;
}
} // namespace

PlannerBasis FreezePlanner::optimalBasis() const
{
    if (!d->model || d->carriedStart || d->lastStatus != LpModel::Status::Optimal)
        return {}; // nothing solved yet, or the last solve failed
    return { d->model->structureFingerprint(), d->model->basis() };
}

FreezePlanner::BasisStart FreezePlanner::startFrom(const PlannerBasis& basis)
{
    // Measured with `tfreeze bench replan` (1F1B, every cost drawn again within ±10%, ρ = 0.5,
    // 2026-12-06): 1,024 actions 1,025 against 2,433 pivots, 1.5–1.6× faster; 4,096 actions
    // 7,121 against 14,437, 1.3–2.3×; 8,192 actions, in one stage (solveInStages()), 10,025
    // against 35,674 pivots of the cold ladder, 6.4 against 13.3 s (through the warm ladder 12.9
    // against 15.1 s). At 16,384 actions neither paid: one stage ran past 300 s (342,377 pivots),
    // the warm ladder took 96 s against 81 s cold. A pivot from such a start costs more than one
    // from the critical-path basis (the optimum's LU is dense, the critical path's triangular).
    if (d->model)
        return BasisStart::AlreadySolved;
    if (basis.empty())
        return BasisStart::Invalid;
    std::unique_ptr<LpModel> lp = d->buildModel();
    if (lp->structureFingerprint() != basis.shape)
        return BasisStart::OtherShape;
    if (d->ratioColumnCount > d->options.carriedBasisMaxRatios)
        return BasisStart::TooLarge;
    if (!isPermutationOfVariables(basis.entries, lp->rowCount() + lp->columnCount()))
        return BasisStart::Invalid;
    lp->setObjective(d->batchObjective());
    // One stage, so the scaling of one-stage solves (buildModel()): at 8,192 actions 10,025
    // pivots and 6.3 s from the basis, against 21,275 and 9.4 s with the equilibration.
    lp->setScaling(LpModel::Scaling::Geometric);
    if (!lp->setBasis(basis.entries))
        return BasisStart::Invalid;
    // plan() applies its bounds to this model and solves it as it would a warm one, in one stage.
    d->model = std::move(lp);
    d->carriedStart = true;
    return BasisStart::Taken;
}

FreezePlan FreezePlanner::plan(const FreezeBounds& bounds)
{
    d->startProgress();
    const std::size_t n = d->dag.nodeCount();
    validateBounds(bounds, d->dag.stageCount(), n);

    // The shortest batch time under the bounds, and at it the least freezing, in one LP (see
    // batchObjective()). Warm when a model exists: only budgets and caps changed.
    d->fixedRatio.assign(n, std::numeric_limits<double>::quiet_NaN());
    if (d->model)
        d->applyBounds(*d->model, bounds);
    d->solve(bounds, "minimising the batch time");
    d->roundAllOrNothing(bounds);
    const std::vector<double> solution = d->model->columnValues();

    FreezePlan plan { d->profile, bounds, 0.0, 0.0, 0.0, {}, {}, 0.0 };
    std::vector<double> durations(n);
    plan.actions.resize(n);
    for (PipelineDag::Node v = 0; v < n; ++v) {
        double ratio = 0.0;
        if (d->ratioColumn[v] != 0) {
            const double cap = Private::capOf(bounds, v);
            ratio = std::clamp(solution[static_cast<std::size_t>(d->ratioColumn[v])], 0.0, cap);
            if (ratio < 1e-9)
                ratio = 0.0; // simplex round-off, not freezing
            // Branch and bound holds integrality to lp_solve's tolerance (1e-7): a ratio of
            // 0.9999999 would freeze one tensor fewer on a large stage.
            if (d->profile.isAllOrNothing(d->dag.action(v).stage))
                ratio = ratio >= 0.5 * cap ? cap : 0.0;
        }
        plan.actions[v].ratio = ratio;
    }
    // lp_solve meets rows to within its feasibility tolerance (a stage bounded at 0 was seen
    // with a mean of 3.6e-9); the accuracy bound is a promise to the user, so hold it exactly.
    const auto stages = static_cast<std::size_t>(d->dag.stageCount());
    std::vector<double> stageRatioSum(stages, 0.0);
    for (PipelineDag::Node v = 0; v < n; ++v)
        stageRatioSum[static_cast<std::size_t>(d->dag.action(v).stage)] += plan.actions[v].ratio;
    std::vector<double> stageScale(stages, 1.0);
    plan.stageMeanRatio.assign(stages, 0.0);
    for (std::size_t k = 0; k < stages; ++k) {
        const double budget = d->stageBudget(bounds, static_cast<int>(k));
        if (stageRatioSum[k] > budget) {
            stageScale[k] = budget / stageRatioSum[k];
            stageRatioSum[k] = budget;
        }
        if (d->stageFreezableCount[k] != 0)
            plan.stageMeanRatio[k] = stageRatioSum[k] / d->stageFreezableCount[k];
    }
    for (PipelineDag::Node v = 0; v < n; ++v) {
        plan.actions[v].ratio *= stageScale[static_cast<std::size_t>(d->dag.action(v).stage)];
        durations[v] = d->maxMs[v] - plan.actions[v].ratio * (d->maxMs[v] - d->minMs[v]);
    }
    // The predicted timeline is the earliest-start schedule under the planned durations; its
    // batch time equals the LP optimum up to round-off. With shared processors it is the
    // processor-sharing schedule, which the LP's rows bound from below.
    const Timeline timeline = simulateTimeline(d->dag, durations, d->sharedProcessors, d->transferMs);
    for (PipelineDag::Node v = 0; v < n; ++v) {
        plan.actions[v].startMs = timeline.startMs[v];
        plan.actions[v].endMs = timeline.endMs[v];
    }
    plan.batchMsPlanned = timeline.batchMs;
    plan.batchMsNoFreeze = d->noFreezeBatchMs;
    plan.batchMsAllFrozen = d->allFrozenBatchMs;
    plan.solveSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - d->planStarted).count();
    d->statistics.pivots = d->progress.pivots;
    return plan;
}

} // namespace tfreeze
