#include "core/plan/timeline.h"

#include "core/plan/plan_error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tfreeze {

namespace {

void checkDurations(const PipelineDag& dag, const std::vector<double>& durationsMs)
{
    const std::size_t n = dag.nodeCount();
    if (durationsMs.size() != n)
        throw PlannerError("simulateTimeline: " + std::to_string(durationsMs.size()) + " durations for "
            + std::to_string(n) + " actions");
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(durationsMs[i]) || durationsMs[i] < 0.0)
            throw InputError({}, "actions[" + std::to_string(i) + "]", "duration must be a finite number >= 0");
    }
}

void simulateEarliestStart(const PipelineDag& dag, const std::vector<double>& durationsMs, Timeline& t)
{
    for (PipelineDag::Node node : dag.topologicalOrder()) {
        double start = 0.0;
        for (PipelineDag::Node pred : dag.predecessors(node))
            start = std::max(start, t.endMs[pred]);
        t.startMs[node] = start;
        t.endMs[node] = start + durationsMs[node];
    }
}

// Event by event: between two events the set of running actions is fixed, and so is their rate.
// Each rank runs its actions in order, so at most one action per rank is running.
void simulateSharedProcessors(
    const PipelineDag& dag, const std::vector<double>& durationsMs, int processors, Timeline& t)
{
    const int ranks = dag.rankCount();
    std::vector<PipelineDag::Node> next(static_cast<std::size_t>(ranks)); // the rank's next action
    std::vector<double> remaining(static_cast<std::size_t>(ranks), 0.0); // of its running action's work
    std::vector<char> running(static_cast<std::size_t>(ranks), 0);
    std::vector<char> ended(dag.nodeCount(), 0);
    for (int rank = 0; rank < ranks; ++rank)
        next[static_cast<std::size_t>(rank)] = dag.rankBegin(rank);
    double now = 0.0;
    std::size_t left = dag.nodeCount();
    auto isReady = [&](PipelineDag::Node node) {
        const auto& preds = dag.predecessors(node);
        return std::all_of(preds.begin(), preds.end(), [&](PipelineDag::Node pred) { return ended[pred] != 0; });
    };
    while (left > 0) {
        // Start every ready action; one of zero work ends at once and may make others ready.
        bool started = true;
        while (started) {
            started = false;
            for (int rank = 0; rank < ranks; ++rank) {
                const auto r = static_cast<std::size_t>(rank);
                if (running[r] || next[r] == dag.rankEnd(rank) || !isReady(next[r]))
                    continue;
                const PipelineDag::Node node = next[r];
                t.startMs[node] = now;
                if (durationsMs[node] > 0.0) {
                    running[r] = 1;
                    remaining[r] = durationsMs[node];
                } else {
                    t.endMs[node] = now;
                    ended[node] = 1;
                    ++next[r];
                    --left;
                    started = true;
                }
            }
        }
        const auto active = static_cast<int>(std::count(running.begin(), running.end(), char(1)));
        if (active == 0) {
            if (left > 0) // cannot happen for a DAG: some action is always ready
                throw PlannerError("simulateTimeline: no action can start (the order deadlocks)");
            break;
        }
        const double rate = std::min(1.0, static_cast<double>(processors) / active);
        double step = std::numeric_limits<double>::infinity();
        for (int rank = 0; rank < ranks; ++rank) {
            if (running[static_cast<std::size_t>(rank)])
                step = std::min(step, remaining[static_cast<std::size_t>(rank)] / rate);
        }
        now += step;
        for (int rank = 0; rank < ranks; ++rank) {
            const auto r = static_cast<std::size_t>(rank);
            if (!running[r])
                continue;
            remaining[r] -= step * rate;
            // Round-off: work within 1e-12 of its total is done.
            if (remaining[r] <= 1e-12 * std::max(1.0, durationsMs[next[r]])) {
                t.endMs[next[r]] = now;
                ended[next[r]] = 1;
                running[r] = 0;
                ++next[r];
                --left;
            }
        }
    }
}

} // namespace

Timeline simulateTimeline(const PipelineDag& dag, const std::vector<double>& durationsMs)
{
    return simulateTimeline(dag, durationsMs, 0);
}

Timeline simulateTimeline(const PipelineDag& dag, const std::vector<double>& durationsMs, int processors)
{
    checkDurations(dag, durationsMs);
    const std::size_t n = dag.nodeCount();
    const bool shared = processors > 0 && processors < dag.rankCount();

    Timeline t;
    t.startMs.assign(n, 0.0);
    t.endMs.assign(n, 0.0);
    if (shared)
        simulateSharedProcessors(dag, durationsMs, processors, t);
    else
        simulateEarliestStart(dag, durationsMs, t);

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
            busy += shared ? t.endMs[node] - t.startMs[node] : durationsMs[node];
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
