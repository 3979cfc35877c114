#include "ui/metrics_charts.h"

#include "ui/metrics_history.h"
#include "ui/nice_ticks.h"
#include "ui/series_downsampling.h"

#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QFileInfo>
#include <QFont>
#include <QGraphicsLineItem>
#include <QGridLayout>
#include <QLineSeries>
#include <QMouseEvent>
#include <QPainter>
#include <QPen>
#include <QSvgGenerator>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tfreeze {

namespace {

// Below this width (a hidden or tiny chart) the cap stays at 4 × 100 points.
constexpr int minimumChartPixels = 100;

QList<QPointF> scaled(QList<QPointF> points, double factor)
{
    for (QPointF& p : points)
        p.setY(p.y() * factor);
    return points;
}

// The y extent of the points shown on one axis, padded so that a line never sits on the frame.
class AxisExtent {
public:
    explicit AxisExtent(bool includeZero)
    {
        if (includeZero)
            m_low = m_high = 0.0;
    }
    void include(const QList<QPointF>& points)
    {
        for (const QPointF& p : points) {
            m_low = std::min(m_low, p.y());
            m_high = std::max(m_high, p.y());
        }
    }
    // The range on `axis`, with round ticks for an axis `lengthPx` long.
    void applyTo(QValueAxis* axis, double lengthPx) const
    {
        if (!(m_low <= m_high)) {
            setRangeWithNiceTicks(axis, 0.0, 1.0, lengthPx, MetricsCharts::kMinValueTickSpacingPx);
            return;
        }
        const double span = m_high - m_low;
        const double pad = span > 0.0 ? span * 0.05 : std::max(std::abs(m_high) * 0.05, 1.0);
        setRangeWithNiceTicks(
            axis, m_low == 0.0 ? 0.0 : m_low - pad, m_high + pad, lengthPx, MetricsCharts::kMinValueTickSpacingPx);
    }

private:
    double m_low = std::numeric_limits<double>::infinity();
    double m_high = -std::numeric_limits<double>::infinity();
};

bool isDark(const QPalette& palette) { return palette.color(QPalette::Window).lightness() < 128; }

QString number(double value, int decimals)
{
    return std::isfinite(value) ? QString::number(value, 'f', decimals) : QStringLiteral("–");
}

} // namespace

MetricsCharts::MetricsCharts(QWidget* parent)
    : QWidget(parent)
{
    m_charts.resize(4);
    buildChart(BubbleChart, tr("Bubble per rank"), tr("Idle (%)"));
    // "Batch time (ms)" was cut to "Batch time (..." along the plot's height at the default size;
    // the legend names the series in full.
    buildChart(BatchTimeChart, tr("Batch time and throughput"), tr("Batch (ms)"));
    buildChart(LossChart, tr("Loss"), tr("Loss"));
    buildChart(FreezeChart, tr("Mean freeze ratio per stage"), tr("Freeze ratio"));

    ChartParts& batch = m_charts[BatchTimeChart];
    batch.secondYAxis = new QValueAxis(batch.chart);
    batch.secondYAxis->setTitleText(tr("Tokens/s"));
    // Its ticks fall between the left axis's: one grid is enough.
    batch.secondYAxis->setGridLineVisible(false);
    batch.secondYAxis->setLabelsFont(batch.yAxis->labelsFont());
    batch.secondYAxis->setTitleFont(batch.yAxis->titleFont());
    batch.chart->addAxis(batch.secondYAxis, Qt::AlignRight);
    addSeries(batch, tr("Batch time (ms)"), batch.yAxis);
    addSeries(batch, tr("Tokens/s"), batch.secondYAxis);

    ChartParts& loss = m_charts[LossChart];
    addSeries(loss, tr("Training loss"), loss.yAxis);
    addSeries(loss, tr("Validation loss"), loss.yAxis);

    auto* layout = new QGridLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    for (int i = 0; i < chartCount(); ++i)
        layout->addWidget(m_charts[static_cast<std::size_t>(i)].view, i / 2, i % 2);
    applyTheme();
    refresh();
}

MetricsCharts::~MetricsCharts() = default;

