#include "core/plan/span_profile_estimate.h"

#include "core/plan/plan_error.h"
#include "core/plan/statistics.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <tuple>

namespace tfreeze {

namespace {

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
    const auto n = static_cast<double>(byRatio.size());
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

// The schedule's actions in rank-major order, and where each one is in it.
struct ActionIndex {
    std::vector<Action> actions;
    std::map<ActionKey, std::size_t> indexOf;

    explicit ActionIndex(const PipelineSchedule& schedule)
    {
        actions.reserve(schedule.actionCount());
        for (const auto& order : schedule.rankOrders())
            actions.insert(actions.end(), order.begin(), order.end());
        indexActions();
    }

    // A DAG's nodes, which are in the same rank-major order.
    explicit ActionIndex(const PipelineDag& dag)
        : actions(dag.actions())
    {
        indexActions();
    }

    void indexActions()
    {
        for (std::size_t i = 0; i < actions.size(); ++i)
            indexOf[{ actions[i].stage, actions[i].microbatch, actions[i].kind }] = i;
    }
};

// The share of its freezable tensors a span froze (0 for a span with none).
double spanFreezeRatio(const ActionSpan& span)
{
    return span.totalTensors > 0 ? std::clamp(static_cast<double>(span.frozenTensors) / span.totalTensors, 0.0, 1.0)
                                 : 0.0;
}

// Every span as (freeze ratio, ms of work), per action.
std::vector<std::vector<Sample>> collectSamples(
    const ActionIndex& index, const std::vector<std::vector<ActionSpan>>& steps, int processors)
{
    std::vector<std::vector<Sample>> samples(index.actions.size());
    for (const auto& spans : steps) {
        // Per step: the share of a processor a span had depends on what else ran in that step.
        const std::vector<double> work = spanWorkMs(spans, processors);
        for (std::size_t j = 0; j < spans.size(); ++j) {
            const ActionSpan& span = spans[j];
            const auto found = index.indexOf.find({ span.stage, span.microbatch, span.kind });
            if (found == index.indexOf.end() || index.actions[found->second].rank != span.rank)
                throw InputError("spans", actionName(Action { span.rank, span.stage, span.microbatch, span.kind }),
                    "a span of an action that the schedule does not have (on rank " + std::to_string(span.rank) + ")");
            samples[found->second].push_back({ spanFreezeRatio(span), work[j] });
        }
    }
    return samples;
}

std::vector<double> durationsAt(const std::vector<Sample>& samples, double ratio)
{
    std::vector<double> durations;
    for (const Sample& sample : samples)
        if (sample.ratio == ratio)
            durations.push_back(sample.ms);
    return durations;
}

// minMs of a freezable action whose maxMs is known; `forwardMs` is the same microbatch's forward.
double minimumMs(const std::vector<Sample>& samples, double maxMs, double forwardMs, ProfileEstimateInfo& counts)
{
    const std::vector<double> frozen = durationsAt(samples, 1.0);
    if (!frozen.empty()) {
        ++counts.measuredFrozen;
        return median(frozen);
    }
    const bool partial
        = std::any_of(samples.begin(), samples.end(), [](const Sample& s) { return s.ratio > 0.0 && s.ratio < 1.0; });
    if (partial) {
        ++counts.fittedPartial;
        return fitAtFullFreeze(samples);
    }
    // Nothing frozen was measured. Backward is about twice the forward in matmul-bound layers: one
    // half computes the input gradient, the other the weight gradient, which costs about one
    // forward of the same microbatch. So freezing everything saves about F; at most half of the
    // action is assumed saved, which keeps the estimate conservative for W (all weight gradient,
    // but with fixed costs the rule would miss) and for small stages where F is mostly overhead.
    ++counts.estimated;
    return std::max(maxMs - forwardMs, 0.5 * maxMs);
}

// With shared processors, per-action medians of work add up to less than a step's work (see
// ActionTimeProfiler::estimatedMs()): scales the costs of the actions freezing cannot change, and
// separately of those it can, by the median over the steps of what the group measured over what
// its costs predict at the ratios that step ran.
void scaleToStepTotals(const ActionIndex& index, const std::vector<std::vector<ActionSpan>>& steps, int processors,
    std::vector<ActionCost>& costs)
{
    std::array<std::vector<double>, 2> scales; // [freezable]: one per step
    for (const auto& spans : steps) {
        const std::vector<double> work = spanWorkMs(spans, processors);
        std::array<double, 2> measured {};
        std::array<double, 2> predicted {};
        for (std::size_t j = 0; j < spans.size(); ++j) {
            const std::size_t group = isFreezable(spans[j].kind) ? 1 : 0;
            const ActionCost& cost = costs[index.indexOf.at({ spans[j].stage, spans[j].microbatch, spans[j].kind })];
            measured[group] += work[j];
            predicted[group] += cost.maxMs - spanFreezeRatio(spans[j]) * (cost.maxMs - cost.minMs);
        }
        for (std::size_t group = 0; group < 2; ++group)
            if (predicted[group] > 0.0)
                scales[group].push_back(measured[group] / predicted[group]);
    }
    for (std::size_t group = 0; group < 2; ++group) {
        if (scales[group].empty())
            continue;
        const double scale = median(std::move(scales[group]));
        for (std::size_t i = 0; i < costs.size(); ++i) {
            if (isFreezable(index.actions[i].kind) == (group == 1)) {
                costs[i].maxMs *= scale;
                costs[i].minMs *= scale;
            }
        }
    }
}

} // namespace

std::vector<double> spanWorkMs(const std::vector<ActionSpan>& spans, int processors)
{
    std::vector<double> work(spans.size());
    for (std::size_t i = 0; i < spans.size(); ++i)
        work[i] = static_cast<double>(spans[i].endUs - spans[i].startUs) / 1000.0;
    if (processors <= 0 || spans.empty())
        return work;
    // Every running span gets the same share, so one running integral S(t) of the share serves
    // all: a span's work is S(end) − S(start). Ends sort before starts at the same instant.
    struct Event {
        std::int64_t us;
        int delta;
    };
    std::vector<Event> events;
    events.reserve(2 * spans.size());
    for (const ActionSpan& span : spans) {
        events.push_back({ span.startUs, +1 });
        events.push_back({ span.endUs, -1 });
    }
    std::sort(events.begin(), events.end(),
        [](const Event& a, const Event& b) { return a.us != b.us ? a.us < b.us : a.delta < b.delta; });
    std::vector<std::int64_t> times; // distinct event times
    std::vector<double> integral; // S at each of them, in µs
    int running = 0;
    double shareIntegral = 0.0;
    std::int64_t previous = events.front().us;
    for (const Event& event : events) {
        if (event.us != previous) {
            const double share = running > processors ? static_cast<double>(processors) / running : 1.0;
            shareIntegral += share * static_cast<double>(event.us - previous);
            previous = event.us;
        }
        if (times.empty() || times.back() != event.us) {
            times.push_back(event.us);
            integral.push_back(shareIntegral);
        }
        running += event.delta;
    }
    auto integralAt = [&](std::int64_t us) {
        const auto it = std::lower_bound(times.begin(), times.end(), us);
        return integral[static_cast<std::size_t>(it - times.begin())];
    };
    for (std::size_t i = 0; i < spans.size(); ++i)
        work[i] = (integralAt(spans[i].endUs) - integralAt(spans[i].startUs)) / 1000.0;
    return work;
}

double unfreezableWorkScale(const Profile& profile, const std::vector<ActionSpan>& spans)
{
    std::map<ActionKey, double> profiledMs;
    const std::vector<Action> actions = profile.actions();
    for (std::size_t i = 0; i < actions.size(); ++i)
        if (!isFreezable(actions[i].kind))
            profiledMs[{ actions[i].stage, actions[i].microbatch, actions[i].kind }] = profile.costs()[i].maxMs;
    const std::vector<double> work = spanWorkMs(spans, profile.sharedProcessors());
    double measuredSum = 0.0;
    double profiledSum = 0.0;
    for (std::size_t j = 0; j < spans.size(); ++j) {
        const auto found = profiledMs.find({ spans[j].stage, spans[j].microbatch, spans[j].kind });
        if (found != profiledMs.end() && found->second > 0.0) {
            measuredSum += work[j];
            profiledSum += found->second;
        }
    }
    return profiledSum > 0.0 ? measuredSum / profiledSum : 0.0;
}

std::optional<double> stepTransferMs(const PipelineDag& dag, const std::vector<ActionSpan>& spans)
{
    const ActionIndex index(dag);
    std::vector<const ActionSpan*> spanOf(dag.nodeCount(), nullptr);
    for (const ActionSpan& span : spans) {
        const auto it = index.indexOf.find({ span.stage, span.microbatch, span.kind });
        if (it != index.indexOf.end())
            spanOf[it->second] = &span;
    }
    std::vector<double> samples;
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node) {
        const ActionSpan* span = spanOf[node];
        if (!span)
            continue;
        std::int64_t sameRankEnd = std::numeric_limits<std::int64_t>::min();
        std::int64_t otherRankEnd = std::numeric_limits<std::int64_t>::min();
        bool complete = true;
        for (PipelineDag::Node pred : dag.predecessors(node)) {
            const ActionSpan* before = spanOf[pred];
            if (!before) {
                complete = false;
                break;
            }
            std::int64_t& end = dag.action(pred).rank == dag.action(node).rank ? sameRankEnd : otherRankEnd;
            end = std::max(end, before->endUs);
        }
        if (complete && otherRankEnd != std::numeric_limits<std::int64_t>::min() && otherRankEnd >= sameRankEnd)
            samples.push_back(static_cast<double>(span->startUs - otherRankEnd) / 1000.0);
    }
    if (samples.empty())
        return std::nullopt;
    // A batch pays every hand-over on its critical path, so what matters is their mean; the tenth
    // at either end goes (a preempted rank, a clock offset between processes).
    std::sort(samples.begin(), samples.end());
    const std::size_t cut = samples.size() / 10;
    double sum = 0.0;
    for (std::size_t i = cut; i < samples.size() - cut; ++i)
        sum += samples[i];
    return sum / static_cast<double>(samples.size() - 2 * cut);
}

