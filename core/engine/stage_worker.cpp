#include "core/engine/stage_worker.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace tfreeze {

StageWorker::StageWorker(int rank, const PipelineSchedule& schedule, const std::vector<PipelineStagePtr>& stages,
    std::size_t actionOffset, Transport& transport, const FreezeSelector& selector)
    : m_rank(rank)
    , m_lastStage(schedule.stageCount() - 1)
    , m_microbatches(schedule.microbatchCount())
    , m_order(schedule.rankOrder(rank))
    , m_actionOffset(actionOffset)
    , m_transport(transport)
    , m_selector(selector)
    , m_localIndex(static_cast<std::size_t>(schedule.stageCount()), -1)
    , m_stageFrozenSum(static_cast<std::size_t>(schedule.stageCount()), 0.0)
    , m_stageFreezableActions(static_cast<std::size_t>(schedule.stageCount()), 0)
    , m_gradientCounts(static_cast<std::size_t>(schedule.stageCount()))
{
    for (int s = 0; s < schedule.stageCount(); ++s) {
        if (schedule.stageRank(s) != rank)
            continue;
        LocalStage local;
        local.stage = s;
        local.module = stages.at(static_cast<std::size_t>(s));
        local.parameters = local.module->freezableParameters();
        const auto all = local.module->parameters();
        if (!all.empty())
            local.device = all.front().device();
        m_localIndex[static_cast<std::size_t>(s)] = static_cast<int>(m_locals.size());
        m_gradientCounts[static_cast<std::size_t>(s)].assign(local.parameters.size(), 0);
        m_locals.push_back(std::move(local));
    }
    m_slots.resize(m_locals.size() * static_cast<std::size_t>(m_microbatches));
    // Preallocated so that timing an action never allocates.
    m_spans.reserve(m_order.size());
    m_losses.reserve(static_cast<std::size_t>(m_microbatches));
    m_lossMicrobatches.reserve(static_cast<std::size_t>(m_microbatches));
}

StageWorker::LocalStage& StageWorker::local(int stage)
{
    return m_locals[static_cast<std::size_t>(m_localIndex[static_cast<std::size_t>(stage)])];
}

StageWorker::Slot& StageWorker::slot(int stage, int microbatch)
{
    const auto index = static_cast<std::size_t>(m_localIndex[static_cast<std::size_t>(stage)]);
    return m_slots[index * static_cast<std::size_t>(m_microbatches) + static_cast<std::size_t>(microbatch)];
}

void StageWorker::run(const StepJob& job)
{
    m_spans.clear();
    m_lossSum = 0.0;
    m_losses.clear();
    m_lossMicrobatches.clear();
    std::fill(m_stageFrozenSum.begin(), m_stageFrozenSum.end(), 0.0);
    std::fill(m_stageFreezableActions.begin(), m_stageFreezableActions.end(), 0);
    for (auto& counts : m_gradientCounts)
        std::fill(counts.begin(), counts.end(), 0);

    try {
        for (std::size_t i = 0; i < m_order.size(); ++i) {
            // A worker busy with compute-only actions (W's) would not notice an abort in a receive.
            if (job.abort && job.abort->load(std::memory_order_relaxed))
                throw TransportAborted("aborted by another rank");
            const Action& action = m_order[i];
            const double ratio = job.freezeRatios ? (*job.freezeRatios)[m_actionOffset + i] : 0.0;
            const torch::Device device = local(action.stage).device;
            // The span times the action's own work: it starts once its inputs have arrived, so a
            // wait for another rank shows as idle time (a bubble), not as a longer action. The
            // planner's DAG adds that wait itself (the cross-rank edge); counting it in the
            // duration too made every predicted batch too long.
            receiveInputs(action, job);
            const std::int64_t start = job.timer ? job.timer->mark(m_rank, device) : 0;
            int frozen = 0;
            if (action.kind == ActionKind::Forward)
                forward(action, job);
            else
                frozen = backward(action, ratio, job);
            const int total = static_cast<int>(local(action.stage).parameters.size());
            if (isFreezable(action.kind)) {
                m_stageFrozenSum[static_cast<std::size_t>(action.stage)]
                    += total > 0 ? static_cast<double>(frozen) / total : 0.0;
                ++m_stageFreezableActions[static_cast<std::size_t>(action.stage)];
            }
            if (job.timer) {
                ActionSpan span;
                span.step = job.step;
                span.rank = m_rank;
                span.stage = action.stage;
                span.microbatch = action.microbatch;
                span.kind = action.kind;
                span.startUs = start;
                span.endUs = job.timer->mark(m_rank, device);
                span.frozenTensors = frozen;
                span.totalTensors = total;
                m_spans.push_back(span);
            }
        }
        collectLosses(job.step);
    } catch (...) {
        releaseAll();
        throw;
    }
    releaseAll();
}

void StageWorker::collectLosses(std::int64_t step)
{
    if (m_losses.empty())
        return;
    const torch::Tensor values = torch::stack(m_losses).to(torch::kCPU, torch::kFloat64);
    const auto* value = values.data_ptr<double>();
    for (std::size_t i = 0; i < m_losses.size(); ++i) {
        if (!std::isfinite(value[i]))
            throw std::runtime_error("non-finite loss (" + std::to_string(value[i]) + ") at step "
                + std::to_string(step) + ", microbatch " + std::to_string(m_lossMicrobatches[i]));
        m_lossSum += value[i];
    }
}

