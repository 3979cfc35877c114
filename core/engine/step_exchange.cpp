#include "core/engine/step_exchange.h"

#include "core/engine/process_group.h"

#include <algorithm>
#include <cstring>

namespace tfreeze {

namespace {

torch::TensorOptions on(const ProcessGroup& group, torch::ScalarType type)
{
    return torch::TensorOptions().dtype(type).device(group.device());
}

// A span as 9 int64 values, and back.
constexpr int kSpanFields = 9;
constexpr std::size_t kErrorBytes = 1024;

} // namespace

StepCommand broadcastCommand(ProcessGroup& group, const StepCommand& command, std::size_t actions)
{
    // [kind, has ratios, ratio per action]
    torch::Tensor message = torch::zeros({ static_cast<std::int64_t>(2 + actions) }, torch::kFloat64);
    if (group.rank() == 0) {
        auto* values = message.data_ptr<double>();
        values[0] = static_cast<double>(command.kind);
        if (command.freezeRatios) {
            values[1] = 1.0;
            std::copy_n(command.freezeRatios->begin(), std::min(actions, command.freezeRatios->size()), values + 2);
        }
    }
    torch::Tensor shared = message.to(group.device());
    group.broadcast(shared, 0);
    message = shared.to(torch::kCPU);
    const auto* values = message.data_ptr<double>();
    StepCommand received;
    received.kind = static_cast<StepCommand::Kind>(static_cast<int>(values[0]));
    if (values[1] != 0.0)
        received.freezeRatios = std::vector<double>(values + 2, values + 2 + actions);
    return received;
}

std::string agreeOnFailure(ProcessGroup& group, const std::string& localError)
{
    torch::Tensor failed = torch::full({ 1 }, localError.empty() ? 0.0 : 1.0, on(group, torch::kFloat64));
    group.allReduceSum(failed);
    if (failed.item<double>() == 0.0)
        return {};
    // Someone failed: every process's message, cut to a fixed size, so rank 0 can say who and why.
    torch::Tensor mine = torch::zeros({ static_cast<std::int64_t>(kErrorBytes) }, torch::kUInt8);
    std::memcpy(mine.data_ptr<std::uint8_t>(), localError.data(), std::min(localError.size(), kErrorBytes - 1));
    std::vector<torch::Tensor> all;
    group.allGather(mine.to(group.device()), all);
    // The cause, not its echo: a rank that only timed out waiting for the failed one comes last.
    std::string cause;
    std::string echo;
    for (int r = 0; r < group.size(); ++r) {
        const torch::Tensor text = all[static_cast<std::size_t>(r)].to(torch::kCPU);
        const auto* bytes = reinterpret_cast<const char*>(text.data_ptr<std::uint8_t>());
        std::string message(bytes, strnlen(bytes, kErrorBytes));
        if (message.empty())
            continue;
        if (message.rfind("rank ", 0) != 0)
            message = "rank " + std::to_string(r) + ": " + message;
        const bool waitedOnOthers = message.find("receiving from process") != std::string::npos
            || message.find("aborted by another rank") != std::string::npos;
        if (!waitedOnOthers && cause.empty())
            cause = message;
        if (echo.empty())
            echo = message;
    }
    return !cause.empty() ? cause : !echo.empty() ? echo : "a rank failed without a message";
}

void allReduceStepSums(
    ProcessGroup& group, double& lossSum, std::vector<double>& stageFrozenSum, std::vector<int>& stageActions)
{
    const std::size_t stages = stageFrozenSum.size();
    torch::Tensor sums = torch::zeros({ static_cast<std::int64_t>(1 + 2 * stages) }, torch::kFloat64);
    auto* values = sums.data_ptr<double>();
    values[0] = lossSum;
    for (std::size_t s = 0; s < stages; ++s) {
        values[1 + s] = stageFrozenSum[s];
        values[1 + stages + s] = stageActions[s];
    }
    torch::Tensor shared = sums.to(group.device());
    group.allReduceSum(shared);
    sums = shared.to(torch::kCPU);
    values = sums.data_ptr<double>();
    lossSum = values[0];
    for (std::size_t s = 0; s < stages; ++s) {
        stageFrozenSum[s] = values[1 + s];
        stageActions[s] = static_cast<int>(values[1 + stages + s]);
    }
}

std::vector<ActionSpan> allGatherSpans(ProcessGroup& group, const std::vector<ActionSpan>& local)
{
    // Counts first: the gather needs tensors of one shape, so every process pads to the largest.
    std::vector<torch::Tensor> counts;
    group.allGather(torch::full({ 1 }, static_cast<std::int64_t>(local.size()), on(group, torch::kInt64)), counts);
    std::int64_t largest = 0;
    std::vector<std::int64_t> sizes;
    for (const torch::Tensor& count : counts) {
        sizes.push_back(count.item<std::int64_t>());
        largest = std::max(largest, sizes.back());
    }
    torch::Tensor mine = torch::zeros({ largest, kSpanFields }, torch::kInt64);
    auto* row = mine.data_ptr<std::int64_t>();
    for (const ActionSpan& span : local) {
        const std::int64_t fields[kSpanFields] = { span.step, span.rank, span.stage, span.microbatch,
            static_cast<std::int64_t>(span.kind), span.startUs, span.endUs, span.frozenTensors, span.totalTensors };
        std::copy(fields, fields + kSpanFields, row);
        row += kSpanFields;
    }
    std::vector<torch::Tensor> all;
    group.allGather(mine.to(group.device()), all);
    std::vector<ActionSpan> spans;
    for (std::size_t p = 0; p < all.size(); ++p) {
        const torch::Tensor rows = all[p].to(torch::kCPU);
        const auto* value = rows.data_ptr<std::int64_t>();
        for (std::int64_t i = 0; i < sizes[p]; ++i, value += kSpanFields) {
            ActionSpan span;
            span.step = value[0];
            span.rank = static_cast<int>(value[1]);
            span.stage = static_cast<int>(value[2]);
            span.microbatch = static_cast<int>(value[3]);
            span.kind = static_cast<ActionKind>(value[4]);
            span.startUs = value[5];
            span.endUs = value[6];
            span.frozenTensors = static_cast<int>(value[7]);
            span.totalTensors = static_cast<int>(value[8]);
            spans.push_back(span);
        }
    }
    return spans;
}

void broadcastStageParameters(
    ProcessGroup& group, const std::vector<PipelineStagePtr>& stages, const std::vector<int>& stageProcess)
{
    torch::NoGradGuard noGrad;
    for (std::size_t s = 0; s < stages.size(); ++s) {
        for (torch::Tensor& parameter : stages[s]->parameters()) {
            torch::Tensor shared = parameter.detach().to(group.device()).contiguous();
            group.broadcast(shared, stageProcess[s]);
            if (group.rank() != stageProcess[s])
                parameter.copy_(shared);
        }
    }
}

} // namespace tfreeze
