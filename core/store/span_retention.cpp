#include "core/store/span_retention.h"

#include <algorithm>
#include <utility>

namespace tfreeze {

SpanRetentionFilter::SpanRetentionFilter(SpanRetention retention)
    : m_retention(retention)
{
}

bool SpanRetentionFilter::forced(std::int64_t step) const
{
    return std::any_of(m_forced.begin(), m_forced.end(),
        [step](const auto& range) { return step >= range.first && step <= range.second; });
}

void SpanRetentionFilter::add(const ActionSpan& span, std::vector<ActionSpan>& keep)
{
    if (span.step > m_latestStep) {
        m_latestStep = span.step;
        // A plan still to come is applied at a step after the latest one seen, so it can rescue only
        // steps from latest + 1 - aroundPlanChange on.
        const std::int64_t rescuable = m_latestStep + 1 - m_retention.aroundPlanChange;
        m_held.erase(m_held.begin(), m_held.lower_bound(rescuable));
        // Ranges wholly in the past are done with.
        m_forced.erase(std::remove_if(m_forced.begin(), m_forced.end(),
                           [this](const auto& range) { return range.second < m_latestStep; }),
            m_forced.end());
    }
    if (m_retention.keepsByRule(span.step) || forced(span.step)) {
        keep.push_back(span);
        return;
    }
    if (m_retention.aroundPlanChange > 0 && span.step + m_retention.aroundPlanChange > m_latestStep)
        m_held[span.step].push_back(span);
}

void SpanRetentionFilter::planApplied(std::int64_t step, std::vector<ActionSpan>& keep)
{
    const std::int64_t first = step - m_retention.aroundPlanChange;
    const std::int64_t last = step + m_retention.aroundPlanChange;
    m_forced.emplace_back(first, last);
    auto begin = m_held.lower_bound(first);
    auto end = m_held.upper_bound(last);
    for (auto held = begin; held != end; ++held)
        keep.insert(keep.end(), held->second.begin(), held->second.end());
    m_held.erase(begin, end);
}

std::size_t SpanRetentionFilter::heldSpanCount() const
{
    std::size_t count = 0;
    for (const auto& [step, spans] : m_held)
        count += spans.size();
    return count;
}

} // namespace tfreeze
