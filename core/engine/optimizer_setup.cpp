#include "core/engine/optimizer_setup.h"

#include <cmath>

namespace tfreeze {

std::unique_ptr<torch::optim::AdamW> makeOptimizer(
    const std::vector<torch::Tensor>& parameters, const OptimizerConfig& optimizer)
{
    const auto options = [&](double weightDecay) {
        return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(optimizer.lr)
                                                                .betas({ optimizer.beta1, optimizer.beta2 })
                                                                .eps(optimizer.epsilon)
                                                                .weight_decay(weightDecay));
    };
    std::vector<torch::Tensor> decayed;
    std::vector<torch::Tensor> plain;
    for (const torch::Tensor& parameter : parameters)
        (parameter.dim() >= 2 ? decayed : plain).push_back(parameter);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    // An empty group would make AdamW throw; a stage of norms only is possible in principle.
    if (!decayed.empty())
        groups.emplace_back(decayed, options(optimizer.weightDecay));
    if (!plain.empty())
        groups.emplace_back(plain, options(0.0));
    return std::make_unique<torch::optim::AdamW>(std::move(groups), *options(optimizer.weightDecay));
}

void setLearningRate(torch::optim::Optimizer& optimizer, double lr)
{
    for (torch::optim::OptimizerParamGroup& group : optimizer.param_groups())
        group.options().set_lr(lr);
}

double squaredGradientNorm(const std::vector<torch::Tensor>& parameters)
{
    torch::NoGradGuard noGrad;
    // Summed where the gradients are and read once: on CUDA every read is a host sync.
    torch::Tensor sum;
    for (const torch::Tensor& parameter : parameters) {
        const torch::Tensor& gradient = parameter.grad();
        if (!gradient.defined())
            continue;
        const torch::Tensor part = gradient.to(torch::kFloat64).square().sum();
        sum = sum.defined() ? sum + part.to(sum.device()) : part;
    }
    return sum.defined() ? sum.item<double>() : 0.0;
}

double gradientClipScale(double globalNorm, double maxNorm)
{
    if (maxNorm <= 0.0)
        return 1.0;
    return std::min(1.0, maxNorm / (globalNorm + 1e-6));
}

void scaleGradients(const std::vector<torch::Tensor>& parameters, double scale)
{
    if (scale == 1.0)
        return;
    torch::NoGradGuard noGrad;
    for (const torch::Tensor& parameter : parameters) {
        torch::Tensor gradient = parameter.grad();
        if (gradient.defined())
            gradient.mul_(scale);
    }
}

double clipGradientNorm(const std::vector<torch::Tensor>& parameters, double maxNorm)
{
    const double norm = std::sqrt(squaredGradientNorm(parameters));
    scaleGradients(parameters, gradientClipScale(norm, maxNorm));
    return norm;
}

} // namespace tfreeze
