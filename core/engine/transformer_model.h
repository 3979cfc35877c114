#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/run_config.h"
#include "core/engine/transformer_block.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tfreeze {

// Targets equal to this take no part in loss or accuracy (padding, prompt tokens).
constexpr std::int64_t kIgnoreTarget = -100;

// The whole decoder: token embedding, blocks, final RMSNorm, LM head (not tied to the embedding,
// as in LLaMA, so that the first and last stages own separate tensors). Parameters are drawn from
// `seed` alone, in model order, by a generator of the model's own: the same seed gives the same
// weights whatever the partition and whatever else used torch's global generator.
class TransformerModelImpl : public torch::nn::Module {
public:
    TransformerModelImpl(const ModelConfig& config, std::uint64_t seed);

    torch::Tensor forward(const torch::Tensor& tokens); // int64 [B, T] → logits [B, T, vocabulary]

    const ModelConfig& config() const { return m_config; }

    torch::nn::Embedding embedding { nullptr };
    std::vector<TransformerBlock> blocks;
    RmsNorm finalNorm { nullptr };
    torch::nn::Linear head { nullptr };

private:
    ModelConfig m_config;
};
TORCH_MODULE(TransformerModel);

// Mean cross-entropy over the targets that are not kIgnoreTarget. logits [B, T, V], targets [B, T].
torch::Tensor languageModelLoss(const torch::Tensor& logits, const torch::Tensor& targets);

// Σ numel of the parameters of a block, of the embedding, of final norm + head: what the balanced
// partition weighs, computed from the sizes without building a model.
std::int64_t blockParameterCount(const ModelConfig& config);
std::int64_t embeddingParameterCount(const ModelConfig& config);
std::int64_t headParameterCount(const ModelConfig& config);

} // namespace tfreeze
