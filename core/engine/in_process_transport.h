#pragma once

// Engine-internal (includes torch): never include from ui/ or from a header that ui/ sees.

#include "core/engine/transport.h"

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

namespace tfreeze {

// Ranks are threads of one process: a mailbox per destination rank (mutex + condition variable),
// so ranks that do not talk to each other never contend on one lock.
class InProcessTransport : public Transport {
public:
    // stageRanks[s]: the rank that holds stage s (PipelineSchedule::stageRank).
    explicit InProcessTransport(std::vector<int> stageRanks);

    void send(const TransportKey& key, torch::Tensor tensor) override;
    torch::Tensor receive(const TransportKey& key) override;
    void abort(const std::string& reason) override;
    bool aborted() const override;
    void reset() override;

private:
    using Slot = std::tuple<int, int, int>; // stage, microbatch, direction

    struct Mailbox {
        std::mutex mutex;
        std::condition_variable arrived;
        std::map<Slot, torch::Tensor> tensors;
        bool aborted = false;
        std::string reason;
    };

    // The rank that receives `key`: the holder of the stage whose input (Activation) or whose
    // output gradient (Gradient) it is.
    Mailbox& mailboxFor(const TransportKey& key);

    std::vector<int> m_stageRanks;
    std::vector<std::unique_ptr<Mailbox>> m_mailboxes;
};

} // namespace tfreeze
