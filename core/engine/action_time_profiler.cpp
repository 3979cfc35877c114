#include "core/engine/action_time_profiler.h"

#include "core/plan/statistics.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace tfreeze {

namespace {

constexpr std::size_t kNoAction = std::numeric_limits<std::size_t>::max();

} // namespace

ActionTimeProfiler::ActionTimeProfiler(PipelineSchedule schedule, std::size_t window, int processors)
    : m_schedule(std::move(schedule))
    , m_dag(m_schedule)
    , m_window(std::max<std::size_t>(window, 1))
    , m_processors(std::max(0, processors))
{
    const std::size_t keys = static_cast<std::size_t>(m_schedule.stageCount()) * m_schedule.microbatchCount()
        * static_cast<std::size_t>(kActionKindCount);
    m_indexOf.assign(keys, kNoAction);
    std::size_t index = 0;
    for (const auto& order : m_schedule.rankOrders()) {
        for (const Action& action : order) {
            const std::size_t key
                = (static_cast<std::size_t>(action.stage) * m_schedule.microbatchCount() + action.microbatch)
                    * kActionKindCount
                + static_cast<std::size_t>(action.kind);
            m_indexOf[key] = index++;
            m_freezable.push_back(isFreezable(action.kind));
        }
    }
    clear();
}

void ActionTimeProfiler::clear()
{
    for (int bound = 0; bound < 2; ++bound) {
        m_samples[static_cast<std::size_t>(bound)].assign(m_schedule.actionCount(), {});
        m_added[static_cast<std::size_t>(bound)].assign(m_schedule.actionCount(), 0);
    }
    m_transferSamples.clear();
}

std::size_t ActionTimeProfiler::actionIndex(const ActionSpan& span) const
{
    const bool inRange = span.stage >= 0 && span.stage < m_schedule.stageCount() && span.microbatch >= 0
        && span.microbatch < m_schedule.microbatchCount();
    std::size_t index = kNoAction;
    if (inRange) {
        const std::size_t key
            = (static_cast<std::size_t>(span.stage) * m_schedule.microbatchCount() + span.microbatch) * kActionKindCount
            + static_cast<std::size_t>(span.kind);
        index = m_indexOf[key];
    }
    if (index == kNoAction) {
        throw std::logic_error("ActionTimeProfiler: a span of stage " + std::to_string(span.stage) + ", microbatch "
            + std::to_string(span.microbatch) + " is not an action of the schedule");
    }
    return index;
}

void ActionTimeProfiler::addStep(const std::vector<ActionSpan>& spans, Bound bound)
{
    const int b = bound == Bound::Max ? 0 : 1;
    const std::vector<double> workMs = spanWorkMs(spans, m_processors);
    for (std::size_t i = 0; i < spans.size(); ++i) {
        const std::size_t index = actionIndex(spans[i]);
        const double ms = std::max(workMs[i], 0.0);
        std::vector<double>& samples = m_samples[static_cast<std::size_t>(b)][index];
        if (samples.size() < m_window)
            samples.push_back(ms);
        else
            samples[m_added[static_cast<std::size_t>(b)][index] % m_window] = ms;
        ++m_added[static_cast<std::size_t>(b)][index];
    }
    if (const std::optional<double> transfer = stepTransferMs(m_dag, spans)) {
        m_transferSamples.push_back(*transfer);
        if (m_transferSamples.size() > m_window)
            m_transferSamples.erase(m_transferSamples.begin());
    }
}

std::optional<double> ActionTimeProfiler::transferMs() const
{
    if (m_transferSamples.empty())
        return std::nullopt;
    return std::max(0.0, median(m_transferSamples));
}

std::vector<double> ActionTimeProfiler::transferSamples() const { return m_transferSamples; }

void ActionTimeProfiler::restoreTransferSamples(const std::vector<double>& samples)
{
    const std::size_t skip = samples.size() > m_window ? samples.size() - m_window : 0;
    m_transferSamples.assign(samples.begin() + static_cast<std::ptrdiff_t>(skip), samples.end());
}