void StageWorker::receiveInputs(const Action& action, const StepJob& job)
{
    const int s = action.stage;
    const int m = action.microbatch;
    Slot& state = slot(s, m);
    const torch::Device device = local(s).device;
    switch (action.kind) {
    case ActionKind::Forward:
        if (s == 0) {
            state.input = job.inputs->at(static_cast<std::size_t>(m)).to(device);
        } else {
            // Detach: the stage's own graph starts at its input, whose gradient is what goes back.
            state.input = m_transport.receive({ s, m, TransportDirection::Activation })
                              .to(device)
                              .detach()
                              .requires_grad_(true);
        }
        break;
    case ActionKind::Backward:
    case ActionKind::BackwardInput:
        // The last stage's output is the scalar loss: its gradient is the implicit 1.
        if (s != m_lastStage)
            state.gradOutput = m_transport.receive({ s, m, TransportDirection::Gradient }).to(device);
        break;
    case ActionKind::BackwardWeight:
        break; // I kept the output gradient
    }
}

void StageWorker::forward(const Action& action, const StepJob& job)
{
    const int s = action.stage;
    const int m = action.microbatch;
    Slot& state = slot(s, m);
    LocalStage& stage = local(s);
    torch::Tensor output = stage.module->forward(state.input);
    if (s != m_lastStage) {
        state.output = output;
        m_transport.send({ s + 1, m, TransportDirection::Activation }, std::move(output));
        return;
    }
    const torch::Tensor targets = job.targets->at(static_cast<std::size_t>(m)).to(stage.device);
    torch::Tensor loss
        = torch::nn::functional::cross_entropy(output.reshape({ -1, output.size(-1) }), targets.reshape({ -1 }));
    // Read after the step (collectLosses): a read here would be a host sync per microbatch on CUDA.
    m_losses.push_back(loss.detach());
    m_lossMicrobatches.push_back(m);
    // 1/M: the microbatch gradients add up to the gradient of the batch's mean loss.
    state.output = loss / static_cast<double>(m_microbatches);
}

std::vector<torch::Tensor> StageWorker::unfrozenParameters(
    const Action& action, LocalStage& stage, double ratio, std::int64_t step, int& frozen)
{
    const int n = static_cast<int>(stage.parameters.size());
    std::vector<int> frozenIndices;
    if (ratio > 0.0)
        frozenIndices = m_selector.frozenTensors(action, n, ratio, step);
    std::vector<char> isFrozen(static_cast<std::size_t>(n), 0);
    for (int index : frozenIndices)
        if (index >= 0 && index < n)
            isFrozen[static_cast<std::size_t>(index)] = 1;
    std::vector<torch::Tensor> unfrozen;
    unfrozen.reserve(static_cast<std::size_t>(n));
    frozen = 0;
    auto& counts = m_gradientCounts[static_cast<std::size_t>(stage.stage)];
    for (int i = 0; i < n; ++i) {
        if (isFrozen[static_cast<std::size_t>(i)]) {
            ++frozen;
        } else {
            unfrozen.push_back(stage.parameters[static_cast<std::size_t>(i)]);
            ++counts[static_cast<std::size_t>(i)];
        }
    }
    return unfrozen;
}

int StageWorker::backward(const Action& action, double ratio, const StepJob& job)
{
    const int s = action.stage;
    const int m = action.microbatch;
    Slot& state = slot(s, m);
    LocalStage& stage = local(s);
    // The last stage's output is the scalar loss: its gradient is the implicit 1.
    auto gradOutputs = [&state]() -> std::vector<torch::Tensor> {
        if (state.gradOutput.defined())
            return { state.gradOutput };
        return {};
    };

    // Stage 0's input is token ids: there is no input gradient to compute or send.
    const bool needsInputGradient = s > 0;
    int frozen = 0;
    switch (action.kind) {
    case ActionKind::Backward: {
        std::vector<torch::Tensor> inputs = unfrozenParameters(action, stage, ratio, job.step, frozen);
        if (needsInputGradient)
            inputs.push_back(state.input);
        // Empty `inputs` would mean "every leaf" to autograd: skip the call instead.
        if (!inputs.empty())
            torch::autograd::backward({ state.output }, gradOutputs(), false, false, inputs);
        if (needsInputGradient)
            m_transport.send({ s - 1, m, TransportDirection::Gradient }, state.input.grad());
        state = Slot {};
        break;
    }
    case ActionKind::BackwardInput:
        if (needsInputGradient) {
            // The graph stays for W.
            torch::autograd::backward({ state.output }, gradOutputs(), true, false, { state.input });
            m_transport.send({ s - 1, m, TransportDirection::Gradient }, state.input.grad());
        }
        break;
    case ActionKind::BackwardWeight: {
        const std::vector<torch::Tensor> inputs = unfrozenParameters(action, stage, ratio, job.step, frozen);
        if (!inputs.empty())
            torch::autograd::backward({ state.output }, gradOutputs(), false, false, inputs);
        state = Slot {}; // releases the graph (also when everything was frozen)
        break;
    }
    case ActionKind::Forward:
        break;
    }
    return frozen;
}

void StageWorker::releaseAll()
{
    for (Slot& state : m_slots)
        state = Slot {};
}

} // namespace tfreeze
