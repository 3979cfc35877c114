#include "ui/metrics_charts.h"
#include "ui/metrics_history.h"

#include <QChart>
#include <QChartView>
#include <QGraphicsLineItem>
#include <QImage>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QToolTip>
#include <QValueAxis>
#include <QXYSeries>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace tfreeze;

namespace {

constexpr double missing = std::numeric_limits<double>::quiet_NaN();

// `count` steps from `firstStep` every `stride`: 4 ranks (rank 3 reports from the 10th step on),
// 3 stages, an evaluation every 10 steps, and one spike per column.
MetricsHistory makeHistory(int count, qint64 firstStep = 0, qint64 stride = 1)
{
    std::mt19937 random(11);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    MetricsHistory history;
    for (int i = 0; i < count; ++i) {
        StepStats stats;
        stats.step = firstStep + i * stride;
        stats.loss = 5.0 * std::exp(-i / 3000.0) + 0.1 * unit(random);
        stats.batchMs = 100.0 + 10.0 * unit(random) + (i == count / 3 ? 400.0 : 0.0);
        stats.tokensPerSecond = 2000.0 + 200.0 * unit(random) - (i == count / 2 ? 1500.0 : 0.0);
        for (int r = 0; r < 4; ++r)
            stats.rankBubbleFraction.push_back(r == 3 && i < 10 ? missing : 0.1 + 0.3 * unit(random));
        for (int s = 0; s < 3; ++s)
            stats.stageMeanFreezeRatio.push_back(std::min(1.0, i / double(count) + 0.05 * unit(random)));
        history.append(stats);
        if (i % 10 == 9)
            history.append(EvalStats { stats.step, stats.loss + 0.2, 0.0, 0.0, -1.0 });
    }
    return history;
}

// Ticks at round values: an interval of 1, 2 or 5 · 10^k, the first tick the first multiple of it
// in the range, and labels with as many decimals as the interval needs.
void verifyRoundTicks(const QValueAxis* axis)
{
    QCOMPARE(axis->tickType(), QValueAxis::TicksDynamic);
    const double interval = axis->tickInterval();
    const double decade = std::pow(10.0, std::floor(std::log10(interval) + 1e-9));
    const double mantissa = interval / decade;
    QVERIFY2(std::abs(mantissa - 1.0) < 1e-9 || std::abs(mantissa - 2.0) < 1e-9 || std::abs(mantissa - 5.0) < 1e-9,
        qPrintable(QString::number(interval, 'g', 17)));
    const double anchor = axis->tickAnchor();
    QVERIFY(std::abs(anchor / interval - std::round(anchor / interval)) < 1e-6);
    QVERIFY(anchor >= axis->min() - 1e-6 * interval && anchor - interval < axis->min());
    const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(interval) + 1e-9)));
    QCOMPARE(axis->labelFormat(), QStringLiteral("%.%1f").arg(decimals));
}

// The columns each chart's series show, in series order, with the y scale applied.
struct Column {
    const std::vector<double>* xs;
    const std::vector<double>* ys;
    double scale;
};

std::vector<Column> columnsOf(const MetricsHistory& history, int chart)
{
    std::vector<Column> columns;
    switch (chart) {
    case MetricsCharts::BubbleChart:
        for (int r = 0; r < history.rankCount(); ++r)
            columns.push_back({ &history.steps(), &history.rankBubbleFraction(r), 100.0 });
        break;
    case MetricsCharts::BatchTimeChart:
        columns.push_back({ &history.steps(), &history.batchMs(), 1.0 });
        columns.push_back({ &history.steps(), &history.tokensPerSecond(), 1.0 });
        break;
    case MetricsCharts::LossChart:
        columns.push_back({ &history.steps(), &history.loss(), 1.0 });
        columns.push_back({ &history.evalSteps(), &history.validationLoss(), 1.0 });
        break;
    case MetricsCharts::FreezeChart:
        for (int s = 0; s < history.stageCount(); ++s)
            columns.push_back({ &history.steps(), &history.stageMeanFreezeRatio(s), 1.0 });
        break;
    }
    return columns;
}

