#include "core/engine/synthetic_tasks.h"

#include "core/engine/transformer_model.h"

#include <algorithm>
#include <stdexcept>

namespace tfreeze {

namespace {

// Streams of the task's seed: one for the held-out set, one per training step (offset so that
// step 0 does not share the held-out stream).
constexpr std::uint64_t kHeldOutStream = 0x68656C646F7574ULL; // "heldout"

std::uint64_t power10(int digits)
{
    std::uint64_t value = 1;
    for (int i = 0; i < digits; ++i)
        value *= 10;
    return value;
}

} // namespace

SyntheticTask::SyntheticTask(
    DataKind kind, int sortLength, int addDigits, int heldOutExamples, int batchSize, int sequence, std::uint64_t seed)
    : m_kind(kind)
    , m_sortLength(sortLength)
    , m_addDigits(addDigits)
    , m_batchSize(batchSize)
    , m_sequence(sequence)
    , m_seed(seed)
{
    if (kind == DataKind::Text)
        throw std::invalid_argument("SyntheticTask: kind must be sort or add");
    SplitMix64 generator(SplitMix64::mix(seed, kHeldOutStream));
    // validateRunConfig keeps heldOutExamples ≤ half the distinct prompts, so this ends quickly.
    while (static_cast<int>(m_heldOut.size()) < heldOutExamples) {
        SyntheticExample example = drawExample(generator);
        if (m_heldOutPrompts.insert(example.prompt).second)
            m_heldOut.push_back(std::move(example));
    }
}

SyntheticExample SyntheticTask::drawExample(SplitMix64& generator) const
{
    SyntheticExample example;
    if (m_kind == DataKind::Sort) {
        const auto length = 2 + static_cast<int>(generator.below(static_cast<std::uint64_t>(m_sortLength - 1)));
        for (int i = 0; i < length; ++i)
            example.prompt += static_cast<char>('0' + generator.below(10));
        example.answer = example.prompt;
        std::sort(example.answer.begin(), example.answer.end());
    } else {
        const std::uint64_t a = generator.below(power10(m_addDigits));
        const std::uint64_t b = generator.below(power10(m_addDigits));
        example.prompt = std::to_string(a) + "+" + std::to_string(b);
        example.answer = std::to_string(a + b);
    }
    return example;
}

Batch SyntheticTask::encode(const std::vector<SyntheticExample>& examples) const
{
    const auto rows = static_cast<std::int64_t>(examples.size());
    const std::int64_t window = m_sequence + 1;
    torch::Tensor tokens = torch::zeros({ rows, window }, torch::kInt64);
    torch::Tensor targets = torch::full({ rows, m_sequence }, kIgnoreTarget, torch::kInt64);
    auto* tokenData = tokens.data_ptr<std::int64_t>();
    auto* targetData = targets.data_ptr<std::int64_t>();
    for (std::int64_t row = 0; row < rows; ++row) {
        const SyntheticExample& example = examples[static_cast<std::size_t>(row)];
        const std::string text = example.text();
        if (static_cast<std::int64_t>(text.size()) > window)
            throw std::invalid_argument("SyntheticTask: example \"" + example.prompt + "\" longer than a window");
        for (std::size_t t = 0; t < text.size(); ++t)
            tokenData[row * window + static_cast<std::int64_t>(t)] = static_cast<unsigned char>(text[t]);
        // Input position t predicts byte t + 1; the answer starts after '='.
        const auto answerStart = static_cast<std::int64_t>(example.prompt.size()) + 1;
        for (std::int64_t t = answerStart; t < static_cast<std::int64_t>(text.size()); ++t)
            targetData[row * m_sequence + t - 1] = static_cast<unsigned char>(text[static_cast<std::size_t>(t)]);
    }
    return { tokens.slice(1, 0, m_sequence).contiguous(), targets };
}

Batch SyntheticTask::trainingBatch(std::int64_t step) const
{
    SplitMix64 generator(SplitMix64::mix(m_seed, static_cast<std::uint64_t>(step)));
    std::vector<SyntheticExample> examples;
    while (static_cast<int>(examples.size()) < m_batchSize) {
        SyntheticExample example = drawExample(generator);
        if (!isHeldOut(example.prompt))
            examples.push_back(std::move(example));
    }
    return encode(examples);
}

std::vector<Batch> SyntheticTask::validationBatches(int count) const
{
    std::vector<Batch> batches;
    const std::size_t wanted = std::min(m_heldOut.size(), static_cast<std::size_t>(count) * m_batchSize);
    for (std::size_t first = 0; first < wanted; first += static_cast<std::size_t>(m_batchSize)) {
        const std::size_t last = std::min(wanted, first + m_batchSize);
        batches.push_back(encode({ m_heldOut.begin() + static_cast<std::ptrdiff_t>(first),
            m_heldOut.begin() + static_cast<std::ptrdiff_t>(last) }));
    }
    return batches;
}

} // namespace tfreeze