void MetricsCharts::buildChart(Chart index, const QString& title, const QString& yTitle)
{
    ChartParts& parts = m_charts[static_cast<std::size_t>(index)];
    parts.chart = new QChart();
    parts.chart->setTitle(title);
    parts.chart->legend()->setAlignment(Qt::AlignBottom);
    parts.chart->setMargins(QMargins(4, 4, 4, 4));
    // Animations would replay on every refresh (up to 30 a second).
    parts.chart->setAnimationOptions(QChart::NoAnimation);
    parts.xAxis = new QValueAxis(parts.chart);
    parts.xAxis->setTitleText(tr("Step"));
    parts.chart->addAxis(parts.xAxis, Qt::AlignBottom);
    parts.yAxis = new QValueAxis(parts.chart);
    parts.yAxis->setTitleText(yTitle);
    parts.chart->addAxis(parts.yAxis, Qt::AlignLeft);
    // Four charts share the bottom of the window: at the default font, Qt Charts elides the tick
    // labels of a chart under about 200 pixels tall to "...", so axes and legend use a smaller one.
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() * 0.8));
    for (QValueAxis* axis : { parts.xAxis, parts.yAxis }) {
        axis->setLabelsFont(small);
        axis->setTitleFont(small);
    }
    parts.chart->legend()->setFont(small);

    parts.view = new QChartView(parts.chart, this);
    parts.view->setRenderHint(QPainter::Antialiasing);
    // How many ticks fit depends on the plot's size, which changes with the window and the labels.
    connect(parts.chart, &QChart::plotAreaChanged, this, [this, index] { applyTicks(index); });
    parts.view->setMinimumSize(240, 180);
    parts.view->viewport()->setMouseTracking(true);
    parts.view->viewport()->installEventFilter(this);

    parts.marker = new QGraphicsLineItem(parts.chart);
    parts.marker->setZValue(1000.0);
    parts.marker->hide();
}

QXYSeries* MetricsCharts::addSeries(ChartParts& parts, const QString& name, QValueAxis* yAxis)
{
    auto* series = new QLineSeries(parts.chart);
    series->setName(name);
    parts.chart->addSeries(series);
    series->attachAxis(parts.xAxis);
    series->attachAxis(yAxis);
    parts.series.append(series);
    return series;
}

void MetricsCharts::ensureSeriesCount(ChartParts& parts, int count, const QString& namePattern)
{
    while (parts.series.size() > count) {
        QXYSeries* series = parts.series.takeLast();
        parts.chart->removeSeries(series);
        delete series;
    }
    while (parts.series.size() < count)
        addSeries(parts, namePattern.arg(parts.series.size()), parts.yAxis);
}

void MetricsCharts::applyTheme()
{
    const bool dark = isDark(palette());
    for (ChartParts& parts : m_charts) {
        parts.chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
        parts.chart->setBackgroundBrush(palette().color(QPalette::Base));
        QPen pen(palette().color(QPalette::Text));
        pen.setStyle(Qt::DashLine);
        pen.setCosmetic(true);
        parts.marker->setPen(pen);
    }
}

int MetricsCharts::chartCount() const { return static_cast<int>(m_charts.size()); }

QString MetricsCharts::chartTitle(int index) const
{
    if (index < 0 || index >= chartCount())
        return {};
    return m_charts[static_cast<std::size_t>(index)].chart->title();
}

QChartView* MetricsCharts::chartView(int index) const
{
    if (index < 0 || index >= chartCount())
        return nullptr;
    return m_charts[static_cast<std::size_t>(index)].view;
}

QList<QXYSeries*> MetricsCharts::series(int index) const
{
    if (index < 0 || index >= chartCount())
        return {};
    return m_charts[static_cast<std::size_t>(index)].series;
}

int MetricsCharts::pointCap(int index) const
{
    if (index < 0 || index >= chartCount())
        return 0;
    return m_charts[static_cast<std::size_t>(index)].pointCap;
}

// The view's width rather than the plot area's: the plot narrows and widens with the width of the
// axis labels, which a refresh itself changes.
int MetricsCharts::pointCapForWidth(int index) const
{
    return 4 * std::max(minimumChartPixels, m_charts[static_cast<std::size_t>(index)].view->width());
}

double MetricsCharts::narrowestPlotWidth() const
{
    double width = std::numeric_limits<double>::infinity();
    for (const ChartParts& parts : m_charts)
        width = std::min(width, parts.chart->plotArea().width());
    return std::isfinite(width) ? width : 0.0;
}

void MetricsCharts::applyTicks(int index)
{
    // The step axes share one interval (the narrowest plot's), so the four charts read alike.
    const double stepAxisPx = narrowestPlotWidth();
    for (ChartParts& parts : m_charts)
        applyNiceTicks(parts.xAxis, stepAxisPx, kMinStepTickSpacingPx, true);
    ChartParts& parts = m_charts[static_cast<std::size_t>(index)];
    const QRectF plot = parts.chart->plotArea();
    for (QValueAxis* axis : { parts.yAxis, parts.secondYAxis }) {
        if (axis)
            applyNiceTicks(axis, plot.height(), kMinValueTickSpacingPx);
    }
}

