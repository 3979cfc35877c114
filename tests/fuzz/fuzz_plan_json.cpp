// libFuzzer target for readPlanJson (tfreeze-plan/1). Invariants:
// - the reader returns a FreezePlan or throws InputError whose what() starts with the source
//   name; any other exception type, a crash or a sanitizer report is a finding;
// - a parsed plan written with writePlanJson reads back to an equal plan: the profile (shape, rank
//   orders, costs), bounds, per-action ratio/start/end, batch_ms and stage means, exactly;
// - writePlanCsv accepts it;
// - the plan's profile builds a PipelineDag or throws InputError (a deadlocking order).

#include "fuzz_common.h"

#include "core/plan/freeze_plan_io.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>

using namespace tfreeze;

namespace {

void requireEqualPlans(const FreezePlan& a, const FreezePlan& b)
{
    fuzz::requireEqualProfiles(a.profile, b.profile, "plan.profile");
    if (!(a.bounds.maxFreeze == b.bounds.maxFreeze))
        fuzz::finding("plan: max_freeze changed in the round trip");
    if (a.bounds.stageMaxFreeze != b.bounds.stageMaxFreeze)
        fuzz::finding("plan: stage_max_freeze changed in the round trip");
    if (a.bounds.actionCap != b.bounds.actionCap)
        fuzz::finding("plan: caps changed in the round trip");
    if (!(a.batchMsNoFreeze == b.batchMsNoFreeze) || !(a.batchMsPlanned == b.batchMsPlanned)
        || !(a.batchMsAllFrozen == b.batchMsAllFrozen))
        fuzz::finding("plan: batch_ms changed in the round trip");
    if (a.stageMeanRatio != b.stageMeanRatio)
        fuzz::finding("plan: stage_mean_ratio changed in the round trip");
    if (a.actions.size() != b.actions.size())
        fuzz::finding("plan: action count changed in the round trip");
    for (std::size_t i = 0; i < a.actions.size(); ++i) {
        const PlannedAction& x = a.actions[i];
        const PlannedAction& y = b.actions[i];
        if (!(x.ratio == y.ratio) || !(x.startMs == y.startMs) || !(x.endMs == y.endMs))
            fuzz::finding("plan: ratio/start/end of action " + std::to_string(i) + " changed in the round trip");
    }
    // solve_ms is stored in seconds (÷ 1000 on read, × 1000 on write), which need not be exact;
    // it must stay finite and non-negative and close.
    if (!std::isfinite(b.solveSeconds) || b.solveSeconds < 0.0
        || std::fabs(a.solveSeconds - b.solveSeconds) > 1e-12 * std::fabs(a.solveSeconds) + 1e-300)
        fuzz::finding("plan: solve_ms drifted in the round trip");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::optional<FreezePlan> plan;
    const bool parsed = fuzz::inputErrorOr("readPlanJson", fuzz::kSource, [&] {
        std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
        plan.emplace(readPlanJson(in, fuzz::kSource));
    });
    if (!parsed)
        return 0;

    std::string written;
    std::optional<FreezePlan> reread;
    try {
        std::ostringstream out;
        writePlanJson(*plan, out);
        written = out.str();
        std::istringstream in(written);
        reread.emplace(readPlanJson(in, "round-trip.json"));
        std::ostringstream csv;
        writePlanCsv(*plan, csv);
    } catch (const std::exception& error) {
        fuzz::finding("a parsed plan does not write and read back", std::string(error.what()) + "\n" + written);
    }
    requireEqualPlans(*plan, *reread);

    fuzz::checkDag(plan->profile, fuzz::kSource);
    return 0;
}
