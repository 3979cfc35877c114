#include "core/engine/evaluation.h"

#include <cmath>

namespace tfreeze {

void MetricSums::add(const MetricSums& other)
{
    lossSum += other.lossSum;
    targets += other.targets;
    correct += other.correct;
    exactRows += other.exactRows;
    scoredRows += other.scoredRows;
}

EvalStats MetricSums::stats(std::int64_t step, bool exactMatch) const
{
    EvalStats stats;
    stats.step = step;
    const auto count = static_cast<double>(targets);
    stats.validationLoss = targets > 0 ? lossSum / count : 0.0;
    stats.perplexity = std::exp(stats.validationLoss);
    stats.tokenAccuracy = targets > 0 ? static_cast<double>(correct) / count : 0.0;
    stats.exactMatch = !exactMatch ? -1.0
        : scoredRows > 0           ? static_cast<double>(exactRows) / static_cast<double>(scoredRows)
                                   : 0.0;
    return stats;
}

MetricSums measureLogits(const torch::Tensor& logits, const torch::Tensor& targets)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor scored = targets != kIgnoreTarget;
    const torch::Tensor loss
        = torch::nn::functional::cross_entropy(logits.reshape({ -1, logits.size(-1) }), targets.reshape({ -1 }),
            torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreTarget).reduction(torch::kSum));
    const torch::Tensor right = (logits.argmax(-1) == targets).logical_and(scored);
    const torch::Tensor rowScored = scored.any(1);
    const torch::Tensor rowExact = right.logical_or(scored.logical_not()).all(1).logical_and(rowScored);

    MetricSums sums;
    sums.lossSum = loss.item<double>();
    sums.targets = scored.sum().item<std::int64_t>();
    sums.correct = right.sum().item<std::int64_t>();
    sums.exactRows = rowExact.sum().item<std::int64_t>();
    sums.scoredRows = rowScored.sum().item<std::int64_t>();
    return sums;
}

EvalStats evaluate(const std::function<torch::Tensor(const torch::Tensor&)>& logitsOf, const BatchSource& data,
    int batches, std::int64_t step)
{
    torch::NoGradGuard noGrad;
    MetricSums sums;
    for (const Batch& batch : data.validationBatches(batches))
        sums.add(measureLogits(logitsOf(batch.inputs), batch.targets));
    return sums.stats(step, data.hasExactMatch());
}

EvalStats evaluate(TransformerModel& model, const BatchSource& data, int batches, std::int64_t step)
{
    return evaluate([&](const torch::Tensor& tokens) { return model->forward(tokens); }, data, batches, step);
}

} // namespace tfreeze
