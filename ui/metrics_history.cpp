#include "ui/metrics_history.h"

#include <algorithm>
#include <limits>

namespace tfreeze {

namespace {

constexpr double missing = std::numeric_limits<double>::quiet_NaN();

// Appends `values` as the next row of `columns`, growing new columns with NaN for the rows
// before them, and NaN for columns this row lacks.
void appendRow(std::vector<std::vector<double>>& columns, const std::vector<double>& values, std::size_t row)
{
    if (columns.size() < values.size())
        columns.resize(values.size(), std::vector<double>(row, missing));
    for (std::size_t c = 0; c < columns.size(); ++c)
        columns[c].push_back(c < values.size() ? values[c] : missing);
}

} // namespace

void MetricsHistory::append(const StepStats& stats)
{
    const std::size_t row = m_steps.size();
    m_steps.push_back(static_cast<double>(stats.step));
    m_loss.push_back(stats.loss);
    m_batchMs.push_back(stats.batchMs);
    m_tokensPerSecond.push_back(stats.tokensPerSecond);
    appendRow(m_rankBubble, stats.rankBubbleFraction, row);
    appendRow(m_stageFreeze, stats.stageMeanFreezeRatio, row);
}

void MetricsHistory::append(const EvalStats& stats)
{
    m_evalSteps.push_back(static_cast<double>(stats.step));
    m_validationLoss.push_back(stats.validationLoss);
}

void MetricsHistory::clear() { *this = MetricsHistory(); }

const std::vector<double>& MetricsHistory::rankBubbleFraction(int rank) const
{
    return m_rankBubble.at(static_cast<std::size_t>(rank));
}

const std::vector<double>& MetricsHistory::stageMeanFreezeRatio(int stage) const
{
    return m_stageFreeze.at(static_cast<std::size_t>(stage));
}

qsizetype MetricsHistory::indexNear(qint64 step) const
{
    if (m_steps.empty())
        return -1;
    const auto x = static_cast<double>(step);
    const auto after = std::lower_bound(m_steps.begin(), m_steps.end(), x);
    if (after == m_steps.begin())
        return 0;
    if (after == m_steps.end())
        return static_cast<qsizetype>(m_steps.size()) - 1;
    const auto before = after - 1;
    return (x - *before <= *after - x) ? before - m_steps.begin() : after - m_steps.begin();
}

StepValues MetricsHistory::valueAt(qint64 step) const
{
    StepValues values;
    values.loss = values.batchMs = values.tokensPerSecond = values.validationLoss = missing;
    const qsizetype index = indexNear(step);
    if (index < 0)
        return values;
    const auto i = static_cast<std::size_t>(index);
    values.step = static_cast<qint64>(m_steps[i]);
    values.loss = m_loss[i];
    values.batchMs = m_batchMs[i];
    values.tokensPerSecond = m_tokensPerSecond[i];
    for (const auto& column : m_rankBubble)
        values.rankBubbleFraction.push_back(column[i]);
    for (const auto& column : m_stageFreeze)
        values.stageMeanFreezeRatio.push_back(column[i]);
    const auto eval = std::upper_bound(m_evalSteps.begin(), m_evalSteps.end(), m_steps[i]);
    if (eval != m_evalSteps.begin())
        values.validationLoss = m_validationLoss[static_cast<std::size_t>(eval - m_evalSteps.begin() - 1)];
    return values;
}

} // namespace tfreeze
