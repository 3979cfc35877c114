#include "core/engine/process_group_transport.h"

#include "core/engine/process_group.h"

#include <array>
#include <stdexcept>

namespace tfreeze {

namespace {

// Header: dtype, number of dimensions, then the sizes.
constexpr int kMaxDims = 8;
constexpr std::size_t kHeaderLength = 2 + kMaxDims;

torch::Tensor header(const torch::Tensor& tensor)
{
    if (tensor.dim() > kMaxDims)
        throw std::runtime_error("transport: a tensor of " + std::to_string(tensor.dim()) + " dimensions (at most "
            + std::to_string(kMaxDims) + ")");
    torch::Tensor h = torch::zeros({ static_cast<std::int64_t>(kHeaderLength) }, torch::kInt64);
    auto* values = h.data_ptr<std::int64_t>();
    values[0] = static_cast<std::int64_t>(tensor.scalar_type());
    values[1] = tensor.dim();
    for (int d = 0; d < tensor.dim(); ++d)
        values[2 + d] = tensor.size(d);
    return h;
}

} // namespace

ProcessGroupTransport::ProcessGroupTransport(std::shared_ptr<ProcessGroup> group, std::vector<int> stageRanks,
    std::vector<int> rankProcess, int microbatches, torch::Device commDevice)
    : m_group(std::move(group))
    , m_stageRanks(stageRanks)
    , m_rankProcess(std::move(rankProcess))
    , m_microbatches(microbatches)
    , m_commDevice(commDevice)
    , m_local(std::move(stageRanks))
{
}

std::string ProcessGroupTransport::reason() const
{
    const std::lock_guard lock(m_reasonMutex);
    return m_reason;
}

int ProcessGroupTransport::tag(const TransportKey& key, int microbatches)
{
    const int slot = (key.stage * microbatches + key.microbatch) * 2 + static_cast<int>(key.direction);
    return slot * 2;
}

// Activation of stage s comes from stage s − 1; the gradient of stage s's output from stage s + 1.
int ProcessGroupTransport::senderProcess(const TransportKey& key) const
{
    const int from = key.direction == TransportDirection::Activation ? key.stage - 1 : key.stage + 1;
    return m_rankProcess.at(static_cast<std::size_t>(m_stageRanks.at(static_cast<std::size_t>(from))));
}

int ProcessGroupTransport::receiverProcess(const TransportKey& key) const
{
    return m_rankProcess.at(static_cast<std::size_t>(m_stageRanks.at(static_cast<std::size_t>(key.stage))));
}

void ProcessGroupTransport::send(const TransportKey& key, torch::Tensor tensor)
{
    if (m_aborted.load())
        return;
    const int to = receiverProcess(key);
    if (to == m_group->rank()) {
        m_local.send(key, std::move(tensor));
        return;
    }
    // Gloo sends host memory; NCCL sends device memory. The header always rides along as the payload.
    torch::Tensor payload = tensor.detach().contiguous();
    if (m_group->backend() == CommBackend::Gloo)
        payload = payload.to(torch::kCPU);
    torch::Tensor h = header(payload);
    if (m_group->backend() == CommBackend::Nccl)
        h = h.to(payload.device());
    const int t = tag(key, m_microbatches);
    m_group->post(std::move(h), to, t);
    m_group->post(std::move(payload), to, t + 1);
}

torch::Tensor ProcessGroupTransport::receive(const TransportKey& key)
{
    if (m_aborted.load())
        throw TransportAborted(reason());
    const int from = senderProcess(key);
    if (from == m_group->rank())
        return m_local.receive(key);
    const int t = tag(key, m_microbatches);
    try {
        torch::Tensor h = torch::zeros({ static_cast<std::int64_t>(kHeaderLength) },
            torch::TensorOptions().dtype(torch::kInt64).device(m_commDevice));
        m_group->receive(h, from, t);
        h = h.to(torch::kCPU);
        const auto* values = h.data_ptr<std::int64_t>();
        const auto dims = values[1];
        if (dims < 0 || dims > kMaxDims)
            throw std::runtime_error("transport: a malformed header from process " + std::to_string(from));
        std::vector<std::int64_t> sizes(values + 2, values + 2 + dims);
        torch::Tensor payload = torch::empty(
            sizes, torch::TensorOptions().dtype(static_cast<c10::ScalarType>(values[0])).device(m_commDevice));
        m_group->receive(payload, from, t + 1);
        return payload;
    } catch (const std::exception& error) {
        if (m_aborted.load())
            throw TransportAborted(reason());
        throw std::runtime_error(std::string("receiving from process ") + std::to_string(from) + ": " + error.what());
    }
}

void ProcessGroupTransport::abort(const std::string& reason)
{
    {
        const std::lock_guard lock(m_reasonMutex);
        if (!m_aborted.exchange(true))
            m_reason = reason;
    }
    m_local.abort(reason);
    m_group->abortReceives();
}

bool ProcessGroupTransport::aborted() const { return m_aborted.load(); }

void ProcessGroupTransport::reset()
{
    m_group->flushPosted();
    m_local.reset();
    const std::lock_guard lock(m_reasonMutex);
    m_aborted.store(false);
    m_reason.clear();
}

} // namespace tfreeze
