#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace tfreeze {

// Times the actions of one batch, relative to its start. On the CPU an op has finished when it
// returns, so a mark reads the host's steady clock. On CUDA ops are only queued, so a mark records an
// event on the device's current stream and the times are read after the step, once: a host sync per
// action would serialise the host with the GPU and cost more than what it measures.
class ActionTimer {
public:
    virtual ~ActionTimer() = default;

    // The coordinator, before the workers start the batch.
    virtual void startBatch();
    // Worker `rank` on its own thread (each rank marks only its own tokens): a token for "now" on
    // `device`, the device of the stage the action runs on.
    virtual std::int64_t mark(int rank, const torch::Device& device) = 0;
    // The coordinator: waits until every device finished the work queued so far (no-op on the CPU).
    virtual void synchronize() { }
    // After synchronize(): microseconds since startBatch() of a token that `rank` got from mark().
    virtual std::int64_t microseconds(int rank, std::int64_t token) const = 0;

    // Host time since startBatch(): what the batch cost the caller.
    std::int64_t hostElapsedUs() const
    {
        return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - m_start)
            .count();
    }

private:
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

// The host's steady clock: a token is already the time.
std::unique_ptr<ActionTimer> makeHostActionTimer();

// CUDA events on `devices` (the CUDA devices the stages use) for `ranks` workers. Throws
// std::runtime_error in a build without CUDA (cudaTimingAvailable() is false).
std::unique_ptr<ActionTimer> makeCudaActionTimer(int ranks, const std::vector<torch::Device>& devices);
bool cudaTimingAvailable();

} // namespace tfreeze
