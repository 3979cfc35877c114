#pragma once

#include <QList>
#include <QString>
#include <QWidget>

#include <vector>

class QChart;
class QChartView;
class QGraphicsLineItem;
class QValueAxis;
class QXYSeries;

namespace tfreeze {

class MetricsHistory;

// The four charts of a run's metrics, over steps: bubble occupancy per rank (%), batch time (ms)
// with tokens/s on a second axis, training and validation loss, and the mean freeze ratio per
// stage. refresh() replaces every series at once with the history downsampled to about the
// plot's pixel width (never a point-by-point append on a visible chart: quadratic in Qt Charts).
// Hovering a chart shows the values at the step under the cursor; a click activates that step.
class MetricsCharts : public QWidget {
    Q_OBJECT

public:
    enum Chart { BubbleChart = 0, BatchTimeChart, LossChart, FreezeChart };

    // Round tick values at least this far apart. A small-font label is about 11 px tall (Qt Charts
    // hides one that would overlap its neighbour); 18 px leaves a gap and still puts three ticks
    // on the 70 px plot of the default window. A step number ("10000") needs about 70 px across.
    static constexpr double kMinValueTickSpacingPx = 18.0;
    static constexpr double kMinStepTickSpacingPx = 70.0;

    explicit MetricsCharts(QWidget* parent = nullptr);
    ~MetricsCharts() override;

    // Not owned; must outlive this widget or be replaced first. nullptr empties the charts.
    void setHistory(const MetricsHistory* history);
    const MetricsHistory* history() const { return m_history; }
    // Re-reads the history; cheap enough for ~30 calls a second with 10,000+ steps.
    void refresh();

    int chartCount() const;
    QString chartTitle(int index) const;
    QChartView* chartView(int index) const;
    // The series of one chart, in legend order (per rank/stage for the bubble and freeze charts).
    QList<QXYSeries*> series(int index) const;
    // The most points any series of that chart got at the last refresh: four per pixel of the
    // chart's width (one min/max bucket a pixel column), at least 400.
    int pointCap(int index) const;
    // PNG through QWidget::grab(), SVG through QSvgGenerator, chosen by the suffix of `path`.
    bool exportChart(int index, const QString& path, QString* error) const;

signals:
    // When the step under the cursor changes (not on every mouse move).
    void stepHovered(qint64 step);
    void stepActivated(qint64 step);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    struct ChartParts {
        QChartView* view = nullptr;
        QChart* chart = nullptr;
        QValueAxis* xAxis = nullptr;
        QValueAxis* yAxis = nullptr;
        QValueAxis* secondYAxis = nullptr; // tokens/s on the batch time chart
        QList<QXYSeries*> series;
        QGraphicsLineItem* marker = nullptr;
        int pointCap = 0; // used by the last refresh
    };

    void buildChart(Chart index, const QString& title, const QString& yTitle);
    // Round ticks on the chart's value axes, as many as its plot area has room for, and on every
    // chart's step axis.
    void applyTicks(int index);
    double narrowestPlotWidth() const;
    void applyTheme();
    int pointCapForWidth(int index) const;
    static void ensureSeriesCount(ChartParts& parts, int count, const QString& namePattern);
    static QXYSeries* addSeries(ChartParts& parts, const QString& name, QValueAxis* yAxis);
    void fillBubbleChart();
    void fillBatchTimeChart();
    void fillLossChart();
    void fillFreezeChart();
    qint64 stepAt(int index, const QPoint& viewportPos, bool* inPlot) const;
    void showHover(int index, const QPoint& viewportPos);
    void hideHover(int index);
    QString hoverText(int index, qint64 step) const;
    int chartIndexOfViewport(QObject* viewport) const;

    const MetricsHistory* m_history = nullptr;
    std::vector<ChartParts> m_charts;
    qint64 m_hoveredStep = -1; // -1: none; stepHovered is emitted when it changes
};

} // namespace tfreeze
