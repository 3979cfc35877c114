#include "ui/bounds_panel.h"

#include "ui/stage_bounds_model.h"
#include "ui/tradeoff_chart.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QSlider>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tfreeze {

namespace {

// The default editor of a double accepts any value with two decimals; a ρ is in [0, 1] with
// the slider's resolution.
class RatioEditorDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        if (index.column() != StageBoundsModel::MaxFreezeColumn)
            return QStyledItemDelegate::createEditor(parent, option, index);
        auto* editor = new QDoubleSpinBox(parent);
        editor->setFrame(false);
        editor->setRange(0.0, 1.0);
        editor->setDecimals(3);
        editor->setSingleStep(0.01);
        return editor;
    }
};

} // namespace

BoundsPanel::BoundsPanel(QWidget* parent)
    : QWidget(parent)
    , m_model(new StageBoundsModel(this))
{
    m_slider = new QSlider(Qt::Horizontal, this);
    m_slider->setRange(0, sliderSteps);
    m_slider->setPageStep(sliderSteps / 20);
    m_slider->setToolTip(tr("Max freeze ratio ρ of every stage that is not locked"));
    m_spin = new QDoubleSpinBox(this);
    m_spin->setRange(0.0, 1.0);
    m_spin->setDecimals(3);
    m_spin->setSingleStep(0.01);
    // One plan per typed value, not one per keystroke.
    m_spin->setKeyboardTracking(false);

    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->setItemDelegate(new RatioEditorDelegate(m_table));
    m_table->verticalHeader()->hide();
    // The bound takes the room; the narrow columns (a stage number, two ticks) fit their headers.
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(StageBoundsModel::MaxFreezeColumn, QHeaderView::Stretch);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);

    m_ramp = new QSpinBox(this);
    m_ramp->setRange(0, 1'000'000);
    m_ramp->setSuffix(tr(" steps"));
    m_ramp->setKeyboardTracking(false);
    m_ramp->setToolTip(tr("Steps over which a new plan's freeze ratios ramp up from zero"));

    m_replan = new QCheckBox(tr("Re-plan on drift over"), this);
    m_driftPercent = new QDoubleSpinBox(this);
    m_driftPercent->setRange(1.0, 100.0);
    m_driftPercent->setDecimals(1);
    m_driftPercent->setValue(10.0);
    m_driftPercent->setSuffix(QStringLiteral(" %"));
    m_driftPercent->setKeyboardTracking(false);
    m_driftPercent->setEnabled(false);
    m_driftPercent->setToolTip(tr("Re-plan when the measured batch time drifts this far from the prediction"));

    m_tradeoff = new TradeoffChart(this);

    auto* rhoRow = new QHBoxLayout;
    rhoRow->addWidget(m_slider, 1);
    rhoRow->addWidget(m_spin);
    auto* driftRow = new QHBoxLayout;
    driftRow->addWidget(m_replan);
    driftRow->addWidget(m_driftPercent);
    driftRow->addStretch(1);
    auto* form = new QFormLayout;
    form->addRow(tr("Max freeze ρ"), rhoRow);
    form->addRow(tr("Ramp"), m_ramp);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_table, 1);
    layout->addLayout(driftRow);
    layout->addWidget(m_tradeoff, 2);

    showGlobal(m_model->globalMaxFreeze());

    connect(m_slider, &QSlider::valueChanged, this, &BoundsPanel::onSliderMoved);
    connect(m_spin, &QDoubleSpinBox::valueChanged, this, &BoundsPanel::onSpinChanged);
    connect(m_model, &StageBoundsModel::boundsChanged, this, &BoundsPanel::onModelChanged);
    connect(m_ramp, &QSpinBox::valueChanged, this, [this](int steps) {
        if (!m_applying)
            emit rampStepsChanged(steps);
    });
    connect(m_replan, &QCheckBox::toggled, this, &BoundsPanel::onDriftControlsChanged);
    connect(m_driftPercent, &QDoubleSpinBox::valueChanged, this, &BoundsPanel::onDriftControlsChanged);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &BoundsPanel::fitTableToStages);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &BoundsPanel::fitTableToStages);
    connect(m_model, &QAbstractItemModel::modelReset, this, &BoundsPanel::fitTableToStages);
    fitTableToStages();
}

// The table shares the dock with the trade-off chart, which would otherwise take two thirds of it
// and leave room for three stages: a 4-rank pipeline had its last stage scrolled out of sight.
// Every stage up to visibleStageRows is shown; longer tables scroll.
void BoundsPanel::fitTableToStages()
{
    const int rows = std::clamp(m_model->rowCount(), 1, visibleStageRows);
    const int height = m_table->horizontalHeader()->sizeHint().height()
        + rows * m_table->verticalHeader()->defaultSectionSize() + 2 * m_table->frameWidth();
    m_table->setMinimumHeight(height);
}

void BoundsPanel::showGlobal(double maxFreeze)
{
    const QSignalBlocker sliderQuiet(m_slider);
    const QSignalBlocker spinQuiet(m_spin);
    m_slider->setValue(static_cast<int>(std::lround(maxFreeze * sliderSteps)));
    m_spin->setValue(maxFreeze);
}

void BoundsPanel::onSliderMoved(int value)
{
    const double maxFreeze = static_cast<double>(value) / sliderSteps;
    {
        const QSignalBlocker spinQuiet(m_spin);
        m_spin->setValue(maxFreeze);
    }
    m_model->setGlobalMaxFreeze(maxFreeze); // emits boundsChanged once through onModelChanged
}

void BoundsPanel::onSpinChanged(double value)
{
    {
        const QSignalBlocker sliderQuiet(m_slider);
        m_slider->setValue(static_cast<int>(std::lround(value * sliderSteps)));
    }
    m_model->setGlobalMaxFreeze(value);
}

void BoundsPanel::onModelChanged()
{
    if (!m_applying)
        emit boundsChanged(m_model->bounds());
}

void BoundsPanel::onDriftControlsChanged()
{
    m_driftPercent->setEnabled(m_replan->isChecked());
    if (!m_applying)
        emit replanDriftChanged(replanDrift());
}

void BoundsPanel::setStageCount(int stages)
{
    m_applying = true;
    m_model->setStageCount(stages);
    m_applying = false;
}

void BoundsPanel::setWholeStages(const std::vector<int>& stages) { m_model->setWholeStages(stages); }

FreezeBounds BoundsPanel::bounds() const { return m_model->bounds(); }

void BoundsPanel::setBounds(const FreezeBounds& bounds)
{
    m_applying = true;
    m_model->setBounds(bounds);
    showGlobal(m_model->globalMaxFreeze());
    m_applying = false;
}

int BoundsPanel::rampSteps() const { return m_ramp->value(); }

void BoundsPanel::setRampSteps(int steps)
{
    m_applying = true;
    m_ramp->setValue(steps);
    m_applying = false;
}

double BoundsPanel::replanDrift() const { return m_replan->isChecked() ? m_driftPercent->value() / 100.0 : 0.0; }

void BoundsPanel::setReplanDrift(double fraction)
{
    m_applying = true;
    const bool on = std::isfinite(fraction) && fraction > 0.0;
    m_replan->setChecked(on);
    if (on)
        m_driftPercent->setValue(fraction * 100.0);
    m_driftPercent->setEnabled(on);
    m_applying = false;
}

} // namespace tfreeze
