#pragma once

#include "ui/run_history_loader.h"

#include <QAbstractTableModel>
#include <QVector>

namespace tfreeze {

// The run history as a table: one row per run, newest first as loaded. DisplayRole is formatted
// text; SortRole is the raw value (numbers as numbers, so 900 tokens/s sorts below 1,200), which
// the browser's proxy sorts by. Name and Notes are editable: setData updates the row at once and
// asks for the store write through renameRequested/notesRequested (the model never writes the
// database itself, so it stays usable without one).
class RunHistoryModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        NameColumn,
        CreatedColumn,
        StatusColumn,
        ScheduleColumn,
        ShapeColumn, // ranks × microbatches
        FreezerColumn,
        MaxFreezeColumn, // ρ
        StepsColumn,
        FinalLossColumn,
        TokensPerSecondColumn,
        NotesColumn,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole,
        RunIdRole,
    };

    explicit RunHistoryModel(QObject* parent = nullptr);

    void setRows(const QVector<RunHistoryRow>& rows);
    const QVector<RunHistoryRow>& rows() const { return m_rows; }
    qint64 runId(int row) const;
    // The row of a run, or -1.
    int rowOfRun(qint64 runId) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

signals:
    void renameRequested(qint64 runId, const QString& name);
    void notesRequested(qint64 runId, const QString& notes);

private:
    static QVariant displayValue(const RunHistoryRow& row, int column);
    static QVariant sortValue(const RunHistoryRow& row, int column);

    QVector<RunHistoryRow> m_rows;
};

} // namespace tfreeze
