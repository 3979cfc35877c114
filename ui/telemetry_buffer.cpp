#include "ui/telemetry_buffer.h"

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

namespace tfreeze {

TelemetryBuffer::TelemetryBuffer(std::size_t maxSpanSteps)
    : m_maxSpanSteps(std::max<std::size_t>(1, maxSpanSteps))
{
}

void TelemetryBuffer::publish(const TelemetryEvent& event)
{
    const std::lock_guard lock(m_mutex);
    std::visit(
        [this](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, ActionSpan>) {
                m_pendingSpans[value.step].push_back(value);
                dropSpansBeyondBound();
            } else if constexpr (std::is_same_v<T, StepStats>) {
                m_ready.steps.push_back(value);
                const auto pending = m_pendingSpans.find(value.step);
                if (pending != m_pendingSpans.end()) {
                    m_completeSpans.push_back({ value.step, std::move(pending->second) });
                    m_pendingSpans.erase(pending);
                }
            } else if constexpr (std::is_same_v<T, EvalStats>) {
                m_ready.evals.push_back(value);
            } else if constexpr (std::is_same_v<T, PlanApplied>) {
                m_ready.plans.push_back(value);
            } else if constexpr (std::is_same_v<T, RunEvent>) {
                m_ready.events.push_back(value);
            } else if constexpr (std::is_same_v<T, RunFinished>) {
                m_ready.finished = value;
            } else if constexpr (std::is_same_v<T, RunFailed>) {
                m_ready.failed = value;
            }
        },
        event);
}

void TelemetryBuffer::dropSpansBeyondBound()
{
    while (m_pendingSpans.size() + m_completeSpans.size() > m_maxSpanSteps) {
        if (!m_completeSpans.empty())
            m_completeSpans.pop_front();
        else
            m_pendingSpans.erase(m_pendingSpans.begin());
        ++m_ready.droppedSpanSteps;
    }
}

TelemetryBatch TelemetryBuffer::drain()
{
    TelemetryBatch batch;
    const std::lock_guard lock(m_mutex);
    std::swap(batch, m_ready);
    batch.stepSpans.assign(
        std::make_move_iterator(m_completeSpans.begin()), std::make_move_iterator(m_completeSpans.end()));
    m_completeSpans.clear();
    return batch;
}

} // namespace tfreeze
