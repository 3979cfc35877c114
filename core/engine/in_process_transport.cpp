#include "core/engine/in_process_transport.h"

#include <algorithm>

namespace tfreeze {

InProcessTransport::InProcessTransport(std::vector<int> stageRanks)
    : m_stageRanks(std::move(stageRanks))
{
    const int ranks = m_stageRanks.empty() ? 0 : *std::max_element(m_stageRanks.begin(), m_stageRanks.end()) + 1;
    for (int r = 0; r < ranks; ++r)
        m_mailboxes.push_back(std::make_unique<Mailbox>());
}

InProcessTransport::Mailbox& InProcessTransport::mailboxFor(const TransportKey& key)
{
    const int rank = m_stageRanks.at(static_cast<std::size_t>(key.stage));
    return *m_mailboxes.at(static_cast<std::size_t>(rank));
}

void InProcessTransport::send(const TransportKey& key, torch::Tensor tensor)
{
    Mailbox& box = mailboxFor(key);
    {
        std::lock_guard<std::mutex> lock(box.mutex);
        if (box.aborted)
            return; // the step is being abandoned: nobody will receive it
        box.tensors[Slot { key.stage, key.microbatch, static_cast<int>(key.direction) }] = std::move(tensor);
    }
    // notify_all: a rank with two stages (ZBV, interleaved) has one thread, but keep it correct
    // should a transport ever be shared by more receivers.
    box.arrived.notify_all();
}

torch::Tensor InProcessTransport::receive(const TransportKey& key)
{
    Mailbox& box = mailboxFor(key);
    const Slot slot { key.stage, key.microbatch, static_cast<int>(key.direction) };
    std::unique_lock<std::mutex> lock(box.mutex);
    for (;;) {
        if (box.aborted)
            throw TransportAborted(box.reason);
        auto it = box.tensors.find(slot);
        if (it != box.tensors.end()) {
            torch::Tensor tensor = std::move(it->second);
            box.tensors.erase(it);
            return tensor;
        }
        box.arrived.wait(lock);
    }
}

void InProcessTransport::abort(const std::string& reason)
{
    for (auto& box : m_mailboxes) {
        {
            std::lock_guard<std::mutex> lock(box->mutex);
            if (!box->aborted) {
                box->aborted = true;
                box->reason = reason;
            }
            box->tensors.clear();
        }
        box->arrived.notify_all();
    }
}

bool InProcessTransport::aborted() const
{
    for (const auto& box : m_mailboxes) {
        std::lock_guard<std::mutex> lock(box->mutex);
        if (box->aborted)
            return true;
    }
    return false;
}

void InProcessTransport::reset()
{
    for (auto& box : m_mailboxes) {
        std::lock_guard<std::mutex> lock(box->mutex);
        box->aborted = false;
        box->reason.clear();
        box->tensors.clear();
    }
}

} // namespace tfreeze
