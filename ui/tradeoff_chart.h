#pragma once

#include <QChartView>
#include <QList>
#include <QPointF>

class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace tfreeze {

// The trade-off the user is choosing on: predicted batch time (ms) against the max freeze ratio
// ρ, with the current plan marked. Sized for a dock: no title, a compact legend, few ticks.
// The optional reference lines are the batch times with nothing frozen (the curve at ρ = 0) and
// everything frozen (the curve at ρ = 1).
class TradeoffChart : public QChartView {
    Q_OBJECT

public:
    explicit TradeoffChart(QWidget* parent = nullptr);

    // Points (ρ, batch ms), ρ increasing; non-finite points are dropped.
    void setCurve(const QList<QPointF>& curve);
    QList<QPointF> curve() const;
    void setCurrentPoint(double rho, double batchMs);
    void clearCurrentPoint();
    // Empty when none is set.
    QList<QPointF> currentPoint() const;
    void setReferenceLinesVisible(bool visible);
    bool referenceLinesVisible() const { return m_referencesVisible; }

    QValueAxis* rhoAxis() const { return m_rhoAxis; }
    QValueAxis* batchMsAxis() const { return m_batchAxis; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyTheme();
    void updateReferencesAndAxes();
    // Round ticks on the batch axis, as many as the plot's height has room for.
    void applyBatchTicks();

    QLineSeries* m_curve = nullptr;
    QScatterSeries* m_current = nullptr;
    QLineSeries* m_noFreeze = nullptr;
    QLineSeries* m_allFrozen = nullptr;
    QValueAxis* m_rhoAxis = nullptr;
    QValueAxis* m_batchAxis = nullptr;
    bool m_referencesVisible = true;
};

} // namespace tfreeze
