#include "ui/timeline_view.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QSvgGenerator>
#include <QToolTip>
#include <QWheelEvent>

#include <algorithm>
#include <array>
#include <cmath>

namespace tfreeze {

namespace {

constexpr double kAxisHeight = 22.0;
constexpr double kLabelWidth = 72.0;
constexpr double kRightMargin = 8.0;
constexpr double kHeaderHeight = 18.0;
constexpr double kRankGap = 2.0;
constexpr double kMaxRowHeight = 24.0;
constexpr double kMinRowHeight = 2.0;
constexpr double kWheelZoomFactor = 1.25; // per notch of 120
constexpr double kKeyZoomFactor = 1.5;
constexpr double kPanFraction = 0.1; // of the plotting width, per key press or wheel notch
constexpr double kMinTickSpacingPx = 90.0;
constexpr double kSelectThresholdPx = 2.0;

bool isDark(const QPalette& palette) { return palette.color(QPalette::Base).lightness() < 128; }

QColor mix(const QColor& a, const QColor& b, double weightOfB)
{
    const auto channel = [weightOfB](int x, int y) { return static_cast<int>(std::lround(x + (y - x) * weightOfB)); };
    return { channel(a.red(), b.red()), channel(a.green(), b.green()), channel(a.blue(), b.blue()) };
}

QColor textOn(const QColor& fill) { return fill.lightness() > 140 ? QColor(Qt::black) : QColor(Qt::white); }

QString formatMs(double ms, double stepMs)
{
    const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(stepMs))), 0, 6);
    return QString::number(ms, 'f', decimals);
}

// Paints thin bars at most once per pixel column (the level of detail): a bar that starts in a column
// already painted in this row is skipped, since it could not change more than that pixel.
class ColumnMerger {
public:
    explicit ColumnMerger(bool enabled)
        : m_enabled(enabled)
    {
    }
    // True when the caller should skip a sub-pixel bar at [x0, x1).
    bool skip(double x0, double x1)
    {
        if (!m_enabled || x1 - x0 >= 1.0) {
            m_lastColumn = static_cast<long>(std::floor(x1)) - 1;
            return false;
        }
        const long column = static_cast<long>(std::floor(x0));
        if (column <= m_lastColumn)
            return true;
        m_lastColumn = column;
        return false;
    }

private:
    bool m_enabled;
    long m_lastColumn = -1;
};

QString stageLabelOfRow(const TimelineData& data, int row)
{
    const int rank = timelineRankOfRow(data, row);
    if (data.stagesPerRank <= 1)
        return QCoreApplication::translate("TimelineView", "rank %1").arg(rank);
    const auto [first, last] = timelineRowBars(data, row);
    if (first < last)
        return QCoreApplication::translate("TimelineView", "r%1 s%2").arg(rank).arg(data.bars[first].stage);
    return QCoreApplication::translate("TimelineView", "r%1").arg(rank);
}

} // namespace

TimelineView::TimelineView(QWidget* parent)
    : QWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
    m_mapping.setLeftMargin(kLabelWidth);
    m_mapping.setPixelWidth(width() - kLabelWidth - kRightMargin);
}

QColor TimelineView::kindColor(ActionKind kind, const QPalette& palette)
{
    QColor color;
    switch (kind) {
    case ActionKind::Forward:
        color = QColor(0x3d, 0x7e, 0xdb); // blue
        break;
    case ActionKind::Backward:
        color = QColor(0xe8, 0x8a, 0x1a); // orange
        break;
    case ActionKind::BackwardInput:
        color = QColor(0x9b, 0x5f, 0xcf); // purple
        break;
    case ActionKind::BackwardWeight:
        color = QColor(0x2a, 0xa1, 0x62); // green
        break;
    }
    return isDark(palette) ? color.lighter(115) : color;
}

QColor TimelineView::frozenColor(ActionKind kind, const QPalette& palette)
{
    return kindColor(kind, palette).darker(isDark(palette) ? 190 : 150);
}

QColor TimelineView::bubbleColor(const QPalette& palette)
{
    return mix(palette.color(QPalette::Base), QColor(0xe0, 0x30, 0x30), isDark(palette) ? 0.35 : 0.22);
}

QSize TimelineView::sizeHint() const { return { 900, 400 }; }
QSize TimelineView::minimumSizeHint() const { return { 300, 120 }; }

bool TimelineView::showsWholeBatch() const
{
    const auto [start, end] = visibleRange();
    const double total = m_mapping.totalMs();
    return start <= 1e-9 * std::max(1.0, total) && end >= total * (1.0 - 1e-9);
}

void TimelineView::setMeasured(TimelineData data)
{
    // A live run replaces the data every step: keep the user's zoom, but a view that showed the
    // whole batch keeps showing the whole (new) batch.
    const bool refit = (m_measured.empty() && m_planned.empty()) || showsWholeBatch();
    if (data.rowOffsets.size() != static_cast<std::size_t>(timelineRowCount(data)) + 1)
        indexTimelineRows(data);
    m_measured = std::move(data);
    updateTotal();
    if (refit)
        applyRange(0.0, m_mapping.totalMs(), History::None);
    update();
}

