#pragma once

#include "ui/range_statistics.h"

#include <QAbstractTableModel>

namespace tfreeze {

// RangeStatistics as a table: one row per (stage, kind) group, then one "idle" row per rank whose
// Total column holds the rank's idle time in the range (Count, Mean, p50, p95 stay empty there).
class RangeStatisticsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { StageColumn, KindColumn, CountColumn, TotalColumn, MeanColumn, P50Column, P95Column, ColumnCount };
    // The unformatted value of a cell (int or double; for Kind the ActionKind as int, -1 on idle rows),
    // for sorting proxies and tests; DisplayRole holds the formatted text.
    static constexpr int RawValueRole = Qt::UserRole + 1;

    explicit RangeStatisticsModel(QObject* parent = nullptr);

    void setStatistics(const RangeStatistics& statistics);
    const RangeStatistics& statistics() const { return m_statistics; }
    // True for the per-rank idle rows below the groups.
    bool isIdleRow(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QVariant rawValue(int row, int column) const;

    RangeStatistics m_statistics;
};

} // namespace tfreeze
