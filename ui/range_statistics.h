#pragma once

// What happened inside a selected time range of a timeline: per (stage, kind) the count and the
// duration statistics of the bars, and per rank the idle time. Pure; shown by RangeStatisticsModel.

#include "ui/timeline_data.h"

#include <vector>

namespace tfreeze {

struct StageKindStatistics {
    int stage = 0;
    ActionKind kind = ActionKind::Forward;
    int count = 0;
    double totalMs = 0.0;
    double meanMs = 0.0;
    double p50Ms = 0.0;
    double p95Ms = 0.0;
};

struct RangeStatistics {
    double startMs = 0.0;
    double endMs = 0.0;
    std::vector<StageKindStatistics> groups; // sorted by stage, then kind; only groups with bars
    std::vector<double> rankIdleMs; // per rank: idle time inside [startMs, endMs]
};

// Percentile with linear interpolation between closest ranks (NumPy's default): rank p·(n−1) of the
// sorted values. `sortedValues` must be sorted and non-empty.
double interpolatedPercentile(const std::vector<double>& sortedValues, double p);

// The bars that overlap [startMs, endMs] (end > a and start < b; a zero-length bar counts when it lies
// inside) contribute their WHOLE durations, not the clipped parts: a bar cut by the range edge is still
// one action of that length, and clipping would drag the mean and percentiles down. The idle time is
// clipped to the range, since idle time is a quantity of the range itself. Reversed bounds are swapped.
RangeStatistics computeRangeStatistics(const TimelineData& data, double startMs, double endMs);

} // namespace tfreeze
