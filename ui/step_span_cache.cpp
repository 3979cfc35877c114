#include "ui/step_span_cache.h"

#include <algorithm>
#include <cstdlib>

namespace tfreeze {

StepSpanCache::StepSpanCache(SpanRetention retention, std::size_t keepLatest)
    : m_retention(retention)
    , m_keepLatest(std::max<std::size_t>(1, keepLatest))
{
}

bool StepSpanCache::keeps(std::int64_t step) const
{
    if (m_retention.keepsByRule(step))
        return true;
    return std::any_of(m_planSteps.begin(), m_planSteps.end(),
        [&](std::int64_t planStep) { return std::llabs(step - planStep) <= m_retention.aroundPlanChange; });
}

void StepSpanCache::addStep(std::int64_t step, std::vector<ActionSpan> spans)
{
    auto& slot = m_spans[step];
    m_spanCount -= slot.size();
    slot = std::move(spans);
    m_spanCount += slot.size();
    // Evict the step that just left the "latest" window unless the retention rule keeps it.
    if (m_spans.size() > m_keepLatest) {
        auto candidate = m_spans.end();
        std::advance(candidate, -static_cast<std::ptrdiff_t>(m_keepLatest) - 1);
        if (!keeps(candidate->first)) {
            m_spanCount -= candidate->second.size();
            m_spans.erase(candidate);
        }
    }
}

void StepSpanCache::planApplied(std::int64_t step) { m_planSteps.push_back(step); }

void StepSpanCache::clear()
{
    m_spans.clear();
    m_planSteps.clear();
    m_spanCount = 0;
}

std::vector<std::int64_t> StepSpanCache::steps() const
{
    std::vector<std::int64_t> result;
    result.reserve(m_spans.size());
    for (const auto& entry : m_spans)
        result.push_back(entry.first);
    return result;
}

const std::vector<ActionSpan>& StepSpanCache::spans(std::int64_t step) const
{
    static const std::vector<ActionSpan> kNone;
    const auto found = m_spans.find(step);
    return found == m_spans.end() ? kNone : found->second;
}

std::optional<std::int64_t> StepSpanCache::latestStep() const
{
    if (m_spans.empty())
        return std::nullopt;
    return m_spans.rbegin()->first;
}

std::vector<std::vector<ActionSpan>> StepSpanCache::latestSteps(std::size_t count) const
{
    std::vector<std::vector<ActionSpan>> result;
    for (auto it = m_spans.rbegin(); it != m_spans.rend() && result.size() < count; ++it)
        result.push_back(it->second);
    std::reverse(result.begin(), result.end());
    return result;
}

} // namespace tfreeze
