#include "core/engine/timely_freeze_controller.h"

#include "core/plan/plan_error.h"
#include "core/plan/statistics.h"

#include <algorithm>
#include <cmath>

namespace tfreeze {

namespace {

void checkBounds(const FreezeBounds& bounds, int stageCount)
{
    auto check = [](double value, const std::string& field) {
        if (!(value >= 0.0 && value <= 1.0))
            throw InputError("bounds", field, "max freeze ratio must be in [0, 1]");
    };
    check(bounds.maxFreeze, "max_freeze");
    if (!bounds.stageMaxFreeze.empty() && static_cast<int>(bounds.stageMaxFreeze.size()) != stageCount)
        throw InputError("bounds", "stage_max_freeze",
            "expected one value per stage (" + std::to_string(stageCount) + "), got "
                + std::to_string(bounds.stageMaxFreeze.size()));
    for (std::size_t s = 0; s < bounds.stageMaxFreeze.size(); ++s)
        check(bounds.stageMaxFreeze[s], "stage_max_freeze[" + std::to_string(s) + "]");
}

} // namespace

TimelyFreezeController::TimelyFreezeController(PipelineSchedule schedule, TimelyFreezeOptions options)
    : m_schedule(std::move(schedule))
    , m_options(std::move(options))
    , m_profiler(m_schedule, m_options.profileWindow, m_options.processors)
{
    checkBounds(m_options.bounds, m_schedule.stageCount());
    for (const auto& order : m_schedule.rankOrders()) {
        for (const Action& action : order)
            m_freezable.push_back(isFreezable(action.kind));
    }
}

TimelyFreezeController::~TimelyFreezeController() = default;

std::int64_t TimelyFreezeController::planStep() const
{
    return m_options.warmupSteps + m_options.monitorMaxSteps + m_options.monitorMinSteps;
}

TrainingPhase TimelyFreezeController::phaseAt(std::int64_t step) const
{
    if (step < m_options.warmupSteps)
        return TrainingPhase::WarmUp;
    if (step < m_options.warmupSteps + m_options.monitorMaxSteps)
        return TrainingPhase::MonitorMax;
    if (step < planStep())
        return TrainingPhase::MonitorMin;
    if (step < planStep() + m_options.rampSteps)
        return TrainingPhase::Ramp;
    return TrainingPhase::Stable;
}

std::vector<double> TimelyFreezeController::ratiosFor(std::int64_t step) const
{
    std::vector<double> ratios(m_freezable.size(), 0.0);
    const TrainingPhase phase = phaseAt(step);
    if (phase == TrainingPhase::MonitorMin) {
        for (std::size_t i = 0; i < ratios.size(); ++i)
            ratios[i] = m_freezable[i] ? 1.0 : 0.0;
        return ratios;
    }
    if (!m_plan || (phase != TrainingPhase::Ramp && phase != TrainingPhase::Stable))
        return ratios;
    // Ramp: step planStep() already freezes 1/rampSteps of the plan; the last ramp step all of it.
    double scale = 1.0;
    if (phase == TrainingPhase::Ramp)
        scale = static_cast<double>(step - planStep() + 1) / static_cast<double>(m_options.rampSteps);
    for (std::size_t i = 0; i < ratios.size(); ++i)
        ratios[i] = m_plan->actions[i].ratio * scale;
    return ratios;
}

void TimelyFreezeController::setBounds(const FreezeBounds& bounds)
{
    checkBounds(bounds, m_schedule.stageCount());
    m_options.bounds = bounds;
    m_boundsChanged = true;
}

TimelyFreezeController::State TimelyFreezeController::state() const
{
    State state;
    state.maxSamples = m_profiler.samples(ActionTimeProfiler::Bound::Max);
    state.minSamples = m_profiler.samples(ActionTimeProfiler::Bound::Min);
    state.transferSamples = m_profiler.transferSamples();
    state.profile = m_profile;
    state.plan = m_plan;
    return state;
}

void TimelyFreezeController::restore(const State& state)
{
    m_profiler.clear();
    m_profiler.restoreSamples(ActionTimeProfiler::Bound::Max, state.maxSamples);
    m_profiler.restoreSamples(ActionTimeProfiler::Bound::Min, state.minSamples);
    m_profiler.restoreTransferSamples(state.transferSamples);
    m_profile = state.profile;
    m_plan = state.plan;
    m_planner.reset();
    m_carriedBasis = {};
    m_boundsChanged = false;
    m_stableBatchMs.clear();
}

std::optional<PlanApplied> TimelyFreezeController::makePlan(std::int64_t step, PlanSource source)
{
    if (!m_planner) {
        m_planner = std::make_unique<FreezePlanner>(*m_profile, m_options.planner);
        m_planner->startFrom(m_carriedBasis);
        m_carriedBasis = {};
    }
    auto plan = std::make_shared<FreezePlan>(m_planner->plan(m_options.bounds));
    m_plan = plan;
    m_boundsChanged = false;
    m_stableBatchMs.clear();
    PlanApplied applied;
    applied.createdAtStep = step;
    applied.appliedAtStep = step + 1;
    applied.source = source;
    applied.plan = plan;
    return applied;
}

bool TimelyFreezeController::drifted(double realisedMs) const
{
    return m_options.replanDrift > 0.0 && m_plan && m_plan->batchMsPlanned > 0.0
        && std::abs(realisedMs / m_plan->batchMsPlanned - 1.0) > m_options.replanDrift;
}

void TimelyFreezeController::rescaleProfileToMeasured()
{
    // A stable step measures each action at its planned ratio r only. Two things can make that
    // differ from the profile: the machine (every action slower or faster alike), and a partly
    // frozen action whose time is not linear in r (stage 0 computes no input gradient, so freezing
    // only a few of its tensors leaves most of its backward; everything frozen leaves nothing).
    // The machine's factor comes from the actions freezing cannot change; then a partly frozen
    // action keeps that scaled w_max and takes the w_min whose line meets the measurement at r.
    const std::vector<double> measured = m_profiler.estimatedMs(ActionTimeProfiler::Bound::Max);
    std::vector<ActionCost> costs = m_profile->costs();
    const std::vector<Action> actions = m_profile->actions();
    std::vector<double> unfreezableScales;
    for (std::size_t i = 0; i < costs.size(); ++i)
        if (!isFreezable(actions[i].kind) && costs[i].maxMs > 0.0 && measured[i] > 0.0)
            unfreezableScales.push_back(measured[i] / costs[i].maxMs);
    const double machine = unfreezableScales.empty() ? 1.0 : median(unfreezableScales);
    for (std::size_t i = 0; i < costs.size(); ++i) {
        ActionCost& cost = costs[i];
        const double r = m_plan->actions[i].ratio;
        const double m = measured[i];
        if (!(m > 0.0)) {
            cost.maxMs *= machine;
            cost.minMs *= machine;
        } else if (cost.maxMs <= cost.minMs) { // cannot shrink: it costs what it measured
            cost.maxMs = m;
            cost.minMs = m;
        } else if (r <= 0.0) {
            cost.maxMs = m;
            cost.minMs = std::min(cost.minMs * machine, m);
        } else if (r >= 1.0) {
            cost.maxMs = std::max(cost.maxMs * machine, m);
            cost.minMs = m;
        } else {
            // A measurement above the scaled w_max says freezing saved nothing there.
            cost.maxMs = std::max(cost.maxMs * machine, m);
            cost.minMs = std::clamp(cost.maxMs - (cost.maxMs - m) / r, 0.0, m);
        }
    }
    const int processors = m_profile->processors();
    // The stable steps measured the hand-overs too (the same for any plan).
    const double transferMs = m_profiler.transferMs().value_or(m_profile->transferMs());
    m_profile.emplace(m_schedule, std::move(costs), "measured profile");
    m_profile->setProcessors(processors);
    m_profile->setTransferMs(transferMs);
    m_profile->setAllOrNothingStages(m_options.allOrNothingStages);
    // A new profile is a new LP of the same shape: its planner starts from this one's optimum.
    if (m_planner)
        m_carriedBasis = m_planner->optimalBasis();
    m_planner.reset();
}

std::optional<PlanApplied> TimelyFreezeController::endStep(
    std::int64_t step, const std::vector<ActionSpan>& spans, double batchMs)
{
    const TrainingPhase phase = phaseAt(step);
    if (phase == TrainingPhase::MonitorMax)
        m_profiler.addStep(spans, ActionTimeProfiler::Bound::Max);
    else if (phase == TrainingPhase::MonitorMin)
        m_profiler.addStep(spans, ActionTimeProfiler::Bound::Min);

    if (step + 1 == planStep() && !m_profile) {
        m_profile = m_profiler.profile();
        m_profile->setAllOrNothingStages(m_options.allOrNothingStages);
        m_profiler.clear();
        return makePlan(step, PlanSource::Engine);
    }
    if (!m_profile)
        return std::nullopt;
    if (m_boundsChanged)
        return makePlan(step, PlanSource::User);

    if (phase == TrainingPhase::Stable && m_options.replanDrift > 0.0) {
        // Stable steps reuse the Max samples as "what the plan really costs".
        m_profiler.addStep(spans, ActionTimeProfiler::Bound::Max);
        m_stableBatchMs.push_back(batchMs);
        if (static_cast<std::int64_t>(m_stableBatchMs.size()) >= m_options.driftWindow) {
            const double realised = median(m_stableBatchMs);
            if (drifted(realised)) {
                rescaleProfileToMeasured();
                m_profiler.clear();
                return makePlan(step, PlanSource::Engine);
            }
            m_stableBatchMs.clear();
            m_profiler.clear();
        }
    }
    return std::nullopt;
}

} // namespace tfreeze
