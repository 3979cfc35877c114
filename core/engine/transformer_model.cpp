#include "core/engine/transformer_model.h"

#include <cmath>
#include <string>

namespace tfreeze {

namespace {

bool endsWith(const std::string& text, const std::string& suffix)
{
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

TransformerModelImpl::TransformerModelImpl(const ModelConfig& config, std::uint64_t seed)
    : m_config(config)
{
    // Registered in the body, not the initialiser list: registration order is the parameter order
    // (embedding, blocks, final norm, head), and the blocks cannot be registered in that list.
    // cppcheck-suppress useInitializationList
    embedding = register_module("embedding", torch::nn::Embedding(config.vocabulary, config.width));
    torch::nn::ModuleList list;
    for (int i = 0; i < config.blocks; ++i) {
        blocks.emplace_back(config);
        list->push_back(blocks.back());
    }
    register_module("blocks", list);
    finalNorm = register_module("final_norm", RmsNorm(config.width, config.normEpsilon));
    head = register_module(
        "head", torch::nn::Linear(torch::nn::LinearOptions(config.width, config.vocabulary).bias(false)));

    // GPT-2/LLaMA-style: N(0, 0.02), residual output projections scaled by 1/√(2·blocks) so the
    // residual stream does not grow with depth; norm gains 1. The initial loss is then ≈ ln(vocabulary).
    torch::NoGradGuard noGrad;
    at::Generator generator = at::detail::createCPUGenerator(seed);
    const double residualStd = 0.02 / std::sqrt(2.0 * config.blocks);
    for (auto& item : named_parameters(true)) {
        const std::string& name = item.key();
        torch::Tensor& parameter = item.value();
        if (endsWith(name, "norm.weight"))
            parameter.fill_(1.0);
        else if (endsWith(name, "attention.output.weight") || endsWith(name, "mlp.down.weight"))
            parameter.normal_(0.0, residualStd, generator);
        else
            parameter.normal_(0.0, 0.02, generator);
    }
}

torch::Tensor TransformerModelImpl::forward(const torch::Tensor& tokens)
{
    torch::Tensor x = embedding->forward(tokens);
    for (TransformerBlock& block : blocks)
        x = block->forward(x);
    return head->forward(finalNorm->forward(x));
}

torch::Tensor languageModelLoss(const torch::Tensor& logits, const torch::Tensor& targets)
{
    return torch::nn::functional::cross_entropy(logits.reshape({ -1, logits.size(-1) }), targets.reshape({ -1 }),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreTarget));
}

std::int64_t blockParameterCount(const ModelConfig& config)
{
    const std::int64_t width = config.width;
    return 2 * width + 4 * width * width + 3 * width * config.resolvedMlpHidden();
}

std::int64_t embeddingParameterCount(const ModelConfig& config)
{
    return static_cast<std::int64_t>(config.vocabulary) * config.width;
}

std::int64_t headParameterCount(const ModelConfig& config)
{
    return config.width + static_cast<std::int64_t>(config.vocabulary) * config.width;
}

} // namespace tfreeze