void TimelineView::setPlanned(TimelineData data)
{
    const bool refit = (m_measured.empty() && m_planned.empty()) || showsWholeBatch();
    if (data.rowOffsets.size() != static_cast<std::size_t>(timelineRowCount(data)) + 1)
        indexTimelineRows(data);
    m_planned = std::move(data);
    updateTotal();
    if (refit)
        applyRange(0.0, m_mapping.totalMs(), History::None);
    update();
}

void TimelineView::clearPlanned()
{
    m_planned = TimelineData {};
    updateTotal();
    update();
}

void TimelineView::setPlannedMode(PlannedMode mode)
{
    m_plannedMode = mode;
    updateTotal();
    update();
}

void TimelineView::setShowCriticalPath(bool show)
{
    m_showCriticalPath = show;
    update();
}

void TimelineView::setShowDependencies(bool show)
{
    m_showDependencies = show;
    update();
}

void TimelineView::setLevelOfDetail(bool enabled)
{
    m_levelOfDetail = enabled;
    update();
}

void TimelineView::updateTotal()
{
    double total = m_measured.batchMs;
    if (m_plannedMode != PlannedMode::Hidden)
        total = std::max(total, m_planned.batchMs);
    const auto before = visibleRange();
    m_mapping.setTotalMs(total);
    if (visibleRange() != before)
        emit visibleRangeChanged(m_mapping.startMs(), m_mapping.endMs());
}

bool TimelineView::plannedStacked() const
{
    return !m_planned.empty()
        && (m_plannedMode == PlannedMode::Stacked || (m_measured.empty() && m_plannedMode != PlannedMode::Hidden));
}

TimelineView::Layout TimelineView::layoutFor(QSize size) const
{
    Layout layout;
    layout.stacked = plannedStacked();
    const int measuredRows = m_measured.empty() ? 0 : timelineRowCount(m_measured);
    const int plannedRows = layout.stacked ? timelineRowCount(m_planned) : 0;
    const int measuredRanks = m_measured.empty() ? 0 : m_measured.rankCount;
    const int plannedRanks = layout.stacked ? m_planned.rankCount : 0;
    const double available = size.height() - kAxisHeight - 2.0 - (layout.stacked ? kHeaderHeight : 0.0)
        - std::max(0, measuredRanks + plannedRanks - 1) * kRankGap;
    const int rows = measuredRows + plannedRows;
    // Rows share the height, so a 64-rank pipeline fits a screen without scrolling.
    const double rowHeight
        = rows > 0 ? std::clamp(std::floor(available / rows), kMinRowHeight, kMaxRowHeight) : kMaxRowHeight;
    layout.measured = makeRowGeometry(m_measured, kAxisHeight, rowHeight, kRankGap);
    if (m_measured.empty())
        layout.measured.rowCount = 0;
    layout.headerTop = kAxisHeight + layout.measured.height() + (measuredRows > 0 ? kRankGap : 0.0);
    if (layout.stacked)
        layout.planned = makeRowGeometry(m_planned, layout.headerTop + kHeaderHeight, rowHeight, kRankGap);
    return layout;
}

RowGeometry TimelineView::measuredRowGeometry() const { return layoutFor(size()).measured; }
RowGeometry TimelineView::plannedRowGeometry() const { return layoutFor(size()).planned; }

TimeAxisMapping TimelineView::mappingFor(QSize size) const
{
    TimeAxisMapping mapping = m_mapping;
    mapping.setPixelWidth(size.width() - kLabelWidth - kRightMargin);
    return mapping;
}

void TimelineView::paintEvent(QPaintEvent* /*event*/)
{
    QPainter painter(this);
    if (devicePixelRatioF() != 1.0) {
        paintContents(painter, size(), m_mapping); // a scaled painter: the QPainter path
        return;
    }
    if (m_frame.size() != size())
        m_frame = QImage(size(), QImage::Format_ARGB32_Premultiplied);
    {
        QPainter framePainter(&m_frame);
        framePainter.setFont(font());
        paintContents(framePainter, size(), m_mapping);
    }
    painter.drawImage(0, 0, m_frame);
}

QImage TimelineView::renderToImage(QSize size) const
{
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    QPainter painter(&image);
    painter.setFont(font());
    paintContents(painter, size, mappingFor(size));
    return image;
}

