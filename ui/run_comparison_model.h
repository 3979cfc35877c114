#pragma once

#include "core/plan/action.h"
#include "core/store/run_records.h"

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

#include <optional>

namespace tfreeze {

// Two runs side by side (RunStore::compare): first a row per stage and action kind with its mean
// duration in A and in B (kinds neither run has are left out), then the summary rows: bubble %,
// tokens/s, final loss, steps. Δ = B − A and Δ % = (B − A) / A · 100; a side without the figure, or
// A = 0 for Δ %, leaves the cell empty. ValueRole gives the raw number of a cell.
class RunComparisonModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { MeasureColumn, AColumn, BColumn, DeltaColumn, DeltaPercentColumn, ColumnCount };
    enum Role { ValueRole = Qt::UserRole };
    enum class Measure { StageKindMeanMs, BubblePercent, TokensPerSecond, FinalLoss, Steps };

    struct Row {
        Measure measure = Measure::StageKindMeanMs;
        int stage = -1; // StageKindMeanMs only
        ActionKind kind = ActionKind::Forward; // StageKindMeanMs only
        std::optional<double> a;
        std::optional<double> b;
    };

    explicit RunComparisonModel(QObject* parent = nullptr);

    void setComparison(const RunComparison& comparison);
    void clear();
    const RunComparison& comparison() const { return m_comparison; }
    const Row& rowAt(int row) const { return m_rows.at(row); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    static QString measureName(const Row& row);
    static std::optional<double> value(const Row& row, int column);

    RunComparison m_comparison;
    QVector<Row> m_rows;
};

} // namespace tfreeze
