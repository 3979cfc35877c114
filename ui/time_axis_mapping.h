#pragma once

// Pixel ↔ time of the timeline, and hit-testing, without any widget: TimelineView and its tests
// share this arithmetic, so the tests can compute by hand what a wheel notch or a click must do.

#include "ui/timeline_data.h"

#include <QPointF>

#include <cstddef>
#include <optional>

namespace tfreeze {

// The visible time range [startMs, endMs] drawn over `pixelWidth` pixels that begin `leftMargin`
// pixels from the widget's left edge (the margin holds the row labels). The range always lies in
// [0, totalMs] and is never shorter than minimumSpanMs() (nor longer than totalMs).
class TimeAxisMapping {
public:
    // 1 µs: the resolution of the telemetry, so zooming further shows nothing new.
    static constexpr double kMinimumSpanMs = 1e-3;

    TimeAxisMapping() = default;
    TimeAxisMapping(double totalMs, double pixelWidth, double leftMargin = 0.0);

    double totalMs() const { return m_totalMs; }
    // Keeps the visible range where it can, clamped into the new total.
    void setTotalMs(double totalMs);
    double pixelWidth() const { return m_pixelWidth; }
    void setPixelWidth(double pixelWidth);
    double leftMargin() const { return m_leftMargin; }
    void setLeftMargin(double leftMargin) { m_leftMargin = leftMargin; }

    double startMs() const { return m_startMs; }
    double endMs() const { return m_endMs; }
    double spanMs() const { return m_endMs - m_startMs; }
    static double minimumSpanMs();
    double msPerPixel() const { return spanMs() / m_pixelWidth; }

    // Clamped: the span into [minimumSpanMs, totalMs], then the range shifted into [0, totalMs].
    void setRange(double startMs, double endMs);
    void fit() { setRange(0.0, m_totalMs); }

    double timeToX(double ms) const { return m_leftMargin + (ms - m_startMs) / spanMs() * m_pixelWidth; }
    double xToTime(double x) const { return m_startMs + (x - m_leftMargin) / m_pixelWidth * spanMs(); }

    // factor > 1 zooms in (the span divides by it); the time under anchorX stays under anchorX
    // unless clamping has to move the range.
    void zoomAt(double anchorX, double factor);
    // Positive pixels move the range later in time (the content moves left), by pixels · msPerPixel.
    void pan(double pixels);

private:
    double m_totalMs = 1.0;
    double m_pixelWidth = 1.0;
    double m_leftMargin = 0.0;
    double m_startMs = 0.0;
    double m_endMs = 1.0;
};

// The vertical layout of a block of rows: rows of rowHeight, a gap of rankGap between ranks (after
// every stagesPerRank rows), starting at `top`.
struct RowGeometry {
    double top = 0.0;
    double rowHeight = 18.0;
    double rankGap = 3.0;
    int stagesPerRank = 1;
    int rowCount = 0;

    double rowTop(int row) const;
    double height() const;
};

RowGeometry makeRowGeometry(const TimelineData& data, double top, double rowHeight, double rankGap);
// The row at y, or none above, below or in a gap between ranks.
std::optional<int> rowAtY(const RowGeometry& rows, double y);
std::optional<int> rankAtY(const RowGeometry& rows, double y);

// A "nice" tick step (1, 2 or 5 · 10^k ms) whose ticks are at least minSpacingPx apart.
double niceTickStepMs(const TimeAxisMapping& mapping, double minSpacingPx);

// Where the label of the tick at tickX starts: `gap` px right of the tick, or, where a label that
// wide would cross `rightEdge` (the last tick of a fitted timeline sits at the widget's edge),
// moved left to end at the edge.
double tickLabelLeft(double tickX, double labelWidth, double rightEdge, double gap = 3.0);

// Within this many pixels of a bar that is too thin to aim at, the bar still counts as hit.
constexpr double kHitSlopPx = 3.0;

// The bar under `point`: one whose [start, end) contains the time at point.x() in the row at
// point.y(); else the bar of that row nearest in pixels within kHitSlopPx (tiny bars). O(log n).
std::optional<std::size_t> hitTestBar(
    const TimelineData& data, const TimeAxisMapping& mapping, const RowGeometry& rows, QPointF point);

} // namespace tfreeze
