#pragma once

#include "core/plan/freeze_plan.h"
#include "core/plan/pipeline_dag.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tfreeze {

struct PlannerOptions {
    // Per solve; past it the planner throws PlannerError("... timed out ..."). Long enough for the
    // largest pipelines the bench plans (16,384 actions: 85–97 s cold here); a user stops sooner
    // through the progress handler (Ctrl-C, Stop Planning).
    double timeLimitSeconds = 600.0;
    // Price freezing slightly while minimising the batch time (see freeze_planner.cpp): without
    // it lp_solve stalls on degenerate DAGs. Off only to compare against a direct solve.
    bool priceFreezing = true;
    // Start a cold solve from the critical-path basis (freeze_planner.cpp) instead of lp_solve's
    // all-slack one. Off only to compare the two in `tfreeze bench plan`.
    bool criticalPathStart = true;
    // Up to this many ratio columns of Profile::allOrNothingStages, lp_solve's branch and bound
    // makes each 0 or its cap exactly; beyond, a dive of warm re-solves does (freeze_planner.cpp).
    int allOrNothingBranchLimit = 16;
    // A solve of more ratio columns than this first solves at higher freezing prices (cold: 10⁵
    // and 10³ times, warm: 10³ times), then at the true one from there (freeze_planner.cpp,
    // solveInStages()): the true price is so small on large pipelines that lp_solve stalls.
    // Lowered only by tests.
    int coarsePriceAboveRatios = 2048;
    // FreezePlanner::startFrom() takes a basis for LPs of up to this many ratio columns (1F1B
    // 8,192 actions) and solves from it in one stage; beyond, it cost more than a cold solve
    // (freeze_planner.cpp). Lowered only by tests.
    int carriedBasisMaxRatios = 4096;
    // Where the profile came from (a file path), named in errors about it such as a deadlock.
    std::string profileSource;
};

// Size of the LP actually handed to lp_solve, for `tfreeze bench plan`.
struct LpStatistics {
    int rows = 0;
    int columns = 0;
    long long nonZeros = 0;
    // Simplex pivots of the last plan(), over all its solves: deterministic, unlike its time.
    long long pivots = 0;
};

// Where a plan() in progress stands, for a progress line and a Cancel button.
struct PlanProgress {
    double elapsedSeconds = 0.0; // since plan() was called
    long long pivots = 0; // simplex pivots of every solve of this plan() so far
    int solves = 0; // lp_solve solves finished (a cold plan may take several: see solve())
};

// The optimal simplex basis of a plan, for a later planner of an LP of the same shape to start
// from: the same schedule and the same freezable actions with other costs (a profile measured
// again, a drifted run re-planned). From it, re-planning 1F1B with 1,024 to 8,192 actions took
// 1.3–2.3× less time than cold (`tfreeze bench replan`). Made and read only by FreezePlanner.
struct PlannerBasis {
    std::uint64_t shape = 0; // LpModel::structureFingerprint() of the LP it is a basis of
    std::vector<int> entries; // lp_solve's basis in LpModel::setBasis()'s form
    bool empty() const { return entries.empty(); }
};

// Called on plan()'s thread while it runs; returning false stops it (plan() throws PlanCancelled).
using PlanProgressHandler = std::function<bool(const PlanProgress&)>;

// The LP of METHOD.md §4 solved with lp_solve: minimise the batch time under the per-stage
// accuracy bound, then, at that batch time, minimise total freezing. Keeps its model between
// calls so that a new bound (a dragged ρ slider) re-solves warm from the last basis.
class FreezePlanner {
public:
    explicit FreezePlanner(Profile profile, PlannerOptions options = {});
    ~FreezePlanner();
    FreezePlanner(const FreezePlanner&) = delete;
    FreezePlanner& operator=(const FreezePlanner&) = delete;

    // Throws InputError(source "bounds") for bounds out of [0, 1] or of the wrong length,
    // PlannerError when the solver fails or times out, and PlanCancelled when the progress handler
    // stopped it.
    FreezePlan plan(const FreezeBounds& bounds);

    // While a plan() runs longer than `intervalSeconds`, `handler` hears of it every
    // `intervalSeconds` (a fast plan never calls it). A stopped plan discards the LP, so the next
    // plan() starts cold; the planner stays usable. An empty handler removes it.
    void setProgressHandler(PlanProgressHandler handler, double intervalSeconds = 0.25);

    // The optimal basis of the last plan(); empty before the first plan() and after a failed or
    // cancelled one.
    PlannerBasis optimalBasis() const;
    // Makes the next plan() start from `basis` instead of the critical-path basis, if `basis`
    // belongs to an LP of this planner's shape and this planner holds no solved model (after a
    // plan() it re-solves from its own last optimum, which is closer). Says whether it will, or
    // why not. The plan has the cold plan's batch time and least total freezing either way (a start
    // that lp_solve fails from is retried cold); with more all-or-nothing actions than branch and
    // bound settles, the dive that rounds them follows the LP's solutions and may round otherwise.
    enum class BasisStart {
        Taken,
        OtherShape, // the basis of another LP: another schedule or other freezable actions
        TooLarge, // more ratio columns than PlannerOptions::carriedBasisMaxRatios
        AlreadySolved, // this planner re-solves from its own optimum
        Invalid, // empty, or not a basis (an entry missing, repeated or out of range)
    };
    BasisStart startFrom(const PlannerBasis& basis);

    const Profile& profile() const;
    const PipelineDag& dag() const;
    LpStatistics lpStatistics() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace tfreeze
