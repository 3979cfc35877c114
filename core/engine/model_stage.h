#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/pipeline_stage.h"
#include "core/engine/transformer_model.h"

#include <memory>
#include <string>
#include <vector>

namespace tfreeze {

// A contiguous slice of a TransformerModel: the embedding if it is the first stage, some blocks,
// final norm + head if it is the last. It shares the model's modules (no copy): a stage's
// parameters are the model's tensors, so the model can be initialised whole and then split.
class ModelStage : public PipelineStage {
public:
    ModelStage(const TransformerModel& model, int stageIndex, int stageCount, int firstBlock, int blockCount);

    torch::Tensor forward(const torch::Tensor& input) override;
    std::vector<torch::Tensor> freezableParameters() override;

    int stageIndex() const { return m_stageIndex; }
    int firstBlock() const { return m_firstBlock; }
    int blockCount() const { return static_cast<int>(m_blocks.size()); }
    bool isFirst() const { return !m_embedding.is_empty(); }
    bool isLast() const { return !m_head.is_empty(); }

private:
    int m_stageIndex;
    int m_firstBlock;
    torch::nn::Embedding m_embedding { nullptr };
    std::vector<TransformerBlock> m_blocks;
    RmsNorm m_finalNorm { nullptr };
    torch::nn::Linear m_head { nullptr };
};

// Blocks per stage, input side first, that minimise the largest stage's parameter count (the
// embedding counts on the first stage, final norm + head on the last). Throws InputError naming
// "model.blocks" when there are more stages than blocks.
std::vector<int> balancedPartition(const ModelConfig& model, int stageCount, const std::string& source = "config");

// Throws InputError(source, "partition" or "partition[i]") unless `blocksPerStage` has one entry
// ≥ 1 per stage adding up to model.blocks.
void validatePartition(const std::vector<int>& blocksPerStage, int stageCount, const ModelConfig& model,
    const std::string& source = "config");

// config.partition when given (validated), else balancedPartition for the schedule's stage count.
std::vector<int> resolvePartition(const RunConfig& config, const std::string& source = "config");

// Splits `model` into stages of blocksPerStage[i] blocks (validated as above).
std::vector<std::shared_ptr<ModelStage>> partitionModel(
    const TransformerModel& model, const std::vector<int>& blocksPerStage, const std::string& source = "config");

// The same stages as PipelineStage pointers, for the pipeline runtime.
std::vector<PipelineStagePtr> asPipelineStages(const std::vector<std::shared_ptr<ModelStage>>& stages);

} // namespace tfreeze
