// libFuzzer target for readPlannerBasisJson (tfreeze-basis/1) and FreezePlanner::startFrom. Invariants:
// - the reader returns a PlannerBasis or throws InputError whose what() starts with the source name;
//   any other exception type, a crash or a sanitizer report is a finding;
// - a parsed basis written with writePlannerBasisJson reads back to the same shape and entries;
// - handed to a planner of the seed corpus's pipeline (1F1B, 2 ranks, 2 microbatches, the synthetic
//   default costs), it is taken or refused, never a crash, and the plan has the cold plan's batch time:
//   lp_solve itself does not check the entries of a basis.

#include "fuzz_common.h"

#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/planner_basis_io.h"
#include "core/plan/synthetic_profile.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>

using namespace tfreeze;

namespace {

const Profile& seedPipeline()
{
    static const Profile profile
        = makeSyntheticProfile(PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 2, 2, 1 }), {});
    return profile;
}

FreezeBounds halfFrozen()
{
    FreezeBounds bounds;
    bounds.maxFreeze = 0.5;
    return bounds;
}

double coldBatchMs()
{
    static const double batchMs = FreezePlanner(seedPipeline()).plan(halfFrozen()).batchMsPlanned;
    return batchMs;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::optional<PlannerBasis> basis;
    const bool parsed = fuzz::inputErrorOr("readPlannerBasisJson", fuzz::kSource, [&] {
        std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
        basis.emplace(readPlannerBasisJson(in, fuzz::kSource));
    });
    if (!parsed)
        return 0;

    std::string written;
    try {
        std::ostringstream out;
        writePlannerBasisJson(*basis, out);
        written = out.str();
        std::istringstream in(written);
        const PlannerBasis reread = readPlannerBasisJson(in, "round-trip.json");
        if (reread.shape != basis->shape || reread.entries != basis->entries)
            fuzz::finding("basis: shape or entries changed in the round trip", written);
    } catch (const std::exception& error) {
        fuzz::finding("a parsed basis does not write and read back", std::string(error.what()) + "\n" + written);
    }

    try {
        FreezePlanner planner(seedPipeline());
        planner.startFrom(*basis);
        const double batchMs = planner.plan(halfFrozen()).batchMsPlanned;
        if (!(std::fabs(batchMs - coldBatchMs()) <= 1e-9 * coldBatchMs()))
            fuzz::finding("a plan from the basis differs from the cold plan",
                std::to_string(batchMs) + " ms against " + std::to_string(coldBatchMs()) + " ms");
    } catch (const std::exception& error) {
        fuzz::finding("planning from a parsed basis failed", error.what());
    }
    return 0;
}
