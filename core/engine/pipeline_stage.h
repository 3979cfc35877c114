#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace tfreeze {

// One pipeline stage: a contiguous slice of the model that one rank runs. Stage 0 takes token
// ids [batch, sequence] (int64); every later stage takes the previous stage's output. The last
// stage returns logits [batch, sequence, vocabulary]; the loss is computed outside the stage.
class PipelineStage : public torch::nn::Module {
public:
    virtual torch::Tensor forward(const torch::Tensor& input) = 0;

    // The parameter tensors that freezing may leave out of a backward (METHOD.md §5), in model
    // order (input side first). Every parameter of the stage is in this list.
    virtual std::vector<torch::Tensor> freezableParameters() = 0;
};

using PipelineStagePtr = std::shared_ptr<PipelineStage>;

} // namespace tfreeze
