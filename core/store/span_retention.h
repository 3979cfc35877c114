#pragma once

#include "core/plan/telemetry.h"

#include <cstdint>
#include <limits>
#include <map>
#include <vector>

namespace tfreeze {

// Which steps keep their action spans (64 rows a step for 4 ranks × 8 microbatches of 1F1B): all of
// the first steps, then every n-th, and always the steps around a plan change, so a 100k-step run
// stays small while the early steps and every plan's effect stay visible in the timeline.
struct SpanRetention {
    std::int64_t keepFirstSteps = 200; // steps [0, keepFirstSteps) are all kept
    std::int64_t keepEvery = 10; // after that, steps that are multiples of this; <= 1 keeps every step
    std::int64_t aroundPlanChange = 1; // steps kept before and after the step a plan is applied at

    static SpanRetention keepAll() { return { std::numeric_limits<std::int64_t>::max(), 1, 0 }; }

    // The rule without plan changes.
    bool keepsByRule(std::int64_t step) const
    {
        return step < keepFirstSteps || keepEvery <= 1 || step % keepEvery == 0;
    }
};

// Applies a SpanRetention to a stream of spans and plan changes in publish order. A plan is applied
// at a step boundary, after the spans of the step before it were published, so the spans of the
// last `aroundPlanChange` steps that the rule drops are held back until they can no longer be
// rescued. Not thread-safe: the recorder's writer thread owns it.
class SpanRetentionFilter {
public:
    explicit SpanRetentionFilter(SpanRetention retention);

    // Appends to `keep` the spans that are to be written now (this one, or none).
    void add(const ActionSpan& span, std::vector<ActionSpan>& keep);
    // A plan applied at `step`: held spans of the steps around it are appended to `keep`.
    void planApplied(std::int64_t step, std::vector<ActionSpan>& keep);

    std::size_t heldSpanCount() const;

private:
    bool forced(std::int64_t step) const;

    SpanRetention m_retention;
    std::map<std::int64_t, std::vector<ActionSpan>> m_held; // by step
    std::vector<std::pair<std::int64_t, std::int64_t>> m_forced; // [first, last] step ranges
    std::int64_t m_latestStep = std::numeric_limits<std::int64_t>::min();
};

} // namespace tfreeze
