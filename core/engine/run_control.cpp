#include "core/engine/run_control.h"

namespace tfreeze {

void RunControl::setFreezeRatios(std::vector<double> ratios)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pendingRatios = std::move(ratios);
}

void RunControl::pause()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_paused = true;
}

void RunControl::resume()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_paused = false;
    }
    m_changed.notify_all();
}

void RunControl::requestStop()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_changed.notify_all();
}

bool RunControl::paused() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_paused;
}

bool RunControl::stopRequested() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stop;
}

RunControl::Boundary RunControl::awaitStepBoundary()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_changed.wait(lock, [this] { return !m_paused || m_stop; });
    Boundary boundary;
    boundary.stop = m_stop;
    boundary.freezeRatios = std::move(m_pendingRatios);
    m_pendingRatios.reset();
    return boundary;
}

std::optional<RunControl::Boundary> RunControl::awaitStepBoundaryFor(std::chrono::milliseconds timeout)
{
    std::unique_lock<std::mutex> lock(m_mutex);
    if (!m_changed.wait_for(lock, timeout, [this] { return !m_paused || m_stop; }))
        return std::nullopt;
    Boundary boundary;
    boundary.stop = m_stop;
    boundary.freezeRatios = std::move(m_pendingRatios);
    m_pendingRatios.reset();
    return boundary;
}

} // namespace tfreeze
