#pragma once

#include "core/store/run_records.h"

#include <QAbstractTableModel>
#include <QHash>

#include <optional>
#include <vector>

namespace tfreeze {

// The plans of one run (PlanRecord rows), oldest first, beside the batch time the run realised
// under each plan, which only the caller can tell (it has the steps): setRealisedBatchMs.
// DisplayRole is formatted; SortRole gives numbers, and PlanIdRole the plan's id.
class PlansModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        IdColumn,
        SourceColumn,
        CreatedAtStepColumn,
        AppliedAtStepColumn,
        MaxFreezeColumn, // ρ from the plan's bounds
        PredictedMsColumn,
        NoFreezeMsColumn,
        RealisedMsColumn,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole,
        PlanIdRole,
    };

    explicit PlansModel(QObject* parent = nullptr);

    void setPlans(std::vector<PlanRecord> plans);
    void addPlan(const PlanRecord& plan);
    // The mean batch time measured while `planId` was applied; a plan not in the model is ignored.
    void setRealisedBatchMs(qint64 planId, double ms);
    qint64 planId(int row) const;
    int rowOfPlan(qint64 planId) const;

    // ρ of a plan's bounds JSON ({"max_freeze": x, "stage_max_freeze": [...]}): x, or none when
    // the bounds differ per stage or the JSON cannot be read.
    static std::optional<double> uniformMaxFreeze(const std::string& boundsJson, bool* perStage = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<PlanRecord> m_plans;
    QHash<qint64, double> m_realisedMs; // by plan id; kept across setPlans for plans still listed
};

} // namespace tfreeze
