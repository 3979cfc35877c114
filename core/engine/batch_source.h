#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/run_config.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace tfreeze {

// Token ids and their next-token targets, int64 [batch, sequence] each. A target of
// kIgnoreTarget (transformer_model.h) takes no part in loss or accuracy.
struct Batch {
    torch::Tensor inputs;
    torch::Tensor targets;

    std::int64_t rows() const { return inputs.size(0); }
    // Rows [first, first + count), views (no copy): how a batch splits into microbatches.
    Batch slice(std::int64_t first, std::int64_t count) const;
    // The batch as `microbatches` equal slices (rows must divide evenly), in row order.
    std::vector<Batch> split(int microbatches) const;
};

// Where a run's batches come from. Training batches are a pure function of (seed, step), so the
// sequential trainer, the pipeline runtime and a resumed run all see the very same batches, and
// any thread may ask for any step.
class BatchSource {
public:
    virtual ~BatchSource() = default;

    virtual Batch trainingBatch(std::int64_t step) const = 0;
    // At most `count` batches of the validation split (text) or the held-out set (sort, add),
    // the same ones every call.
    virtual std::vector<Batch> validationBatches(int count) const = 0;
    // True when every row holds one example whose answer is its non-ignored targets, so that
    // exact-match accuracy means something (sort, add).
    virtual bool hasExactMatch() const = 0;
};

// A TextCorpus (DataKind::Text) or SyntheticTask (Sort, Add) for a validated config. Throws
// InputError(path, ...) for a corpus that cannot be read or is too short.
std::unique_ptr<BatchSource> makeBatchSource(const RunConfig& config);

// The corpus shipped in resources/corpus, used when data.path is empty.
std::string defaultCorpusPath();

// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose sequence is the same on every
// platform and standard library, unlike std::uniform_int_distribution's.
class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed)
        : m_state(seed)
    {
    }
    std::uint64_t next()
    {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31U);
    }
    // Uniform in [0, bound), bound ≥ 1 (the modulo bias is below 2^-40 for the bounds we use).
    std::uint64_t below(std::uint64_t bound) { return next() % bound; }

    // A seed for stream `stream` of `seed` (e.g. one per step), decorrelated from its neighbours.
    static std::uint64_t mix(std::uint64_t seed, std::uint64_t stream)
    {
        SplitMix64 generator(seed ^ (stream * 0xD1B54A32D192ED03ULL));
        generator.next();
        return generator.next();
    }

private:
    std::uint64_t m_state;
};

} // namespace tfreeze
