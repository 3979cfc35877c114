#pragma once

#include "core/plan/freeze_plan.h"
#include "ui/telemetry_metatypes.h" // before any signal uses these types

#include <QWidget>

class QCheckBox;
class QDoubleSpinBox;
class QSlider;
class QSpinBox;
class QTableView;

namespace tfreeze {

class StageBoundsModel;
class TradeoffChart;

// The accuracy bounds the user sets (a dock of the main window): the global max freeze ρ as a
// slider and a spin box kept in sync, the per-stage table, the progressive-ramp length, re-plan
// on drift, and the trade-off curve. Signals report user changes only; the setters are silent so
// that a value pushed from elsewhere (a loaded plan) never echoes back.
class BoundsPanel : public QWidget {
    Q_OBJECT

public:
    static constexpr int sliderSteps = 1000; // slider 0..1000 ↔ ρ 0..1
    // The stage table is at least this many rows tall (fewer when there are fewer stages).
    static constexpr int visibleStageRows = 6;

    explicit BoundsPanel(QWidget* parent = nullptr);

    void setStageCount(int stages);
    // Marks the stages the planner freezes whole (StageBoundsModel::WholeColumn).
    void setWholeStages(const std::vector<int>& stages);
    FreezeBounds bounds() const;
    void setBounds(const FreezeBounds& bounds);
    int rampSteps() const;
    void setRampSteps(int steps);
    // The drift that triggers a re-plan as a fraction; 0 when re-planning on drift is off.
    double replanDrift() const;
    void setReplanDrift(double fraction);

    TradeoffChart* tradeoffChart() const { return m_tradeoff; }
    StageBoundsModel* stageModel() const { return m_model; }
    QSlider* maxFreezeSlider() const { return m_slider; }
    QDoubleSpinBox* maxFreezeSpinBox() const { return m_spin; }
    QTableView* stageTable() const { return m_table; }
    QSpinBox* rampStepsSpinBox() const { return m_ramp; }
    QCheckBox* replanDriftCheckBox() const { return m_replan; }
    QDoubleSpinBox* replanDriftPercentSpinBox() const { return m_driftPercent; }

signals:
    void boundsChanged(const tfreeze::FreezeBounds& bounds);
    void rampStepsChanged(int steps);
    void replanDriftChanged(double fraction);

private:
    void onSliderMoved(int value);
    void onSpinChanged(double value);
    void onModelChanged();
    void onDriftControlsChanged();
    void showGlobal(double maxFreeze);
    void fitTableToStages();

    StageBoundsModel* m_model = nullptr;
    QSlider* m_slider = nullptr;
    QDoubleSpinBox* m_spin = nullptr;
    QTableView* m_table = nullptr;
    QSpinBox* m_ramp = nullptr;
    QCheckBox* m_replan = nullptr;
    QDoubleSpinBox* m_driftPercent = nullptr;
    TradeoffChart* m_tradeoff = nullptr;
    // True while a setter updates the widgets: their change signals must not reach the user.
    bool m_applying = false;
};

} // namespace tfreeze