void TimelineView::paintContents(QPainter& painter, QSize size, const TimeAxisMapping& mapping) const
{
    const QPalette& pal = palette();
    painter.setRenderHint(QPainter::Antialiasing, false); // straight boxes only
    painter.fillRect(QRect(QPoint(0, 0), size), pal.color(QPalette::Base));
    const Layout layout = layoutFor(size);
    const double clipRight = mapping.leftMargin() + mapping.pixelWidth();
    const double rowsBottom = layout.stacked ? layout.planned.top + layout.planned.height()
                                             : layout.measured.top + layout.measured.height();

    painter.save();
    painter.setClipRect(QRectF(mapping.leftMargin(), kAxisHeight, mapping.pixelWidth(), size.height() - kAxisHeight));
    // Grid first: bubbles and bars cover it.
    const double step = niceTickStepMs(mapping, kMinTickSpacingPx);
    painter.setPen(mix(pal.color(QPalette::Base), pal.color(QPalette::Text), 0.12));
    for (double t = std::ceil(mapping.startMs() / step) * step; t <= mapping.endMs(); t += step) {
        const double x = std::floor(mapping.timeToX(t));
        painter.drawLine(QLineF(x, kAxisHeight, x, rowsBottom));
    }
    if (!m_measured.empty()) {
        paintBlock(painter, m_measured, layout.measured, mapping, clipRight);
        if (m_plannedMode == PlannedMode::Overlaid && !m_planned.empty())
            paintOverlay(painter, m_planned, layout.measured, mapping);
        if (m_showDependencies)
            paintDependencies(painter, m_measured, layout.measured, mapping);
    }
    if (layout.stacked) {
        paintBlock(painter, m_planned, layout.planned, mapping, clipRight);
        if (m_showDependencies)
            paintDependencies(painter, m_planned, layout.planned, mapping);
    }
    if (m_selection) {
        const double x0 = mapping.timeToX(m_selection->first);
        const double x1 = mapping.timeToX(m_selection->second);
        QColor band = pal.color(QPalette::Highlight);
        band.setAlpha(70);
        painter.fillRect(QRectF(x0, kAxisHeight, std::max(1.0, x1 - x0), rowsBottom - kAxisHeight), band);
        painter.setPen(pal.color(QPalette::Highlight));
        painter.drawLine(QLineF(x0, kAxisHeight, x0, rowsBottom));
        painter.drawLine(QLineF(x1, kAxisHeight, x1, rowsBottom));
    }
    painter.restore();

    painter.fillRect(
        QRectF(0, kAxisHeight, kLabelWidth - 2.0, size.height() - kAxisHeight), pal.color(QPalette::Window));
    painter.setPen(pal.color(QPalette::WindowText));
    if (!m_measured.empty())
        paintRowLabels(painter, m_measured, layout.measured);
    if (layout.stacked) {
        const QRectF header(0, layout.headerTop, size.width(), kHeaderHeight);
        painter.fillRect(header, pal.color(QPalette::AlternateBase));
        painter.setPen(pal.color(QPalette::Text));
        painter.drawText(
            header.adjusted(4, 0, -4, 0), Qt::AlignLeft | Qt::AlignVCenter, tr("Planned: %1").arg(m_planned.label));
        painter.setPen(pal.color(QPalette::WindowText));
        paintRowLabels(painter, m_planned, layout.planned);
    }
    paintAxis(painter, size, mapping);
}

// NOLINTNEXTLINE(readability-function-cognitive-complexity): the hot loop over bars, pixel skipping inline
void TimelineView::paintBlock(QPainter& painter, const TimelineData& data, const RowGeometry& rows,
    const TimeAxisMapping& mapping, double clipRight) const
{
    if (m_levelOfDetail && painter.device() && painter.device()->devType() == QInternal::Image
        && painter.transform().isIdentity()) {
        auto* image = static_cast<QImage*>(painter.device());
        if (image->format() == QImage::Format_ARGB32_Premultiplied || image->format() == QImage::Format_RGB32
            || image->format() == QImage::Format_ARGB32)
            return paintBlockRaster(*image, painter, data, rows, mapping, clipRight);
    }
    const QPalette& pal = palette();
    const double visibleStart = mapping.startMs();
    const double visibleEnd = mapping.endMs();
    const double left = mapping.leftMargin();

    // Bubbles: the idle gaps of each rank across all of its sub-rows.
    const QColor bubble = bubbleColor(pal);
    const int perRank = std::max(1, rows.stagesPerRank);
    for (std::size_t rank = 0; rank < data.rankIdle.size(); ++rank) {
        const auto& gaps = data.rankIdle[rank];
        const double top = rows.rowTop(static_cast<int>(rank) * perRank);
        const double height = perRank * rows.rowHeight;
        // Gaps are sorted and disjoint: the first that ends after the window start begins the visible ones.
        auto it = std::upper_bound(gaps.begin(), gaps.end(), visibleStart,
            [](double t, const std::pair<double, double>& gap) { return t < gap.second; });
        ColumnMerger merger(m_levelOfDetail);
        for (; it != gaps.end() && it->first <= visibleEnd; ++it) {
            const double x0 = std::max(left, mapping.timeToX(it->first));
            const double x1 = std::min(clipRight, mapping.timeToX(it->second));
            if (merger.skip(x0, x1))
                continue;
            painter.fillRect(
                QRectF(std::floor(x0), top, std::max(1.0, std::round(x1) - std::floor(x0)), height), bubble);
        }
    }

    const QFontMetrics metrics(painter.font());
    const bool rowsFitText = rows.rowHeight >= metrics.ascent() + 2;
    const double barHeight = rows.rowHeight > 4.0 ? rows.rowHeight - 1.0 : rows.rowHeight;
    std::array<QColor, kActionKindCount> kindColors;
    std::array<QColor, kActionKindCount> frozenColors;
    for (int k = 0; k < kActionKindCount; ++k) {
        kindColors[k] = kindColor(static_cast<ActionKind>(k), pal);
        frozenColors[k] = frozenColor(static_cast<ActionKind>(k), pal);
    }
    std::vector<QRectF> critical;
    for (int row = 0; row < rows.rowCount; ++row) {
        const double top = rows.rowTop(row);
        const auto [first, last] = timelineVisibleBars(data, row, visibleStart, visibleEnd);
        ColumnMerger merger(m_levelOfDetail);
        for (std::size_t i = first; i < last; ++i) {
            const TimelineBar& bar = data.bars[i];
            const double x0 = mapping.timeToX(bar.startMs);
            const double x1 = mapping.timeToX(bar.endMs);
            if (merger.skip(x0, x1))
                continue;
            const int kind = static_cast<int>(bar.kind);
            const double px0 = std::floor(std::max(x0, left - 1.0));
            const double px1 = std::max(px0 + 1.0, std::round(std::min(x1, clipRight + 1.0)));
            const QRectF rect(px0, top, px1 - px0, barHeight);
            painter.fillRect(rect, kindColors[kind]);
            const double width = x1 - x0;
            if (isFreezable(bar.kind) && bar.freezeRatio > 0.0 && width >= 3.0) {
                // The frozen share, at the bar's end: the part of the work the freezer skipped.
                const double frozenX = x1 - width * std::min(1.0, bar.freezeRatio);
                painter.fillRect(QRectF(std::round(std::max(frozenX, left - 1.0)), top + barHeight / 2.0,
                                     px1 - std::round(std::max(frozenX, left - 1.0)), barHeight / 2.0),
                    frozenColors[kind]);
            }
            if (width >= 5.0) {
                painter.setPen(frozenColors[kind]);
                painter.drawLine(QLineF(px0, top, px0, top + barHeight - 1.0));
            }
            if (m_showCriticalPath && bar.onCriticalPath)
                critical.push_back(rect);
            if (rowsFitText && width >= 14.0) {
                const QString text = QString::number(bar.microbatch);
                if (metrics.horizontalAdvance(text) + 4 <= width) {
                    painter.setPen(textOn(kindColors[kind]));
                    painter.drawText(rect, Qt::AlignCenter, text);
                }
            }
        }
    }
    if (!critical.empty()) {
        QPen pen(pal.color(QPalette::Text));
        pen.setWidthF(1.0);
        painter.setPen(pen);
        painter.setBrush(Qt::NoBrush);
        for (const QRectF& rect : critical)
            painter.drawRect(rect.adjusted(0, 0, -1, -1));
    }
}

