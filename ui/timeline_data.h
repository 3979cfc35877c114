#pragma once

// What the timeline shows of one pipeline batch, as plain data: bars (one per action), the idle gaps
// of each rank, the cross-stage dependencies and the critical path. Built from measured spans, a plan
// or a profile; painted by TimelineView and summarised by computeRangeStatistics. No widgets here.

#include "core/plan/action.h"
#include "core/plan/freeze_plan.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/profile.h"
#include "core/plan/telemetry.h"

#include <QString>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tfreeze {

struct TimelineBar {
    int rank = 0;
    int stage = 0;
    int microbatch = 0;
    ActionKind kind = ActionKind::Forward;
    double startMs = 0.0;
    double endMs = 0.0;
    double freezeRatio = 0.0;
    int frozenTensors = 0;
    int totalTensors = 0;
    bool onCriticalPath = false;

    double durationMs() const { return endMs - startMs; }
};

struct TimelineData {
    QString label; // e.g. "step 120 (measured)", "plan (predicted)"
    int rankCount = 0;
    int stageCount = 0;
    int stagesPerRank = 1;
    double batchMs = 0.0; // the time axis length
    std::vector<TimelineBar> bars;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> dependencies; // cross-stage edges (bar indices)
    std::vector<std::vector<std::pair<double, double>>> rankIdle; // per rank: idle gaps [start,end) in [0,batchMs]

    // Filled by indexTimelineRows(): the bars of row r are bars[rowOffsets[r] .. rowOffsets[r+1]),
    // sorted by start, so that a visible window is two binary searches away. rowMaxDurationMs[r] bounds
    // how far before a window a bar that still reaches into it can start.
    std::vector<std::size_t> rowOffsets;
    std::vector<double> rowMaxDurationMs;

    bool empty() const { return bars.empty(); }
};

// Row layout: one row per rank, and for stagesPerRank > 1 one sub-row per stage the rank holds. Both the
// looped placement (stage c·P + r on rank r) and ZBV's V (r and 2P−1−r) give sub-row stage / P.
int timelineRowCount(const TimelineData& data);
int timelineRowOf(const TimelineData& data, int rank, int stage);
inline int timelineRowOf(const TimelineData& data, const TimelineBar& bar)
{
    return timelineRowOf(data, bar.rank, bar.stage);
}
int timelineRankOfRow(const TimelineData& data, int row);
// The bars of one row: [first, last) indices into data.bars (indexTimelineRows() must have run).
std::pair<std::size_t, std::size_t> timelineRowBars(const TimelineData& data, int row);
// Bars of `row` that overlap [startMs, endMs] (touching counts): O(log n) to find, [first, last).
std::pair<std::size_t, std::size_t> timelineVisibleBars(
    const TimelineData& data, int row, double startMs, double endMs);

// Sorts the bars by (row, start), remaps the dependency indices to the new order and fills rowOffsets
// and rowMaxDurationMs. The builders below call it; call it on data assembled by hand.
void indexTimelineRows(TimelineData& data);

// Idle gaps of each rank: [0, batchMs] minus the union of its bars.
std::vector<std::vector<std::pair<double, double>>> computeRankIdle(
    const std::vector<TimelineBar>& bars, int rankCount, double batchMs);

// Measured: the spans of ONE step (the step of the first span; spans of other steps are ignored),
// µs → ms, freezeRatio = frozen/total. With the schedule, the critical path (walked back from the
// last-ending action through the DAG predecessor that ended latest) and the cross-stage dependency
// edges are filled; without, they stay empty.
TimelineData timelineFromSpans(const std::vector<ActionSpan>& spans, const PipelineSchedule* schedule = nullptr);
// Predicted start/end/ratio of every action; the critical path from simulateTimeline of the planned
// durations.
TimelineData timelineFromPlan(const FreezePlan& plan);
// The simulated unfrozen timeline of a profile (its max durations).
TimelineData timelineFromProfile(const Profile& profile);

} // namespace tfreeze
