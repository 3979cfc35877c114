#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/batch_source.h"

#include <string>

namespace tfreeze {

// Byte-level language modelling on one text. The text is cut into blocks of kBlockBytes; block i
// goes to validation when floor((i+1)·f) > floor(i·f), i.e. every 1/f-th block, so validation
// samples the whole text (the last 10% of a book is not like the rest) and the splits are
// disjoint and the same on every run. Each split is its blocks concatenated.
class TextCorpus : public BatchSource {
public:
    static constexpr std::size_t kBlockBytes = 4096;

    // Throws InputError(source, "data.path") when a split is shorter than one window.
    TextCorpus(std::string text, double validationFraction, int batchSize, int sequence, std::uint64_t seed,
        const std::string& source = "config");
    // Reads `path` (throws InputError(path, ...) when it cannot).
    static TextCorpus fromFile(
        const std::string& path, double validationFraction, int batchSize, int sequence, std::uint64_t seed);

    // batchSize windows of sequence + 1 bytes at offsets drawn uniformly from the training split.
    Batch trainingBatch(std::int64_t step) const override;
    // Windows spread evenly over the validation split, each target predicted once at most.
    std::vector<Batch> validationBatches(int count) const override;
    bool hasExactMatch() const override { return false; }

    const std::string& trainingText() const { return m_training; }
    const std::string& validationText() const { return m_validation; }
    static bool isValidationBlock(std::size_t block, double validationFraction);

private:
    Batch windows(const std::string& split, const std::vector<std::size_t>& offsets) const;

    std::string m_training;
    std::string m_validation;
    int m_batchSize;
    int m_sequence;
    std::uint64_t m_seed;
};

} // namespace tfreeze
