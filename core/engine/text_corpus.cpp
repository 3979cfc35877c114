#include "core/engine/text_corpus.h"

#include "core/engine/transformer_model.h"
#include "core/plan/plan_error.h"
#include "core/plan/text_file.h"

#include <cmath>

namespace tfreeze {

TextCorpus::TextCorpus(std::string text, double validationFraction, int batchSize, int sequence, std::uint64_t seed,
    const std::string& source)
    : m_batchSize(batchSize)
    , m_sequence(sequence)
    , m_seed(seed)
{
    for (std::size_t offset = 0, block = 0; offset < text.size(); offset += kBlockBytes, ++block) {
        std::string& split = isValidationBlock(block, validationFraction) ? m_validation : m_training;
        split.append(text, offset, kBlockBytes);
    }
    const std::size_t window = static_cast<std::size_t>(sequence) + 1;
    if (m_training.size() < window || m_validation.size() < window)
        throw InputError(source, "data.path",
            "the text (" + std::to_string(text.size())
                + " bytes) is too short: each split needs at least one window of " + std::to_string(window)
                + " bytes (training " + std::to_string(m_training.size()) + ", validation "
                + std::to_string(m_validation.size()) + ")");
}

TextCorpus TextCorpus::fromFile(
    const std::string& path, double validationFraction, int batchSize, int sequence, std::uint64_t seed)
{
    return TextCorpus(readTextFile(path), validationFraction, batchSize, sequence, seed, path);
}

bool TextCorpus::isValidationBlock(std::size_t block, double validationFraction)
{
    const auto b = static_cast<double>(block);
    return std::floor((b + 1.0) * validationFraction) > std::floor(b * validationFraction);
}

Batch TextCorpus::windows(const std::string& split, const std::vector<std::size_t>& offsets) const
{
    const auto rows = static_cast<std::int64_t>(offsets.size());
    const std::int64_t window = m_sequence + 1;
    torch::Tensor tokens = torch::empty({ rows, window }, torch::kInt64);
    auto* data = tokens.data_ptr<std::int64_t>();
    for (std::int64_t row = 0; row < rows; ++row)
        for (std::int64_t t = 0; t < window; ++t)
            data[row * window + t] = static_cast<unsigned char>(split[offsets[static_cast<std::size_t>(row)] + t]);
    return { tokens.slice(1, 0, m_sequence).contiguous(), tokens.slice(1, 1).contiguous() };
}

Batch TextCorpus::trainingBatch(std::int64_t step) const
{
    SplitMix64 generator(SplitMix64::mix(m_seed, static_cast<std::uint64_t>(step)));
    const std::size_t starts = m_training.size() - static_cast<std::size_t>(m_sequence);
    std::vector<std::size_t> offsets(static_cast<std::size_t>(m_batchSize));
    for (std::size_t& offset : offsets)
        offset = generator.below(starts);
    return windows(m_training, offsets);
}

std::vector<Batch> TextCorpus::validationBatches(int count) const
{
    // Windows start every `sequence` bytes (sharing one byte: each target is predicted once);
    // the evaluation takes count·batch of them spread evenly, or all when there are fewer.
    const std::size_t sequence = static_cast<std::size_t>(m_sequence);
    const std::size_t available = (m_validation.size() - 1) / sequence;
    const std::size_t wanted = std::min(available, static_cast<std::size_t>(count) * m_batchSize);
    std::vector<Batch> batches;
    for (std::size_t first = 0; first < wanted; first += static_cast<std::size_t>(m_batchSize)) {
        std::vector<std::size_t> offsets;
        for (std::size_t j = first; j < std::min(wanted, first + m_batchSize); ++j)
            offsets.push_back(j * available / wanted * sequence);
        batches.push_back(windows(m_validation, offsets));
    }
    return batches;
}

} // namespace tfreeze
