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

// When `node` may start after `pred` ends: at once on the same rank, after the hand-over of its
// input from another one.
double readyAfter(
    const PipelineDag& dag, const Timeline& t, PipelineDag::Node pred, PipelineDag::Node node, double transferMs)
{
    return t.endMs[pred] + (dag.action(pred).rank != dag.action(node).rank ? transferMs : 0.0);
}

void simulateEarliestStart(
    const PipelineDag& dag, const std::vector<double>& durationsMs, double transferMs, Timeline& t)
{
    for (PipelineDag::Node node : dag.topologicalOrder()) {
        double start = 0.0;
        for (PipelineDag::Node pred : dag.predecessors(node))
            start = std::max(start, readyAfter(dag, t, pred, node, transferMs));
        t.startMs[node] = start;
        t.endMs[node] = start + durationsMs[node];
    }
}

// Event by event: between two events the set of running actions is fixed, and so is their rate.
// Each rank runs its actions in order, so at most one action per rank is running. The events are
// action ends and, with a transfer time, the arrivals of inputs from other ranks.
class ProcessorSharing {
public:
    ProcessorSharing(
        const PipelineDag& dag, const std::vector<double>& durationsMs, int processors, double transferMs, Timeline& t)
        : m_dag(dag)
        , m_durations(durationsMs)
        , m_processors(processors)
        , m_transferMs(transferMs)
        , m_t(t)
        , m_ended(dag.nodeCount(), 0)
        , m_left(dag.nodeCount())
    {
        for (int rank = 0; rank < dag.rankCount(); ++rank)
            m_ranks.push_back({ dag.rankBegin(rank), dag.rankEnd(rank), 0.0, false });
    }

    void run()
    {
        while (m_left > 0) {
            startReadyActions();
            if (m_left == 0)
                break; // the last actions had no work
            const auto running = static_cast<int>(
                std::count_if(m_ranks.begin(), m_ranks.end(), [](const RankState& rank) { return rank.running; }));
            const double arrival = nextArrival();
            if (running == 0 && !std::isfinite(arrival)) // cannot happen for a DAG
                throw PlannerError("simulateTimeline: no action can start (the order deadlocks)");
            advance(running > 0 ? std::min(1.0, static_cast<double>(m_processors) / running) : 1.0, arrival);
        }
    }

private:
    struct RankState {
        PipelineDag::Node next; // the rank's next action (running or not yet started)
        PipelineDag::Node end;
        double remaining; // work left of the running action
        bool running;
    };

    // When every input of `node` is there; infinity while a predecessor is still to end.
    double readyAt(PipelineDag::Node node) const
    {
        double ready = 0.0;
        for (PipelineDag::Node pred : m_dag.predecessors(node)) {
            if (m_ended[pred] == 0)
                return std::numeric_limits<double>::infinity();
            ready = std::max(ready, readyAfter(m_dag, m_t, pred, node, m_transferMs));
        }
        return ready;
    }

    // Round-off: an input due within 1e-12 of now is there.
    bool isReady(PipelineDag::Node node) const { return readyAt(node) <= m_now + 1e-12 * std::max(1.0, m_now); }

    // The earliest time after now at which an idle rank's next input arrives.
    double nextArrival() const
    {
        double next = std::numeric_limits<double>::infinity();
        for (const RankState& rank : m_ranks) {
            if (!rank.running && rank.next != rank.end) {
                const double ready = readyAt(rank.next);
                if (ready > m_now)
                    next = std::min(next, ready);
            }
        }
        return next;
    }

    void end(RankState& rank)
    {
        m_t.endMs[rank.next] = m_now;
        m_ended[rank.next] = 1;
        rank.running = false;
        ++rank.next;
        --m_left;
    }

    // Starts every ready action; one without work ends at once and may make others ready.
    void startReadyActions()
    {
        bool started = true;
        while (started) {
            started = false;
            for (RankState& rank : m_ranks) {
                if (rank.running || rank.next == rank.end || !isReady(rank.next))
                    continue;
                m_t.startMs[rank.next] = m_now;
                rank.remaining = m_durations[rank.next];
                rank.running = true;
                if (rank.remaining <= 0.0) {
                    end(rank);
                    started = true;
                }
            }
        }
    }

    // Runs every running action at `rate` until the first of them ends or an input arrives.
    void advance(double rate, double arrival)
    {
        double step = arrival - m_now;
        for (const RankState& rank : m_ranks) {
            if (rank.running)
                step = std::min(step, rank.remaining / rate);
        }
        m_now += step;
        for (RankState& rank : m_ranks) {
            if (!rank.running)
                continue;
            rank.remaining -= step * rate;
            // Round-off: work within 1e-12 of its total is done.
            if (rank.remaining <= 1e-12 * std::max(1.0, m_durations[rank.next]))
                end(rank);
        }
    }

    const PipelineDag& m_dag;
    const std::vector<double>& m_durations;
    int m_processors;
    double m_transferMs;
    Timeline& m_t;
    std::vector<RankState> m_ranks;
    std::vector<char> m_ended;
    std::size_t m_left;
    double m_now = 0.0;
};

} // namespace

Timeline simulateTimeline(const PipelineDag& dag, const std::vector<double>& durationsMs)
{
    return simulateTimeline(dag, durationsMs, 0);
}

Timeline simulateTimeline(
    const PipelineDag& dag, const std::vector<double>& durationsMs, int processors, double transferMs)
{
    checkDurations(dag, durationsMs);
    if (!std::isfinite(transferMs) || transferMs < 0.0)
        throw InputError({}, "transfer_ms", "must be a finite number >= 0");
    const std::size_t n = dag.nodeCount();
    const bool shared = processors > 0 && processors < dag.rankCount();

    Timeline t;
    t.startMs.assign(n, 0.0);
    t.endMs.assign(n, 0.0);
    if (shared)
        ProcessorSharing(dag, durationsMs, processors, transferMs, t).run();
    else
        simulateEarliestStart(dag, durationsMs, transferMs, t);

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
        const PipelineDag::Node binding = *std::max_element(preds.begin(), preds.end(), [&](auto a, auto b) {
            return readyAfter(dag, t, a, node, transferMs) < readyAfter(dag, t, b, node, transferMs);
        });
        if (readyAfter(dag, t, binding, node, transferMs) < t.startMs[node] - 1e-9 * std::max(1.0, t.startMs[node]))
            break; // started at time 0 without waiting
        node = binding;
        t.criticalPath.push_back(node);
    }
    std::reverse(t.criticalPath.begin(), t.criticalPath.end());
    return t;
}

} // namespace tfreeze
