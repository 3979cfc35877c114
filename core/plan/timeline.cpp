#include "core/plan/timeline.h"

#include "core/plan/plan_error.h"

#include <algorithm>
#include <cmath>

namespace tfreeze {

Timeline simulateTimeline(const PipelineDag& dag, const std::vector<double>& durationsMs)
{
    const std::size_t n = dag.nodeCount();
    if (durationsMs.size() != n)
        throw PlannerError("simulateTimeline: " + std::to_string(durationsMs.size()) + " durations for "
            + std::to_string(n) + " actions");
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(durationsMs[i]) || durationsMs[i] < 0.0)
            throw InputError({}, "actions[" + std::to_string(i) + "]", "duration must be a finite number >= 0");
    }

    Timeline t;
    t.startMs.assign(n, 0.0);
    t.endMs.assign(n, 0.0);
    for (PipelineDag::Node node : dag.topologicalOrder()) {
        double start = 0.0;
        for (PipelineDag::Node pred : dag.predecessors(node))
            start = std::max(start, t.endMs[pred]);
        t.startMs[node] = start;
        t.endMs[node] = start + durationsMs[node];
    }

    PipelineDag::Node last = 0;
    for (PipelineDag::Node node = 0; node < n; ++node) {
        if (t.endMs[node] > t.endMs[last])
            last = node;
    }
    t.batchMs = n > 0 ? t.endMs[last] : 0.0;

    const int ranks = dag.rankCount();
    t.rankBusyMs.assign(static_cast<std::size_t>(ranks), 0.0);
    t.rankIdleMs.assign(static_cast<std::size_t>(ranks), 0.0);
    t.rankBubbleFraction.assign(static_cast<std::size_t>(ranks), 0.0);
    double idle = 0.0;
    for (int rank = 0; rank < ranks; ++rank) {
        double busy = 0.0;
        for (PipelineDag::Node node = dag.rankBegin(rank); node < dag.rankEnd(rank); ++node)
            busy += durationsMs[node];
        const auto r = static_cast<std::size_t>(rank);
        t.rankBusyMs[r] = busy;
        t.rankIdleMs[r] = std::max(0.0, t.batchMs - busy);
        t.rankBubbleFraction[r] = t.batchMs > 0.0 ? t.rankIdleMs[r] / t.batchMs : 0.0;
        idle += t.rankIdleMs[r];
    }
    t.bubbleFraction = t.batchMs > 0.0 && ranks > 0 ? idle / (ranks * t.batchMs) : 0.0;

    if (n == 0)
        return t;
    // Walk back from the last action through the predecessor that released it; prefer the
    // latest-ending one so float ties resolve to the binding dependency.
    PipelineDag::Node node = last;
    t.criticalPath.push_back(node);
    while (!dag.predecessors(node).empty()) {
        const auto& preds = dag.predecessors(node);
        const PipelineDag::Node binding
            = *std::max_element(preds.begin(), preds.end(), [&](auto a, auto b) { return t.endMs[a] < t.endMs[b]; });
        if (t.endMs[binding] < t.startMs[node] - 1e-9 * std::max(1.0, t.startMs[node]))
            break; // started at time 0 without waiting
        node = binding;
        t.criticalPath.push_back(node);
    }
    std::reverse(t.criticalPath.begin(), t.criticalPath.end());
    return t;
}

} // namespace tfreeze