std::vector<std::vector<double>> ActionTimeProfiler::samples(Bound bound) const
{
    const int b = bound == Bound::Max ? 0 : 1;
    std::vector<std::vector<double>> result(m_samples[static_cast<std::size_t>(b)].size());
    for (std::size_t i = 0; i < result.size(); ++i) {
        const std::vector<double>& ring = m_samples[static_cast<std::size_t>(b)][i];
        // The ring's oldest sample sits where the next one will be written.
        const std::size_t oldest = ring.size() < m_window ? 0 : m_added[static_cast<std::size_t>(b)][i] % m_window;
        for (std::size_t k = 0; k < ring.size(); ++k)
            result[i].push_back(ring[(oldest + k) % ring.size()]);
    }
    return result;
}

void ActionTimeProfiler::restoreSamples(Bound bound, const std::vector<std::vector<double>>& samples)
{
    if (samples.size() != m_schedule.actionCount())
        throw std::invalid_argument("ActionTimeProfiler: one sample list per action expected");
    const int b = bound == Bound::Max ? 0 : 1;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const std::size_t skip = samples[i].size() > m_window ? samples[i].size() - m_window : 0;
        m_samples[static_cast<std::size_t>(b)][i].assign(
            samples[i].begin() + static_cast<std::ptrdiff_t>(skip), samples[i].end());
        m_added[static_cast<std::size_t>(b)][i] = m_samples[static_cast<std::size_t>(b)][i].size();
    }
}

std::size_t ActionTimeProfiler::sampleCount(Bound bound) const
{
    const auto& samples = m_samples[bound == Bound::Max ? 0 : 1];
    std::size_t fewest = std::numeric_limits<std::size_t>::max();
    for (const auto& perAction : samples)
        fewest = std::min(fewest, perAction.size());
    return samples.empty() ? 0 : fewest;
}

std::vector<double> ActionTimeProfiler::medianMs(Bound bound) const
{
    const auto& samples = m_samples[bound == Bound::Max ? 0 : 1];
    std::vector<double> medians(samples.size(), 0.0);
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (!samples[i].empty())
            medians[i] = median(samples[i]);
    }
    return medians;
}

std::vector<double> ActionTimeProfiler::estimatedMs(Bound bound) const
{
    std::vector<double> ms = medianMs(bound);
    const bool shared = m_processors > 0 && m_processors < m_schedule.rankCount();
    const std::size_t b = bound == Bound::Max ? 0 : 1;
    const std::vector<std::size_t>& added = m_added[b];
    if (!shared || added.empty() || added.front() == 0
        || std::any_of(added.begin(), added.end(), [&](std::size_t n) { return n != added.front(); }))
        return ms;
    // Every action has had as many samples as the first, one per step: the k-th oldest of each
    // action are the same step's.
    const std::vector<std::vector<double>> perAction = samples(bound);
    const std::size_t steps = perAction.front().size();
    for (const bool freezable : { false, true }) {
        std::vector<double> totals(steps, 0.0);
        double sumOfMedians = 0.0;
        for (std::size_t i = 0; i < ms.size(); ++i) {
            if (m_freezable[i] != freezable)
                continue;
            sumOfMedians += ms[i];
            for (std::size_t k = 0; k < steps; ++k)
                totals[k] += perAction[i][k];
        }
        if (!(sumOfMedians > 0.0))
            continue;
        const double scale = median(std::move(totals)) / sumOfMedians;
        for (std::size_t i = 0; i < ms.size(); ++i)
            if (m_freezable[i] == freezable)
                ms[i] *= scale;
    }
    return ms;
}

Profile ActionTimeProfiler::profile() const
{
    if (sampleCount(Bound::Max) == 0 || sampleCount(Bound::Min) == 0)
        throw std::logic_error("ActionTimeProfiler: an action has no measured duration yet");
    const std::vector<double> maxMs = estimatedMs(Bound::Max);
    const std::vector<double> minMs = estimatedMs(Bound::Min);
    std::vector<ActionCost> costs(maxMs.size());
    for (std::size_t i = 0; i < costs.size(); ++i) {
        costs[i].maxMs = maxMs[i];
        costs[i].minMs = std::min(minMs[i], maxMs[i]);
    }
    // Profile sets min = max for actions that cannot freeze.
    Profile profile(m_schedule, std::move(costs), "measured profile");
    profile.setProcessors(m_processors);
    profile.setTransferMs(transferMs().value_or(0.0));
    return profile;
}

} // namespace tfreeze
