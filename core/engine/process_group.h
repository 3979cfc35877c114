#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tfreeze {

// PyTorch's c10d backends: Gloo on the CPU, NCCL between CUDA devices.
enum class CommBackend { Gloo, Nccl };
const char* commBackendName(CommBackend backend);
// "gloo" or "nccl"; throws InputError(source) naming the accepted ones.
CommBackend parseCommBackend(const std::string& text, const std::string& source);
// Whether this build can create the backend (Gloo: LibTorch's c10d with Gloo headers; NCCL: a CUDA
// LibTorch with NCCL headers).
bool commBackendAvailable(CommBackend backend);

// Where a process sits in a job and how it finds rank 0's store, the way torchrun users set it up.
struct Rendezvous {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    std::chrono::milliseconds timeout { 30000 }; // rendezvous and every collective
};

// RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; unset ones keep `defaults`. Throws
// InputError naming the variable for a malformed or inconsistent value.
Rendezvous rendezvousFromEnvironment(const Rendezvous& defaults = {});

// One c10d process group over a TCPStore that rank 0 serves. Every call is a c10d collective or
// point-to-point op; collectives must be called in the same order on every rank.
class ProcessGroup {
public:
    // Blocks until every rank joined (or the timeout passed: std::runtime_error naming the master).
    ProcessGroup(CommBackend backend, const Rendezvous& rendezvous);
    ~ProcessGroup();
    ProcessGroup(const ProcessGroup&) = delete;
    ProcessGroup& operator=(const ProcessGroup&) = delete;

    CommBackend backend() const { return m_backend; }
    // Where this group's tensors live: the CPU for Gloo, cuda:LOCAL_RANK (mod the visible devices)
    // for NCCL.
    torch::Device device() const { return m_device; }
    int rank() const { return m_rank; }
    int size() const { return m_size; }

    // Point to point; `tag` tells apart messages between the same pair of ranks. send() waits until
    // the tensor went out; post() does not (the tensor is kept alive until flushPosted()).
    void send(torch::Tensor tensor, int destination, int tag);
    void post(torch::Tensor tensor, int destination, int tag);
    // Waits for every posted send; throws std::runtime_error for the first that failed.
    void flushPosted();
    void receive(torch::Tensor& tensor, int source, int tag);
    // Makes every receive() blocked now, on any thread, throw (a peer failed: stop waiting for it).
    void abortReceives();
    // In place, on every rank.
    void allReduceSum(torch::Tensor& tensor);
    void broadcast(torch::Tensor& tensor, int root);
    // `output` gets size() tensors shaped like `input`.
    void allGather(const torch::Tensor& input, std::vector<torch::Tensor>& output);
    void barrier();

private:
    struct Impl;
    CommBackend m_backend;
    torch::Device m_device = torch::kCPU;
    int m_rank;
    int m_size;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tfreeze
