#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees. The
// studio commands a run through RunControl (torch-free) and reads it through TelemetrySink.

#include "core/engine/freeze_selection.h"
#include "core/engine/pipeline_stage.h"
#include "core/engine/run_control.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/telemetry.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tfreeze {

class ProcessGroup;
class Transport;

// One batch, split into M microbatches: stage 0's input (token ids) and the last stage's targets.
struct StepBatch {
    std::vector<torch::Tensor> inputs;
    std::vector<torch::Tensor> targets;
};

// What the caller (the freezer, `tfreeze train`) decides per step.
struct StepContext {
    // Per action, rank-major (PipelineDag's node order), in [0, 1]. Empty: the ratios last applied
    // (through RunControl::setFreezeRatios or an earlier step); none yet means nothing frozen.
    std::vector<double> freezeRatios;
    TrainingPhase phase = TrainingPhase::Stable; // reported in StepStats, not used
    double learningRate = 0.0; // reported in StepStats, not used
};

enum class StepStatus { Completed, Stopped, Failed };

struct StepResult {
    StepStatus status = StepStatus::Completed;
    StepStats stats; // Completed only
    std::string error; // Failed only
};

// Runs once per batch after every worker finished the batch's actions, on the caller's thread:
// gradient clipping, optimizer step, learning-rate schedule. Not called for a failed step.
using OptimizerStep = std::function<void()>;

struct RuntimeOptions {
    std::uint64_t seed = 0; // of the default FreezeSelection
    int stabilityCheckFreq = 10; // of the default FreezeSelection
    FirstStageDraw firstStageDraw = FirstStageDraw::Weighted; // of the default FreezeSelection
    bool timing = true; // ActionSpans and bubble figures; off for the overhead benchmark
    // Intra-op threads of each worker. OpenMP's thread count is per calling thread, so a worker
    // would otherwise run with the default (every core) whatever the caller set: with 4 ranks on
    // 2 cores that oversubscription made 1F1B 4× slower than the sequential loop.
    int threadsPerRank = 1;
    // Also cap OpenBLAS's own (process-wide) thread pool at threadsPerRank when there is more than
    // one rank: OpenBLAS's pthread build serves concurrent callers badly (measured: 1F1B with
    // 4 ranks 1036 ms/step with its default pool vs 228 ms capped; the sequential loop 180 ms).
    bool limitBlasThreads = true;
    // Multi-process: this process runs pipeline rank group->rank() only, one process per rank. Rank
    // 0's RunControl and ratios rule every process (broadcast at each step boundary); the step's
    // failure, loss, freeze figures and spans are combined over the group, so every process returns
    // the same StepStats. Null: every rank is a thread of this process.
    std::shared_ptr<ProcessGroup> group;
};

// Executes a PipelineSchedule — the very action lists the planner uses — with one worker thread
// per rank. runStep() is called by one thread (the training loop) and returns when the step is done
// and published; RunControl commands from any thread take effect at the next runStep().
// After a failure every further runStep() fails at once with the same message.
class PipelineRuntime {
public:
    // `stages`: one per stage of the schedule, index = stage. `transport`: null for in-process.
    // `selector`: null for FreezeSelection(options.seed, options.stabilityCheckFreq, options.firstStageDraw).
    PipelineRuntime(PipelineSchedule schedule, std::vector<PipelineStagePtr> stages, OptimizerStep optimizerStep,
        RuntimeOptions options = {}, std::shared_ptr<Transport> transport = nullptr,
        std::shared_ptr<const FreezeSelector> selector = nullptr);
    // Joins every worker thread (call from the thread that calls runStep, not from a worker).
    ~PipelineRuntime();

    PipelineRuntime(const PipelineRuntime&) = delete;
    PipelineRuntime& operator=(const PipelineRuntime&) = delete;

    void addSink(std::shared_ptr<TelemetrySink> sink);
    const std::shared_ptr<RunControl>& control() const { return m_control; }

    // Publishes the step's ActionSpans then its StepStats (Completed), or RunFailed (Failed).
    // Stopped: a stop was requested before this step; nothing ran.
    StepResult runStep(const StepBatch& batch, const StepContext& context = {});
    // Publishes RunFinished{steps completed, stopReason}; call once when the loop ends without
    // failure. stopReason: the user stopped the run before its last step (why and when).
    void finish(std::optional<std::string> stopReason = std::nullopt);

    // The step number the next runStep() gets (0 at start); set it when resuming a checkpoint.
    std::int64_t nextStep() const { return m_nextStep; }
    void setNextStep(std::int64_t step) { m_nextStep = step; }
    void setTimingEnabled(bool enabled) { m_options.timing = enabled; }
    bool failed() const { return !m_failure.empty(); }

    const PipelineSchedule& schedule() const { return m_schedule; }
    // Of the last completed step: every timed action (rank-major, each rank in execution order; in a
    // multi-process run those of every process) ...
    const std::vector<ActionSpan>& lastSpans() const { return m_lastSpans; }
    // ... and per stage and freezable tensor, how many microbatches contributed to its gradient (in
    // a multi-process run: the stages of this process; the others' are empty).
    const std::vector<std::vector<int>>& lastGradientCounts() const { return m_lastGradientCounts; }
    // The ratios the next step uses when its context brings none.
    const std::vector<double>& currentFreezeRatios() const { return m_ratios; }

private:
    struct Impl;

    void publish(const TelemetryEvent& event);
    StepResult fail(std::int64_t step, std::string reason);
    void setRatios(std::vector<double> ratios, const char* origin);
    // Multi-process: rank 0 takes the boundary's commands and sends them; the others follow. False:
    // stop before this step.
    bool exchangeBoundary(const StepContext& context);

    PipelineSchedule m_schedule;
    std::vector<PipelineStagePtr> m_stages;
    OptimizerStep m_optimizerStep;
    RuntimeOptions m_options;
    std::shared_ptr<RunControl> m_control = std::make_shared<RunControl>();
    std::vector<std::shared_ptr<TelemetrySink>> m_sinks;
    std::vector<double> m_ratios; // empty: nothing frozen
    std::int64_t m_nextStep = 0;
    std::int64_t m_completedSteps = 0;
    std::string m_failure;
    std::vector<ActionSpan> m_lastSpans;
    std::vector<std::vector<int>> m_lastGradientCounts;
    std::unique_ptr<Impl> m_impl; // threads, workers, transport
};

} // namespace tfreeze
