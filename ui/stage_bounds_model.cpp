#include "ui/stage_bounds_model.h"

#include <algorithm>
#include <cmath>

namespace tfreeze {

namespace {

bool validRatio(double value) { return std::isfinite(value) && value >= 0.0 && value <= 1.0; }

double clampRatio(double value) { return std::isfinite(value) ? std::clamp(value, 0.0, 1.0) : 0.0; }

} // namespace

StageBoundsModel::StageBoundsModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

int StageBoundsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_stages.size());
}

int StageBoundsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant StageBoundsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int stage = index.row();
    const StageBound& bound = m_stages[static_cast<std::size_t>(stage)];
    switch (index.column()) {
    case StageColumn:
        if (role == Qt::DisplayRole)
            return stage;
        break;
    case MaxFreezeColumn:
        if (role == Qt::DisplayRole)
            return QString::number(stageMaxFreeze(stage), 'f', 3);
        if (role == Qt::EditRole)
            return stageMaxFreeze(stage);
        if (role == Qt::ToolTipRole)
            return bound.locked ? tr("Locked: keeps its own bound") : tr("Follows the global max freeze ρ");
        break;
    case LockedColumn:
        if (role == Qt::CheckStateRole)
            return bound.locked ? Qt::Checked : Qt::Unchecked;
        break;
    case WholeColumn:
        return wholeData(stage, role);
    default:
        break;
    }
    if (role == Qt::TextAlignmentRole && index.column() != LockedColumn)
        return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
    return {};
}

QVariant StageBoundsModel::wholeData(int stage, int role) const
{
    if (role == Qt::CheckStateRole)
        return isWhole(stage) ? Qt::Checked : Qt::Unchecked;
    if (role == Qt::ToolTipRole)
        return isWhole(stage)
            ? tr("Frozen whole: each backward of this stage freezes all of its tensors or none, because "
                 "a partly frozen one costs more than the plan's line from nothing to everything frozen; "
                 "ρ bounds the share of its backwards frozen")
            : tr("Frozen in parts: each backward freezes round(r·n) of the stage's n tensors");
    return {};
}

QVariant StageBoundsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::ToolTipRole && section == WholeColumn)
        return tr("Stages the planner freezes all or nothing (all_or_nothing_stages)");
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case StageColumn:
        return tr("Stage");
    case MaxFreezeColumn:
        return tr("Max freeze ρ");
    case LockedColumn:
        return tr("Locked");
    case WholeColumn:
        return tr("Whole");
    default:
        return {};
    }
}

Qt::ItemFlags StageBoundsModel::flags(const QModelIndex& index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags flags = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.column() == MaxFreezeColumn)
        flags |= Qt::ItemIsEditable;
    if (index.column() == LockedColumn)
        flags |= Qt::ItemIsUserCheckable;
    return flags;
}

bool StageBoundsModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return false;
    StageBound& bound = m_stages[static_cast<std::size_t>(index.row())];
    if (index.column() == MaxFreezeColumn && role == Qt::EditRole) {
        bool ok = false;
        const double ratio = value.toDouble(&ok);
        if (!ok || !validRatio(ratio))
            return false;
        if (bound.locked && bound.maxFreeze == ratio)
            return true;
        bound.maxFreeze = ratio;
        bound.locked = true;
        emit dataChanged(index, this->index(index.row(), LockedColumn));
        emit boundsChanged();
        return true;
    }
    if (index.column() == LockedColumn && role == Qt::CheckStateRole) {
        const bool locked = value.toInt() == Qt::Checked;
        if (locked == bound.locked)
            return true;
        bound.locked = locked;
        // Locking keeps the value on show, the global one.
        if (locked)
            bound.maxFreeze = m_globalMaxFreeze;
        emit dataChanged(this->index(index.row(), MaxFreezeColumn), index);
        emit boundsChanged();
        return true;
    }
    return false;
}

