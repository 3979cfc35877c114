#pragma once

// Torch-free: the clock that times the actions of one batch.

#include <chrono>
#include <cstdint>

namespace tfreeze {

// Microseconds since the start of the batch, on the host's steady clock (on CPU an op has finished
// when it returns). The seam for CUDA: a device timer would record events here and resolve them
// after the step, keeping the same start/elapsed contract.
class StepTimer {
public:
    void startBatch() { m_start = std::chrono::steady_clock::now(); }
    std::int64_t elapsedUs() const
    {
        return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - m_start)
            .count();
    }

private:
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
};

} // namespace tfreeze
