#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.
//
// The optimizer pieces that the sequential trainer and the pipeline runtime share, so that both
// train identically. The pipeline runtime has one optimizer per rank over that rank's stages:
// AdamW is per element, so that equals one optimizer over the model, except for the global norm
// of gradient clipping, which is why clipping comes apart into sum → scale → apply.

#include "core/engine/run_config.h"

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace tfreeze {

// AdamW with two groups: tensors of ≥ 2 dimensions (matrices, embeddings) take weight decay,
// 1-D ones (norm gains) do not. The learning rate starts at optimizer.lr; set it every step.
std::unique_ptr<torch::optim::AdamW> makeOptimizer(
    const std::vector<torch::Tensor>& parameters, const OptimizerConfig& optimizer);

void setLearningRate(torch::optim::Optimizer& optimizer, double lr);

// Σ over parameters with a gradient of ‖grad‖², in double. Tensors without a gradient (frozen for
// every microbatch of the step) count zero.
double squaredGradientNorm(const std::vector<torch::Tensor>& parameters);
// The factor that brings a global norm down to maxNorm: min(1, maxNorm / (norm + 1e-6)) as in
// torch.nn.utils.clip_grad_norm_; 1 when maxNorm is 0 (clipping off).
double gradientClipScale(double globalNorm, double maxNorm);
void scaleGradients(const std::vector<torch::Tensor>& parameters, double scale);
// The three above on one set of parameters; returns the norm before clipping.
double clipGradientNorm(const std::vector<torch::Tensor>& parameters, double maxNorm);

} // namespace tfreeze
