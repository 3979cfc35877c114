#include "ui/timeline_data.h"

#include "core/plan/pipeline_dag.h"
#include "core/plan/plan_error.h"
#include "core/plan/timeline.h"

#include <QCoreApplication>

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>

namespace tfreeze {

namespace {

constexpr std::uint32_t kNoBar = 0xffffffffU;

using NodeKey = std::tuple<int, int, ActionKind>; // stage, microbatch, kind

NodeKey keyOf(int stage, int microbatch, ActionKind kind) { return NodeKey { stage, microbatch, kind }; }

// Cross-stage DAG edges between present bars, and the critical path walked back from the last-ending
// bar through the predecessor that ended latest. `nodeBar[node]` is the bar of a DAG node or kNoBar.
// NOLINTNEXTLINE(readability-function-cognitive-complexity): one pass over the DAG's actions
void fillFromDag(TimelineData& data, const PipelineDag& dag, const std::vector<std::uint32_t>& nodeBar)
{
    data.dependencies.clear();
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node) {
        const std::uint32_t to = nodeBar[node];
        if (to == kNoBar)
            continue;
        for (PipelineDag::Node pred : dag.predecessors(node)) {
            const std::uint32_t from = nodeBar[pred];
            if (from != kNoBar && dag.action(pred).stage != dag.action(node).stage)
                data.dependencies.emplace_back(from, to);
        }
    }

    std::vector<PipelineDag::Node> barNode(data.bars.size(), 0);
    bool any = false;
    PipelineDag::Node last = 0;
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node) {
        const std::uint32_t bar = nodeBar[node];
        if (bar == kNoBar)
            continue;
        barNode[bar] = node;
        if (!any || data.bars[bar].endMs > data.bars[nodeBar[last]].endMs)
            last = node;
        any = true;
    }
    if (!any)
        return;
    PipelineDag::Node node = last;
    for (;;) {
        data.bars[nodeBar[node]].onCriticalPath = true;
        bool found = false;
        PipelineDag::Node binding = 0;
        for (PipelineDag::Node pred : dag.predecessors(node)) {
            if (nodeBar[pred] == kNoBar)
                continue;
            if (!found || data.bars[nodeBar[pred]].endMs > data.bars[nodeBar[binding]].endMs)
                binding = pred;
            found = true;
        }
        if (!found)
            break;
        node = binding;
    }
}

// A plan or a profile: every action of the schedule has a bar; node index == action index.
TimelineData timelineFromSchedule(const QString& label, const PipelineSchedule& schedule,
    const std::vector<double>& startMs, const std::vector<double>& endMs, const std::vector<double>& ratios,
    double batchMs)
{
    const PipelineDag dag(schedule);
    if (startMs.size() != dag.nodeCount() || endMs.size() != dag.nodeCount()
        || (!ratios.empty() && ratios.size() != dag.nodeCount()))
        throw InputError("plan", "actions",
            std::to_string(startMs.size()) + " actions for a schedule of " + std::to_string(dag.nodeCount()));
    TimelineData data;
    data.label = label;
    data.rankCount = schedule.rankCount();
    data.stageCount = schedule.stageCount();
    data.stagesPerRank = schedule.shape().stagesPerRank;
    // Bar i is node i until indexTimelineRows() sorts the bars and remaps the dependency edges.
    data.bars.reserve(dag.nodeCount());
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node) {
        const Action& action = dag.action(node);
        TimelineBar bar;
        bar.rank = action.rank;
        bar.stage = action.stage;
        bar.microbatch = action.microbatch;
        bar.kind = action.kind;
        bar.startMs = startMs[node];
        bar.endMs = endMs[node];
        bar.freezeRatio = ratios.empty() ? 0.0 : ratios[node];
        data.bars.push_back(bar);
        batchMs = std::max(batchMs, bar.endMs);
    }
    data.batchMs = batchMs;
    data.rankIdle = computeRankIdle(data.bars, data.rankCount, data.batchMs);

    // The critical path of the planned durations is simulateTimeline's, which the plan's times came from.
    std::vector<double> durations(dag.nodeCount());
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node)
        durations[node] = std::max(0.0, endMs[node] - startMs[node]);
    const Timeline simulated = simulateTimeline(dag, durations);
    for (PipelineDag::Node node : simulated.criticalPath)
        data.bars[node].onCriticalPath = true;
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node) {
        for (PipelineDag::Node pred : dag.predecessors(node)) {
            if (dag.action(pred).stage != dag.action(node).stage)
                data.dependencies.emplace_back(pred, node);
        }
    }
    indexTimelineRows(data);
    return data;
}

} // namespace

