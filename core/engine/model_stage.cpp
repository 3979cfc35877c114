#include "core/engine/model_stage.h"

#include "core/plan/plan_error.h"

#include <algorithm>
#include <limits>

namespace tfreeze {

ModelStage::ModelStage(const TransformerModel& model, int stageIndex, int stageCount, int firstBlock, int blockCount)
    : m_stageIndex(stageIndex)
    , m_firstBlock(firstBlock)
{
    // Registered in model order, so parameters() (and freezableParameters) run input side first.
    if (stageIndex == 0)
        m_embedding = register_module("embedding", model->embedding);
    for (int i = 0; i < blockCount; ++i) {
        m_blocks.push_back(model->blocks.at(static_cast<std::size_t>(firstBlock + i)));
        register_module("block" + std::to_string(firstBlock + i), m_blocks.back());
    }
    if (stageIndex == stageCount - 1) {
        m_finalNorm = register_module("final_norm", model->finalNorm);
        m_head = register_module("head", model->head);
    }
}

torch::Tensor ModelStage::forward(const torch::Tensor& input)
{
    torch::Tensor x = isFirst() ? m_embedding->forward(input) : input;
    for (TransformerBlock& block : m_blocks)
        x = block->forward(x);
    return isLast() ? m_head->forward(m_finalNorm->forward(x)) : x;
}

std::vector<torch::Tensor> ModelStage::freezableParameters() { return parameters(true); }

std::vector<int> balancedPartition(const ModelConfig& model, int stageCount, const std::string& source)
{
    const int blocks = model.blocks;
    if (stageCount < 1 || stageCount > blocks)
        throw InputError(source, "model.blocks",
            std::to_string(stageCount) + " pipeline stages need at least as many blocks (got " + std::to_string(blocks)
                + ")");
    const std::int64_t perBlock = blockParameterCount(model);
    const auto stageCost = [&](int stage, int count) {
        std::int64_t cost = perBlock * count;
        if (stage == 0)
            cost += embeddingParameterCount(model);
        if (stage == stageCount - 1)
            cost += headParameterCount(model);
        return cost;
    };
    // best[s][b]: the smallest largest-stage cost of blocks [0, b) on stages [0, s). O(S·B²).
    constexpr std::int64_t kInfinity = std::numeric_limits<std::int64_t>::max();
    const auto S = static_cast<std::size_t>(stageCount);
    const auto B = static_cast<std::size_t>(blocks);
    std::vector<std::vector<std::int64_t>> best(S + 1, std::vector<std::int64_t>(B + 1, kInfinity));
    std::vector<std::vector<int>> choice(S + 1, std::vector<int>(B + 1, 0));
    best[0][0] = 0;
    for (std::size_t s = 1; s <= S; ++s) {
        for (std::size_t b = s; b <= B; ++b) {
            for (std::size_t count = 1; count <= b - (s - 1); ++count) {
                const std::int64_t before = best[s - 1][b - count];
                if (before == kInfinity)
                    continue;
                const std::int64_t cost = std::max(before, stageCost(static_cast<int>(s - 1), static_cast<int>(count)));
                if (cost < best[s][b]) {
                    best[s][b] = cost;
                    choice[s][b] = static_cast<int>(count);
                }
            }
        }
    }
    std::vector<int> partition(S);
    std::size_t b = B;
    for (std::size_t s = S; s >= 1; --s) {
        partition[s - 1] = choice[s][b];
        b -= static_cast<std::size_t>(choice[s][b]);
    }
    return partition;
}

void validatePartition(
    const std::vector<int>& blocksPerStage, int stageCount, const ModelConfig& model, const std::string& source)
{
    if (static_cast<int>(blocksPerStage.size()) != stageCount)
        throw InputError(source, "partition",
            "needs one block count per stage: " + std::to_string(stageCount) + " (got "
                + std::to_string(blocksPerStage.size()) + ")");
    int sum = 0;
    for (std::size_t i = 0; i < blocksPerStage.size(); ++i) {
        if (blocksPerStage[i] < 1)
            throw InputError(source, "partition[" + std::to_string(i) + "]",
                "every stage needs at least one block (got " + std::to_string(blocksPerStage[i]) + ")");
        sum += blocksPerStage[i];
    }
    if (sum != model.blocks)
        throw InputError(source, "partition",
            "block counts must add up to model.blocks = " + std::to_string(model.blocks) + " (got "
                + std::to_string(sum) + ")");
}

std::vector<int> resolvePartition(const RunConfig& config, const std::string& source)
{
    const int stages = config.schedule.stageCount();
    if (config.partition.empty())
        return balancedPartition(config.model, stages, source);
    validatePartition(config.partition, stages, config.model, source);
    return config.partition;
}

std::vector<std::shared_ptr<ModelStage>> partitionModel(
    const TransformerModel& model, const std::vector<int>& blocksPerStage, const std::string& source)
{
    const int stageCount = static_cast<int>(blocksPerStage.size());
    validatePartition(blocksPerStage, stageCount, model->config(), source);
    std::vector<std::shared_ptr<ModelStage>> stages;
    int firstBlock = 0;
    for (int stage = 0; stage < stageCount; ++stage) {
        const int count = blocksPerStage[static_cast<std::size_t>(stage)];
        stages.push_back(std::make_shared<ModelStage>(model, stage, stageCount, firstBlock, count));
        firstBlock += count;
    }
    return stages;
}

std::vector<PipelineStagePtr> asPipelineStages(const std::vector<std::shared_ptr<ModelStage>>& stages)
{
    return { stages.begin(), stages.end() };
}

} // namespace tfreeze
