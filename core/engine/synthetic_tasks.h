#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/batch_source.h"

#include <string>
#include <unordered_set>
#include <vector>

namespace tfreeze {

// One example of a synthetic task, written as the bytes "prompt=answer\n".
struct SyntheticExample {
    std::string prompt; // sort: "83012"; add: "123+4567"
    std::string answer; // sort: "01238"; add: "4690"

    std::string text() const { return prompt + "=" + answer + "\n"; }
};

// Tasks made in process, so that "comparable accuracy" is measured by exact match on held-out
// examples, not guessed from a loss:
// - sort: 2..sortLength random digits, answer them in ascending order;
// - add: two numbers in [0, 10^addDigits), answer their sum in decimal.
// One example a row, left-aligned, padded with byte 0. The targets are the answer bytes and the
// final "\n" only: the loss, token accuracy and exact match cover the answer, not the prompt
// (which is random and cannot be predicted). Exact match is by teacher forcing: a row counts when
// the argmax at every answer position is the right byte (no free-running decoding).
class SyntheticTask : public BatchSource {
public:
    // kind: Sort or Add. The held-out set is heldOutExamples distinct prompts drawn from `seed`;
    // training batches never contain one of them.
    SyntheticTask(DataKind kind, int sortLength, int addDigits, int heldOutExamples, int batchSize, int sequence,
        std::uint64_t seed);

    Batch trainingBatch(std::int64_t step) const override;
    std::vector<Batch> validationBatches(int count) const override;
    bool hasExactMatch() const override { return true; }

    SyntheticExample drawExample(SplitMix64& generator) const;
    const std::vector<SyntheticExample>& heldOut() const { return m_heldOut; }
    bool isHeldOut(const std::string& prompt) const { return m_heldOutPrompts.count(prompt) > 0; }
    // Rows of examples as a batch (each example must fit in sequence + 1 bytes).
    Batch encode(const std::vector<SyntheticExample>& examples) const;

private:
    DataKind m_kind;
    int m_sortLength;
    int m_addDigits;
    int m_batchSize;
    int m_sequence;
    std::uint64_t m_seed;
    std::vector<SyntheticExample> m_heldOut;
    std::unordered_set<std::string> m_heldOutPrompts;
};

} // namespace tfreeze
