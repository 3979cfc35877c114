#include "core/plan/profile.h"

#include "core/plan/plan_error.h"
#include "core/plan/profile_json.h"

#include <algorithm>
#include <cmath>
#include <locale>
#include <sstream>

namespace tfreeze {

// Shortest text that reads back as the same double, so that "min_ms 2.0000001 is greater than
// max_ms 2" shows the difference instead of rounding it away. Classic locale: a GUI may have
// switched the C library's locale to one with a decimal comma.
std::string detail::numberText(double value)
{
    std::string text;
    for (int precision = 1; precision <= 17; ++precision) {
        std::ostringstream out;
        out.imbue(std::locale::classic());
        out.precision(precision);
        out << value;
        text = out.str();
        if (!std::isfinite(value))
            break;
        std::istringstream in(text);
        in.imbue(std::locale::classic());
        double back = 0.0;
        if (in >> back && back == value)
            break;
    }
    return text;
}

void checkDurationMs(double value, const std::string& source, const std::string& field)
{
    if (!std::isfinite(value) || value < 0.0)
        throw InputError(source, field, "must be a finite number ≥ 0 (got " + detail::numberText(value) + ")");
    if (value > kMaxDurationMs)
        throw InputError(source, field,
            "must be at most " + detail::numberText(kMaxDurationMs)
                + " ms, the longest duration the planner takes (got " + detail::numberText(value) + ")");
}

namespace {

std::string actionField(std::size_t index, const char* key) { return "actions[" + std::to_string(index) + "]." + key; }

} // namespace

Profile::Profile(PipelineSchedule schedule, std::vector<ActionCost> costs, const std::string& source)
    : m_schedule(std::move(schedule))
    , m_costs(std::move(costs))
{
    const std::size_t expected = m_schedule.actionCount();
    if (m_costs.size() != expected)
        throw InputError(source, "actions",
            "expected " + std::to_string(expected) + " action costs for the schedule (got "
                + std::to_string(m_costs.size()) + ")");

    std::size_t index = 0;
    for (const auto& order : m_schedule.rankOrders()) {
        for (const Action& action : order) {
            ActionCost& cost = m_costs[index];
            // The field's name only for a message: a profile may have millions of actions.
            if (!isDurationMs(cost.maxMs))
                checkDurationMs(cost.maxMs, source, actionField(index, "max_ms"));
            if (!isDurationMs(cost.minMs))
                checkDurationMs(cost.minMs, source, actionField(index, "min_ms"));
            if (isFreezable(action.kind)) {
                if (cost.minMs > cost.maxMs)
                    throw InputError(source, actionField(index, "min_ms"),
                        "min_ms " + detail::numberText(cost.minMs) + " is greater than max_ms "
                            + detail::numberText(cost.maxMs));
            } else {
                // Nothing of F or I can be skipped, whatever was measured for "frozen".
                cost.minMs = cost.maxMs;
            }
            ++index;
        }
    }
}

void Profile::setProcessors(int processors, const std::string& source)
{
    if (processors < 0)
        throw InputError(source, "processors", "must be an integer ≥ 1 (got " + std::to_string(processors) + ")");
    m_processors = processors;
}

void Profile::setTransferMs(double transferMs, const std::string& source)
{
    checkDurationMs(transferMs, source, "transfer_ms");
    m_transferMs = transferMs;
}

void Profile::setAllOrNothingStages(std::vector<int> stages, const std::string& source)
{
    const int stageCount = m_schedule.stageCount();
    for (std::size_t i = 0; i < stages.size(); ++i) {
        if (stages[i] < 0 || stages[i] >= stageCount)
            throw InputError(source, "all_or_nothing_stages[" + std::to_string(i) + "]",
                "must be a stage in [0, " + std::to_string(stageCount - 1) + "] (got " + std::to_string(stages[i])
                    + ")");
    }
    std::sort(stages.begin(), stages.end());
    stages.erase(std::unique(stages.begin(), stages.end()), stages.end());
    m_allOrNothingStages = std::move(stages);
}

bool Profile::isAllOrNothing(int stage) const
{
    return std::binary_search(m_allOrNothingStages.begin(), m_allOrNothingStages.end(), stage);
}

std::vector<Action> Profile::actions() const
{
    std::vector<Action> result;
    result.reserve(m_costs.size());
    for (const auto& order : m_schedule.rankOrders())
        result.insert(result.end(), order.begin(), order.end());
    return result;
}

std::vector<double> Profile::maxDurations() const
{
    std::vector<double> result;
    result.reserve(m_costs.size());
    for (const ActionCost& cost : m_costs)
        result.push_back(cost.maxMs);
    return result;
}

std::vector<double> Profile::minDurations() const
{
    std::vector<double> result;
    result.reserve(m_costs.size());
    for (const ActionCost& cost : m_costs)
        result.push_back(cost.minMs);
    return result;
}

} // namespace tfreeze
