#pragma once

// Torch-free: the phases of a TimelyFreeze run (METHOD.md §6) and the plan they lead to.

#include "core/engine/action_time_profiler.h"
#include "core/plan/freeze_plan.h"
#include "core/plan/freeze_planner.h"
#include "core/plan/telemetry.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace tfreeze {

struct TimelyFreezeOptions {
    std::int64_t warmupSteps = 100; // no freezing
    std::int64_t monitorMaxSteps = 30; // nothing frozen: measure w_max
    std::int64_t monitorMinSteps = 30; // everything freezable frozen: measure w_min
    std::int64_t rampSteps = 300; // the applied ratio rises linearly from 0 to the plan
    std::size_t profileWindow = 30; // samples per action behind each median
    int processors = 0; // the processors the ranks share (sharedProcessors()); 0 = one per rank
    // Stages the planner freezes all or nothing (Profile::allOrNothingStages): stage 0 under
    // METHOD's weighted draw, whose partly frozen backward saves far less than the plan's line.
    std::vector<int> allOrNothingStages;
    FreezeBounds bounds;
    // Re-plan when the realised batch time leaves the predicted one by more than this fraction
    // (ours; 0 = off): the profile is rescaled by what was measured, then solved again.
    double replanDrift = 0.0;
    std::int64_t driftWindow = 20; // stable steps whose median batch time is compared
    PlannerOptions planner;
};

// Decides, step by step, the freeze ratio of every action: none while warming up and
// measuring w_max, all while measuring w_min, then the LP's plan, ramped in and held. Not
// thread-safe: the engine calls it from its control thread between steps.
class TimelyFreezeController {
public:
    TimelyFreezeController(PipelineSchedule schedule, TimelyFreezeOptions options);
    ~TimelyFreezeController();
    TimelyFreezeController(const TimelyFreezeController&) = delete;
    TimelyFreezeController& operator=(const TimelyFreezeController&) = delete;

    TrainingPhase phaseAt(std::int64_t step) const;
    // The ratio of every action (rank-major, aligned with the schedule's actions) for `step`.
    std::vector<double> ratiosFor(std::int64_t step) const;

    // After `step` ran: feeds the profiler, plans when the monitoring phases are over, re-plans
    // after a bound change or a drift. Returns the plan that takes effect from the next step, if
    // one was made. Throws PlannerError when the LP fails.
    std::optional<PlanApplied> endStep(std::int64_t step, const std::vector<ActionSpan>& spans, double batchMs);

    // New bounds (the user moved ρ): re-planned at the next endStep once a profile exists.
    // Throws InputError for bounds out of [0, 1] or of the wrong length.
    void setBounds(const FreezeBounds& bounds);
    // The bound a checkpointed run had, taken over without planning again.
    void restoreBounds(const FreezeBounds& bounds) { m_options.bounds = bounds; }
    const FreezeBounds& bounds() const { return m_options.bounds; }

    // The plan in force; null before the first one.
    std::shared_ptr<const FreezePlan> plan() const { return m_plan; }
    // The measured profile; empty before the monitoring phases are over.
    const std::optional<Profile>& profile() const { return m_profile; }

    std::int64_t planStep() const; // the first step that runs the plan (ramp start)

    // Checkpoints: the measured samples, the profile and the plan in force.
    struct State {
        std::vector<std::vector<double>> maxSamples;
        std::vector<std::vector<double>> minSamples;
        std::vector<double> transferSamples;
        std::optional<Profile> profile;
        std::shared_ptr<const FreezePlan> plan;
    };
    State state() const;
    void restore(const State& state);

private:
    std::optional<PlanApplied> makePlan(std::int64_t step, PlanSource source);
    bool drifted(double realisedMs) const;
    void rescaleProfileToMeasured();

    PipelineSchedule m_schedule;
    TimelyFreezeOptions m_options;
    std::vector<bool> m_freezable; // per action
    ActionTimeProfiler m_profiler; // monitoring phases, then the stable steps (drift)
    std::optional<Profile> m_profile;
    std::unique_ptr<FreezePlanner> m_planner;
    PlannerBasis m_carriedBasis; // the replaced planner's optimum, for the next one to start from
    std::shared_ptr<const FreezePlan> m_plan;
    bool m_boundsChanged = false;
    std::vector<double> m_stableBatchMs; // stable steps since the last plan
};

} // namespace tfreeze