QPoint viewportPosition(MetricsCharts& charts, int index, double step)
{
    QChartView* view = charts.chartView(index);
    QChart* chart = view->chart();
    const QXYSeries* series = charts.series(index).front();
    const double y = (chart->plotArea().top() + chart->plotArea().bottom()) / 2.0;
    QPointF inChart = chart->mapToPosition(QPointF(step, 0.0), const_cast<QXYSeries*>(series));
    inChart.setY(y);
    return view->mapFromScene(chart->mapToScene(inChart));
}

// Lets the charts' layouts run until their plot areas stop moving: the ticks follow the plot's size
// and the labels of new ticks can move it once more (as a user's hover would come after the paint).
void settleLayouts(MetricsCharts& charts)
{
    for (int round = 0; round < 10; ++round) {
        QList<QRectF> before;
        for (int c = 0; c < charts.chartCount(); ++c)
            before.append(charts.chartView(c)->chart()->plotArea());
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        QList<QRectF> after;
        for (int c = 0; c < charts.chartCount(); ++c)
            after.append(charts.chartView(c)->chart()->plotArea());
        if (after == before)
            return;
    }
    QFAIL("the charts' plot areas kept moving");
}

// Shows `charts` at `size` on `history`, laid out as a user would first see them; false if the
// window never appeared.
bool showOn(MetricsCharts& charts, const MetricsHistory& history, QSize size)
{
    charts.resize(size);
    charts.show();
    if (!QTest::qWaitForWindowExposed(&charts))
        return false;
    charts.setHistory(&history);
    settleLayouts(charts);
    return true;
}

} // namespace

