#include "ui/run_history_model.h"

#include <QColor>
#include <QGuiApplication>
#include <QLocale>
#include <QPalette>

namespace tfreeze {

namespace {

// A colour for failed runs that reads on the palette's base: a dark red on light themes, a light
// one on dark themes.
QColor failureColour(const QPalette& palette)
{
    return palette.color(QPalette::Base).lightness() < 128 ? QColor(255, 120, 120) : QColor(176, 0, 32);
}

QString text(const std::string& value) { return QString::fromStdString(value); }

} // namespace

RunHistoryModel::RunHistoryModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void RunHistoryModel::setRows(const QVector<RunHistoryRow>& rows)
{
    beginResetModel();
    m_rows = rows;
    endResetModel();
}

qint64 RunHistoryModel::runId(int row) const { return row >= 0 && row < m_rows.size() ? m_rows[row].record.id : -1; }

int RunHistoryModel::rowOfRun(qint64 runId) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows[row].record.id == runId)
            return row;
    }
    return -1;
}

int RunHistoryModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

int RunHistoryModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunHistoryModel::displayValue(const RunHistoryRow& row, int column)
{
    const QLocale locale;
    switch (column) {
    case NameColumn:
        return text(row.record.name);
    case CreatedColumn:
        // "2025-01-31T12:00:00.000Z" → "2025-01-31 12:00:00": the full precision stays in the tooltip.
        return text(row.record.created.substr(0, 19)).replace(QLatin1Char('T'), QLatin1Char(' '));
    case StatusColumn:
        return QString::fromLatin1(runStatusName(row.record.status));
    case ScheduleColumn:
        return row.configParsed ? text(row.scheduleKind) : QString();
    case ShapeColumn:
        return row.configParsed ? QStringLiteral("%1 × %2").arg(row.ranks).arg(row.microbatches) : QString();
    case FreezerColumn:
        return row.configParsed ? text(row.freezer) : QString();
    case MaxFreezeColumn:
        if (!row.configParsed)
            return QString();
        return row.perStageBounds ? tr("per stage") : QString::number(row.maxFreeze, 'g', 3);
    case StepsColumn:
        return locale.toString(row.record.stepCount);
    case FinalLossColumn:
        return row.finalLoss ? QString::number(*row.finalLoss, 'f', 4) : QString();
    case TokensPerSecondColumn:
        return row.meanTokensPerSecond ? locale.toString(*row.meanTokensPerSecond, 'f', 0) : QString();
    case NotesColumn:
        // One line in the table; the editor and the tooltip show all of it.
        return text(row.record.notes).section(QLatin1Char('\n'), 0, 0);
    default:
        return {};
    }
}

QVariant RunHistoryModel::sortValue(const RunHistoryRow& row, int column)
{
    switch (column) {
    case ShapeColumn:
        // Ranks first, then microbatches: 4 × 16 sorts after 4 × 8.
        return row.configParsed ? QVariant(qint64(row.ranks) * 1'000'000 + row.microbatches) : QVariant();
    case MaxFreezeColumn:
        // "per stage" after every single ρ.
        return row.configParsed ? QVariant(row.perStageBounds ? 2.0 : row.maxFreeze) : QVariant();
    case StepsColumn:
        return QVariant::fromValue<qint64>(row.record.stepCount);
    case FinalLossColumn:
        return row.finalLoss ? QVariant(*row.finalLoss) : QVariant();
    case TokensPerSecondColumn:
        return row.meanTokensPerSecond ? QVariant(*row.meanTokensPerSecond) : QVariant();
    case CreatedColumn:
        // ISO 8601 text sorts as time.
        return text(row.record.created);
    case NotesColumn:
        return text(row.record.notes);
    default:
        return displayValue(row, column);
    }
}

QVariant RunHistoryModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunHistoryRow& row = m_rows[index.row()];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayValue(row, column);
    case Qt::EditRole:
        if (column == NameColumn)
            return text(row.record.name);
        if (column == NotesColumn)
            return text(row.record.notes);
        return displayValue(row, column);
    case SortRole:
        return sortValue(row, column);
    case RunIdRole:
        return QVariant::fromValue<qint64>(row.record.id);
    case Qt::ToolTipRole:
        if (column == StatusColumn && row.record.failureReason)
            return text(*row.record.failureReason);
        if (column == NotesColumn && !row.record.notes.empty())
            return text(row.record.notes);
        if (column == CreatedColumn)
            return text(row.record.created);
        if ((column == ScheduleColumn || column == FreezerColumn) && !row.configParsed)
            return tr("The run's config could not be read by this version");
        return {};
    case Qt::ForegroundRole: {
        if (column != StatusColumn)
            return {};
        const QPalette palette = QGuiApplication::palette();
        switch (row.record.status) {
        case RunStatus::Failed:
            return failureColour(palette);
        case RunStatus::Running:
            return palette.color(QPalette::Link);
        case RunStatus::Interrupted:
        case RunStatus::Stopped:
            return palette.color(QPalette::PlaceholderText);
        case RunStatus::Finished:
            return palette.color(QPalette::Text);
        }
        return {};
    }
    case Qt::TextAlignmentRole:
        switch (column) {
        case MaxFreezeColumn:
        case StepsColumn:
        case FinalLossColumn:
        case TokensPerSecondColumn:
            return { Qt::AlignRight | Qt::AlignVCenter };
        default:
            return {};
        }
    default:
        return {};
    }
}

QVariant RunHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case NameColumn:
        return tr("Name");
    case CreatedColumn:
        return tr("Created");
    case StatusColumn:
        return tr("Status");
    case ScheduleColumn:
        return tr("Schedule");
    case ShapeColumn:
        return tr("Ranks × MB");
    case FreezerColumn:
        return tr("Freezer");
    case MaxFreezeColumn:
        return tr("ρ");
    case StepsColumn:
        return tr("Steps");
    case FinalLossColumn:
        return tr("Final loss");
    case TokensPerSecondColumn:
        return tr("Tokens/s");
    case NotesColumn:
        return tr("Notes");
    default:
        return {};
    }
}

Qt::ItemFlags RunHistoryModel::flags(const QModelIndex& index) const
{
    Qt::ItemFlags flags = QAbstractTableModel::flags(index);
    if (index.isValid() && (index.column() == NameColumn || index.column() == NotesColumn))
        flags |= Qt::ItemIsEditable;
    return flags;
}

bool RunHistoryModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role != Qt::EditRole || !checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    RunHistoryRow& row = m_rows[index.row()];
    const QString newText = value.toString();
    if (index.column() == NameColumn) {
        // A run keeps a name: an empty one would leave nothing to find it by in the list.
        if (newText.trimmed().isEmpty())
            return false;
        if (newText.toStdString() == row.record.name)
            return true;
        row.record.name = newText.toStdString();
        emit dataChanged(index, index);
        emit renameRequested(row.record.id, newText);
        return true;
    }
    if (index.column() == NotesColumn) {
        if (newText.toStdString() == row.record.notes)
            return true;
        row.record.notes = newText.toStdString();
        emit dataChanged(index, index);
        emit notesRequested(row.record.id, newText);
        return true;
    }
    return false;
}

} // namespace tfreeze
