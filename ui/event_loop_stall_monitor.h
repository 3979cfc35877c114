#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <vector>

namespace tfreeze {

// Measures how long the event loop of the thread it lives on went without running events: a
// timer with a short interval fires on that loop, and a gap between two firings longer than the
// interval (plus a millisecond of timer jitter) is a stall. The GUI thread is the one to watch: a
// stall there is a frozen window.
//
// A stall's length is the whole gap, not the gap less the interval: the loop may have slept for up
// to one interval before it blocked, so the gap is never shorter than the block (a figure that can
// be trusted as "at least this long"), and it overstates the block by at most one interval.
class EventLoopStallMonitor : public QObject {
    Q_OBJECT

public:
    explicit EventLoopStallMonitor(int intervalMs = 5, QObject* parent = nullptr);

    void start();
    void stop();
    bool isRunning() const { return m_timer.isActive(); }
    // Forgets the stalls so far; a running monitor keeps running.
    void reset();

    int intervalMs() const { return m_timer.interval(); }
    // The longest stall since start() or reset(), in ms; 0 when none.
    double longestStallMs() const { return m_longestStallMs; }
    // How many stalls were longer than `ms`.
    int stallsOver(double ms) const;
    // Firings seen since start() or reset().
    int ticks() const { return m_ticks; }

private:
    void onTick();

    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_lastTickNs = 0;
    double m_longestStallMs = 0.0;
    std::vector<double> m_stallsMs; // every stall, in ms
    int m_ticks = 0;
};

} // namespace tfreeze