int timelineRowCount(const TimelineData& data) { return data.rankCount * std::max(1, data.stagesPerRank); }

int timelineRowOf(const TimelineData& data, int rank, int stage)
{
    const int perRank = std::max(1, data.stagesPerRank);
    const int subRow = data.rankCount > 0 ? std::clamp(stage / data.rankCount, 0, perRank - 1) : 0;
    return rank * perRank + subRow;
}

int timelineRankOfRow(const TimelineData& data, int row) { return row / std::max(1, data.stagesPerRank); }

std::pair<std::size_t, std::size_t> timelineRowBars(const TimelineData& data, int row)
{
    if (row < 0 || static_cast<std::size_t>(row) + 1 >= data.rowOffsets.size())
        return { 0, 0 };
    return { data.rowOffsets[static_cast<std::size_t>(row)], data.rowOffsets[static_cast<std::size_t>(row) + 1] };
}

std::pair<std::size_t, std::size_t> timelineVisibleBars(const TimelineData& data, int row, double startMs, double endMs)
{
    const auto [begin, end] = timelineRowBars(data, row);
    if (begin == end)
        return { begin, begin };
    const double earliest = startMs - data.rowMaxDurationMs[static_cast<std::size_t>(row)];
    const auto first = std::lower_bound(data.bars.begin() + static_cast<std::ptrdiff_t>(begin),
        data.bars.begin() + static_cast<std::ptrdiff_t>(end), earliest,
        [](const TimelineBar& bar, double t) { return bar.startMs < t; });
    const auto last = std::upper_bound(first, data.bars.begin() + static_cast<std::ptrdiff_t>(end), endMs,
        [](double t, const TimelineBar& bar) { return t < bar.startMs; });
    return { static_cast<std::size_t>(first - data.bars.begin()), static_cast<std::size_t>(last - data.bars.begin()) };
}

void indexTimelineRows(TimelineData& data)
{
    const int rows = timelineRowCount(data);
    std::vector<std::size_t> order(data.bars.size());
    std::iota(order.begin(), order.end(), std::size_t { 0 });
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const int ra = timelineRowOf(data, data.bars[a]);
        const int rb = timelineRowOf(data, data.bars[b]);
        return ra != rb ? ra < rb : data.bars[a].startMs < data.bars[b].startMs;
    });
    std::vector<std::uint32_t> newIndex(order.size());
    std::vector<TimelineBar> sorted;
    sorted.reserve(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        newIndex[order[i]] = static_cast<std::uint32_t>(i);
        sorted.push_back(data.bars[order[i]]);
    }
    data.bars = std::move(sorted);
    for (auto& [from, to] : data.dependencies) {
        from = newIndex.at(from);
        to = newIndex.at(to);
    }

    data.rowOffsets.assign(static_cast<std::size_t>(rows) + 1, 0);
    data.rowMaxDurationMs.assign(static_cast<std::size_t>(rows), 0.0);
    for (const TimelineBar& bar : data.bars) {
        const int row = timelineRowOf(data, bar);
        if (row < 0 || row >= rows)
            continue;
        ++data.rowOffsets[static_cast<std::size_t>(row) + 1];
        auto& longest = data.rowMaxDurationMs[static_cast<std::size_t>(row)];
        longest = std::max(longest, bar.durationMs());
    }
    std::partial_sum(data.rowOffsets.begin(), data.rowOffsets.end(), data.rowOffsets.begin());
}

std::vector<std::vector<std::pair<double, double>>> computeRankIdle(
    const std::vector<TimelineBar>& bars, int rankCount, double batchMs)
{
    std::vector<std::vector<std::pair<double, double>>> busy(static_cast<std::size_t>(std::max(0, rankCount)));
    for (const TimelineBar& bar : bars) {
        if (bar.rank >= 0 && bar.rank < rankCount)
            busy[static_cast<std::size_t>(bar.rank)].emplace_back(bar.startMs, bar.endMs);
    }
    std::vector<std::vector<std::pair<double, double>>> idle(busy.size());
    for (std::size_t rank = 0; rank < busy.size(); ++rank) {
        auto& spans = busy[rank];
        std::sort(spans.begin(), spans.end());
        double cursor = 0.0;
        for (const auto& [start, end] : spans) {
            if (start > cursor)
                idle[rank].emplace_back(cursor, std::min(start, batchMs));
            cursor = std::max(cursor, end);
        }
        if (cursor < batchMs)
            idle[rank].emplace_back(cursor, batchMs);
    }
    return idle;
}

