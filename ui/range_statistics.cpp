#include "ui/range_statistics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

namespace tfreeze {

double interpolatedPercentile(const std::vector<double>& sortedValues, double p)
{
    const double position = std::clamp(p, 0.0, 1.0) * static_cast<double>(sortedValues.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, sortedValues.size() - 1);
    const double weight = position - static_cast<double>(below);
    return sortedValues[below] + weight * (sortedValues[above] - sortedValues[below]);
}

RangeStatistics computeRangeStatistics(const TimelineData& data, double startMs, double endMs)
{
    if (endMs < startMs)
        std::swap(startMs, endMs);
    RangeStatistics result;
    result.startMs = startMs;
    result.endMs = endMs;

    std::map<std::pair<int, ActionKind>, std::vector<double>> durations;
    const int rows = timelineRowCount(data);
    const bool indexed = data.rowOffsets.size() == static_cast<std::size_t>(rows) + 1;
    const auto visit = [&](const TimelineBar& bar) {
        const bool overlaps = bar.endMs > bar.startMs ? bar.startMs < endMs && bar.endMs > startMs
                                                      : bar.startMs >= startMs && bar.startMs <= endMs;
        if (overlaps)
            durations[{ bar.stage, bar.kind }].push_back(bar.durationMs());
    };
    if (indexed) {
        for (int row = 0; row < rows; ++row) {
            const auto [first, last] = timelineVisibleBars(data, row, startMs, endMs);
            for (std::size_t i = first; i < last; ++i)
                visit(data.bars[i]);
        }
    } else {
        for (const TimelineBar& bar : data.bars)
            visit(bar);
    }

    for (auto& [key, values] : durations) {
        std::sort(values.begin(), values.end());
        StageKindStatistics group;
        group.stage = key.first;
        group.kind = key.second;
        group.count = static_cast<int>(values.size());
        for (double value : values)
            group.totalMs += value;
        group.meanMs = group.totalMs / group.count;
        group.p50Ms = interpolatedPercentile(values, 0.50);
        group.p95Ms = interpolatedPercentile(values, 0.95);
        result.groups.push_back(group);
    }

    result.rankIdleMs.assign(static_cast<std::size_t>(std::max(0, data.rankCount)), 0.0);
    for (std::size_t rank = 0; rank < data.rankIdle.size() && rank < result.rankIdleMs.size(); ++rank) {
        for (const auto& [gapStart, gapEnd] : data.rankIdle[rank])
            result.rankIdleMs[rank] += std::max(0.0, std::min(gapEnd, endMs) - std::max(gapStart, startMs));
    }
    return result;
}

} // namespace tfreeze