void StageBoundsModel::setStageCount(int stages)
{
    stages = std::max(stages, 0);
    const int current = stageCount();
    if (stages == current)
        return;
    if (stages > current) {
        beginInsertRows({}, current, stages - 1);
        m_stages.resize(static_cast<std::size_t>(stages), StageBound { m_globalMaxFreeze, false });
        endInsertRows();
    } else {
        beginRemoveRows({}, stages, current - 1);
        m_stages.resize(static_cast<std::size_t>(stages));
        endRemoveRows();
    }
    emit boundsChanged();
}

bool StageBoundsModel::setGlobalMaxFreeze(double maxFreeze)
{
    if (!validRatio(maxFreeze))
        return false;
    if (maxFreeze == m_globalMaxFreeze)
        return true;
    m_globalMaxFreeze = maxFreeze;
    emitStageRows(MaxFreezeColumn, MaxFreezeColumn);
    emit boundsChanged();
    return true;
}

bool StageBoundsModel::isLocked(int stage) const { return m_stages.at(static_cast<std::size_t>(stage)).locked; }

void StageBoundsModel::setWholeStages(std::vector<int> stages)
{
    std::sort(stages.begin(), stages.end());
    stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
    if (stages == m_wholeStages)
        return;
    m_wholeStages = std::move(stages);
    emitStageRows(WholeColumn, WholeColumn);
}

bool StageBoundsModel::isWhole(int stage) const
{
    return std::binary_search(m_wholeStages.begin(), m_wholeStages.end(), stage);
}

double StageBoundsModel::stageMaxFreeze(int stage) const
{
    const StageBound& bound = m_stages.at(static_cast<std::size_t>(stage));
    return bound.locked ? bound.maxFreeze : m_globalMaxFreeze;
}

FreezeBounds StageBoundsModel::bounds() const
{
    FreezeBounds bounds;
    bounds.maxFreeze = m_globalMaxFreeze;
    const bool anyLocked = std::any_of(m_stages.begin(), m_stages.end(), [](const StageBound& b) { return b.locked; });
    if (anyLocked) {
        for (int s = 0; s < stageCount(); ++s)
            bounds.stageMaxFreeze.push_back(stageMaxFreeze(s));
    }
    return bounds;
}

void StageBoundsModel::setBounds(const FreezeBounds& bounds)
{
    // One boundsChanged at the end, and only if the bounds differ.
    const FreezeBounds before = this->bounds();
    const int oldCount = stageCount();
    m_globalMaxFreeze = clampRatio(bounds.maxFreeze);
    if (!bounds.stageMaxFreeze.empty() && static_cast<int>(bounds.stageMaxFreeze.size()) != oldCount) {
        const int stages = static_cast<int>(bounds.stageMaxFreeze.size());
        if (stages > oldCount) {
            beginInsertRows({}, oldCount, stages - 1);
            m_stages.resize(static_cast<std::size_t>(stages));
            endInsertRows();
        } else {
            beginRemoveRows({}, stages, oldCount - 1);
            m_stages.resize(static_cast<std::size_t>(stages));
            endRemoveRows();
        }
    }
    for (std::size_t s = 0; s < m_stages.size(); ++s) {
        const double value = bounds.stageMaxFreeze.empty() ? m_globalMaxFreeze : clampRatio(bounds.stageMaxFreeze[s]);
        m_stages[s].locked = value != m_globalMaxFreeze;
        m_stages[s].maxFreeze = value;
    }
    emitStageRows(MaxFreezeColumn, LockedColumn);
    const FreezeBounds after = this->bounds();
    if (after.maxFreeze != before.maxFreeze || after.stageMaxFreeze != before.stageMaxFreeze)
        emit boundsChanged();
}

void StageBoundsModel::emitStageRows(int firstColumn, int lastColumn)
{
    if (m_stages.empty())
        return;
    emit dataChanged(index(0, firstColumn), index(stageCount() - 1, lastColumn));
}

} // namespace tfreeze