TimelineData timelineFromSpans(const std::vector<ActionSpan>& spans, const PipelineSchedule* schedule)
{
    TimelineData data;
    if (spans.empty())
        return data;
    const std::int64_t step = spans.front().step;
    data.label = QCoreApplication::translate("TimelineData", "step %1 (measured)").arg(step);

    std::vector<const ActionSpan*> stepSpans;
    int maxRank = -1;
    int maxStage = -1;
    for (const ActionSpan& span : spans) {
        if (span.step != step)
            continue;
        stepSpans.push_back(&span);
        maxRank = std::max(maxRank, span.rank);
        maxStage = std::max(maxStage, span.stage);
    }
    if (schedule) {
        data.rankCount = std::max(schedule->rankCount(), maxRank + 1);
        data.stageCount = std::max(schedule->stageCount(), maxStage + 1);
        data.stagesPerRank = schedule->shape().stagesPerRank;
    } else {
        data.rankCount = maxRank + 1;
        data.stageCount = maxStage + 1;
        data.stagesPerRank = std::max(1, (data.stageCount + data.rankCount - 1) / std::max(1, data.rankCount));
    }

    data.bars.reserve(stepSpans.size());
    for (const ActionSpan* span : stepSpans) {
        TimelineBar bar;
        bar.rank = span->rank;
        bar.stage = span->stage;
        bar.microbatch = span->microbatch;
        bar.kind = span->kind;
        bar.startMs = static_cast<double>(span->startUs) / 1000.0;
        bar.endMs = static_cast<double>(span->endUs) / 1000.0;
        bar.frozenTensors = span->frozenTensors;
        bar.totalTensors = span->totalTensors;
        bar.freezeRatio = span->totalTensors > 0 ? static_cast<double>(span->frozenTensors) / span->totalTensors : 0.0;
        data.batchMs = std::max(data.batchMs, bar.endMs);
        data.bars.push_back(bar);
    }
    data.rankIdle = computeRankIdle(data.bars, data.rankCount, data.batchMs);
    indexTimelineRows(data);
    if (!schedule)
        return data;

    const PipelineDag dag(*schedule);
    std::map<NodeKey, PipelineDag::Node> nodeOf;
    for (PipelineDag::Node node = 0; node < dag.nodeCount(); ++node) {
        const Action& action = dag.action(node);
        nodeOf.emplace(keyOf(action.stage, action.microbatch, action.kind), node);
    }
    std::vector<std::uint32_t> nodeBar(dag.nodeCount(), kNoBar);
    for (std::size_t i = 0; i < data.bars.size(); ++i) {
        const TimelineBar& bar = data.bars[i];
        const auto it = nodeOf.find(keyOf(bar.stage, bar.microbatch, bar.kind));
        if (it != nodeOf.end())
            nodeBar[it->second] = static_cast<std::uint32_t>(i);
    }
    fillFromDag(data, dag, nodeBar);
    return data;
}

TimelineData timelineFromPlan(const FreezePlan& plan)
{
    const auto count = plan.actions.size();
    std::vector<double> starts(count);
    std::vector<double> ends(count);
    std::vector<double> ratios(count);
    for (std::size_t i = 0; i < count; ++i) {
        starts[i] = plan.actions[i].startMs;
        ends[i] = plan.actions[i].endMs;
        ratios[i] = plan.actions[i].ratio;
    }
    return timelineFromSchedule(QCoreApplication::translate("TimelineData", "plan (predicted)"),
        plan.profile.schedule(), starts, ends, ratios, plan.batchMsPlanned);
}

TimelineData timelineFromProfile(const Profile& profile)
{
    const PipelineDag dag(profile.schedule());
    const Timeline simulated
        = simulateTimeline(dag, profile.maxDurations(), profile.sharedProcessors(), profile.transferMs());
    return timelineFromSchedule(QCoreApplication::translate("TimelineData", "profile (simulated, unfrozen)"),
        profile.schedule(), simulated.startMs, simulated.endMs, {}, simulated.batchMs);
}

} // namespace tfreeze