// NOLINTNEXTLINE(readability-function-cognitive-complexity): the hot raster loop over bars and pixel columns
void TimelineView::paintBlockRaster(QImage& image, QPainter& painter, const TimelineData& data, const RowGeometry& rows,
    const TimeAxisMapping& mapping, double clipRight) const
{
    const QPalette& pal = palette();
    const int width = image.width();
    const int height = image.height();
    const int left = std::clamp(static_cast<int>(std::ceil(mapping.leftMargin())), 0, width);
    const int right = std::clamp(static_cast<int>(std::floor(clipRight)), left, width);
    if (right <= left)
        return;
    const double visibleStart = mapping.startMs();
    const double visibleEnd = mapping.endMs();
    // Column span of [x0, x1): at least one column, as the QPainter path paints it.
    const auto columns = [&](double x0, double x1) {
        const int c0 = std::clamp(static_cast<int>(std::floor(x0)), left, right);
        const int c1
            = std::clamp(std::max(static_cast<int>(std::floor(x0)) + 1, static_cast<int>(std::round(x1))), left, right);
        return std::make_pair(c0, c1);
    };
    // Writes `line` (0 = untouched) into image rows [y0, y1).
    const auto blit = [&](const std::vector<QRgb>& upper, const std::vector<QRgb>& lower, int y0, int ySplit, int y1,
                          int c0, int c1) {
        for (int y = std::max(0, y0); y < std::min(height, y1); ++y) {
            auto* scan = reinterpret_cast<QRgb*>(image.scanLine(y));
            const std::vector<QRgb>& line = y < ySplit ? upper : lower;
            for (int c = c0; c < c1; ++c) {
                if (line[static_cast<std::size_t>(c)] != 0)
                    scan[c] = line[static_cast<std::size_t>(c)];
            }
        }
    };

    std::vector<QRgb> upper(static_cast<std::size_t>(width), 0);
    std::vector<QRgb> lower(static_cast<std::size_t>(width), 0);
    const QRgb bubble = bubbleColor(pal).rgb();
    const int perRank = std::max(1, rows.stagesPerRank);
    for (std::size_t rank = 0; rank < data.rankIdle.size(); ++rank) {
        const auto& gaps = data.rankIdle[rank];
        auto it = std::upper_bound(gaps.begin(), gaps.end(), visibleStart,
            [](double t, const std::pair<double, double>& gap) { return t < gap.second; });
        int touched0 = right;
        int touched1 = left;
        for (; it != gaps.end() && it->first <= visibleEnd; ++it) {
            const auto [c0, c1] = columns(mapping.timeToX(it->first), mapping.timeToX(it->second));
            std::fill(upper.begin() + c0, upper.begin() + c1, bubble);
            touched0 = std::min(touched0, c0);
            touched1 = std::max(touched1, c1);
        }
        if (touched0 >= touched1)
            continue;
        const double top = rows.rowTop(static_cast<int>(rank) * perRank);
        const int y0 = static_cast<int>(std::floor(top));
        const int y1 = static_cast<int>(std::floor(top + perRank * rows.rowHeight));
        blit(upper, upper, y0, y1, y1, touched0, touched1);
        std::fill(upper.begin() + touched0, upper.begin() + touched1, 0);
    }

    const QFontMetrics metrics(painter.font());
    const bool rowsFitText = rows.rowHeight >= metrics.ascent() + 2;
    const double barHeight = rows.rowHeight > 4.0 ? rows.rowHeight - 1.0 : rows.rowHeight;
    std::array<QRgb, kActionKindCount> kindColors {};
    std::array<QRgb, kActionKindCount> edgeColors {};
    for (int k = 0; k < kActionKindCount; ++k) {
        const QColor color = kindColor(static_cast<ActionKind>(k), pal);
        kindColors[k] = color.rgb();
        edgeColors[k] = frozenColor(static_cast<ActionKind>(k), pal).rgb();
    }
    const QRgb outline = pal.color(QPalette::Text).rgb() | 0xff000000U;
    std::vector<std::pair<int, int>> critical; // column spans of the row's critical bars
    struct Label {
        QRectF rect;
        int microbatch;
        QRgb color;
    };
    std::vector<Label> labels;
    for (int row = 0; row < rows.rowCount; ++row) {
        const double top = rows.rowTop(row);
        const auto [first, last] = timelineVisibleBars(data, row, visibleStart, visibleEnd);
        if (first == last)
            continue;
        int touched0 = right;
        int touched1 = left;
        critical.clear();
        for (std::size_t i = first; i < last; ++i) {
            const TimelineBar& bar = data.bars[i];
            const double x0 = mapping.timeToX(bar.startMs);
            const double x1 = mapping.timeToX(bar.endMs);
            const auto [c0, c1] = columns(x0, x1);
            if (c0 >= c1)
                continue;
            const int kind = static_cast<int>(bar.kind);
            std::fill(upper.begin() + c0, upper.begin() + c1, kindColors[kind]);
            std::fill(lower.begin() + c0, lower.begin() + c1, kindColors[kind]);
            const double barWidth = x1 - x0;
            if (isFreezable(bar.kind) && bar.freezeRatio > 0.0 && barWidth >= 3.0) {
                // The frozen share, at the bar's end: the part of the work the freezer skipped.
                const int frozen0
                    = std::clamp(static_cast<int>(std::round(x1 - barWidth * std::min(1.0, bar.freezeRatio))), c0, c1);
                std::fill(lower.begin() + frozen0, lower.begin() + c1, edgeColors[kind]);
            }
            if (barWidth >= 5.0 && static_cast<int>(std::floor(x0)) == c0) {
                upper[static_cast<std::size_t>(c0)] = edgeColors[kind];
                lower[static_cast<std::size_t>(c0)] = edgeColors[kind];
            }
            if (m_showCriticalPath && bar.onCriticalPath)
                critical.emplace_back(c0, c1);
            if (rowsFitText && barWidth >= 14.0)
                labels.push_back({ QRectF(c0, top, c1 - c0, barHeight), bar.microbatch, kindColors[kind] });
            touched0 = std::min(touched0, c0);
            touched1 = std::max(touched1, c1);
        }
        if (touched0 >= touched1)
            continue;
        const int y0 = static_cast<int>(std::floor(top));
        const int y1 = y0 + static_cast<int>(std::round(barHeight));
        blit(upper, lower, y0, y0 + static_cast<int>(std::round(barHeight / 2.0)), y1, touched0, touched1);
        std::fill(upper.begin() + touched0, upper.begin() + touched1, 0);
        std::fill(lower.begin() + touched0, lower.begin() + touched1, 0);
        for (const auto& [c0, c1] : critical) {
            for (int y = std::max(0, y0); y < std::min(height, y1); ++y) {
                auto* scan = reinterpret_cast<QRgb*>(image.scanLine(y));
                if (y == y0 || y == y1 - 1) {
                    std::fill(scan + c0, scan + c1, outline);
                } else {
                    scan[c0] = outline;
                    scan[c1 - 1] = outline;
                }
            }
        }
    }
    for (const Label& label : labels) {
        const QStaticText& text = microbatchText(label.microbatch, painter.font());
        const QSizeF size = text.size();
        if (size.width() + 4 <= label.rect.width()) {
            painter.setPen(textOn(QColor::fromRgb(label.color)));
            painter.drawStaticText(
                QPointF(label.rect.center().x() - size.width() / 2.0, label.rect.center().y() - size.height() / 2.0),
                text);
        }
    }
}

