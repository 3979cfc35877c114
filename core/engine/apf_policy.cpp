#include "core/engine/apf_policy.h"

#include <algorithm>
#include <stdexcept>

namespace tfreeze {

ApfPolicy::ApfPolicy(std::size_t tensorCount, const ApfOptions& options)
    : m_options(options)
    , m_threshold(options.threshold)
    , m_frozenUntil(tensorCount, -1)
    , m_period(tensorCount, 0)
{
    if (m_options.checkInterval < 1)
        throw std::invalid_argument("ApfPolicy: checkInterval must be at least 1");
}

bool ApfPolicy::isCheckStep(long long step) const { return step > 0 && step % m_options.checkInterval == 0; }

void ApfPolicy::check(const std::vector<double>& instability)
{
    if (instability.size() != m_frozenUntil.size())
        throw std::invalid_argument("ApfPolicy::check: one instability per tensor expected");
    const long long now = m_checks; // the check being made
    for (std::size_t t = 0; t < m_frozenUntil.size(); ++t) {
        // Still frozen, or its period ends now: it thaws and is tested at the next check, once a
        // window of updates gives it a fresh instability (while frozen it had no update to judge).
        if (m_frozenUntil[t] >= now)
            continue;
        if (instability[t] < m_threshold) {
            ++m_period[t];
            // Frozen for the next m_period check intervals; tested again at check now + m_period.
            m_frozenUntil[t] = now + m_period[t];
        } else {
            m_period[t] /= 2;
        }
    }
    ++m_checks;
    // Too many frozen: demand more stability before freezing more.
    if (!m_frozenUntil.empty()
        && static_cast<double>(frozenCount()) > m_options.crowdedFraction * static_cast<double>(m_frozenUntil.size()))
        m_threshold /= 2.0;
}

void ApfPolicy::restore(const State& state)
{
    if (state.frozenUntil.size() != m_frozenUntil.size() || state.period.size() != m_period.size())
        throw std::invalid_argument("ApfPolicy: the state is for another number of tensors");
    m_threshold = state.threshold;
    m_checks = state.checks;
    m_frozenUntil = state.frozenUntil;
    m_period = state.period;
}

std::vector<bool> ApfPolicy::frozen() const
{
    std::vector<bool> result(m_frozenUntil.size());
    for (std::size_t t = 0; t < result.size(); ++t)
        result[t] = isFrozen(t);
    return result;
}

std::size_t ApfPolicy::frozenCount() const
{
    return static_cast<std::size_t>(std::count_if(
        m_frozenUntil.begin(), m_frozenUntil.end(), [this](long long until) { return until >= m_checks; }));
}

} // namespace tfreeze
