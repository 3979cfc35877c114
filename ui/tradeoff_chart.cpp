#include "ui/tradeoff_chart.h"

#include "ui/nice_ticks.h"

#include <QChart>
#include <QEvent>
#include <QLineSeries>
#include <QPen>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace tfreeze {

namespace {
// Round batch times (180, 200, 220 ms), labels far enough apart that Qt Charts hides none.
constexpr double minBatchTickSpacingPx = 28.0;
} // namespace

TradeoffChart::TradeoffChart(QWidget* parent)
    : QChartView(new QChart(), parent)
{
    QChart* c = chart();
    c->setAnimationOptions(QChart::NoAnimation);
    c->setMargins(QMargins(2, 2, 2, 2));
    c->legend()->setAlignment(Qt::AlignBottom);
    QFont small = c->legend()->font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    c->legend()->setFont(small);

    m_rhoAxis = new QValueAxis(c);
    m_rhoAxis->setRange(0.0, 1.0);
    m_rhoAxis->setTickCount(6);
    m_rhoAxis->setLabelFormat(QStringLiteral("%.1f"));
    m_rhoAxis->setTitleText(tr("Max freeze ρ"));
    m_batchAxis = new QValueAxis(c);
    m_batchAxis->setTitleText(tr("Batch (ms)"));
    c->addAxis(m_rhoAxis, Qt::AlignBottom);
    c->addAxis(m_batchAxis, Qt::AlignLeft);
    connect(c, &QChart::plotAreaChanged, this, &TradeoffChart::applyBatchTicks);

    m_curve = new QLineSeries(c);
    m_curve->setName(tr("Predicted"));
    m_noFreeze = new QLineSeries(c);
    m_noFreeze->setName(tr("No freezing"));
    m_allFrozen = new QLineSeries(c);
    m_allFrozen->setName(tr("All frozen"));
    m_current = new QScatterSeries(c);
    m_current->setName(tr("Current"));
    m_current->setMarkerSize(9.0);
    for (QXYSeries* series : { static_cast<QXYSeries*>(m_curve), static_cast<QXYSeries*>(m_noFreeze),
             static_cast<QXYSeries*>(m_allFrozen), static_cast<QXYSeries*>(m_current) }) {
        c->addSeries(series);
        series->attachAxis(m_rhoAxis);
        series->attachAxis(m_batchAxis);
    }
    setRenderHint(QPainter::Antialiasing);
    applyTheme();
    updateReferencesAndAxes();
}

QSize TradeoffChart::sizeHint() const { return { 320, 220 }; }

QSize TradeoffChart::minimumSizeHint() const { return { 220, 150 }; }

void TradeoffChart::setCurve(const QList<QPointF>& curve)
{
    QList<QPointF> points;
    for (const QPointF& p : curve) {
        if (std::isfinite(p.x()) && std::isfinite(p.y()))
            points.append(p);
    }
    m_curve->replace(points);
    updateReferencesAndAxes();
}

QList<QPointF> TradeoffChart::curve() const { return m_curve->points(); }

void TradeoffChart::setCurrentPoint(double rho, double batchMs)
{
    if (!std::isfinite(rho) || !std::isfinite(batchMs)) {
        clearCurrentPoint();
        return;
    }
    m_current->replace(QList<QPointF> { QPointF(rho, batchMs) });
    updateReferencesAndAxes();
}

void TradeoffChart::clearCurrentPoint()
{
    m_current->clear();
    updateReferencesAndAxes();
}

QList<QPointF> TradeoffChart::currentPoint() const { return m_current->points(); }

void TradeoffChart::setReferenceLinesVisible(bool visible)
{
    m_referencesVisible = visible;
    updateReferencesAndAxes();
}

void TradeoffChart::updateReferencesAndAxes()
{
    const QList<QPointF> points = m_curve->points();
    const bool haveCurve = !points.isEmpty();
    m_noFreeze->setVisible(m_referencesVisible && haveCurve);
    m_allFrozen->setVisible(m_referencesVisible && haveCurve);
    if (haveCurve) {
        m_noFreeze->replace({ QPointF(0.0, points.front().y()), QPointF(1.0, points.front().y()) });
        m_allFrozen->replace({ QPointF(0.0, points.back().y()), QPointF(1.0, points.back().y()) });
    } else {
        m_noFreeze->clear();
        m_allFrozen->clear();
    }

    QList<QPointF> shown = points;
    shown.append(m_current->points());
    if (shown.isEmpty()) {
        setRangeWithNiceTicks(m_batchAxis, 0.0, 1.0, chart()->plotArea().height(), minBatchTickSpacingPx);
        return;
    }
    const auto [low, high] = std::minmax_element(
        shown.begin(), shown.end(), [](const QPointF& a, const QPointF& b) { return a.y() < b.y(); });
    const double span = high->y() - low->y();
    const double pad = span > 0.0 ? span * 0.08 : std::max(std::abs(high->y()) * 0.05, 1.0);
    setRangeWithNiceTicks(m_batchAxis, std::max(0.0, low->y() - pad), high->y() + pad, chart()->plotArea().height(),
        minBatchTickSpacingPx);
}

void TradeoffChart::applyBatchTicks()
{
    applyNiceTicks(m_batchAxis, chart()->plotArea().height(), minBatchTickSpacingPx);
}

void TradeoffChart::applyTheme()
{
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    chart()->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart()->setBackgroundBrush(palette().color(QPalette::Base));
    const QColor text = palette().color(QPalette::Text);
    QPen reference(text);
    reference.setStyle(Qt::DashLine);
    reference.setWidthF(1.0);
    m_noFreeze->setPen(reference);
    reference.setStyle(Qt::DotLine);
    m_allFrozen->setPen(reference);
    QPen curvePen = m_curve->pen();
    curvePen.setWidthF(2.0);
    m_curve->setPen(curvePen);
    m_current->setColor(palette().color(QPalette::Highlight));
}

void TradeoffChart::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
    QChartView::changeEvent(event);
}

} // namespace tfreeze