const QStaticText& TimelineView::microbatchText(int microbatch, const QFont& font) const
{
    if (font != m_microbatchTextFont) {
        m_microbatchTexts.clear();
        m_microbatchTextFont = font;
    }
    const auto index = static_cast<std::size_t>(std::max(0, microbatch));
    if (index >= m_microbatchTexts.size())
        m_microbatchTexts.resize(index + 1);
    QStaticText& text = m_microbatchTexts[index];
    if (text.text().isEmpty()) {
        text.setText(QString::number(microbatch));
        text.setTextFormat(Qt::PlainText);
        text.prepare(QTransform(), font);
    }
    return text;
}

void TimelineView::paintOverlay(
    QPainter& painter, const TimelineData& planned, const RowGeometry& rows, const TimeAxisMapping& mapping) const
{
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(palette().color(QPalette::Text), 1.0, Qt::DotLine));
    const int plannedRows = timelineRowCount(planned);
    for (int row = 0; row < std::min(rows.rowCount, plannedRows); ++row) {
        const double top = rows.rowTop(row);
        const auto [first, last] = timelineVisibleBars(planned, row, mapping.startMs(), mapping.endMs());
        ColumnMerger merger(m_levelOfDetail);
        for (std::size_t i = first; i < last; ++i) {
            const TimelineBar& bar = planned.bars[i];
            const double x0 = mapping.timeToX(bar.startMs);
            const double x1 = mapping.timeToX(bar.endMs);
            if (merger.skip(x0, x1))
                continue;
            painter.drawRect(QRectF(
                std::floor(x0), top, std::max(1.0, std::round(x1) - std::floor(x0)) - 1.0, rows.rowHeight - 2.0));
        }
    }
}

