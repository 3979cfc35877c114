#include "core/engine/process_group.h"

#include "core/plan/plan_error.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>

#if defined(TFREEZE_WITH_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(TFREEZE_WITH_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace tfreeze {

namespace {

// LibTorch 2 split the backends (Gloo, NCCL) out of ProcessGroup into c10d::Backend; the
// point-to-point and collective calls are the same on both.
#if TORCH_VERSION_MAJOR >= 2
using BackendBase = c10d::Backend;
#else
using BackendBase = c10d::ProcessGroup;
#endif

int integerVariable(const char* name, int fallback, int minimum, int maximum)
{
    const char* text = std::getenv(name);
    if (!text || !*text)
        return fallback;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (*end != '\0' || value < minimum || value > maximum)
        throw InputError("environment", name,
            "expected an integer in [" + std::to_string(minimum) + ", " + std::to_string(maximum) + "] (got \"" + text
                + "\")");
    return static_cast<int>(value);
}

// Names this process and the operation. Gloo reports a peer that exited or was killed only as a
// closed or reset connection, and a hung one as a time-out, so those cases say what they usually mean.
std::runtime_error opFailure(int rank, int size, const char* what, const std::string& error)
{
    std::string message = "rank " + std::to_string(rank) + " of " + std::to_string(size) + ", " + what + ": " + error;
    if (error.find("Connection closed by peer") != std::string::npos
        || error.find("Connection reset by peer") != std::string::npos)
        message += " (another process of this job exited or was killed: its own output says why)";
    // Gloo says "Timed out waiting …" in a send or receive, and "Application timeout caused pair
    // closure" in a collective.
    else if (error.find("Timed out") != std::string::npos || error.find("timeout") != std::string::npos)
        message += " (another process of this job did not answer in time: hung, stopped or far slower)";
    return std::runtime_error(message);
}

void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what, int rank, int size)
{
    bool completed = false;
    try {
        completed = work->wait();
    } catch (const c10::Error& error) {
        throw opFailure(rank, size, what, error.what_without_backtrace());
    } catch (const std::exception& error) {
        // Gloo's own exceptions (gloo::IoException) are not c10::Errors.
        throw opFailure(rank, size, what, error.what());
    }
    // An aborted Gloo receive returns false instead of throwing: its tensor holds nothing.
    if (!completed)
        throw opFailure(rank, size, what, "aborted");
}

} // namespace

const char* commBackendName(CommBackend backend) { return backend == CommBackend::Gloo ? "gloo" : "nccl"; }

CommBackend parseCommBackend(const std::string& text, const std::string& source)
{
    if (text == "gloo")
        return CommBackend::Gloo;
    if (text == "nccl")
        return CommBackend::Nccl;
    throw InputError(source, "", "unknown backend \"" + text + "\" (expected gloo or nccl)");
}

bool commBackendAvailable(CommBackend backend)
{
#if defined(TFREEZE_WITH_GLOO)
    if (backend == CommBackend::Gloo)
        return true;
#endif
#if defined(TFREEZE_WITH_NCCL)
    if (backend == CommBackend::Nccl)
        return true;
#endif
    (void)backend;
    return false;
}

Rendezvous rendezvousFromEnvironment(const Rendezvous& defaults)
{
    Rendezvous r = defaults;
    r.worldSize = integerVariable("WORLD_SIZE", r.worldSize, 1, 65536);
    r.rank = integerVariable("RANK", r.rank, 0, 65535);
    r.localRank = integerVariable("LOCAL_RANK", r.localRank, 0, 65535);
    r.masterPort = integerVariable("MASTER_PORT", r.masterPort, 1, 65535);
    if (const char* addr = std::getenv("MASTER_ADDR"); addr && *addr)
        r.masterAddr = addr;
    if (r.rank >= r.worldSize)
        throw InputError("environment", "RANK",
            "rank " + std::to_string(r.rank) + " is outside WORLD_SIZE " + std::to_string(r.worldSize));
    return r;
}

struct ProcessGroup::Impl {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<BackendBase> group;
    std::mutex mutex; // of the two lists: workers of several local ranks call in parallel
    std::vector<std::pair<c10::intrusive_ptr<c10d::Work>, torch::Tensor>> posted;
    std::vector<c10::intrusive_ptr<c10d::Work>> receiving;
};

