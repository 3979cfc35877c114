#include "core/engine/action_timer.h"

#include <stdexcept>

namespace tfreeze {

void ActionTimer::startBatch() { m_start = std::chrono::steady_clock::now(); }

namespace {

class HostActionTimer final : public ActionTimer {
public:
    std::int64_t mark(int /*rank*/, const torch::Device& /*device*/) override { return hostElapsedUs(); }
    std::int64_t microseconds(int /*rank*/, std::int64_t token) const override { return token; }
};

} // namespace

std::unique_ptr<ActionTimer> makeHostActionTimer() { return std::make_unique<HostActionTimer>(); }

#ifndef TFREEZE_CUDA
std::unique_ptr<ActionTimer> makeCudaActionTimer(int /*ranks*/, const std::vector<torch::Device>& /*devices*/)
{
    throw std::runtime_error("this build of tfreeze has no CUDA support");
}

bool cudaTimingAvailable() { return false; }
#endif

} // namespace tfreeze