void TimelineView::paintDependencies(
    QPainter& painter, const TimelineData& data, const RowGeometry& rows, const TimeAxisMapping& mapping) const
{
    painter.save();
    painter.setRenderHint(QPainter::Antialiasing, true); // slanted lines
    QColor color = palette().color(QPalette::Text);
    color.setAlpha(150);
    painter.setPen(QPen(color, 1.0));
    painter.setBrush(color);
    const double half = rows.rowHeight / 2.0;
    for (const auto& [from, to] : data.dependencies) {
        if (from >= data.bars.size() || to >= data.bars.size())
            continue;
        const TimelineBar& source = data.bars[from];
        const TimelineBar& target = data.bars[to];
        const double t0 = std::min(source.endMs, target.startMs);
        const double t1 = std::max(source.endMs, target.startMs);
        if (t1 < mapping.startMs() || t0 > mapping.endMs())
            continue;
        const QPointF a(mapping.timeToX(source.endMs), rows.rowTop(timelineRowOf(data, source)) + half);
        const QPointF b(mapping.timeToX(target.startMs), rows.rowTop(timelineRowOf(data, target)) + half);
        painter.drawLine(a, b);
        const double angle = std::atan2(b.y() - a.y(), b.x() - a.x());
        const double size = 5.0;
        QPainterPath head(b);
        head.lineTo(b - QPointF(size * std::cos(angle - 0.45), size * std::sin(angle - 0.45)));
        head.lineTo(b - QPointF(size * std::cos(angle + 0.45), size * std::sin(angle + 0.45)));
        head.closeSubpath();
        painter.drawPath(head);
    }
    painter.restore();
}

void TimelineView::paintRowLabels(QPainter& painter, const TimelineData& data, const RowGeometry& rows)
{
    const QFontMetrics metrics(painter.font());
    // When rows are thinner than the text, label every n-th row only.
    const int every = std::max(1, static_cast<int>(std::ceil(metrics.height() / std::max(1.0, rows.rowHeight))));
    for (int row = 0; row < rows.rowCount; row += every) {
        const QRectF rect(4.0, rows.rowTop(row), kLabelWidth - 8.0, std::max(rows.rowHeight, double(metrics.height())));
        painter.drawText(rect, Qt::AlignLeft | Qt::AlignTop, stageLabelOfRow(data, row));
    }
}

QString TimelineView::cornerLabel(const QString& label, const QFontMetrics& metrics, int width)
{
    if (metrics.horizontalAdvance(label) <= width)
        return label;
    // The part in brackets says what kind of step it is, which the section itself shows.
    const qsizetype bracket = label.lastIndexOf(QLatin1String(" ("));
    if (bracket > 0 && label.endsWith(QLatin1Char(')'))) {
        QString shorter = label.left(bracket);
        if (metrics.horizontalAdvance(shorter) <= width)
            return shorter;
    }
    return metrics.elidedText(label, Qt::ElideRight, width);
}

void TimelineView::paintAxis(QPainter& painter, QSize size, const TimeAxisMapping& mapping) const
{
    const QPalette& pal = palette();
    painter.fillRect(QRectF(0, 0, size.width(), kAxisHeight), pal.color(QPalette::Window));
    painter.setPen(pal.color(QPalette::WindowText));
    const QString& label = !m_measured.empty() ? m_measured.label : m_planned.label;
    painter.drawText(QRectF(4, 0, kLabelWidth - 6, kAxisHeight), Qt::AlignLeft | Qt::AlignVCenter,
        cornerLabel(label, painter.fontMetrics(), static_cast<int>(kLabelWidth - 6)));
    const double step = niceTickStepMs(mapping, kMinTickSpacingPx);
    const double right = mapping.leftMargin() + mapping.pixelWidth();
    double previousLabelEnd = -1e9;
    for (double t = std::ceil(mapping.startMs() / step) * step; t <= mapping.endMs(); t += step) {
        const double x = std::floor(mapping.timeToX(t));
        if (x < mapping.leftMargin() || x > right)
            continue;
        painter.drawLine(QLineF(x, kAxisHeight - 5, x, kAxisHeight - 1));
        const QString text = tr("%1 ms").arg(formatMs(t, step));
        const double width = std::min<double>(painter.fontMetrics().horizontalAdvance(text), kMinTickSpacingPx - 6);
        const double left = tickLabelLeft(x, width, size.width());
        // A label pushed in from the edge onto the one before it is left out.
        if (left < previousLabelEnd + 6)
            continue;
        painter.drawText(QRectF(left, 0, width, kAxisHeight - 2), Qt::AlignLeft | Qt::AlignVCenter, text);
        previousLabelEnd = left + width;
    }
    painter.drawLine(QLineF(mapping.leftMargin(), kAxisHeight - 1, right, kAxisHeight - 1));
}

