// Compiled only when LibTorch has CUDA (TFREEZE_CUDA): the CUDA event timer of action_timer.h.

#include "core/engine/action_timer.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include <cmath>
#include <map>

namespace tfreeze {

namespace {

class CudaActionTimer final : public ActionTimer {
public:
    CudaActionTimer(int ranks, const std::vector<torch::Device>& devices)
        : m_ranks(static_cast<std::size_t>(ranks))
    {
        for (const torch::Device& device : devices)
            if (device.is_cuda())
                m_batchStart.try_emplace(device.index(), cudaEventDefault);
    }

    void startBatch() override
    {
        ActionTimer::startBatch();
        for (auto& [index, event] : m_batchStart)
            event.record(at::cuda::getCurrentCUDAStream(index));
        for (RankEvents& rank : m_ranks)
            rank.used = 0;
    }

    std::int64_t mark(int rank, const torch::Device& device) override
    {
        RankEvents& events = m_ranks.at(static_cast<std::size_t>(rank));
        // Reused from step to step: creating an event is cheap, but not free.
        if (events.used == events.events.size()) {
            events.events.push_back(std::make_unique<at::cuda::CUDAEvent>(cudaEventDefault));
            events.devices.push_back(0);
        }
        const std::size_t token = events.used++;
        const c10::DeviceIndex index = device.is_cuda() ? device.index() : m_batchStart.begin()->first;
        events.devices[token] = index;
        events.events[token]->record(at::cuda::getCurrentCUDAStream(index));
        return static_cast<std::int64_t>(token);
    }

    void synchronize() override
    {
        for (auto& [index, event] : m_batchStart) {
            const c10::cuda::CUDAGuard guard(index);
            C10_CUDA_CHECK(cudaDeviceSynchronize());
        }
    }

    std::int64_t microseconds(int rank, std::int64_t token) const override
    {
        const RankEvents& events = m_ranks.at(static_cast<std::size_t>(rank));
        const auto t = static_cast<std::size_t>(token);
        const at::cuda::CUDAEvent& start = m_batchStart.at(events.devices.at(t));
        const float ms = start.elapsed_time(*events.events.at(t));
        // Never before the batch: a stream other than the one the batch start was recorded on
        // could in principle run ahead of it.
        return std::max<std::int64_t>(0, std::llround(static_cast<double>(ms) * 1000.0));
    }

private:
    struct RankEvents {
        std::vector<std::unique_ptr<at::cuda::CUDAEvent>> events;
        std::vector<c10::DeviceIndex> devices;
        std::size_t used = 0;
    };

    std::map<c10::DeviceIndex, at::cuda::CUDAEvent> m_batchStart;
    std::vector<RankEvents> m_ranks;
};

} // namespace

std::unique_ptr<ActionTimer> makeCudaActionTimer(int ranks, const std::vector<torch::Device>& devices)
{
    return std::make_unique<CudaActionTimer>(ranks, devices);
}

bool cudaTimingAvailable() { return true; }

} // namespace tfreeze