class TestMetricsCharts : public QObject {
    Q_OBJECT

private slots:
    void tenThousandStepsAreCapped()
    {
        const MetricsHistory history = makeHistory(10'000);
        MetricsCharts charts;
        QVERIFY(showOn(charts, history, QSize(1200, 800)));
        QCOMPARE(charts.chartCount(), 4);

        for (int c = 0; c < charts.chartCount(); ++c) {
            const std::vector<Column> columns = columnsOf(history, c);
            const QList<QXYSeries*> series = charts.series(c);
            QCOMPARE(series.size(), static_cast<qsizetype>(columns.size()));
            const int cap = charts.pointCap(c);
            QVERIFY2(cap < 10'000, "the charts must be narrower than 2,500 px for this test to bite");
            for (qsizetype k = 0; k < series.size(); ++k) {
                const QList<QPointF> points = series[k]->points();
                const Column& column = columns[static_cast<std::size_t>(k)];
                QVERIFY(!points.isEmpty());
                QVERIFY2(points.size() <= cap, qPrintable(u"%1 points, cap %2"_qs.arg(points.size()).arg(cap)));
                double lo = std::numeric_limits<double>::infinity(), hi = -lo;
                for (double y : *column.ys) {
                    if (std::isfinite(y)) {
                        lo = std::min(lo, y * column.scale);
                        hi = std::max(hi, y * column.scale);
                    }
                }
                const auto [minIt, maxIt] = std::minmax_element(
                    points.begin(), points.end(), [](const QPointF& a, const QPointF& b) { return a.y() < b.y(); });
                QCOMPARE(minIt->y(), lo);
                QCOMPARE(maxIt->y(), hi);
                // Every point shown is a recorded value (steps 0..9999: the step is the index).
                for (const QPointF& p : points) {
                    const auto at = std::lower_bound(column.xs->begin(), column.xs->end(), p.x());
                    QVERIFY(at != column.xs->end() && *at == p.x());
                    QCOMPARE(p.y(), (*column.ys)[static_cast<std::size_t>(at - column.xs->begin())] * column.scale);
                }
                // The axis shows the whole range.
                const auto axes = series[k]->attachedAxes();
                for (QAbstractAxis* axis : axes) {
                    auto* value = qobject_cast<QValueAxis*>(axis);
                    verifyRoundTicks(value);
                    if (value->orientation() == Qt::Vertical) {
                        QVERIFY(value->min() <= lo && value->max() >= hi);
                    } else {
                        QCOMPARE(value->min(), 0.0);
                        QCOMPARE(value->max(), 9'999.0);
                    }
                }
            }
        }
    }

    // The four step axes tick alike, at the interval that fits the narrowest plot.
    void stepAxesShareTheirTicks()
    {
        const MetricsHistory history = makeHistory(300);
        MetricsCharts charts;
        QVERIFY(showOn(charts, history, QSize(1100, 700)));
        double narrowest = std::numeric_limits<double>::infinity();
        QList<double> intervals;
        for (int c = 0; c < charts.chartCount(); ++c) {
            QChart* chart = charts.chartView(c)->chart();
            narrowest = std::min(narrowest, chart->plotArea().width());
            const auto* axis = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).front());
            verifyRoundTicks(axis);
            intervals.append(axis->tickInterval());
        }
        for (double interval : intervals)
            QCOMPARE(interval, intervals.front());
        // 300 steps: at least 70 px between ticks on the narrowest plot.
        QVERIFY2(intervals.front() * narrowest / 299.0 >= MetricsCharts::kMinStepTickSpacingPx,
            qPrintable(QString::number(intervals.front())));
    }

    void seriesEqualTheHistory()
    {
        MetricsHistory history = makeHistory(60, 1000, 5);
        MetricsCharts charts;
        charts.resize(900, 700);
        charts.setHistory(&history);
        for (int round = 0; round < 2; ++round) {
            for (int c = 0; c < charts.chartCount(); ++c) {
                const std::vector<Column> columns = columnsOf(history, c);
                const QList<QXYSeries*> series = charts.series(c);
                QCOMPARE(series.size(), static_cast<qsizetype>(columns.size()));
                for (qsizetype k = 0; k < series.size(); ++k) {
                    const Column& column = columns[static_cast<std::size_t>(k)];
                    QList<QPointF> expected;
                    for (std::size_t i = 0; i < column.xs->size(); ++i) {
                        if (std::isfinite((*column.ys)[i]))
                            expected.append(QPointF((*column.xs)[i], (*column.ys)[i] * column.scale));
                    }
                    QCOMPARE(series[k]->points(), expected);
                }
            }
            if (round == 1)
                break;
            // New steps arrive (a fifth rank too): refresh shows them.
            StepStats more;
            more.step = 2000;
            more.loss = 9.0;
            more.batchMs = 1.0;
            more.rankBubbleFraction = { 0.5, 0.5, 0.5, 0.5, 0.9 };
            more.stageMeanFreezeRatio = { 0.1, 0.2, 0.3 };
            history.append(more);
            charts.refresh();
        }
        QCOMPARE(charts.series(MetricsCharts::BubbleChart).size(), 5);
        QCOMPARE(charts.series(MetricsCharts::BubbleChart).last()->points(), (QList<QPointF> { { 2000.0, 90.0 } }));

        history.clear();
        charts.refresh();
        QCOMPARE(charts.series(MetricsCharts::BubbleChart).size(), 0);
        QVERIFY(charts.series(MetricsCharts::LossChart).front()->points().isEmpty());
    }

    // A run that diverges: the loss jumps from about 5 to 10^15 between two refreshes. With the
    // ticks of the old range (1 apart) on the new one, Qt Charts would lay out 10^15 tick items.
    void aDivergingLossKeepsRoundTicks()
    {
        MetricsHistory history = makeHistory(30);
        MetricsCharts charts;
        QVERIFY(showOn(charts, history, QSize(900, 700)));
        StepStats diverged;
        diverged.step = 30;
        diverged.loss = 1e15;
        diverged.batchMs = 100.0;
        diverged.tokensPerSecond = 2000.0;
        diverged.rankBubbleFraction = { 0.2, 0.2, 0.2, 0.2 };
        diverged.stageMeanFreezeRatio = { 0.0, 0.0, 0.0 };
        history.append(diverged);
        charts.refresh();
        QChart* chart = charts.chartView(MetricsCharts::LossChart)->chart();
        const auto* axis = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).front());
        QVERIFY(axis->max() >= 1e15);
        verifyRoundTicks(axis);
        const double plotPx = chart->plotArea().height();
        QVERIFY(plotPx > 0.0);
        QVERIFY2(
            (axis->max() - axis->min()) / axis->tickInterval() <= plotPx / MetricsCharts::kMinValueTickSpacingPx + 1.0,
            qPrintable(QString::number(axis->tickInterval())));
        // And back: the run's history cleared, a small range again.
        history.clear();
        history.append(StepStats {});
        charts.refresh();
        verifyRoundTicks(axis);
        QVERIFY(axis->max() < 10.0);
    }

    void hoverAndClickGiveTheStep_data()
    {
        QTest::addColumn<int>("chart");
        QTest::addColumn<qint64>("step");
        QTest::newRow("bubble, middle") << int(MetricsCharts::BubbleChart) << qint64(200);
        QTest::newRow("batch time, first") << int(MetricsCharts::BatchTimeChart) << qint64(100);
        QTest::newRow("loss, last") << int(MetricsCharts::LossChart) << qint64(290);
        QTest::newRow("freeze, near the start") << int(MetricsCharts::FreezeChart) << qint64(120);
    }

    void hoverAndClickGiveTheStep()
    {
        QFETCH(int, chart);
        QFETCH(qint64, step);
        const MetricsHistory history = makeHistory(20, 100, 10); // steps 100, 110, …, 290
        MetricsCharts charts;
        QVERIFY(showOn(charts, history, QSize(1000, 800)));
        QSignalSpy hovered(&charts, &MetricsCharts::stepHovered);
        QSignalSpy activated(&charts, &MetricsCharts::stepActivated);
        QWidget* viewport = charts.chartView(chart)->viewport();

        // 3 px off the step (inwards for the last one): still nearest to it (steps are > 8 px apart).
        QPoint pos = viewportPosition(charts, chart, static_cast<double>(step));
        const QPoint next = viewportPosition(charts, chart, static_cast<double>(step + 10));
        QVERIFY2(next.x() - pos.x() > 8, "steps must be more than 8 px apart for this test");
        pos.rx() += step == 290 ? -3 : 3;
        QTest::mouseMove(viewport, pos);
        QTRY_VERIFY(!hovered.isEmpty());
        QCOMPARE(hovered.last().at(0).value<qint64>(), step);
        // The tooltip names the step; the marker stands on it.
        QTRY_VERIFY(QToolTip::text().startsWith(u"Step %1\n"_qs.arg(step)));
        QChart* qchart = charts.chartView(chart)->chart();
        QGraphicsLineItem* marker = nullptr;
        for (QGraphicsItem* item : qchart->childItems()) {
            if (auto* line = qgraphicsitem_cast<QGraphicsLineItem*>(item))
                marker = line;
        }
        QVERIFY(marker && marker->isVisible());
        const double stepX
            = qchart->mapToPosition(QPointF(static_cast<double>(step), 0.0), charts.series(chart).front()).x();
        QVERIFY(qAbs(marker->line().x1() - stepX) < 0.5);
        QCOMPARE(marker->line().x1(), marker->line().x2());

        // Moving within the same step says nothing new.
        const qsizetype hoverCount = hovered.size();
        QTest::mouseMove(viewport, pos + QPoint(0, 5));
        QCOMPARE(hovered.size(), hoverCount);

        QTest::mouseClick(viewport, Qt::LeftButton, {}, pos);
        QCOMPARE(activated.size(), 1);
        QCOMPARE(activated.at(0).at(0).value<qint64>(), step);

        // Outside the plot area (the chart's title): nothing.
        QTest::mouseClick(viewport, Qt::LeftButton, {}, QPoint(3, 3));
        QCOMPARE(activated.size(), 1);

        // The marker goes with the pointer: off the plot it hides, back on the step it shows, and
        // when the pointer leaves the chart it hides again; the same step hovered anew is said anew.
        QTest::mouseMove(viewport, QPoint(3, 3));
        QVERIFY(!marker->isVisible());
        QTest::mouseMove(viewport, pos);
        QVERIFY(marker->isVisible());
        QEvent leave(QEvent::Leave);
        QApplication::sendEvent(viewport, &leave);
        QVERIFY(!marker->isVisible());
        const qsizetype beforeReturn = hovered.size();
        QTest::mouseMove(viewport, pos + QPoint(0, 2)); // (a move to where the pointer is sends nothing)
        QCOMPARE(hovered.size(), beforeReturn + 1);
        QCOMPARE(hovered.last().at(0).value<qint64>(), step);
    }

    void exportWritesLoadableFiles()
    {
        const MetricsHistory history = makeHistory(500);
        MetricsCharts charts;
        QVERIFY(showOn(charts, history, QSize(1000, 800)));
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        for (int c = 0; c < charts.chartCount(); ++c) {
            QVERIFY(!charts.chartTitle(c).isEmpty());
            const QSize size = charts.chartView(c)->size();
            QString error;
            const QString png = dir.filePath(u"chart%1.png"_qs.arg(c));
            QVERIFY2(charts.exportChart(c, png, &error), qPrintable(error));
            QImage image(png);
            QVERIFY(!image.isNull());
            QCOMPARE(image.size() / image.devicePixelRatio(), size);
            // Not a blank image: the chart's lines and text differ from its background.
            QSet<QRgb> colours;
            for (int y = 0; y < image.height(); y += 3)
                for (int x = 0; x < image.width(); x += 3)
                    colours.insert(image.pixel(x, y));
            QVERIFY(colours.size() > 3);

            const QString svg = dir.filePath(u"chart%1.SVG"_qs.arg(c));
            QVERIFY2(charts.exportChart(c, svg, &error), qPrintable(error));
            QSvgRenderer renderer(svg);
            QVERIFY(renderer.isValid());
            QCOMPARE(renderer.viewBox().size(), size);
        }
        QString error;
        QVERIFY(!charts.exportChart(0, dir.filePath(u"chart.bmp"_qs), &error));
        QVERIFY(error.contains(u"bmp"));
        QVERIFY(!charts.exportChart(7, dir.filePath(u"chart.png"_qs), &error));
        QVERIFY(!charts.exportChart(0, dir.filePath(u"missing/dir/chart.png"_qs), &error));
    }

    void followsThePalette()
    {
        MetricsCharts charts;
        QCOMPARE(charts.chartView(0)->chart()->theme(),
            charts.palette().color(QPalette::Window).lightness() < 128 ? QChart::ChartThemeDark
                                                                       : QChart::ChartThemeLight);
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(30, 30, 30));
        dark.setColor(QPalette::Base, QColor(20, 20, 20));
        dark.setColor(QPalette::Text, QColor(230, 230, 230));
        charts.setPalette(dark);
        for (int c = 0; c < charts.chartCount(); ++c) {
            QCOMPARE(charts.chartView(c)->chart()->theme(), QChart::ChartThemeDark);
            QCOMPARE(charts.chartView(c)->chart()->backgroundBrush().color(), QColor(20, 20, 20));
        }
        QPalette light;
        light.setColor(QPalette::Window, QColor(240, 240, 240));
        charts.setPalette(light);
        QCOMPARE(charts.chartView(0)->chart()->theme(), QChart::ChartThemeLight);
    }

    void historyValueAt()
    {
        const MetricsHistory history = makeHistory(30, 100, 10);
        QCOMPARE(history.stepCount(), std::size_t(30));
        QCOMPARE(history.indexNear(0), qsizetype(0));
        QCOMPARE(history.indexNear(104), qsizetype(0));
        QCOMPARE(history.indexNear(105), qsizetype(0)); // a tie goes to the earlier step
        QCOMPARE(history.indexNear(106), qsizetype(1));
        QCOMPARE(history.indexNear(100'000), qsizetype(29));
        const StepValues values = history.valueAt(212);
        QCOMPARE(values.step, qint64(210));
        QCOMPARE(values.loss, history.loss()[11]);
        QCOMPARE(values.batchMs, history.batchMs()[11]);
        QCOMPARE(values.rankBubbleFraction.size(), std::size_t(4));
        QCOMPARE(values.rankBubbleFraction[2], history.rankBubbleFraction(2)[11]);
        QVERIFY(std::isnan(history.valueAt(120).rankBubbleFraction[3])); // rank 3 not reported yet
        QCOMPARE(values.stageMeanFreezeRatio[1], history.stageMeanFreezeRatio(1)[11]);
        // Evaluations at steps 190 and 290: the latest at or before the step.
        QCOMPARE(values.validationLoss, history.validationLoss()[0]);
        QVERIFY(std::isnan(history.valueAt(180).validationLoss));
        QVERIFY(std::isnan(MetricsHistory().valueAt(5).loss));
    }
};

QTEST_MAIN(TestMetricsCharts)
#include "tst_metricscharts.moc"