void MetricsCharts::setHistory(const MetricsHistory* history)
{
    m_history = history;
    refresh();
}

void MetricsCharts::refresh()
{
    for (int i = 0; i < chartCount(); ++i)
        m_charts[static_cast<std::size_t>(i)].pointCap = pointCapForWidth(i);
    fillBubbleChart();
    fillBatchTimeChart();
    fillLossChart();
    fillFreezeChart();
    const bool any = m_history != nullptr && !m_history->isEmpty();
    const double first = any ? m_history->steps().front() : 0.0;
    const double last = any ? m_history->steps().back() : 1.0;
    const double stepAxisPx = narrowestPlotWidth();
    for (ChartParts& parts : m_charts)
        setRangeWithNiceTicks(
            parts.xAxis, first, last > first ? last : first + 1.0, stepAxisPx, kMinStepTickSpacingPx, true);
}

void MetricsCharts::fillBubbleChart()
{
    ChartParts& parts = m_charts[BubbleChart];
    const int ranks = m_history ? m_history->rankCount() : 0;
    ensureSeriesCount(parts, ranks, tr("Rank %1"));
    const int cap = parts.pointCap;
    AxisExtent extent(true);
    for (int r = 0; r < ranks; ++r) {
        const QList<QPointF> points
            = scaled(downsampleMinMax(m_history->steps(), m_history->rankBubbleFraction(r), cap), 100.0);
        extent.include(points);
        parts.series[r]->replace(points);
    }
    extent.applyTo(parts.yAxis, parts.chart->plotArea().height());
}

void MetricsCharts::fillBatchTimeChart()
{
    ChartParts& parts = m_charts[BatchTimeChart];
    const int cap = parts.pointCap;
    QList<QPointF> batch;
    QList<QPointF> tokens;
    if (m_history) {
        batch = downsampleMinMax(m_history->steps(), m_history->batchMs(), cap);
        tokens = downsampleMinMax(m_history->steps(), m_history->tokensPerSecond(), cap);
    }
    parts.series[0]->replace(batch);
    parts.series[1]->replace(tokens);
    AxisExtent batchExtent(true);
    AxisExtent tokensExtent(true);
    batchExtent.include(batch);
    tokensExtent.include(tokens);
    batchExtent.applyTo(parts.yAxis, parts.chart->plotArea().height());
    tokensExtent.applyTo(parts.secondYAxis, parts.chart->plotArea().height());
}

void MetricsCharts::fillLossChart()
{
    ChartParts& parts = m_charts[LossChart];
    const int cap = parts.pointCap;
    QList<QPointF> training;
    QList<QPointF> validation;
    if (m_history) {
        training = downsampleMinMax(m_history->steps(), m_history->loss(), cap);
        validation = downsampleMinMax(m_history->evalSteps(), m_history->validationLoss(), cap);
    }
    parts.series[0]->replace(training);
    parts.series[1]->replace(validation);
    AxisExtent extent(false);
    extent.include(training);
    extent.include(validation);
    extent.applyTo(parts.yAxis, parts.chart->plotArea().height());
}

void MetricsCharts::fillFreezeChart()
{
    ChartParts& parts = m_charts[FreezeChart];
    const int stages = m_history ? m_history->stageCount() : 0;
    ensureSeriesCount(parts, stages, tr("Stage %1"));
    const int cap = parts.pointCap;
    AxisExtent extent(true);
    for (int s = 0; s < stages; ++s) {
        const QList<QPointF> points = downsampleMinMax(m_history->steps(), m_history->stageMeanFreezeRatio(s), cap);
        extent.include(points);
        parts.series[s]->replace(points);
    }
    extent.applyTo(parts.yAxis, parts.chart->plotArea().height());
}

int MetricsCharts::chartIndexOfViewport(QObject* viewport) const
{
    for (int i = 0; i < chartCount(); ++i) {
        if (m_charts[static_cast<std::size_t>(i)].view->viewport() == viewport)
            return i;
    }
    return -1;
}

qint64 MetricsCharts::stepAt(int index, const QPoint& viewportPos, bool* inPlot) const
{
    *inPlot = false;
    const ChartParts& parts = m_charts[static_cast<std::size_t>(index)];
    if (!m_history || m_history->isEmpty() || parts.series.isEmpty())
        return 0;
    const QPointF chartPos = parts.chart->mapFromScene(parts.view->mapToScene(viewportPos));
    if (!parts.chart->plotArea().contains(chartPos))
        return 0;
    const double x = parts.chart->mapToValue(chartPos, parts.series.front()).x();
    if (!std::isfinite(x))
        return 0;
    *inPlot = true;
    const qsizetype row = m_history->indexNear(static_cast<qint64>(std::llround(x)));
    return static_cast<qint64>(m_history->steps()[static_cast<std::size_t>(row)]);
}

