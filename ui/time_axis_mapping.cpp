#include "ui/time_axis_mapping.h"

#include "ui/nice_ticks.h"

#include <algorithm>
#include <cmath>

namespace tfreeze {

TimeAxisMapping::TimeAxisMapping(double totalMs, double pixelWidth, double leftMargin)
    : m_leftMargin(leftMargin)
{
    setPixelWidth(pixelWidth);
    m_totalMs = std::max(0.0, totalMs);
    fit();
}

void TimeAxisMapping::setTotalMs(double totalMs)
{
    m_totalMs = std::max(0.0, totalMs);
    setRange(m_startMs, m_endMs);
}

void TimeAxisMapping::setPixelWidth(double pixelWidth) { m_pixelWidth = std::max(1.0, pixelWidth); }

double TimeAxisMapping::minimumSpanMs() { return kMinimumSpanMs; }

void TimeAxisMapping::setRange(double startMs, double endMs)
{
    if (!std::isfinite(startMs) || !std::isfinite(endMs))
        return;
    if (endMs < startMs)
        std::swap(startMs, endMs);
    // An empty or sub-µs timeline still gets a drawable range of the minimum span.
    const double total = std::max(m_totalMs, kMinimumSpanMs);
    const double span = std::clamp(endMs - startMs, kMinimumSpanMs, total);
    const double start = std::clamp(startMs, 0.0, total - span);
    m_startMs = start;
    m_endMs = start + span;
}

void TimeAxisMapping::zoomAt(double anchorX, double factor)
{
    if (!(factor > 0.0) || !std::isfinite(factor))
        return;
    const double anchorMs = xToTime(anchorX);
    const double fraction = (anchorX - m_leftMargin) / m_pixelWidth;
    const double total = std::max(m_totalMs, kMinimumSpanMs);
    const double span = std::clamp(spanMs() / factor, kMinimumSpanMs, total);
    const double start = anchorMs - fraction * span;
    setRange(start, start + span);
}

void TimeAxisMapping::pan(double pixels)
{
    const double delta = pixels * msPerPixel();
    setRange(m_startMs + delta, m_endMs + delta);
}

double RowGeometry::rowTop(int row) const
{
    const int perRank = std::max(1, stagesPerRank);
    const int rank = row / perRank; // whole ranks above the row: a gap after each
    return top + row * rowHeight + rank * rankGap;
}

double RowGeometry::height() const
{
    if (rowCount <= 0)
        return 0.0;
    const int perRank = std::max(1, stagesPerRank);
    const int ranks = (rowCount + perRank - 1) / perRank;
    return rowCount * rowHeight + (ranks - 1) * rankGap;
}

RowGeometry makeRowGeometry(const TimelineData& data, double top, double rowHeight, double rankGap)
{
    RowGeometry rows;
    rows.top = top;
    rows.rowHeight = rowHeight;
    rows.rankGap = rankGap;
    rows.stagesPerRank = std::max(1, data.stagesPerRank);
    rows.rowCount = timelineRowCount(data);
    return rows;
}

std::optional<int> rowAtY(const RowGeometry& rows, double y)
{
    if (rows.rowCount <= 0 || rows.rowHeight <= 0.0 || y < rows.top)
        return std::nullopt;
    const int perRank = std::max(1, rows.stagesPerRank);
    const double rankPitch = perRank * rows.rowHeight + rows.rankGap;
    const double offset = y - rows.top;
    const int rank = static_cast<int>(std::floor(offset / rankPitch));
    const double within = offset - rank * rankPitch;
    if (within >= perRank * rows.rowHeight)
        return std::nullopt; // the gap between two ranks
    const int row = rank * perRank + static_cast<int>(std::floor(within / rows.rowHeight));
    if (row >= rows.rowCount)
        return std::nullopt;
    return row;
}

std::optional<int> rankAtY(const RowGeometry& rows, double y)
{
    const auto row = rowAtY(rows, y);
    if (!row)
        return std::nullopt;
    return *row / std::max(1, rows.stagesPerRank);
}

double niceTickStepMs(const TimeAxisMapping& mapping, double minSpacingPx)
{
    return niceStepAtLeast(std::max(mapping.msPerPixel() * minSpacingPx, 1e-9));
}

std::optional<std::size_t> hitTestBar(
    const TimelineData& data, const TimeAxisMapping& mapping, const RowGeometry& rows, QPointF point)
{
    const auto row = rowAtY(rows, point.y());
    if (!row)
        return std::nullopt;
    const double slopMs = kHitSlopPx * mapping.msPerPixel();
    const double t = mapping.xToTime(point.x());
    const auto [first, last] = timelineVisibleBars(data, *row, t - slopMs, t + slopMs);
    std::optional<std::size_t> nearest;
    double nearestPx = kHitSlopPx;
    for (std::size_t i = first; i < last; ++i) {
        const TimelineBar& bar = data.bars[i];
        if (t >= bar.startMs && t < bar.endMs)
            return i;
        const double x0 = mapping.timeToX(bar.startMs);
        const double x1 = mapping.timeToX(bar.endMs);
        const double distance = point.x() < x0 ? x0 - point.x() : point.x() - x1;
        if (distance <= nearestPx) {
            nearestPx = distance;
            nearest = i;
        }
    }
    return nearest;
}

double tickLabelLeft(double tickX, double labelWidth, double rightEdge, double gap)
{
    return std::min(tickX + gap, rightEdge - labelWidth);
}

} // namespace tfreeze
