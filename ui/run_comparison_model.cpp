#include "ui/run_comparison_model.h"

#include <algorithm>

namespace tfreeze {

namespace {

std::optional<double> stageKindMean(const RunSummary& summary, std::size_t stage, std::size_t kind)
{
    if (stage >= summary.stageKindMeanMs.size() || kind >= summary.stageKindMeanMs[stage].size())
        return std::nullopt;
    const double mean = summary.stageKindMeanMs[stage][kind];
    // Negative: the run has no span of that kind (RunSummary's convention).
    return mean < 0.0 ? std::nullopt : std::optional<double>(mean);
}

std::optional<double> whenHasSteps(const RunSummary& summary, double value)
{
    return summary.steps > 0 ? std::optional<double>(value) : std::nullopt;
}

} // namespace

RunComparisonModel::RunComparisonModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void RunComparisonModel::clear()
{
    beginResetModel();
    m_comparison = {};
    m_rows.clear();
    endResetModel();
}

void RunComparisonModel::setComparison(const RunComparison& comparison)
{
    beginResetModel();
    m_comparison = comparison;
    m_rows.clear();
    const RunSummary& a = comparison.a;
    const RunSummary& b = comparison.b;
    const std::size_t stages = std::max(a.stageKindMeanMs.size(), b.stageKindMeanMs.size());
    for (std::size_t stage = 0; stage < stages; ++stage) {
        for (std::size_t kind = 0; kind < static_cast<std::size_t>(kActionKindCount); ++kind) {
            Row row;
            row.stage = static_cast<int>(stage);
            row.kind = static_cast<ActionKind>(kind);
            row.a = stageKindMean(a, stage, kind);
            row.b = stageKindMean(b, stage, kind);
            if (row.a || row.b)
                m_rows.append(row);
        }
    }
    m_rows.append({ Measure::BubblePercent, -1, ActionKind::Forward, whenHasSteps(a, a.meanBubbleFraction * 100.0),
        whenHasSteps(b, b.meanBubbleFraction * 100.0) });
    m_rows.append({ Measure::TokensPerSecond, -1, ActionKind::Forward, whenHasSteps(a, a.meanTokensPerSecond),
        whenHasSteps(b, b.meanTokensPerSecond) });
    m_rows.append({ Measure::FinalLoss, -1, ActionKind::Forward, a.finalLoss, b.finalLoss });
    m_rows.append(
        { Measure::Steps, -1, ActionKind::Forward, static_cast<double>(a.steps), static_cast<double>(b.steps) });
    endResetModel();
}

int RunComparisonModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }

int RunComparisonModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString RunComparisonModel::measureName(const Row& row)
{
    switch (row.measure) {
    case Measure::StageKindMeanMs:
        return tr("Stage %1 %2 mean (ms)").arg(row.stage).arg(QLatin1Char(actionKindLetter(row.kind)));
    case Measure::BubblePercent:
        return tr("Bubble % (mean)");
    case Measure::TokensPerSecond:
        return tr("Tokens/s (mean)");
    case Measure::FinalLoss:
        return tr("Final loss");
    case Measure::Steps:
        return tr("Steps");
    }
    return {};
}

std::optional<double> RunComparisonModel::value(const Row& row, int column)
{
    switch (column) {
    case AColumn:
        return row.a;
    case BColumn:
        return row.b;
    case DeltaColumn:
        if (!row.a || !row.b)
            return std::nullopt;
        return *row.b - *row.a;
    case DeltaPercentColumn:
        if (!row.a || !row.b || *row.a == 0.0)
            return std::nullopt;
        return (*row.b - *row.a) / *row.a * 100.0;
    default:
        return std::nullopt;
    }
}

QVariant RunComparisonModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row& row = m_rows[index.row()];
    if (index.column() == MeasureColumn)
        return role == Qt::DisplayRole || role == ValueRole ? QVariant(measureName(row)) : QVariant();
    if (role == Qt::TextAlignmentRole)
        return { Qt::AlignRight | Qt::AlignVCenter };
    const std::optional<double> number = value(row, index.column());
    if (role == ValueRole)
        return number ? QVariant(*number) : QVariant();
    if (role != Qt::DisplayRole || !number)
        return {};
    if (index.column() == DeltaPercentColumn)
        return QStringLiteral("%1%2 %").arg(*number >= 0.0 ? QStringLiteral("+") : QString()).arg(*number, 0, 'f', 1);
    int decimals = 3;
    switch (row.measure) {
    case Measure::StageKindMeanMs:
        decimals = 3;
        break;
    case Measure::BubblePercent:
        decimals = 2;
        break;
    case Measure::TokensPerSecond:
        decimals = 1;
        break;
    case Measure::FinalLoss:
        decimals = 4;
        break;
    case Measure::Steps:
        decimals = 0;
        break;
    }
    const QString sign = index.column() == DeltaColumn && *number >= 0.0 ? QStringLiteral("+") : QString();
    return QString(sign + QString::number(*number, 'f', decimals));
}

QVariant RunComparisonModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case MeasureColumn:
        return tr("Measure");
    case AColumn:
        return tr("A (run %1)").arg(m_comparison.a.run);
    case BColumn:
        return tr("B (run %1)").arg(m_comparison.b.run);
    case DeltaColumn:
        return tr("Δ (B − A)");
    case DeltaPercentColumn:
        return tr("Δ %");
    default:
        return {};
    }
}

} // namespace tfreeze