QString MetricsCharts::hoverText(int index, qint64 step) const
{
    const StepValues values = m_history->valueAt(step);
    QString text = tr("Step %1").arg(values.step);
    switch (index) {
    case BubbleChart:
        for (std::size_t r = 0; r < values.rankBubbleFraction.size(); ++r)
            text += u'\n' + tr("Rank %1: %2 % idle").arg(r).arg(number(100.0 * values.rankBubbleFraction[r], 1));
        break;
    case BatchTimeChart:
        text += u'\n' + tr("Batch time: %1 ms").arg(number(values.batchMs, 1));
        text += u'\n' + tr("Tokens/s: %1").arg(number(values.tokensPerSecond, 0));
        break;
    case LossChart:
        text += u'\n' + tr("Training loss: %1").arg(number(values.loss, 4));
        text += u'\n' + tr("Validation loss: %1").arg(number(values.validationLoss, 4));
        break;
    case FreezeChart:
        for (std::size_t s = 0; s < values.stageMeanFreezeRatio.size(); ++s)
            text += u'\n' + tr("Stage %1: %2").arg(s).arg(number(values.stageMeanFreezeRatio[s], 3));
        break;
    }
    return text;
}

void MetricsCharts::showHover(int index, const QPoint& viewportPos)
{
    bool inPlot = false;
    const qint64 step = stepAt(index, viewportPos, &inPlot);
    if (!inPlot) {
        hideHover(index);
        return;
    }
    ChartParts& parts = m_charts[static_cast<std::size_t>(index)];
    const QRectF plot = parts.chart->plotArea();
    const double x = parts.chart->mapToPosition(QPointF(static_cast<double>(step), 0.0), parts.series.front()).x();
    parts.marker->setLine(x, plot.top(), x, plot.bottom());
    parts.marker->show();
    QToolTip::showText(parts.view->viewport()->mapToGlobal(viewportPos), hoverText(index, step), parts.view);
    if (step != m_hoveredStep) {
        m_hoveredStep = step;
        emit stepHovered(step);
    }
}

void MetricsCharts::hideHover(int index)
{
    m_charts[static_cast<std::size_t>(index)].marker->hide();
    QToolTip::hideText();
    m_hoveredStep = -1;
}

bool MetricsCharts::eventFilter(QObject* watched, QEvent* event)
{
    const int index = chartIndexOfViewport(watched);
    if (index < 0)
        return QWidget::eventFilter(watched, event);
    switch (event->type()) {
    case QEvent::MouseMove:
        showHover(index, static_cast<QMouseEvent*>(event)->position().toPoint());
        break;
    case QEvent::Leave:
        hideHover(index);
        break;
    case QEvent::MouseButtonRelease: {
        const auto* mouse = static_cast<QMouseEvent*>(event);
        if (mouse->button() == Qt::LeftButton) {
            bool inPlot = false;
            const qint64 step = stepAt(index, mouse->position().toPoint(), &inPlot);
            if (inPlot)
                emit stepActivated(step);
        }
        break;
    }
    default:
        break;
    }
    return QWidget::eventFilter(watched, event);
}

void MetricsCharts::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::PaletteChange)
        applyTheme();
    QWidget::changeEvent(event);
}

void MetricsCharts::resizeEvent(QResizeEvent* event)
{
    QWidget::resizeEvent(event);
    // The point cap follows the plot width, known only once the layout has run.
    refresh();
}

bool MetricsCharts::exportChart(int index, const QString& path, QString* error) const
{
    auto fail = [error](const QString& message) {
        if (error)
            *error = message;
        return false;
    };
    QChartView* view = chartView(index);
    if (!view)
        return fail(tr("There is no chart %1.").arg(index));
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == u"png") {
        if (!view->grab().save(path, "PNG"))
            return fail(tr("Could not write %1.").arg(path));
        return true;
    }
    if (suffix == u"svg") {
        QSvgGenerator generator;
        generator.setFileName(path);
        generator.setSize(view->size());
        generator.setViewBox(QRect(QPoint(0, 0), view->size()));
        generator.setTitle(chartTitle(index));
        QPainter painter;
        if (!painter.begin(&generator))
            return fail(tr("Could not write %1.").arg(path));
        view->render(&painter);
        painter.end();
        return true;
    }
    return fail(tr("Unknown image format \"%1\": use .png or .svg.").arg(suffix));
}

} // namespace tfreeze
