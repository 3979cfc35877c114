#pragma once

#include "core/plan/telemetry.h"
#include "core/store/span_retention.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace tfreeze {

// The action spans of a live run that the studio keeps in memory for its step slider: the steps
// the run database keeps too (SpanRetention: the first steps, every n-th, around plan changes) and
// always the latest few, so a 10,000-step run costs a few MB, not a copy of every span.
class StepSpanCache {
public:
    explicit StepSpanCache(SpanRetention retention = {}, std::size_t keepLatest = 20);

    // One complete step's spans (replaces an earlier copy of the step).
    void addStep(std::int64_t step, std::vector<ActionSpan> spans);
    // A plan applied at `step`: the steps around it stay, whatever the rule says.
    void planApplied(std::int64_t step);
    void clear();

    // The steps held, in increasing order.
    std::vector<std::int64_t> steps() const;
    bool contains(std::int64_t step) const { return m_spans.count(step) != 0; }
    // The spans of `step`; empty when it is not held.
    const std::vector<ActionSpan>& spans(std::int64_t step) const;
    std::optional<std::int64_t> latestStep() const;
    // Up to `count` of the latest held steps' spans, oldest first (the planner's measurements).
    std::vector<std::vector<ActionSpan>> latestSteps(std::size_t count) const;
    std::size_t spanCount() const { return m_spanCount; }

private:
    bool keeps(std::int64_t step) const;

    SpanRetention m_retention;
    std::size_t m_keepLatest;
    std::map<std::int64_t, std::vector<ActionSpan>> m_spans;
    std::vector<std::int64_t> m_planSteps;
    std::size_t m_spanCount = 0;
};

} // namespace tfreeze
