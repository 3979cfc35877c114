#include "core/plan/span_profile_estimate.h"

#include "core/plan/plan_error.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <tuple>

namespace tfreeze {

namespace {

double median(std::vector<double> values)
{
    const std::size_t n = values.size();
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(n / 2);
    std::nth_element(values.begin(), middle, values.end());
    if (n % 2 == 1)
        return *middle;
    const double upper = *middle;
    const double lower = *std::max_element(values.begin(), middle);
    return (lower + upper) / 2.0;
}

struct Sample {
    double ratio = 0.0;
    double ms = 0.0;
};

// Least squares through the medians of each distinct ratio (a median per ratio, so that one
// preempted step on a shared machine does not tilt the line), evaluated at ratio 1. At least two
// distinct ratios are needed; the caller guarantees ratio 0 and one partial ratio.
double fitAtFullFreeze(const std::vector<Sample>& samples)
{
    std::map<double, std::vector<double>> byRatio;
    for (const Sample& sample : samples)
        byRatio[sample.ratio].push_back(sample.ms);
    double sumX = 0.0;
    double sumY = 0.0;
    for (const auto& [ratio, values] : byRatio) {
        sumX += ratio;
        sumY += median(values);
    }
    const double n = static_cast<double>(byRatio.size());
    const double meanX = sumX / n;
    const double meanY = sumY / n;
    double sxx = 0.0;
    double sxy = 0.0;
    for (const auto& [ratio, values] : byRatio) {
        sxx += (ratio - meanX) * (ratio - meanX);
        sxy += (ratio - meanX) * (median(values) - meanY);
    }
    const double slope = sxy / sxx;
    return meanY + slope * (1.0 - meanX);
}

using ActionKey = std::tuple<int, int, ActionKind>; // stage, microbatch, kind

} // namespace

Profile estimateProfileFromSpans(
    const PipelineSchedule& schedule, const std::vector<std::vector<ActionSpan>>& steps, ProfileEstimateInfo* info)
{
    std::vector<Action> actions;
    std::map<ActionKey, std::size_t> indexOf;
    for (const auto& order : schedule.rankOrders()) {
        for (const Action& action : order) {
            indexOf[{ action.stage, action.microbatch, action.kind }] = actions.size();
            actions.push_back(action);
        }
    }

    std::vector<std::vector<Sample>> samples(actions.size());
    for (const auto& spans : steps) {
        for (const ActionSpan& span : spans) {
            const auto found = indexOf.find({ span.stage, span.microbatch, span.kind });
            if (found == indexOf.end() || actions[found->second].rank != span.rank)
                throw InputError("spans", actionName(Action { span.rank, span.stage, span.microbatch, span.kind }),
                    "a span of an action that the schedule does not have (on rank " + std::to_string(span.rank) + ")");
            const double ratio = span.totalTensors > 0
                ? std::clamp(static_cast<double>(span.frozenTensors) / span.totalTensors, 0.0, 1.0)
                : 0.0;
            samples[found->second].push_back({ ratio, static_cast<double>(span.endUs - span.startUs) / 1000.0 });
        }
    }

    ProfileEstimateInfo counts;
    std::vector<ActionCost> costs(actions.size());
    std::vector<double> unfrozen;
    std::vector<double> frozen;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        unfrozen.clear();
        frozen.clear();
        bool partial = false;
        for (const Sample& sample : samples[i]) {
            if (sample.ratio == 0.0)
                unfrozen.push_back(sample.ms);
            else if (sample.ratio == 1.0)
                frozen.push_back(sample.ms);
            else
                partial = true;
        }
        if (unfrozen.empty())
            throw InputError("spans", actionName(actions[i]),
                samples[i].empty() ? "no measurement of this action" : "no unfrozen measurement of this action");
        costs[i].maxMs = median(unfrozen);
        if (!isFreezable(actions[i].kind)) {
            costs[i].minMs = costs[i].maxMs;
            continue;
        }
        ++counts.freezableActions;
        double minMs = 0.0;
        if (!frozen.empty()) {
            minMs = median(frozen);
            ++counts.measuredFrozen;
        } else if (partial) {
            minMs = fitAtFullFreeze(samples[i]);
            ++counts.fittedPartial;
        } else {
            // Nothing frozen was measured. Backward is about twice the forward in matmul-bound
            // layers: one half computes the input gradient, the other the weight gradient, which
            // costs about one forward of the same microbatch. So freezing everything saves about
            // F; at most half of the action is assumed saved, which keeps the estimate
            // conservative for W (all weight gradient, but with fixed costs the rule would miss)
            // and for small stages where F is dominated by overheads.
            const auto forward = indexOf.at({ actions[i].stage, actions[i].microbatch, ActionKind::Forward });
            const std::vector<Sample>& forwardSamples = samples[forward];
            if (forwardSamples.empty())
                throw InputError("spans", actionName(actions[forward]), "no measurement of this action");
            std::vector<double> forwardMs;
            for (const Sample& sample : forwardSamples)
                forwardMs.push_back(sample.ms);
            minMs = std::max(costs[i].maxMs - median(forwardMs), 0.5 * costs[i].maxMs);
            ++counts.estimated;
        }
        // A frozen action measured slower than the unfrozen one is noise, not a cost of freezing.
        costs[i].minMs = std::clamp(minMs, 0.0, costs[i].maxMs);
    }
    if (info)
        *info = counts;
    return Profile(schedule, std::move(costs), "spans");
}

} // namespace tfreeze
