#include "core/engine/sequential_trainer.h"

#include "core/engine/lr_schedule.h"
#include "core/engine/optimizer_setup.h"

namespace tfreeze {

SequentialTrainer::SequentialTrainer(const RunConfig& config)
    : m_config(config)
    , m_model(config.model, config.seed)
    , m_parameters(m_model->parameters())
    , m_optimizer(makeOptimizer(m_parameters, config.optimizer))
{
}

TrainingStepResult SequentialTrainer::step(const Batch& batch)
{
    const int microbatches = m_config.schedule.microbatches;
    TrainingStepResult result;
    result.step = m_step;
    result.tokens = batch.inputs.numel();
    m_optimizer->zero_grad();
    for (const Batch& part : batch.split(microbatches)) {
        const torch::Tensor loss = languageModelLoss(m_model->forward(part.inputs), part.targets);
        (loss / static_cast<double>(microbatches)).backward();
        result.loss += loss.item<double>() / microbatches;
    }
    result.gradientNorm = clipGradientNorm(m_parameters, m_config.optimizer.gradClip);
    result.learningRate = learningRateAt(m_step, m_config.optimizer, m_config.steps);
    setLearningRate(*m_optimizer, result.learningRate);
    m_optimizer->step();
    ++m_step;
    return result;
}

} // namespace tfreeze