Profile estimateProfileFromSpans(const PipelineSchedule& schedule, const std::vector<std::vector<ActionSpan>>& steps,
    ProfileEstimateInfo* info, int processors)
{
    // Ranks with a processor each (or more processors than ranks): the spans are the work.
    const int shared = processors > 0 && processors < schedule.rankCount() ? processors : 0;
    const ActionIndex index(schedule);
    const std::vector<std::vector<Sample>> samples = collectSamples(index, steps, shared);
    const std::size_t count = index.actions.size();

    // Every maxMs first: the estimate of a backward needs its forward's.
    std::vector<ActionCost> costs(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::vector<double> unfrozen = durationsAt(samples[i], 0.0);
        if (unfrozen.empty())
            throw InputError("spans", actionName(index.actions[i]),
                samples[i].empty() ? "no measurement of this action" : "no unfrozen measurement of this action");
        costs[i].maxMs = median(unfrozen);
        costs[i].minMs = costs[i].maxMs;
    }

    ProfileEstimateInfo counts;
    for (std::size_t i = 0; i < count; ++i) {
        const Action& action = index.actions[i];
        if (!isFreezable(action.kind))
            continue;
        ++counts.freezableActions;
        const std::size_t forward = index.indexOf.at({ action.stage, action.microbatch, ActionKind::Forward });
        const double minMs = minimumMs(samples[i], costs[i].maxMs, costs[forward].maxMs, counts);
        // A frozen action measured slower than the unfrozen one is noise, not a cost of freezing.
        costs[i].minMs = std::clamp(minMs, 0.0, costs[i].maxMs);
    }
    if (info)
        *info = counts;
    if (shared > 0)
        scaleToStepTotals(index, steps, shared, costs);
    Profile profile(schedule, std::move(costs), "spans");
    profile.setProcessors(shared);
    const PipelineDag dag(schedule);
    std::vector<double> transfers;
    for (const std::vector<ActionSpan>& step : steps) {
        if (const std::optional<double> transfer = stepTransferMs(dag, step))
            transfers.push_back(*transfer);
    }
    if (!transfers.empty())
        profile.setTransferMs(std::max(0.0, median(std::move(transfers))));
    return profile;
}

} // namespace tfreeze