void TimelineView::applyRange(double startMs, double endMs, History history)
{
    const auto before = visibleRange();
    m_mapping.setRange(startMs, endMs);
    const auto after = visibleRange();
    const bool wheel = history == History::CoalesceWheel;
    if (after == before) {
        m_lastWasWheelZoom = m_lastWasWheelZoom && wheel;
        return;
    }
    const double beforeSpan = before.second - before.first;
    const double afterSpan = after.second - after.first;
    const bool zoomed = std::abs(afterSpan - beforeSpan) > 1e-9 * std::max(1.0, beforeSpan);
    if (zoomed && history != History::None && !(wheel && m_lastWasWheelZoom)) {
        m_zoomBack.push_back(before);
        m_zoomForward.clear();
        emit zoomHistoryChanged();
    }
    m_lastWasWheelZoom = wheel && zoomed;
    emit visibleRangeChanged(after.first, after.second);
    update();
}

void TimelineView::setVisibleRange(double startMs, double endMs) { applyRange(startMs, endMs, History::Record); }

void TimelineView::zoomIn()
{
    TimeAxisMapping next = m_mapping;
    next.zoomAt(m_mapping.leftMargin() + m_mapping.pixelWidth() / 2.0, kKeyZoomFactor);
    applyRange(next.startMs(), next.endMs(), History::Record);
}

void TimelineView::zoomOut()
{
    TimeAxisMapping next = m_mapping;
    next.zoomAt(m_mapping.leftMargin() + m_mapping.pixelWidth() / 2.0, 1.0 / kKeyZoomFactor);
    applyRange(next.startMs(), next.endMs(), History::Record);
}

void TimelineView::zoomToFit() { applyRange(0.0, m_mapping.totalMs(), History::Record); }

void TimelineView::zoomBack()
{
    if (m_zoomBack.empty())
        return;
    m_zoomForward.push_back(visibleRange());
    const auto range = m_zoomBack.back();
    m_zoomBack.pop_back();
    m_lastWasWheelZoom = false;
    applyRange(range.first, range.second, History::None);
    emit zoomHistoryChanged();
}

void TimelineView::zoomForward()
{
    if (m_zoomForward.empty())
        return;
    m_zoomBack.push_back(visibleRange());
    const auto range = m_zoomForward.back();
    m_zoomForward.pop_back();
    m_lastWasWheelZoom = false;
    applyRange(range.first, range.second, History::None);
    emit zoomHistoryChanged();
}

void TimelineView::clearSelection()
{
    m_selection.reset();
    update();
}

void TimelineView::resizeEvent(QResizeEvent* /*event*/)
{
    m_mapping.setPixelWidth(width() - kLabelWidth - kRightMargin);
}

void TimelineView::wheelEvent(QWheelEvent* event)
{
    const QPoint angle = event->angleDelta();
    // Some platforms turn shift+wheel into a horizontal wheel.
    const double notches = (angle.y() != 0 ? angle.y() : angle.x()) / 120.0;
    if (notches == 0.0)
        return;
    TimeAxisMapping next = m_mapping;
    if (event->modifiers().testFlag(Qt::ShiftModifier)) {
        next.pan(-notches * kPanFraction * m_mapping.pixelWidth());
        applyRange(next.startMs(), next.endMs(), History::None);
    } else {
        next.zoomAt(event->position().x(), std::pow(kWheelZoomFactor, notches));
        applyRange(next.startMs(), next.endMs(), History::CoalesceWheel);
    }
    event->accept();
}

void TimelineView::keyPressEvent(QKeyEvent* event)
{
    const bool alt = event->modifiers().testFlag(Qt::AltModifier);
    TimeAxisMapping next = m_mapping;
    switch (event->key()) {
    case Qt::Key_W:
        zoomIn();
        break;
    case Qt::Key_S:
        zoomOut();
        break;
    case Qt::Key_A:
        next.pan(-kPanFraction * m_mapping.pixelWidth());
        applyRange(next.startMs(), next.endMs(), History::None);
        break;
    case Qt::Key_D:
        next.pan(kPanFraction * m_mapping.pixelWidth());
        applyRange(next.startMs(), next.endMs(), History::None);
        break;
    case Qt::Key_0:
    case Qt::Key_Home:
        zoomToFit();
        break;
    case Qt::Key_Backspace:
        zoomBack();
        break;
    case Qt::Key_Left:
        if (!alt)
            return QWidget::keyPressEvent(event);
        zoomBack();
        break;
    case Qt::Key_Right:
        if (!alt)
            return QWidget::keyPressEvent(event);
        zoomForward();
        break;
    case Qt::Key_Escape:
        clearSelection();
        break;
    default:
        return QWidget::keyPressEvent(event);
    }
    m_lastWasWheelZoom = false;
    event->accept();
}

void TimelineView::mousePressEvent(QMouseEvent* event)
{
    m_lastWasWheelZoom = false;
    m_dragOrigin = event->position();
    m_lastDragPosition = event->position();
    if (event->button() == Qt::RightButton
        || (event->button() == Qt::LeftButton && event->modifiers().testFlag(Qt::ShiftModifier)))
        m_drag = Drag::Select;
    else if (event->button() == Qt::LeftButton)
        m_drag = Drag::Pan;
    else
        return QWidget::mousePressEvent(event);
    event->accept();
}

