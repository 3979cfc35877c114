#pragma once

#include "core/plan/freeze_plan.h"

#include <QAbstractTableModel>

#include <vector>

namespace tfreeze {

// The per-stage accuracy bounds as a table: one row per stage; columns Stage, Max freeze ρ
// (editable, in [0, 1]), Locked (checkable) and Whole (read-only: the planner freezes the stage's
// backwards all or nothing, Profile::allOrNothingStages). An unlocked stage follows the global ρ;
// a locked one keeps its own value. Editing the ρ of an unlocked stage locks it: the user asked
// for that value, and it would otherwise be overwritten by the next move of the global slider.
class StageBoundsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { StageColumn = 0, MaxFreezeColumn, LockedColumn, WholeColumn, ColumnCount };

    explicit StageBoundsModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    // Rejects (returns false) a ρ that is not a number in [0, 1].
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

    // New stages start unlocked; existing ones keep their lock and value.
    void setStageCount(int stages);
    int stageCount() const { return static_cast<int>(m_stages.size()); }
    // Rejects (returns false) a value outside [0, 1] or NaN.
    bool setGlobalMaxFreeze(double maxFreeze);
    double globalMaxFreeze() const { return m_globalMaxFreeze; }
    bool isLocked(int stage) const;
    double stageMaxFreeze(int stage) const;
    // The stages the document's planner freezes whole; numbers outside the rows are kept (they
    // show once the rows exist) and change nothing of bounds().
    void setWholeStages(std::vector<int> stages);
    bool isWhole(int stage) const;

    // stageMaxFreeze is empty when no stage is locked; actionCap is always empty.
    FreezeBounds bounds() const;
    // A stage whose bound differs from maxFreeze becomes locked at it, the others unlocked; a
    // non-empty stageMaxFreeze sets the stage count. Out-of-range values are clamped to [0, 1].
    void setBounds(const FreezeBounds& bounds);

signals:
    // After every change that alters bounds(), once: user edits and the setters alike.
    void boundsChanged();

private:
    struct StageBound {
        double maxFreeze = 0.0;
        bool locked = false;
    };

    void emitStageRows(int firstColumn, int lastColumn);
    // data() of the read-only Whole column: its tick and its tooltip.
    QVariant wholeData(int stage, int role) const;

    std::vector<StageBound> m_stages;
    std::vector<int> m_wholeStages; // sorted
    double m_globalMaxFreeze = 0.9;
};

} // namespace tfreeze
