#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/in_process_transport.h"
#include "core/engine/transport.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tfreeze {

class ProcessGroup;

// The Transport between processes: pipeline rank r runs in process rankProcess[r] of a c10d
// ProcessGroup. A key whose two ends share a process (ZBV's turn, or several ranks per process) goes
// through an in-process mailbox; any other is a c10d send/recv pair tagged by (stage, microbatch,
// direction), preceded by a small header with the tensor's shape and dtype, since the receiver does
// not know them in advance.
class ProcessGroupTransport : public Transport {
public:
    // stageRanks[s]: the pipeline rank of stage s; rankProcess[r]: the process of pipeline rank r.
    // `commDevice`: where received tensors land (the CPU for Gloo, this process's GPU for NCCL).
    ProcessGroupTransport(std::shared_ptr<ProcessGroup> group, std::vector<int> stageRanks,
        std::vector<int> rankProcess, int microbatches, torch::Device commDevice = torch::kCPU);

    void send(const TransportKey& key, torch::Tensor tensor) override;
    torch::Tensor receive(const TransportKey& key) override;
    void abort(const std::string& reason) override;
    bool aborted() const override;
    // Also waits until every send of the step went out: a tensor must outlive its send.
    void reset() override;

    // The c10d tag of a key's header (payload: + 1). Unique per (stage, microbatch, direction).
    static int tag(const TransportKey& key, int microbatches);

private:
    int senderProcess(const TransportKey& key) const;
    std::string reason() const;
    int receiverProcess(const TransportKey& key) const;

    std::shared_ptr<ProcessGroup> m_group;
    std::vector<int> m_stageRanks;
    std::vector<int> m_rankProcess;
    int m_microbatches;
    torch::Device m_commDevice;
    InProcessTransport m_local;
    std::atomic<bool> m_aborted { false };
    mutable std::mutex m_reasonMutex;
    std::string m_reason;
};

} // namespace tfreeze
