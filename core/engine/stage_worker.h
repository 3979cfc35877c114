#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/action_timer.h"
#include "core/engine/freeze_selector.h"
#include "core/engine/pipeline_stage.h"
#include "core/engine/transport.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/telemetry.h"

#include <atomic>
#include <cstdint>
#include <vector>

namespace tfreeze {

// What one step gives every worker; owned by the runtime, read-only while the workers run.
struct StepJob {
    std::int64_t step = 0;
    const std::vector<torch::Tensor>* inputs = nullptr; // per microbatch: stage 0's input
    const std::vector<torch::Tensor>* targets = nullptr; // per microbatch: class ids for the last stage
    const std::vector<double>* freezeRatios = nullptr; // per action, rank-major; null: nothing frozen
    // Null: timing off. Spans hold the timer's tokens until the runtime resolves them after the step.
    ActionTimer* timer = nullptr;
    const std::atomic<bool>* abort = nullptr; // set when another worker failed
};

// Executes one rank's action list for a step: forward, backward (full, or split into I and W) with
// per-microbatch freezing, activations and gradients through the Transport. Not thread-safe: each
// worker belongs to one thread for the duration of a step.
class StageWorker {
public:
    // `stages` holds every stage of the model (index = stage); the worker uses the ones on `rank`.
    // `actionOffset`: the index of this rank's first action in rank-major order.
    StageWorker(int rank, const PipelineSchedule& schedule, const std::vector<PipelineStagePtr>& stages,
        std::size_t actionOffset, Transport& transport, const FreezeSelector& selector);

    // Throws whatever the model throws, std::runtime_error for a non-finite loss, TransportAborted
    // when another worker failed. Always leaves the per-microbatch graphs released.
    void run(const StepJob& job);

    // Of the last run(): the timed actions (empty when timing was off), start and end as the
    // timer's tokens (ActionTimer::microseconds turns them into times) ...
    const std::vector<ActionSpan>& spans() const { return m_spans; }
    // ... the sum of the unscaled losses of the microbatches whose last stage this rank holds ...
    double lossSum() const { return m_lossSum; }
    // ... per stage of the model (zero for stages elsewhere): Σ frozen/total over its freezable
    // actions and their number ...
    const std::vector<double>& stageFrozenFractionSum() const { return m_stageFrozenSum; }
    const std::vector<int>& stageFreezableActions() const { return m_stageFreezableActions; }
    // ... and per stage and tensor, the microbatches whose backward computed its gradient.
    const std::vector<std::vector<int>>& gradientCounts() const { return m_gradientCounts; }

private:
    struct LocalStage {
        int stage = 0;
        PipelineStagePtr module;
        std::vector<torch::Tensor> parameters; // freezableParameters(), cached once
        torch::Device device = torch::kCPU; // of its parameters: inputs arriving elsewhere move here
    };
    // The live tensors of one (stage, microbatch) between its F and its last backward.
    struct Slot {
        torch::Tensor input; // leaf that requires grad (stages > 0) so the stage's graph starts here
        torch::Tensor output; // activation, or the scaled loss on the last stage
        torch::Tensor gradOutput; // kept from I for W (undefined on the last stage: implicit 1)
    };

    LocalStage& local(int stage);
    Slot& slot(int stage, int microbatch);
    // Blocks until the action's inputs are here (an activation, an output gradient), so that
    // the action's span covers its computation only.
    void receiveInputs(const Action& action, const StepJob& job);
    void forward(const Action& action, const StepJob& job);
    // kind B, I or W; returns the number of frozen tensors (0 for I).
    int backward(const Action& action, double ratio, const StepJob& job);
    std::vector<torch::Tensor> unfrozenParameters(
        const Action& action, LocalStage& stage, double ratio, std::int64_t step, int& frozen);
    void releaseAll();
    // The last stage's losses, read once per step (on CUDA a read is a host sync); throws for a
    // non-finite one.
    void collectLosses(std::int64_t step);

    int m_rank;
    int m_lastStage;
    int m_microbatches;
    std::vector<Action> m_order;
    std::size_t m_actionOffset;
    Transport& m_transport;
    const FreezeSelector& m_selector;
    std::vector<int> m_localIndex; // per model stage: index into m_locals, or −1
    std::vector<LocalStage> m_locals;
    std::vector<Slot> m_slots; // [local stage][microbatch]
    std::vector<ActionSpan> m_spans;
    double m_lossSum = 0.0;
    std::vector<torch::Tensor> m_losses; // per microbatch, in forward order, detached
    std::vector<int> m_lossMicrobatches;
    std::vector<double> m_stageFrozenSum;
    std::vector<int> m_stageFreezableActions;
    std::vector<std::vector<int>> m_gradientCounts;
};

} // namespace tfreeze
