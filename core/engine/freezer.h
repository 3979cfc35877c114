#pragma once

// Engine-internal (includes torch through pipeline_stage.h): the freezers a run can use.

#include "core/engine/freeze_selector.h"
#include "core/engine/pipeline_stage.h"
#include "core/engine/run_config.h"
#include "core/plan/freeze_plan.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/telemetry.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tfreeze {

// What a freezer decides for one step: a freeze ratio per action (rank-major, the planner's
// order) and the phase it is in.
struct StepFreezing {
    std::vector<double> ratios;
    TrainingPhase phase = TrainingPhase::Stable;
};

// Decides what each step freezes: `none`, `timelyfreeze` (METHOD.md §6), `apf`, `autofreeze`
// and the hybrids (§7). The training loop calls it between steps from one thread; its selector is
// read by the pipeline's workers during a step, while the freezer itself does nothing.
class Freezer {
public:
    virtual ~Freezer() = default;

    virtual FreezerKind kind() const = 0;
    virtual StepFreezing beginStep(std::int64_t step) = 0;
    // The step's gradients are in the parameters' .grad (before clipping and the optimizer step).
    virtual void afterBackward(std::int64_t step) { (void)step; }
    // After the optimizer step: the step's measured spans and batch time. A plan made now (the
    // LP after the monitoring phases, a re-plan) is returned, to apply from the next step.
    virtual std::optional<PlanApplied> endStep(std::int64_t step, const std::vector<ActionSpan>& spans, double batchMs)
    {
        (void)step;
        (void)spans;
        (void)batchMs;
        return std::nullopt;
    }
    // Which tensors an action freezes; null: FreezeSelection's random draw (METHOD.md §5).
    virtual std::shared_ptr<const FreezeSelector> selector() const { return nullptr; }

    // The accuracy bound changed (the user moved ρ). Only freezers that plan use it.
    virtual void setBounds(const FreezeBounds& bounds) { (void)bounds; }
    // The plan in force and the profile it came from, for freezers that plan.
    virtual std::shared_ptr<const FreezePlan> plan() const { return nullptr; }
    virtual std::optional<Profile> profile() const { return std::nullopt; }

    // Checkpoints: the freezer's state as files in `dir` (its plan and profile, APF's statistics,
    // ...); loadState throws InputError naming a missing or malformed file.
    virtual void saveState(const std::string& dir) const { (void)dir; }
    virtual void loadState(const std::string& dir) { (void)dir; }
};

// Where a freezer's statistics are, in a multi-process run: each process holds the current weights
// and gradients of its own stages only. APF and AutoFreeze measure those stages and sum the figures
// over the processes (a stage's entries are 0 everywhere but on its process), so every process
// holds the whole model's figures and makes the same decision.
struct FreezerPlacement {
    std::vector<bool> ownedStages; // empty: every stage is in this process
    // Sums `values` element-wise over the processes, every process getting the sum; null: one process.
    std::function<void(std::vector<double>& values)> sumAcrossProcesses;

    bool owns(int stage) const { return ownedStages.empty() || ownedStages[static_cast<std::size_t>(stage)]; }
};

// The freezer of `config.freezer` for a pipeline of `stages` (index = stage) running `schedule`.
std::unique_ptr<Freezer> makeFreezer(const RunConfig& config, const PipelineSchedule& schedule,
    const std::vector<PipelineStagePtr>& stages, const FreezerPlacement& placement = {});

FreezeBounds freezeBoundsOf(const BoundsConfig& bounds);

} // namespace tfreeze
