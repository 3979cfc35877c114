#include "ui/range_statistics_model.h"

namespace tfreeze {

RangeStatisticsModel::RangeStatisticsModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void RangeStatisticsModel::setStatistics(const RangeStatistics& statistics)
{
    beginResetModel();
    m_statistics = statistics;
    endResetModel();
}

bool RangeStatisticsModel::isIdleRow(int row) const
{
    return row >= static_cast<int>(m_statistics.groups.size()) && row < rowCount();
}

int RangeStatisticsModel::rowCount(const QModelIndex& parent) const
{
    if (parent.isValid())
        return 0;
    return static_cast<int>(m_statistics.groups.size() + m_statistics.rankIdleMs.size());
}

int RangeStatisticsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RangeStatisticsModel::rawValue(int row, int column) const
{
    if (isIdleRow(row)) {
        const auto rank = static_cast<std::size_t>(row) - m_statistics.groups.size();
        switch (column) {
        case StageColumn:
            return static_cast<int>(rank);
        case KindColumn:
            return -1;
        case TotalColumn:
            return m_statistics.rankIdleMs[rank];
        default:
            return {};
        }
    }
    const StageKindStatistics& group = m_statistics.groups[static_cast<std::size_t>(row)];
    switch (column) {
    case StageColumn:
        return group.stage;
    case KindColumn:
        return static_cast<int>(group.kind);
    case CountColumn:
        return group.count;
    case TotalColumn:
        return group.totalMs;
    case MeanColumn:
        return group.meanMs;
    case P50Column:
        return group.p50Ms;
    case P95Column:
        return group.p95Ms;
    default:
        return {};
    }
}

QVariant RangeStatisticsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int row = index.row();
    const int column = index.column();
    if (role == RawValueRole)
        return rawValue(row, column);
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(
            column >= CountColumn ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
    if (role != Qt::DisplayRole)
        return {};
    const QVariant raw = rawValue(row, column);
    if (!raw.isValid())
        return {};
    if (column == StageColumn)
        return isIdleRow(row) ? tr("rank %1").arg(raw.toInt()) : tr("stage %1").arg(raw.toInt());
    if (column == KindColumn)
        return isIdleRow(row) ? tr("idle")
                              : QString(QLatin1Char(actionKindLetter(static_cast<ActionKind>(raw.toInt()))));
    if (column == CountColumn)
        return QString::number(raw.toInt());
    return QString::number(raw.toDouble(), 'f', 3);
}

QVariant RangeStatisticsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case StageColumn:
        return tr("Stage");
    case KindColumn:
        return tr("Kind");
    case CountColumn:
        return tr("Count");
    case TotalColumn:
        return tr("Total ms");
    case MeanColumn:
        return tr("Mean ms");
    case P50Column:
        return tr("p50 ms");
    case P95Column:
        return tr("p95 ms");
    default:
        return {};
    }
}

} // namespace tfreeze
