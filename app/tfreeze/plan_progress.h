#pragma once

#include "core/plan/freeze_planner.h"

#include <optional>

namespace tfreeze {

// What `tfreeze plan` shows while a long solve runs, and its Ctrl-C: a line on stderr every
// `everySeconds` (rewritten in place on a terminal, appended otherwise; 0: never; unset: 1 s on a
// terminal, 10 s otherwise), and the first
// Ctrl-C stops the solve (the planner then throws PlanCancelled; a second one ends the process).
// One at a time: it owns SIGINT's handler from construction to destruction.
class PlanProgressReporter {
public:
    explicit PlanProgressReporter(std::optional<double> everySeconds);
    ~PlanProgressReporter();
    PlanProgressReporter(const PlanProgressReporter&) = delete;
    PlanProgressReporter& operator=(const PlanProgressReporter&) = delete;

    // Install on `planner` (which must not outlive this object's use of it).
    void attachTo(FreezePlanner& planner);

private:
    bool report(const PlanProgress& progress);

    bool m_terminal;
    double m_everySeconds;
    double m_lastPrinted = 0.0;
    bool m_lineOpen = false; // a terminal line to clear before anything else is printed
};

} // namespace tfreeze
