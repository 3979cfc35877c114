#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.
//
// One LLaMA-style decoder block and its parts. They share a file pair because they exist only as
// parts of a block, and each torch translation unit costs ~20 s to compile on the build machine.

#include "core/engine/run_config.h"

#include <torch/torch.h>

namespace tfreeze {

// Rotary position embedding tables: angle(t, i) = t · base^(−2i / headDim), i < headDim/2.
struct RotaryTables {
    torch::Tensor cos; // [positions, headDim / 2]
    torch::Tensor sin;
};
RotaryTables makeRotaryTables(std::int64_t positions, std::int64_t headDim, double base);

// Rotates each pair (x[i], x[i + headDim/2]) of x [..., T, headDim] by the angle of its position
// t < T (the GPT-NeoX "rotate half" layout). The tables must have at least T rows.
torch::Tensor applyRotary(const torch::Tensor& x, const RotaryTables& tables);

// Root-mean-square layer norm with a learned gain, no bias, no centering.
class RmsNormImpl : public torch::nn::Module {
public:
    RmsNormImpl(std::int64_t width, double epsilon);
    torch::Tensor forward(const torch::Tensor& x);

    torch::Tensor weight;

private:
    double m_epsilon;
};
TORCH_MODULE(RmsNorm);

// Causal multi-head self-attention with rotary embeddings on queries and keys, written with
// matmul + mask + softmax (LibTorch 1.13 has no fused attention in C++).
class CausalSelfAttentionImpl : public torch::nn::Module {
public:
    explicit CausalSelfAttentionImpl(const ModelConfig& config);
    torch::Tensor forward(const torch::Tensor& x); // [B, T, width] → [B, T, width]

    torch::nn::Linear query { nullptr };
    torch::nn::Linear key { nullptr };
    torch::nn::Linear value { nullptr };
    torch::nn::Linear output { nullptr };

private:
    std::int64_t m_heads;
    std::int64_t m_headDim;
    // Registered as buffers: to(device) moves them in place (set_data), these handles included.
    RotaryTables m_rotary;
};
TORCH_MODULE(CausalSelfAttention);

// down(silu(gate(x)) · up(x)).
class SwiGluMlpImpl : public torch::nn::Module {
public:
    explicit SwiGluMlpImpl(const ModelConfig& config);
    torch::Tensor forward(const torch::Tensor& x);

    torch::nn::Linear gate { nullptr };
    torch::nn::Linear up { nullptr };
    torch::nn::Linear down { nullptr };
};
TORCH_MODULE(SwiGluMlp);

// x + attention(norm(x)), then x + mlp(norm(x)). Parameters register in forward order, which
// freezableParameters() and the front-weighted draw of METHOD.md §5 rely on.
class TransformerBlockImpl : public torch::nn::Module {
public:
    explicit TransformerBlockImpl(const ModelConfig& config);
    torch::Tensor forward(const torch::Tensor& x);

    RmsNorm attentionNorm { nullptr };
    CausalSelfAttention attention { nullptr };
    RmsNorm mlpNorm { nullptr };
    SwiGluMlp mlp { nullptr };
};
TORCH_MODULE(TransformerBlock);

} // namespace tfreeze
