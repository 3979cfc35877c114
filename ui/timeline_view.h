#pragma once

// The studio's centre: one pipeline batch painted with QPainter, a row per rank (a sub-row per stage
// when a rank holds several), bars coloured by action kind, bubbles marked, the critical path outlined.
// All per-frame work is O(visible bars): bars are sorted by start within each row (TimelineData's row
// index) and found with binary search; bars thinner than a pixel are merged per pixel column.

#include "ui/time_axis_mapping.h"
#include "ui/timeline_data.h"

#include <QFont>
#include <QImage>
#include <QStaticText>
#include <QWidget>

#include <optional>
#include <utility>
#include <vector>

class QPainter;

namespace tfreeze {

class TimelineView : public QWidget {
    Q_OBJECT

public:
    // Hidden: only the measured rows. Stacked: the planned rows below them under a header.
    // Overlaid: planned bars as outlines over the measured rows.
    enum class PlannedMode { Hidden, Stacked, Overlaid };

    explicit TimelineView(QWidget* parent = nullptr);

    void setMeasured(TimelineData data);
    const TimelineData& measured() const { return m_measured; }
    void setPlanned(TimelineData data);
    void clearPlanned();
    const TimelineData& planned() const { return m_planned; }
    void setPlannedMode(PlannedMode mode);
    PlannedMode plannedMode() const { return m_plannedMode; }

    void setShowCriticalPath(bool show);
    bool showCriticalPath() const { return m_showCriticalPath; }
    void setShowDependencies(bool show);
    bool showDependencies() const { return m_showDependencies; }
    // Off: every bar is painted, however thin (for the benchmark's side-by-side figure).
    void setLevelOfDetail(bool enabled);
    bool levelOfDetail() const { return m_levelOfDetail; }

    std::pair<double, double> visibleRange() const { return { m_mapping.startMs(), m_mapping.endMs() }; }
    const TimeAxisMapping& mapping() const { return m_mapping; }
    // Where the rows are at the widget's current size; the planned block is empty unless stacked.
    RowGeometry measuredRowGeometry() const;
    RowGeometry plannedRowGeometry() const;
    std::optional<std::pair<double, double>> selection() const { return m_selection; }

    bool canZoomBack() const { return !m_zoomBack.empty(); }
    bool canZoomForward() const { return !m_zoomForward.empty(); }

    // The tooltip text of the bar at `position` (widget coordinates); empty over no bar.
    QString toolTipAt(QPoint position) const;

    // Renders the view as it would look at `size`, visible range kept; works hidden (benches, tests).
    QImage renderToImage(QSize size) const;
    // PNG at the widget's size; SVG through QSvgGenerator. False with a reason on failure.
    bool exportPng(const QString& fileName, QString* error = nullptr) const;
    bool exportSvg(const QString& fileName, QString* error = nullptr) const;

    // Four kind colours of mid lightness, readable on light and dark palettes; opaque.
    static QColor kindColor(ActionKind kind, const QPalette& palette);
    // The shade of a bar's frozen share (and of its left edge): the kind colour, darker.
    static QColor frozenColor(ActionKind kind, const QPalette& palette);
    // The fill of idle gaps: light red mixed into the palette's Base; opaque.
    static QColor bubbleColor(const QPalette& palette);
    // `label` as the corner above the row labels shows it in `width` pixels: whole if it fits, else
    // without its trailing "(...)" ("step 201 (measured)" → "step 201"), else elided.
    static QString cornerLabel(const QString& label, const QFontMetrics& metrics, int width);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

public slots:
    // Zoom-stack entries are recorded when the span changes (a zoom), not for a pure pan.
    void setVisibleRange(double startMs, double endMs);
    void zoomIn();
    void zoomOut();
    void zoomToFit();
    void zoomBack();
    void zoomForward();
    void clearSelection();

signals:
    void visibleRangeChanged(double startMs, double endMs);
    void rangeSelected(double startMs, double endMs);
    void zoomHistoryChanged();

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;

private:
    enum class History { Record, CoalesceWheel, None };

    struct Layout {
        RowGeometry measured;
        RowGeometry planned;
        bool stacked = false;
        double headerTop = 0.0;
    };

    Layout layoutFor(QSize size) const;
    TimeAxisMapping mappingFor(QSize size) const;
    void paintContents(QPainter& painter, QSize size, const TimeAxisMapping& mapping) const;
    void paintBlock(QPainter& painter, const TimelineData& data, const RowGeometry& rows,
        const TimeAxisMapping& mapping, double clipRight) const;
    // The level-of-detail path for QImage targets: bars and bubbles written straight into the scanlines,
    // one colour per pixel column per row, so the cost is O(visible bars + pixels), not a QPainter call per bar.
    void paintBlockRaster(QImage& image, QPainter& painter, const TimelineData& data, const RowGeometry& rows,
        const TimeAxisMapping& mapping, double clipRight) const;
    void paintOverlay(
        QPainter& painter, const TimelineData& planned, const RowGeometry& rows, const TimeAxisMapping& mapping) const;
    void paintDependencies(
        QPainter& painter, const TimelineData& data, const RowGeometry& rows, const TimeAxisMapping& mapping) const;
    static void paintRowLabels(QPainter& painter, const TimelineData& data, const RowGeometry& rows);
    void paintAxis(QPainter& painter, QSize size, const TimeAxisMapping& mapping) const;

    // True when the visible range is the whole time axis (nothing zoomed or panned away).
    bool showsWholeBatch() const;
    void applyRange(double startMs, double endMs, History history);
    void updateTotal();
    bool plannedStacked() const;
    // The bar at a widget position, in whichever block is under it.
    std::optional<std::pair<const TimelineData*, std::size_t>> barAt(QPointF position) const;

    TimelineData m_measured;
    TimelineData m_planned;
    PlannedMode m_plannedMode = PlannedMode::Stacked;
    bool m_showCriticalPath = true;
    bool m_showDependencies = false;
    bool m_levelOfDetail = true;

    TimeAxisMapping m_mapping;
    std::vector<std::pair<double, double>> m_zoomBack;
    std::vector<std::pair<double, double>> m_zoomForward;
    bool m_lastWasWheelZoom = false;

    enum class Drag { None, Pan, Select };
    Drag m_drag = Drag::None;
    QPointF m_dragOrigin;
    QPointF m_lastDragPosition;
    std::optional<std::pair<double, double>> m_selection;
    // The widget paints through this frame so that it can take the scanline path too.
    mutable QImage m_frame;
    // Laid-out microbatch numbers: thousands of labels per frame when zoomed in; shaping each anew
    // cost more than all the bars together.
    const QStaticText& microbatchText(int microbatch, const QFont& font) const;
    mutable std::vector<QStaticText> m_microbatchTexts;
    mutable QFont m_microbatchTextFont;
};

} // namespace tfreeze
