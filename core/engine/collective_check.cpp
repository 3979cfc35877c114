#include "core/engine/collective_check.h"

#include "core/engine/process_group.h"
#include "core/engine/training_session.h"
#include "core/plan/plan_error.h"

#include <chrono>
#include <iomanip>
#include <sstream>

namespace tfreeze {

namespace {

std::string fixed(double value, int decimals)
{
    std::ostringstream text;
    text << std::fixed << std::setprecision(decimals) << value;
    return text.str();
}

// Max |a - b| over the elements, on the CPU (a host sync on CUDA: this is a check, not a hot path).
double maxDifference(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}

} // namespace

std::string engineCapabilities()
{
    std::string text = "LibTorch " + libtorchVersion() + ", " + std::to_string(torch::cuda::device_count())
        + " CUDA device(s); c10d backends:";
    bool any = false;
    for (CommBackend backend : { CommBackend::Gloo, CommBackend::Nccl })
        if (commBackendAvailable(backend)) {
            text += std::string(any ? ", " : " ") + commBackendName(backend);
            any = true;
        }
    return any ? text : text + " none";
}

CollectiveCheckResult checkCollectives(const std::string& backendName, int rounds)
{
    const CommBackend backend = parseCommBackend(backendName, "--backend");
    const Rendezvous rendezvous = rendezvousFromEnvironment();
    torch::Device device(torch::kCPU);
    if (backend == CommBackend::Nccl) {
        if (!torch::cuda::is_available())
            throw InputError("--backend", "nccl", "no CUDA device is visible to this process");
        device = torch::Device(torch::kCUDA,
            static_cast<c10::DeviceIndex>(rendezvous.localRank % static_cast<int>(torch::cuda::device_count())));
    }
    ProcessGroup group(backend, rendezvous);
    const int rank = group.rank();
    const int size = group.size();
    const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);

    CollectiveCheckResult result;
    result.lines.push_back("rank " + std::to_string(rank) + " of " + std::to_string(size) + " over "
        + commBackendName(backend) + " on " + device.str() + " via " + rendezvous.masterAddr + ":"
        + std::to_string(rendezvous.masterPort));
    auto check = [&](const std::string& what, double difference) {
        const bool ok = difference == 0.0;
        result.ok = result.ok && ok;
        result.lines.push_back(what + (ok ? ": ok" : ": WRONG (max difference " + std::to_string(difference) + ")"));
    };

    // Sum over ranks of (rank + 1) + index: each element knows its answer.
    const torch::Tensor index = torch::arange(1024, options);
    torch::Tensor reduced = index + static_cast<double>(rank + 1);
    group.allReduceSum(reduced);
    check("all-reduce (sum)", maxDifference(reduced, index * size + size * (size + 1) / 2.0));

    torch::Tensor broadcast = rank == 0 ? index * 3.0 : torch::zeros_like(index);
    group.broadcast(broadcast, 0);
    check("broadcast from rank 0", maxDifference(broadcast, index * 3.0));

    std::vector<torch::Tensor> gathered;
    group.allGather(index + 1000.0 * rank, gathered);
    double gatherDifference = 0.0;
    for (int r = 0; r < size; ++r)
        gatherDifference
            = std::max(gatherDifference, maxDifference(gathered[static_cast<std::size_t>(r)], index + 1000.0 * r));
    check("all-gather", gatherDifference);

    if (size > 1) {
        // A ring: even ranks send first so that a blocking send cannot wait on a blocked peer.
        const int next = (rank + 1) % size;
        const int previous = (rank + size - 1) % size;
        torch::Tensor incoming = torch::empty_like(index);
        if (rank % 2 == 0) {
            group.send(index - rank, next, 7);
            group.receive(incoming, previous, 7);
        } else {
            group.receive(incoming, previous, 7);
            group.send(index - rank, next, 7);
        }
        check("send/receive ring", maxDifference(incoming, index - previous));
    }

    // Bus bandwidth as nccl-tests define it for all-reduce: bytes · 2(n − 1)/n per second.
    torch::Tensor payload = torch::ones({ 1 << 20 }, options);
    group.allReduceSum(payload); // warm-up: NCCL builds its communicator on the first call
    if (device.is_cuda())
        torch::cuda::synchronize(device.index());
    group.barrier();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i)
        group.allReduceSum(payload);
    if (device.is_cuda())
        torch::cuda::synchronize(device.index());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double bytes = static_cast<double>(payload.numel()) * 4.0;
    const double perCall = seconds / std::max(1, rounds);
    const double busBandwidth = size > 1 ? bytes * 2.0 * (size - 1) / size / perCall / 1e9 : 0.0;
    result.lines.push_back("all-reduce of 4 MiB: " + fixed(perCall * 1e3, 3) + " ms per call"
        + (size > 1 ? ", bus bandwidth " + fixed(busBandwidth, 2) + " GB/s" : std::string(" (one rank: no traffic)")));
    return result;
}

} // namespace tfreeze
