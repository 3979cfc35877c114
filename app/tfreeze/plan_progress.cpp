#include "app/tfreeze/plan_progress.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

namespace tfreeze {

namespace {

std::atomic<bool> g_stopRequested { false };

extern "C" void onPlanInterrupt(int /*signal*/)
{
    g_stopRequested = true;
    std::signal(SIGINT, SIG_DFL); // a second Ctrl-C ends the process at once
}

// 1234567 → "1,234,567": pivot counts are read at a glance.
std::string groupedDigits(long long value)
{
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(static_cast<std::size_t>(i), ",");
    return digits;
}

// How often the planner asks whether to stop: Ctrl-C takes effect within this.
constexpr double kStopCheckSeconds = 0.2;

} // namespace

PlanProgressReporter::PlanProgressReporter(std::optional<double> everySeconds)
    : m_terminal(isatty(STDERR_FILENO) != 0)
    , m_everySeconds(everySeconds.value_or(m_terminal ? 1.0 : 10.0))
{
    g_stopRequested = false;
    std::signal(SIGINT, onPlanInterrupt);
}

PlanProgressReporter::~PlanProgressReporter()
{
    std::signal(SIGINT, SIG_DFL);
    if (m_lineOpen)
        std::fputs("\r\033[K", stderr);
}

void PlanProgressReporter::attachTo(FreezePlanner& planner)
{
    // Finer than the lines, so that they come close to every `m_everySeconds`.
    const double interval
        = m_everySeconds > 0.0 ? std::min(kStopCheckSeconds, m_everySeconds / 5.0) : kStopCheckSeconds;
    planner.setProgressHandler([this](const PlanProgress& progress) { return report(progress); }, interval);
}

bool PlanProgressReporter::report(const PlanProgress& progress)
{
    if (g_stopRequested)
        return false;
    if (m_everySeconds <= 0.0 || progress.elapsedSeconds - m_lastPrinted < m_everySeconds)
        return true;
    m_lastPrinted = progress.elapsedSeconds;
    std::array<char, 32> seconds {};
    std::snprintf(seconds.data(), seconds.size(), "%.1f", progress.elapsedSeconds);
    std::string text
        = std::string("planning: ") + seconds.data() + " s, " + groupedDigits(progress.pivots) + " simplex pivots";
    if (progress.solves > 0)
        text += ", solve " + std::to_string(progress.solves + 1);
    text += " (Ctrl-C stops)";
    if (m_terminal) {
        std::fprintf(stderr, "\r\033[K%s", text.c_str());
        m_lineOpen = true;
    } else {
        std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
    return true;
}

} // namespace tfreeze
