#include "ui/run_document.h"

#include "core/plan/span_profile_estimate.h"
#include "core/plan/statistics.h"

#include <algorithm>

namespace tfreeze {

void RunDocument::reset(Source source, const QString& title)
{
    m_source = source;
    m_title = title;
    m_schedule.reset();
    m_runId.reset();
    m_processors = 0;
    m_allOrNothingStages.clear();
    m_steps.clear();
    m_evals.clear();
    m_metrics.clear();
    m_spanCache.clear();
    m_spanEndMs.clear();
    m_plans.clear();
    m_profile.reset();
}

void RunDocument::addStep(const StepStats& step)
{
    m_steps.push_back(step);
    m_metrics.append(step);
}

void RunDocument::addEval(const EvalStats& eval)
{
    m_evals.push_back(eval);
    m_metrics.append(eval);
}

void RunDocument::addSpans(std::int64_t step, std::vector<ActionSpan> spans)
{
    std::int64_t endUs = 0;
    for (const ActionSpan& span : spans)
        endUs = std::max(endUs, span.endUs);
    if (!spans.empty())
        m_spanEndMs[step] = static_cast<double>(endUs) / 1000.0;
    m_spanCache.addStep(step, std::move(spans));
}

void RunDocument::addPlan(const PlanApplied& plan)
{
    m_plans.push_back(plan);
    m_spanCache.planApplied(plan.appliedAtStep);
}

std::optional<std::int64_t> RunDocument::latestStep() const
{
    if (m_steps.empty())
        return std::nullopt;
    return m_steps.back().step;
}

std::shared_ptr<const FreezePlan> RunDocument::planInForce() const
{
    return m_plans.empty() ? nullptr : m_plans.back().plan;
}

std::optional<double> RunDocument::realisedBatchMs(std::int64_t fromStep, std::size_t window) const
{
    std::vector<double> values;
    for (auto it = m_spanEndMs.rbegin(); it != m_spanEndMs.rend() && it->first >= fromStep && values.size() < window;
         ++it)
        values.push_back(it->second);
    if (values.empty())
        return std::nullopt;
    return median(std::move(values));
}

std::optional<double> RunDocument::forwardDrift(std::int64_t fromStep, std::size_t window) const
{
    const std::shared_ptr<const FreezePlan> plan = planInForce();
    if (!plan)
        return std::nullopt;
    std::vector<double> scales;
    const std::vector<std::int64_t> held = m_spanCache.steps();
    for (auto it = held.rbegin(); it != held.rend() && *it >= fromStep && scales.size() < window; ++it) {
        if (const double scale = unfreezableWorkScale(plan->profile, m_spanCache.spans(*it)); scale > 0.0)
            scales.push_back(scale);
    }
    if (scales.empty())
        return std::nullopt;
    return median(std::move(scales)) - 1.0;
}

} // namespace tfreeze
