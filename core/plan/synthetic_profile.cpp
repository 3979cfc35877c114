#include "core/plan/synthetic_profile.h"

#include "core/plan/plan_error.h"
#include "core/plan/profile_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

namespace tfreeze {

namespace {

// One value per stage, expanded from the flag's 1 or stageCount values. Jitter scales a value by up
// to 1 + jitter, which must stay within the profile's longest duration.
std::vector<double> perStage(const std::vector<double>& values, int stageCount, double jitter, const char* flag)
{
    const auto count = static_cast<std::size_t>(stageCount);
    if (values.size() != 1 && values.size() != count)
        throw InputError(flag, "",
            "expects 1 or " + std::to_string(stageCount) + " values (got " + std::to_string(values.size()) + ")");
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::string got
            = detail::numberText(values[i]) + (values.size() > 1 ? " for stage " + std::to_string(i) : std::string());
        if (!std::isfinite(values[i]) || values[i] < 0.0)
            throw InputError(flag, "", "values must be finite numbers ≥ 0 (got " + got + ")");
        if (!isDurationMs(values[i] * (1.0 + jitter)))
            throw InputError(flag, "",
                std::string("values") + (jitter > 0.0 ? " times (1 + --jitter " + detail::numberText(jitter) + ")" : "")
                    + " must be at most " + detail::numberText(kMaxDurationMs)
                    + " ms, the longest duration the planner takes (got " + got + ")");
    }
    return values.size() == 1 ? std::vector<double>(count, values.front()) : values;
}

void checkNotAbove(
    const std::vector<double>& part, const std::vector<double>& whole, const char* flag, const char* partName)
{
    for (std::size_t stage = 0; stage < part.size(); ++stage) {
        if (part[stage] > whole[stage])
            throw InputError(flag, "",
                std::string(partName) + " " + detail::numberText(part[stage]) + " ms is greater than the backward "
                    + detail::numberText(whole[stage]) + " ms (--bwd-ms) on stage " + std::to_string(stage));
    }
}

// A uniform double in [0, 1) from 53 bits of mt19937 output. std::uniform_real_distribution is
// implementation-defined, and the same seed must give the same profile on every platform.
double uniformUnit(std::mt19937& engine)
{
    const std::uint64_t high = engine() >> 5; // 27 bits
    const std::uint64_t low = engine() >> 6; // 26 bits
    return static_cast<double>((high << 26) | low) / 9007199254740992.0; // 2^53
}

} // namespace

Profile makeSyntheticProfile(const PipelineSchedule& schedule, const SyntheticCosts& costs)
{
    if (!(costs.jitter >= 0.0 && costs.jitter < 1.0))
        throw InputError("--jitter", "", "must be in [0, 1) (got " + detail::numberText(costs.jitter) + ")");
    // Without a split backward there is no I to give a time: ignoring one would hide a mistake.
    if (!costs.backwardInputMs.empty() && !schedule.splitBackward())
        throw InputError("--bwd-input-ms", "",
            "only the schedules with a split backward (ZBH1, ZBV) take it; " + scheduleKindName(schedule.shape().kind)
                + " has a full backward (B)");
    const int stageCount = schedule.stageCount();
    const double jitter = costs.jitter;
    const std::vector<double> forward = perStage(costs.forwardMs, stageCount, jitter, "--fwd-ms");
    const std::vector<double> backward = perStage(costs.backwardMs, stageCount, jitter, "--bwd-ms");
    const std::vector<double> backwardFrozen = perStage(costs.backwardFrozenMs, stageCount, jitter, "--bwd-frozen-ms");
    checkNotAbove(backwardFrozen, backward, "--bwd-frozen-ms", "frozen backward");
    std::vector<double> backwardInput;
    if (costs.backwardInputMs.empty()) {
        for (double value : backward)
            backwardInput.push_back(value / 2.0);
    } else {
        backwardInput = perStage(costs.backwardInputMs, stageCount, jitter, "--bwd-input-ms");
        checkNotAbove(backwardInput, backward, "--bwd-input-ms", "backward input");
    }

    std::mt19937 engine(costs.seed);
    std::vector<ActionCost> actionCosts;
    actionCosts.reserve(schedule.actionCount());
    for (const auto& order : schedule.rankOrders()) {
        for (const Action& action : order) {
            const auto stage = static_cast<std::size_t>(action.stage);
            ActionCost cost;
            switch (action.kind) {
            case ActionKind::Forward:
                cost = { forward[stage], forward[stage] };
                break;
            case ActionKind::Backward:
                cost = { backward[stage], backwardFrozen[stage] };
                break;
            case ActionKind::BackwardInput:
                cost = { backwardInput[stage], backwardInput[stage] };
                break;
            case ActionKind::BackwardWeight:
                // The input gradient is computed even when every weight is frozen, so a frozen
                // backward's time beyond I is what remains of W.
                cost = { backward[stage] - backwardInput[stage],
                    std::max(0.0, backwardFrozen[stage] - backwardInput[stage]) };
                break;
            }
            if (costs.jitter > 0.0) {
                const double factor = 1.0 - costs.jitter + 2.0 * costs.jitter * uniformUnit(engine);
                cost.maxMs *= factor;
                cost.minMs *= factor;
            }
            actionCosts.push_back(cost);
        }
    }
    return { schedule, std::move(actionCosts), "synthetic" };
}

} // namespace tfreeze
