#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/batch_source.h"
#include "core/engine/run_config.h"
#include "core/engine/transformer_model.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>

namespace tfreeze {

struct TrainingStepResult {
    std::int64_t step = 0; // 0-based index of the step just taken
    double loss = 0.0; // (1/M) Σ over microbatches of their mean loss: what was differentiated
    double gradientNorm = 0.0; // global norm before clipping
    double learningRate = 0.0; // the rate this step used
    std::int64_t tokens = 0; // input tokens of the batch
};

// The yardstick: a plain loop over the whole model on the same batches as the pipeline. Each step
// splits the batch into M microbatches (M = schedule.microbatches), back-propagates each one's mean
// loss scaled by 1/M so that gradients accumulate to the gradient of the mean, clips the global
// gradient norm, sets the learning rate of the step and takes one AdamW step. The pipeline
// runtime with freezing off must reproduce this step for step.
class SequentialTrainer {
public:
    // A fresh model (config.model, config.seed) and its optimizer; config must be validated.
    explicit SequentialTrainer(const RunConfig& config);

    TrainingStepResult step(const Batch& batch);

    TransformerModel& model() { return m_model; }
    torch::optim::AdamW& optimizer() { return *m_optimizer; }
    std::int64_t stepsDone() const { return m_step; }

private:
    RunConfig m_config;
    TransformerModel m_model;
    std::vector<torch::Tensor> m_parameters;
    std::unique_ptr<torch::optim::AdamW> m_optimizer;
    std::int64_t m_step = 0;
};

} // namespace tfreeze
