#include "ui/event_loop_stall_monitor.h"

#include <algorithm>

namespace tfreeze {

namespace {

// Gaps up to a millisecond beyond the interval are timer jitter, not stalls: not kept, so that a
// monitor left running for hours holds only the real ones.
constexpr double kJitterMs = 1.0;

} // namespace

EventLoopStallMonitor::EventLoopStallMonitor(int intervalMs, QObject* parent)
    : QObject(parent)
{
    // Precise: a coarse timer may fire up to 5% late by design, which would read as stalls.
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(std::max(1, intervalMs));
    connect(&m_timer, &QTimer::timeout, this, &EventLoopStallMonitor::onTick);
}

void EventLoopStallMonitor::start()
{
    reset();
    m_timer.start();
}

void EventLoopStallMonitor::stop() { m_timer.stop(); }

void EventLoopStallMonitor::reset()
{
    m_clock.start();
    m_lastTickNs = 0;
    m_longestStallMs = 0.0;
    m_stallsMs.clear();
    m_ticks = 0;
}

int EventLoopStallMonitor::stallsOver(double ms) const
{
    return static_cast<int>(std::count_if(m_stallsMs.begin(), m_stallsMs.end(), [ms](double s) { return s > ms; }));
}

void EventLoopStallMonitor::onTick()
{
    const qint64 nowNs = m_clock.nsecsElapsed();
    const double gapMs = static_cast<double>(nowNs - m_lastTickNs) / 1e6;
    m_lastTickNs = nowNs;
    ++m_ticks;
    // The first firing after start() or reset() measures from then, when the loop may already
    // have been blocked: counted like any other.
    if (gapMs <= m_timer.interval() + kJitterMs)
        return;
    m_stallsMs.push_back(gapMs);
    m_longestStallMs = std::max(m_longestStallMs, gapMs);
}

} // namespace tfreeze
