#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/batch_source.h"
#include "core/engine/transformer_model.h"
#include "core/plan/telemetry.h"

#include <functional>

namespace tfreeze {

// Sums over the evaluated batches, so that batches of different sizes weigh by their tokens.
struct MetricSums {
    double lossSum = 0.0; // Σ cross-entropy over scored targets
    std::int64_t targets = 0; // targets that are not kIgnoreTarget
    std::int64_t correct = 0; // of those, where argmax(logits) is the target
    std::int64_t exactRows = 0; // rows whose every scored target is right
    std::int64_t scoredRows = 0; // rows with at least one scored target

    void add(const MetricSums& other);
    // validation loss = lossSum / targets, perplexity = exp(loss), token accuracy = correct / targets;
    // exact match = exactRows / scoredRows when `exactMatch`, else −1 (text has no "answer").
    EvalStats stats(std::int64_t step, bool exactMatch) const;
};

// The metrics of one batch's logits [B, T, V] against targets [B, T]. Exact match is by teacher
// forcing: the argmax at every scored position of the row must be the target.
MetricSums measureLogits(const torch::Tensor& logits, const torch::Tensor& targets);

// Evaluates without gradients on data.validationBatches(batches). `logitsOf` maps input tokens to
// logits: the whole model, or the pipeline's stages composed.
EvalStats evaluate(const std::function<torch::Tensor(const torch::Tensor&)>& logitsOf, const BatchSource& data,
    int batches, std::int64_t step = 0);
EvalStats evaluate(TransformerModel& model, const BatchSource& data, int batches, std::int64_t step = 0);

} // namespace tfreeze
