#include "ui/plans_model.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace tfreeze {

PlansModel::PlansModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

std::optional<double> PlansModel::uniformMaxFreeze(const std::string& boundsJson, bool* perStage)
{
    if (perStage != nullptr)
        *perStage = false;
    const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromStdString(boundsJson));
    if (!document.isObject())
        return std::nullopt;
    const QJsonObject bounds = document.object();
    const QJsonArray stages = bounds.value(QLatin1String("stage_max_freeze")).toArray();
    if (!stages.isEmpty()) {
        // Per-stage bounds that are all equal are one ρ after all.
        const double first = stages.first().toDouble(-1.0);
        bool allEqual = first >= 0.0;
        for (const auto& stage : stages)
            allEqual = allEqual && stage.toDouble(-1.0) == first;
        if (allEqual)
            return first;
        if (perStage != nullptr)
            *perStage = true;
        return std::nullopt;
    }
    const QJsonValue maxFreeze = bounds.value(QLatin1String("max_freeze"));
    if (!maxFreeze.isDouble())
        return std::nullopt;
    return maxFreeze.toDouble();
}

void PlansModel::setPlans(std::vector<PlanRecord> plans)
{
    beginResetModel();
    m_plans = std::move(plans);
    QHash<qint64, double> kept;
    for (const PlanRecord& plan : m_plans) {
        const auto found = m_realisedMs.constFind(plan.id);
        if (found != m_realisedMs.constEnd())
            kept.insert(plan.id, *found);
    }
    m_realisedMs = kept;
    endResetModel();
}

void PlansModel::addPlan(const PlanRecord& plan)
{
    const int row = static_cast<int>(m_plans.size());
    beginInsertRows({}, row, row);
    m_plans.push_back(plan);
    endInsertRows();
}

void PlansModel::setRealisedBatchMs(qint64 planId, double ms)
{
    const int row = rowOfPlan(planId);
    if (row < 0)
        return;
    m_realisedMs.insert(planId, ms);
    const QModelIndex cell = index(row, RealisedMsColumn);
    emit dataChanged(cell, cell);
}

qint64 PlansModel::planId(int row) const
{
    return row >= 0 && row < static_cast<int>(m_plans.size()) ? m_plans[static_cast<std::size_t>(row)].id : -1;
}

int PlansModel::rowOfPlan(qint64 planId) const
{
    for (std::size_t row = 0; row < m_plans.size(); ++row) {
        if (m_plans[row].id == planId)
            return static_cast<int>(row);
    }
    return -1;
}

int PlansModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_plans.size());
}

int PlansModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

// NOLINTNEXTLINE(readability-function-cognitive-complexity): one switch over the columns, each a line or two
QVariant PlansModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const PlanRecord& plan = m_plans[static_cast<std::size_t>(index.row())];
    const auto realised = m_realisedMs.constFind(plan.id);
    const bool hasRealised = realised != m_realisedMs.constEnd();
    if (role == PlanIdRole)
        return QVariant::fromValue<qint64>(plan.id);
    if (role == Qt::TextAlignmentRole)
        return index.column() == SourceColumn ? QVariant() : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    const bool sort = role == SortRole;
    const auto milliseconds = [sort](double ms) { return sort ? QVariant(ms) : QVariant(QString::number(ms, 'f', 2)); };
    switch (index.column()) {
    case IdColumn:
        return QVariant::fromValue<qint64>(plan.id);
    case SourceColumn:
        return QString::fromLatin1(planSourceName(plan.source));
    case CreatedAtStepColumn:
        return QVariant::fromValue<qint64>(plan.createdAtStep);
    case AppliedAtStepColumn:
        if (!plan.appliedAtStep)
            return sort ? QVariant() : QVariant(tr("not applied"));
        return QVariant::fromValue<qint64>(*plan.appliedAtStep);
    case MaxFreezeColumn: {
        bool perStage = false;
        const std::optional<double> rho = uniformMaxFreeze(plan.boundsJson, &perStage);
        if (rho)
            return sort ? QVariant(*rho) : QVariant(QString::number(*rho, 'g', 3));
        if (perStage)
            return sort ? QVariant(2.0) : QVariant(tr("per stage")); // after every single ρ
        return {};
    }
    case PredictedMsColumn:
        return milliseconds(plan.batchMsPlanned);
    case NoFreezeMsColumn:
        return milliseconds(plan.batchMsNoFreeze);
    case RealisedMsColumn:
        return hasRealised ? milliseconds(*realised) : QVariant();
    default:
        return {};
    }
}

QVariant PlansModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return QAbstractTableModel::headerData(section, orientation, role);
    const bool tip = role == Qt::ToolTipRole;
    switch (section) {
    case IdColumn:
        return tip ? tr("The plan's number in this run") : tr("Plan");
    case SourceColumn:
        return tip ? tr("Who made it: the engine's own planner, or the studio (Plan, Ctrl+L)") : tr("Source");
    case CreatedAtStepColumn:
        return tip ? tr("The training step at which it was made") : tr("Created at step");
    case AppliedAtStepColumn:
        return tip ? tr("The first step the pipeline ran it (empty: never applied)") : tr("Applied at step");
    case MaxFreezeColumn:
        return tip ? tr("The max freeze ratio ρ of its bounds") : tr("ρ");
    case PredictedMsColumn:
        return tip ? tr("The batch time it predicts, in ms") : tr("Predicted ms");
    case NoFreezeMsColumn:
        return tip ? tr("The batch time of the same profile with nothing frozen, in ms") : tr("No-freeze ms");
    case RealisedMsColumn:
        return tip ? tr("The mean measured batch time while it was applied, in ms") : tr("Realised ms");
    default:
        return {};
    }
}

} // namespace tfreeze
