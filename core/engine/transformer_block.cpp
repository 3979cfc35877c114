#include "core/engine/transformer_block.h"

#include <cmath>
#include <limits>

namespace tfreeze {

RotaryTables makeRotaryTables(std::int64_t positions, std::int64_t headDim, double base)
{
    // In double, then rounded once: float angles lose digits at large t·θ.
    const auto options = torch::TensorOptions().dtype(torch::kFloat64);
    const torch::Tensor i = torch::arange(headDim / 2, options);
    const torch::Tensor inverseFrequency = torch::pow(base, -2.0 * i / static_cast<double>(headDim));
    const torch::Tensor angles = torch::outer(torch::arange(positions, options), inverseFrequency);
    return { angles.cos().to(torch::kFloat32), angles.sin().to(torch::kFloat32) };
}

torch::Tensor applyRotary(const torch::Tensor& x, const RotaryTables& tables)
{
    const std::int64_t length = x.size(-2);
    const std::int64_t half = x.size(-1) / 2;
    const torch::Tensor cos = tables.cos.slice(0, 0, length);
    const torch::Tensor sin = tables.sin.slice(0, 0, length);
    const torch::Tensor x1 = x.slice(-1, 0, half);
    const torch::Tensor x2 = x.slice(-1, half);
    return torch::cat({ x1 * cos - x2 * sin, x2 * cos + x1 * sin }, -1);
}

RmsNormImpl::RmsNormImpl(std::int64_t width, double epsilon)
    : weight(register_parameter("weight", torch::ones({ width })))
    , m_epsilon(epsilon)
{
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x)
{
    return x * torch::rsqrt(x.pow(2).mean(-1, true) + m_epsilon) * weight;
}

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const ModelConfig& config)
    : m_heads(config.heads)
    , m_headDim(config.headDim())
{
    const auto linear = [&](const char* name) {
        return register_module(
            name, torch::nn::Linear(torch::nn::LinearOptions(config.width, config.width).bias(false)));
    };
    query = linear("query");
    key = linear("key");
    value = linear("value");
    output = linear("output");
    m_rotary = makeRotaryTables(config.sequence, m_headDim, config.ropeBase);
    m_rotary.cos = register_buffer("rotary_cos", m_rotary.cos);
    m_rotary.sin = register_buffer("rotary_sin", m_rotary.sin);
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x)
{
    const std::int64_t batch = x.size(0);
    const std::int64_t length = x.size(1);
    const auto heads = [&](const torch::Tensor& projected) {
        return projected.view({ batch, length, m_heads, m_headDim }).transpose(1, 2); // [B, H, T, D]
    };
    const torch::Tensor q = applyRotary(heads(query->forward(x)), m_rotary);
    const torch::Tensor k = applyRotary(heads(key->forward(x)), m_rotary);
    const torch::Tensor v = heads(value->forward(x));

    torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(m_headDim));
    const torch::Tensor future
        = torch::ones({ length, length }, torch::TensorOptions().dtype(torch::kBool).device(x.device())).triu(1);
    scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
    const torch::Tensor mixed = torch::matmul(torch::softmax(scores, -1), v); // [B, H, T, D]
    return output->forward(mixed.transpose(1, 2).reshape({ batch, length, m_heads * m_headDim }));
}

SwiGluMlpImpl::SwiGluMlpImpl(const ModelConfig& config)
{
    const std::int64_t hidden = config.resolvedMlpHidden();
    gate = register_module("gate", torch::nn::Linear(torch::nn::LinearOptions(config.width, hidden).bias(false)));
    up = register_module("up", torch::nn::Linear(torch::nn::LinearOptions(config.width, hidden).bias(false)));
    down = register_module("down", torch::nn::Linear(torch::nn::LinearOptions(hidden, config.width).bias(false)));
}

torch::Tensor SwiGluMlpImpl::forward(const torch::Tensor& x)
{
    return down->forward(torch::silu(gate->forward(x)) * up->forward(x));
}

// Members are initialised, hence registered, in declaration order: the model's parameter order.
TransformerBlockImpl::TransformerBlockImpl(const ModelConfig& config)
    : attentionNorm(register_module("attention_norm", RmsNorm(config.width, config.normEpsilon)))
    , attention(register_module("attention", CausalSelfAttention(config)))
    , mlpNorm(register_module("mlp_norm", RmsNorm(config.width, config.normEpsilon)))
    , mlp(register_module("mlp", SwiGluMlp(config)))
{
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x)
{
    const torch::Tensor h = x + attention->forward(attentionNorm->forward(x));
    return h + mlp->forward(mlpNorm->forward(h));
}

} // namespace tfreeze