ProcessGroup::ProcessGroup(CommBackend backend, const Rendezvous& rendezvous)
    : m_backend(backend)
    , m_rank(rendezvous.rank)
    , m_size(rendezvous.worldSize)
    , m_impl(std::make_unique<Impl>())
{
    if (!commBackendAvailable(backend))
        throw InputError("backend", commBackendName(backend),
            backend == CommBackend::Nccl ? "NCCL needs a build against a CUDA LibTorch with NCCL"
                                         : "this LibTorch has no Gloo (install libgloo-dev and rebuild)");
    if (backend == CommBackend::Nccl) {
        if (!torch::cuda::is_available())
            throw InputError("backend", "nccl", "no CUDA device is visible to this process");
        m_device = torch::Device(torch::kCUDA,
            static_cast<c10::DeviceIndex>(rendezvous.localRank % static_cast<int>(torch::cuda::device_count())));
    }
    const std::string master = rendezvous.masterAddr + ":" + std::to_string(rendezvous.masterPort);
    try {
        c10d::TCPStoreOptions options;
        options.port = static_cast<std::uint16_t>(rendezvous.masterPort);
        options.isServer = rendezvous.rank == 0;
        options.numWorkers = static_cast<std::size_t>(rendezvous.worldSize);
        options.waitWorkers = true;
        options.timeout = rendezvous.timeout;
        m_impl->store = c10::make_intrusive<c10d::TCPStore>(rendezvous.masterAddr, options);
    } catch (const c10::Error& error) {
        throw std::runtime_error("rendezvous at " + master + " (rank " + std::to_string(rendezvous.rank) + " of "
            + std::to_string(rendezvous.worldSize) + ") failed: " + error.what_without_backtrace());
    } catch (const std::exception& error) {
        // c10d's socket errors (DistNetworkError) are no c10::Error in LibTorch 1.13.
        throw std::runtime_error("rendezvous at " + master + " (rank " + std::to_string(rendezvous.rank) + " of "
            + std::to_string(rendezvous.worldSize) + ") failed: " + error.what());
    }
    try {
#if defined(TFREEZE_WITH_GLOO)
        if (backend == CommBackend::Gloo) {
            auto options = c10d::ProcessGroupGloo::Options::create();
            options->timeout = rendezvous.timeout;
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(rendezvous.masterAddr));
            m_impl->group
                = c10::make_intrusive<c10d::ProcessGroupGloo>(m_impl->store, m_rank, m_size, std::move(options));
        }
#endif
#if defined(TFREEZE_WITH_NCCL)
        if (backend == CommBackend::Nccl) {
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = rendezvous.timeout;
            m_impl->group
                = c10::make_intrusive<c10d::ProcessGroupNCCL>(m_impl->store, m_rank, m_size, std::move(options));
        }
#endif
    } catch (const c10::Error& error) {
        throw std::runtime_error(std::string("creating the ") + commBackendName(backend) + " process group via "
            + master + " failed: " + error.what_without_backtrace());
    } catch (const std::exception& error) {
        throw std::runtime_error(std::string("creating the ") + commBackendName(backend) + " process group via "
            + master + " failed: " + error.what());
    }
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::send(torch::Tensor tensor, int destination, int tag)
{
    std::vector<torch::Tensor> tensors { tensor.contiguous() };
    wait(m_impl->group->send(tensors, destination, tag), "send", m_rank, m_size);
}

void ProcessGroup::post(torch::Tensor tensor, int destination, int tag)
{
    std::vector<torch::Tensor> tensors { tensor.contiguous() };
    auto work = m_impl->group->send(tensors, destination, tag);
    const std::lock_guard lock(m_impl->mutex);
    m_impl->posted.emplace_back(std::move(work), std::move(tensors.front()));
}

void ProcessGroup::flushPosted()
{
    std::vector<std::pair<c10::intrusive_ptr<c10d::Work>, torch::Tensor>> posted;
    {
        const std::lock_guard lock(m_impl->mutex);
        posted.swap(m_impl->posted);
    }
    std::string firstError;
    for (auto& [work, tensor] : posted) {
        try {
            wait(work, "send", m_rank, m_size);
        } catch (const std::exception& error) {
            if (firstError.empty())
                firstError = error.what();
        }
    }
    if (!firstError.empty())
        throw std::runtime_error(firstError);
}

void ProcessGroup::receive(torch::Tensor& tensor, int source, int tag)
{
    std::vector<torch::Tensor> tensors { tensor };
    auto work = m_impl->group->recv(tensors, source, tag);
    {
        const std::lock_guard lock(m_impl->mutex);
        m_impl->receiving.push_back(work);
    }
    auto forget = [&] {
        const std::lock_guard lock(m_impl->mutex);
        auto& list = m_impl->receiving;
        list.erase(std::remove(list.begin(), list.end(), work), list.end());
    };
    try {
        wait(work, "receive", m_rank, m_size);
    } catch (...) {
        forget();
        throw;
    }
    forget();
}

void ProcessGroup::abortReceives()
{
    const std::lock_guard lock(m_impl->mutex);
    for (auto& work : m_impl->receiving)
        work->abort();
}

void ProcessGroup::allReduceSum(torch::Tensor& tensor)
{
    std::vector<torch::Tensor> tensors { tensor };
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    wait(m_impl->group->allreduce(tensors, options), "all-reduce", m_rank, m_size);
}

void ProcessGroup::broadcast(torch::Tensor& tensor, int root)
{
    std::vector<torch::Tensor> tensors { tensor };
    c10d::BroadcastOptions options;
    options.rootRank = root;
    wait(m_impl->group->broadcast(tensors, options), "broadcast", m_rank, m_size);
}

void ProcessGroup::allGather(const torch::Tensor& input, std::vector<torch::Tensor>& output)
{
    output.clear();
    for (int r = 0; r < m_size; ++r)
        output.push_back(torch::empty_like(input));
    std::vector<std::vector<torch::Tensor>> outputs { output };
    std::vector<torch::Tensor> inputs { input.contiguous() };
    wait(m_impl->group->allgather(outputs, inputs), "all-gather", m_rank, m_size);
    output = outputs.front();
}

void ProcessGroup::barrier() { wait(m_impl->group->barrier(), "barrier", m_rank, m_size); }

} // namespace tfreeze