void TimelineView::mouseMoveEvent(QMouseEvent* event)
{
    const QPointF position = event->position();
    if (m_drag == Drag::Pan) {
        TimeAxisMapping next = m_mapping;
        next.pan(m_lastDragPosition.x() - position.x()); // the content follows the cursor
        applyRange(next.startMs(), next.endMs(), History::None);
    } else if (m_drag == Drag::Select) {
        const double a = std::clamp(m_mapping.xToTime(m_dragOrigin.x()), 0.0, m_mapping.totalMs());
        const double b = std::clamp(m_mapping.xToTime(position.x()), 0.0, m_mapping.totalMs());
        m_selection = std::make_pair(std::min(a, b), std::max(a, b));
        update();
    }
    m_lastDragPosition = position;
}

void TimelineView::mouseReleaseEvent(QMouseEvent* event)
{
    const Drag drag = m_drag;
    m_drag = Drag::None;
    const QPointF position = event->position();
    const bool moved = std::abs(position.x() - m_dragOrigin.x()) >= kSelectThresholdPx;
    if (drag == Drag::Select && moved) {
        const double a = std::clamp(m_mapping.xToTime(m_dragOrigin.x()), 0.0, m_mapping.totalMs());
        const double b = std::clamp(m_mapping.xToTime(position.x()), 0.0, m_mapping.totalMs());
        m_selection = std::make_pair(std::min(a, b), std::max(a, b));
        update();
        emit rangeSelected(m_selection->first, m_selection->second);
    } else if (drag != Drag::None && !moved) {
        clearSelection(); // a click without a drag
    }
    event->accept();
}

std::optional<std::pair<const TimelineData*, std::size_t>> TimelineView::barAt(QPointF position) const
{
    if (position.x() < m_mapping.leftMargin() || position.x() > m_mapping.leftMargin() + m_mapping.pixelWidth())
        return std::nullopt;
    const Layout layout = layoutFor(size());
    if (!m_measured.empty()) {
        if (const auto bar = hitTestBar(m_measured, m_mapping, layout.measured, position))
            return std::make_pair(&m_measured, *bar);
    }
    if (layout.stacked) {
        if (const auto bar = hitTestBar(m_planned, m_mapping, layout.planned, position))
            return std::make_pair(&m_planned, *bar);
    }
    return std::nullopt;
}

QString TimelineView::toolTipAt(QPoint position) const
{
    const auto hit = barAt(position);
    if (!hit)
        return {};
    const TimelineBar& bar = hit->first->bars[hit->second];
    QString text = tr("stage %1, microbatch %2, %3 (%4)\nrank %5\nstart %6 ms, duration %7 ms")
                       .arg(bar.stage)
                       .arg(bar.microbatch)
                       .arg(QLatin1Char(actionKindLetter(bar.kind)))
                       .arg(hit->first->label)
                       .arg(bar.rank)
                       .arg(bar.startMs, 0, 'f', 3)
                       .arg(bar.durationMs(), 0, 'f', 3);
    if (isFreezable(bar.kind)) {
        text += tr("\nfreeze ratio %1 %").arg(bar.freezeRatio * 100.0, 0, 'f', 1);
        if (bar.totalTensors > 0)
            text += tr("\nfrozen tensors %1 / %2").arg(bar.frozenTensors).arg(bar.totalTensors);
    }
    if (bar.onCriticalPath)
        text += tr("\non the critical path");
    return text;
}

bool TimelineView::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(event);
        const QString text = toolTipAt(help->pos());
        if (text.isEmpty()) {
            QToolTip::hideText();
            event->ignore();
        } else {
            QToolTip::showText(help->globalPos(), text, this);
        }
        return true;
    }
    return QWidget::event(event);
}

bool TimelineView::exportPng(const QString& fileName, QString* error) const
{
    // renderToImage rather than grab(): the same pixels, and it works for a view never shown.
    const QSize imageSize = size().isEmpty() ? sizeHint() : size();
    if (!renderToImage(imageSize).save(fileName, "PNG")) {
        if (error)
            *error = tr("could not write the PNG file %1").arg(fileName);
        return false;
    }
    return true;
}

bool TimelineView::exportSvg(const QString& fileName, QString* error) const
{
    const QSize imageSize = size().isEmpty() ? sizeHint() : size();
    QSvgGenerator generator;
    generator.setFileName(fileName);
    generator.setSize(imageSize);
    generator.setViewBox(QRect(QPoint(0, 0), imageSize));
    generator.setTitle(tr("Pipeline timeline"));
    generator.setDescription(m_measured.label);
    QPainter painter;
    if (!painter.begin(&generator)) {
        if (error)
            *error = tr("could not write the SVG file %1").arg(fileName);
        return false;
    }
    painter.setFont(font());
    paintContents(painter, imageSize, mappingFor(imageSize));
    painter.end();
    if (!QFileInfo(fileName).isFile() || QFileInfo(fileName).size() == 0) {
        if (error)
            *error = tr("could not write the SVG file %1").arg(fileName);
        return false;
    }
    return true;
}

} // namespace tfreeze
