#pragma once

#include "core/plan/freeze_plan.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/telemetry.h"
#include "ui/metrics_history.h"
#include "ui/step_span_cache.h"

#include <QString>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace tfreeze {

// What the main window shows: a live run, a run from the history, or a profile measured elsewhere.
// Plain data with no widgets: the views read it, the main window feeds it.
class RunDocument {
public:
    enum class Source { Empty, Live, History, Profile };

    void reset(Source source, const QString& title);
    Source source() const { return m_source; }
    const QString& title() const { return m_title; }

    void setSchedule(const PipelineSchedule& schedule) { m_schedule = schedule; }
    const std::optional<PipelineSchedule>& schedule() const { return m_schedule; }
    // How many processors the run's ranks shared (0: one per rank, or unknown); the estimate of a
    // profile from the measured spans needs it (estimateProfileFromSpans).
    void setProcessors(int processors) { m_processors = processors; }
    int processors() const { return m_processors; }
    // The stages the run's planner freezes whole (allOrNothingStages() of its config): the
    // estimate of a profile from the spans carries them.
    void setAllOrNothingStages(std::vector<int> stages) { m_allOrNothingStages = std::move(stages); }
    const std::vector<int>& allOrNothingStages() const { return m_allOrNothingStages; }
    void setRunId(std::optional<std::int64_t> run) { m_runId = run; }
    std::optional<std::int64_t> runId() const { return m_runId; }

    void addStep(const StepStats& step);
    void addEval(const EvalStats& eval);
    // One step's complete spans: kept by the span cache, and their end (the batch time a plan
    // predicts) kept for every step.
    void addSpans(std::int64_t step, std::vector<ActionSpan> spans);
    void addPlan(const PlanApplied& plan);

    const std::vector<StepStats>& steps() const { return m_steps; }
    const std::vector<EvalStats>& evals() const { return m_evals; }
    const MetricsHistory& metrics() const { return m_metrics; }
    StepSpanCache& spanCache() { return m_spanCache; }
    const StepSpanCache& spanCache() const { return m_spanCache; }
    const std::vector<PlanApplied>& plans() const { return m_plans; }
    std::optional<std::int64_t> latestStep() const;

    // The plan in force at the latest step (the last one applied), if any.
    std::shared_ptr<const FreezePlan> planInForce() const;
    // The median of the measured batch times (last span's end) over the last `window` steps at or
    // after `fromStep`; empty when none was measured there.
    std::optional<double> realisedBatchMs(std::int64_t fromStep, std::size_t window = 20) const;
    // How much slower than the plan in force's profile the forwards ran over the same steps (the
    // latest `window` held at or after `fromStep`): the median of unfreezableWorkScale, minus 1.
    // No plan changes a forward, so this is the machine's share of realised against predicted
    // (+0.05: 5% slower), as `tfreeze train` prints it. Empty without a plan in force or such a step.
    std::optional<double> forwardDrift(std::int64_t fromStep, std::size_t window = 20) const;

    // A profile given by the user (opened file) or taken from the engine's own plan.
    void setProfile(std::optional<Profile> profile) { m_profile = std::move(profile); }
    const std::optional<Profile>& profile() const { return m_profile; }

private:
    Source m_source = Source::Empty;
    QString m_title;
    std::optional<PipelineSchedule> m_schedule;
    std::optional<std::int64_t> m_runId;
    int m_processors = 0;
    std::vector<int> m_allOrNothingStages;
    std::vector<StepStats> m_steps;
    std::vector<EvalStats> m_evals;
    MetricsHistory m_metrics;
    StepSpanCache m_spanCache;
    std::map<std::int64_t, double> m_spanEndMs; // per step: its last span's end
    std::vector<PlanApplied> m_plans;
    std::optional<Profile> m_profile;
};

} // namespace tfreeze
