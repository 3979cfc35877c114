#include "core/engine/batch_source.h"

#include "core/engine/synthetic_tasks.h"
#include "core/engine/text_corpus.h"

#include <stdexcept>

namespace tfreeze {

Batch Batch::slice(std::int64_t first, std::int64_t count) const
{
    return { inputs.narrow(0, first, count), targets.narrow(0, first, count) };
}

std::vector<Batch> Batch::split(int microbatches) const
{
    if (microbatches < 1 || rows() % microbatches != 0)
        throw std::invalid_argument("Batch::split: " + std::to_string(rows()) + " rows do not split into "
            + std::to_string(microbatches) + " microbatches");
    const std::int64_t size = rows() / microbatches;
    std::vector<Batch> parts;
    for (int m = 0; m < microbatches; ++m)
        parts.push_back(slice(m * size, size));
    return parts;
}

std::string defaultCorpusPath() { return std::string(TFREEZE_RESOURCES_DIR) + "/corpus/kjv.txt"; }

std::unique_ptr<BatchSource> makeBatchSource(const RunConfig& config)
{
    const DataConfig& data = config.data;
    if (data.kind == DataKind::Text) {
        const std::string path = data.path.empty() ? defaultCorpusPath() : data.path;
        return std::make_unique<TextCorpus>(
            TextCorpus::fromFile(path, data.validationFraction, data.batchSize, config.model.sequence, config.seed));
    }
    return std::make_unique<SyntheticTask>(data.kind, data.sortLength, data.addDigits, data.heldOutExamples,
        data.batchSize, config.model.sequence, config.seed);
}

} // namespace tfreeze
