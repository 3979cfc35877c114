#pragma once

// A small model for the runtime's tests, split into PipelineStages: stage 0 embeds byte-like token
// ids, every stage applies residual tanh blocks, the last stage adds a head to logits. Header-only
// to keep the test at one torch translation unit.

#include "core/engine/pipeline_stage.h"

#include <atomic>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace tfreeze::test {

enum class Fault { None, Throw, NaN };

class TestMlpStage : public PipelineStage {
public:
    TestMlpStage(bool first, bool last, int vocabulary, int width, int blocks)
        : m_first(first)
        , m_last(last)
    {
        if (first)
            m_embedding = register_module("embedding", torch::nn::Embedding(vocabulary, width));
        for (int b = 0; b < blocks; ++b)
            m_blocks.push_back(register_module("block" + std::to_string(b), torch::nn::Linear(width, width)));
        if (last)
            m_head = register_module("head", torch::nn::Linear(width, vocabulary));
    }

    torch::Tensor forward(const torch::Tensor& input) override
    {
        const int call = m_calls.fetch_add(1);
        if (m_fault == Fault::Throw && call == m_faultCall)
            throw std::runtime_error("injected fault in forward call " + std::to_string(call));
        torch::Tensor x = m_first ? m_embedding->forward(input) : input;
        for (auto& block : m_blocks)
            x = x + torch::tanh(block->forward(x));
        if (m_fault == Fault::NaN && call == m_faultCall)
            x = x * std::numeric_limits<float>::quiet_NaN();
        return m_last ? m_head->forward(x) : x;
    }

    std::vector<torch::Tensor> freezableParameters() override { return parameters(); }

    // The `call`-th forward (0-based, counted over the stage's life) throws or yields NaN.
    void injectFault(Fault fault, int call)
    {
        m_fault = fault;
        m_faultCall = call;
    }

private:
    bool m_first;
    bool m_last;
    torch::nn::Embedding m_embedding { nullptr };
    std::vector<torch::nn::Linear> m_blocks;
    torch::nn::Linear m_head { nullptr };
    std::atomic<int> m_calls { 0 };
    Fault m_fault = Fault::None;
    int m_faultCall = -1;
};

struct TestModelShape {
    int stages = 4;
    int vocabulary = 16;
    int width = 32;
    int blocksPerStage = 2;
};

// The same seed gives the same weights: built on the calling thread from torch's global generator.
inline std::vector<std::shared_ptr<TestMlpStage>> makeTestModel(const TestModelShape& shape, std::uint64_t seed)
{
    torch::manual_seed(seed);
    std::vector<std::shared_ptr<TestMlpStage>> stages;
    for (int s = 0; s < shape.stages; ++s)
        stages.push_back(std::make_shared<TestMlpStage>(
            s == 0, s == shape.stages - 1, shape.vocabulary, shape.width, shape.blocksPerStage));
    return stages;
}

inline std::vector<PipelineStagePtr> asPipelineStages(const std::vector<std::shared_ptr<TestMlpStage>>& stages)
{
    return { stages.begin(), stages.end() };
}

} // namespace tfreeze::test
